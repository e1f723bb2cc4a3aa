"""The explorer's library (textdrift.explorer), without a browser: the payload cannot break out of
its <script> element, the template is filled in one pass, the vendored scripts are the pinned
ones, and the term index counts exactly what the year matrices count, with sentences whose
highlighted span is the term. The browser test is tests/test_explorer_browser.py."""

import hashlib
import json
import re

import pandas as pd

from textdrift.explorer import ASSETS, ExplorerSettings, embed_json, render_html, sentence_frame, term_payload
from textdrift.vectorize import year_matrix

HOSTILE = 'a </script><script>alert(1)</script> <!-- b --> <img src=x onerror="alert(2)"> & \u2028'


def test_embedded_json_cannot_end_its_script_element():
    text = embed_json({"t": HOSTILE, "n": [1, 2.5, None]})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": HOSTILE, "n": [1, 2.5, None]}


def test_page_is_filled_in_one_pass_and_loads_nothing(tmp_path):
    page = render_html({"meta": {"x": "{{script}} {{vendor}}"}, "text": HOSTILE})
    # a placeholder inside the payload stays text, the real ones are filled exactly once
    assert "{{script}} {{vendor}}" in page and page.count('<script type="application/json"') == 1
    payload = re.search(r'<script type="application/json" id="payload">(.*?)</script>', page, re.S).group(1)
    assert json.loads(payload)["text"] == HOSTILE
    assert page.count("<script") == 4  # the payload, vega, vega-lite, the page's own script
    # no address the browser could load: no src/href attributes, a CSP that forbids every fetch
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", page)
    assert "default-src 'none'" in page and "connect-src 'none'" in page


def test_vendored_scripts_are_the_pinned_ones():
    table = (ASSETS / "vendor" / "README.md").read_text(encoding="utf-8")
    for name in ("vega.min.js", "vega-lite.min.js"):
        digest = hashlib.sha256((ASSETS / "vendor" / name).read_bytes()).hexdigest()
        assert f"`{name}`" in table and digest in table, name
    assert (ASSETS / "vendor" / "LICENSE-vega").exists() and (ASSETS / "vendor" / "LICENSE-vega-lite").exists()


def _settings(**explorer):
    """Explorer settings with these keys of the ``explorer`` block."""
    return ExplorerSettings(explorer=explorer)


YEARS = {"d0": 2021, "d1": 2020, "d15": 2020, "d2": 2021, "d3": 2021}  # of the documents below


def _ctx(T, i, docs=None):
    """The sentences of term i as [year index, sentence, start, end] rows (the payload's flat list of
    sentence, start, length; the year is that of the sentence's document)."""
    flat, names = T["ctx"][i], {v: k for k, v in (docs or {"d1": 0, "d2": 1}).items()}
    return [[T["years"].index(YEARS[names[T["sentences"][flat[k]][0]]]), flat[k], flat[k + 1], flat[k + 1] + flat[k + 2]]
            for k in range(0, len(flat), 3)]


def _tokens(rows):
    """A token table from (doc_id, year, para, sent, [(text, norm, keep, is_punct)])."""
    out, end = [], {}
    for doc, year, para, sent, toks in rows:
        pos = end.get((doc, para), 0)  # where the paragraph's text so far ends
        for text, norm, keep, punct in toks:
            idx = pos + (0 if punct or pos == 0 else 1)  # one space before a word
            out.append(dict(doc_id=doc, year=year, lang="en", para=para, sent=sent, idx=idx, text=text, norm=norm,
                            lemma=norm, is_stop=not keep and not punct, is_punct=punct, keep=keep, role="body",
                            entity=None))
            pos = idx + len(text)
        end[(doc, para)] = pos
    return pd.DataFrame(out)


def w(text, norm=None, keep=True):
    return (text, norm or text.lower(), keep, False)


P = (".", ".", False, True)
ROWS = [
    ("d1", 2020, 0, 0, [w("Digital"), w("economies", "economy"), w("grow"), P]),
    ("d1", 2020, 0, 1, [w("The", keep=False), w("digital"), w("economy"), w("grows", "grow"), P]),
    ("d2", 2021, 0, 0, [w("Digital"), w("trade"), w("and", keep=False), w("digital"), w("economy"), P]),
    ("d2", 2021, 1, 2, [w("Trade"), w("grows", "grow"), P]),
]


def test_term_index_counts_what_the_year_matrix_counts_with_its_sentences():
    tokens = _tokens(ROWS)
    m = year_matrix(tokens, "en")
    T = term_payload(tokens, m, "en", {"d1": 0, "d2": 1},
                     _settings(max_terms=100, min_term_count=1, term_contexts=9, seed=1))
    assert T["years"] == [2020, 2021] and T["tokens"] == m.rows["tokens"].tolist()
    X = m.X.toarray()
    for i, term in enumerate(T["terms"]):
        j = list(m.vocab).index(term)
        pairs = list(zip(T["stats"][i][::2], T["stats"][i][1::2]))
        assert set(pairs) == {(y, int(X[y, j])) for y in range(2) if X[y, j]}
        for yi, c in pairs:
            (_, rate, lo, hi), = [r for r in T["rates"][yi] if r[0] == c]
            assert abs(rate - c / T["tokens"][yi] * 1e4) < 1e-3 * rate and lo <= rate <= hi
        for yi, sid, a, b in _ctx(T, i):  # every sentence shown holds the term at the highlighted span
            text = T["sentences"][sid][2]
            lemma = {"economies": "economy", "grows": "grow"}
            assert " ".join(lemma.get(x, x) for x in text[a:b].lower().split()) == term
    de = T["terms"].index("digital economy")
    assert sorted(c[0] for c in _ctx(T, de)) == [0, 0, 1] and T["stats"][de] == [0, 2, 1, 1]
    assert all(r[0] == 0 and r[1] == 0 and r[3] > 0 for r in (y[0] for y in T["rates"]))  # a year without it
    # a gap (a removed word) breaks an n-gram: "trade digital" is not counted, "digital trade" is
    assert "trade digital" not in T["terms"] and "digital trade" in T["terms"]
    assert T["surface"]["economies"] == "economy" and T["surface"]["grows"] == "grow"
    assert {T["sentences"][c[1]][2] for c in _ctx(T, de)} == {
        "Digital economies grow.", "The digital economy grows.", "Digital trade and digital economy."}


def test_term_index_caps_and_keeps_extra_terms():
    tokens = _tokens(ROWS)
    m = year_matrix(tokens, "en")
    T = term_payload(tokens, m, "en", {"d1": 0, "d2": 1},
                     _settings(max_terms=2, min_term_count=1, term_contexts=1, phrase_contexts=2, seed=3),
                     extra_terms=["trade grow"], phrase_years=[("digital economy", 2020)])
    assert len(T["terms"]) == 3 and "trade grow" in T["terms"]
    ctx = {t: _ctx(T, i) for i, t in enumerate(T["terms"])}
    # at most term_contexts (1) sentences per term and year: "digital" occurs in both years
    assert len(ctx["trade grow"]) == 1 and sorted(c[0] for c in ctx["digital"]) == [0, 1]
    # a phrase of the Phrases view: phrase_contexts sentences in its step's year
    assert sorted(c[0] for c in ctx["digital economy"]) == [0, 0, 1]


def test_sentence_offsets_follow_the_text():
    t = sentence_frame(_tokens(ROWS))
    s = t[t["sid"] == 1]
    text = "".join((" " if g else "") + x for g, x in zip(s["gap"], s["text"]))
    assert text == "The digital economy grows."
    assert [text[a:b] for a, b in zip(s["off"], s["end"])] == s["text"].tolist()



def test_a_mention_ends_where_its_last_token_ends():
    """sentence_frame: an entity mention's tokens (a run of one entity within a sentence) all end
    where its last token ends; a token with no entity (missing or empty) keeps its own end. The
    same ends as the groupby of the runs of the entities as strings (the earlier computation), on
    Arrow and on object strings, with adjacent mentions of two entities, one entity in two
    sentences and a mention cut by a token without entity."""
    import numpy as np

    rows = [("d1", 2020, 0, 0, [w("The", keep=False), w("European"), w("Union"), w("and"), w("China"), w("China"), P]),
            ("d1", 2020, 0, 1, [w("Union"), w("grows"), P]),
            ("d2", 2021, 0, 0, [w("World"), w("Trade"), w("Bank"), P])]
    entity = [None, "@eu", "@eu", "", "@cn", "@un", None, "@eu", None, None, "@wto", "@wto", "@wto", None]
    for dtype in ("str", object):
        t = _tokens(rows).assign(entity=pd.Series(entity, dtype=dtype))
        got = sentence_frame(t)
        new = (got["sid"].ne(got["sid"].shift())).to_numpy()
        ent = got["entity"].fillna("").to_numpy(dtype=object)
        base = (got["off"] + got["text"].str.len()).to_numpy()
        run = np.cumsum(new | np.r_[True, ent[1:] != ent[:-1]] | (ent == ""))
        want = np.where(ent != "", pd.Series(base).groupby(run).transform("max").to_numpy(), base)
        assert got["end"].tolist() == want.tolist()
        assert got["end"].tolist()[1:3] == [got["end"].iloc[2]] * 2 and got["end"].iloc[4] < got["end"].iloc[5]

MORE = [  # documents whose ids sort between and after the first ones, in a second year
    ("d0", 2021, 0, 0, [w("Digital"), w("economy"), w("and", keep=False), w("trade"), P]),
    ("d15", 2020, 0, 0, [w("The", keep=False), w("economy"), w("grows", "grow"), w("digital"), P]),
    ("d15", 2020, 2, 0, [w("Digital"), w("economies", "economy"), P]),
    ("d3", 2021, 0, 0, [w("Trade"), w("grows", "grow"), w("digital"), w("economy"), P]),
    ("d3", 2021, 0, 1, [w("Economies", "economy"), w("grow"), P]),
]


def test_term_index_from_shards_is_the_term_index_from_the_whole_table():
    """The rule reads the token shards one at a time (documents interleave across shards in doc_id
    order): sentence numbers, the sentences chosen, their texts and the word forms must be those of
    the whole table."""
    tokens = _tokens(ROWS + MORE)
    m = year_matrix(tokens, "en")
    docs = {d: i for i, d in enumerate(sorted(tokens["doc_id"].unique()))}
    shards = [tokens[tokens["doc_id"].isin(ids)] for ids in (["d1", "d3"], ["d15"], ["d0", "d2"])]
    # (the merge drops a shard's rows that cannot displace the ones held before it sorts: with a phrase's
    # phrase_contexts above term_contexts, its cells hold more)
    for per_cell, seed, phrase in ((1, 0, 1), (2, 5, 1), (9, 1, 1), (1, 2, 3), (1, 7, 2)):
        kw = dict(settings=_settings(max_terms=100, min_term_count=1, term_contexts=per_cell, seed=seed,
                                     phrase_contexts=phrase),
                  phrase_years=[("digital economy", 2021), ("grow", 2020)], extra_terms=["trade grow"])
        whole = term_payload(tokens, m, "en", docs, **kw)
        assert term_payload(shards, m, "en", docs, **kw) == whole
        assert term_payload(shards[::-1], m, "en", docs, **kw) == whole
    first = pd.Series({"d1": 7, "d3": 0})  # a shard's documents numbered as in another table
    t = sentence_frame(shards[0], first)
    assert t.groupby("doc_id")["sid"].min().to_dict() == {"d1": 7, "d3": 0}
    assert t.drop(columns="sid").equals(sentence_frame(shards[0]).drop(columns="sid"))


def test_term_index_from_partial_files_is_the_term_index_from_the_token_shards(tmp_path):
    """The rules: each token shard's partial index written to files (rule count), merged by
    explorer_terms; the same page data as the term index read from the token shards themselves, and
    the same as from the whole table."""
    from textdrift import explorer
    from textdrift.io import write_csv, write_parquet
    from textdrift.vectorize import save_matrix

    tokens = _tokens(ROWS + MORE + RARE)
    docs = pd.DataFrame({"doc_id": sorted(tokens["doc_id"].unique())})
    save_matrix(year_matrix(tokens, "en"), tmp_path / "year_en.npz")
    write_csv(pd.DataFrame(columns=["lang", "year_from", "year_to", "phrase", "display", "status", "z", "q"]),
              tmp_path / "phrases.csv")
    files, partials = [], []
    for k, ids in enumerate((["d1", "d3"], ["d15"], ["d0", "d2"], ["d9"])):  # the last shard: no English text
        path = tmp_path / f"shard-{k}.parquet"
        write_parquet(tokens[tokens["doc_id"].isin(ids)].reset_index(drop=True), path)
        files.append(path)
        parts = {part: tmp_path / f"shard-{k}.{part}.parquet" for part in explorer.PARTIAL_PARTS}
        explorer.write_shard_partials(parts, path, ["en", "zh"])
        partials.append(parts)
        read = explorer.read_partials(parts, ["en"])["en"]
        direct = explorer.shard_partials(path, ["en"])["en"]
        assert read["vocab"].tolist() == direct["vocab"].tolist()
        for part in ("occ", "sentences", "forms"):
            pd.testing.assert_frame_equal(read[part], direct[part], check_dtype=False)
    settings = _settings(min_term_count=1, term_contexts=1, seed=3)
    index = [explorer.term_index({"en": tmp_path / "year_en.npz"}, shards, tmp_path / "phrases.csv", docs, [], ["en"],
                                 settings) for shards in (files, partials, partials[::-1])]
    assert embed_json(index[0]) == embed_json(index[1]) == embed_json(index[2])
    doc_index = {d: i for i, d in enumerate(docs["doc_id"])}
    whole = term_payload(tokens, year_matrix(tokens, "en"), "en", doc_index, settings, aliases={})
    assert embed_json(index[1]["terms"]["en"]) == embed_json(whole)
    assert len(whole["sentences"]) and whole["surface"]


def test_shard_partials_in_batches_are_those_of_each_batch_sorted_on_its_own(tmp_path, monkeypatch):
    """A shard's documents go to the term index in batches of about _BATCH_TOKENS tokens (documents in
    their order of appearance, per language). shard_partials sorts the shard once and cuts it; the
    result is that of filtering each language, cutting it into batches and sorting each batch on its
    own (the reference below), with documents out of doc_id order, two languages interleaved, a
    paragraph's tokens out of text order, paragraphs not counted (headings, selected in the same
    copy) and several batches."""
    import numpy as np

    from textdrift import explorer
    from textdrift.io import write_parquet

    en = _tokens(ROWS + MORE + RARE)
    zh = en.assign(lang="zh", doc_id="z" + en["doc_id"])
    order = np.random.default_rng(1).permutation(len(en) + len(zh))
    tokens = pd.concat([en, zh], ignore_index=True).take(order).reset_index(drop=True)
    heading = tokens["doc_id"].isin(["d2", "zd15"]) & (tokens["para"] == 0)
    tokens.loc[heading, "role"] = "heading"
    assert 0 < heading.sum() < len(tokens) / 2
    path = tmp_path / "shard.parquet"
    write_parquet(tokens, path)
    assert len(tokens) > 80
    monkeypatch.setattr(explorer, "_BATCH_TOKENS", 9)
    got = explorer.shard_partials(path, ["en", "zh"])
    read = explorer.counted(explorer.load_tokens(path, columns=explorer.TERM_COLUMNS), ("body",))
    for lang in ("en", "zh"):
        one = read[read["lang"] == lang]
        codes = pd.factorize(one["doc_id"])[0]
        n = np.bincount(codes)
        batch = ((np.cumsum(n) - n) // 9)[codes]
        assert len(np.unique(batch)) > 3
        first, _ = explorer._first_sids([explorer._sentence_counts(one)])
        st = ExplorerSettings()
        want = explorer.term_partial([sentence_frame(one[batch == k], first) for k in np.unique(batch)], st.ngram_max,
                                     lang in st.unspaced_languages)
        assert got[lang]["vocab"].tolist() == want["vocab"].tolist()
        for part in ("occ", "sentences", "forms"):
            pd.testing.assert_frame_equal(got[lang][part], want[part])


def test_rule_count_reads_the_shard_once_and_writes_what_the_two_jobs_wrote(tmp_path, monkeypatch):
    """Rule ``count`` (``explorer.run_shard``) reads the token shard once and writes the counts of
    ``vectorize.write_shard_counts`` and the partial term index of ``write_shard_partials`` (each
    reading the file itself), byte for byte: two languages interleaved, headings not counted, several batches."""
    import numpy as np

    from textdrift import counting, explorer, vectorize
    from textdrift.io import write_parquet

    class Named(list):  # a rule's named list, as Snakemake gives it to a script
        def __init__(self, items=(), **named):
            super().__init__(items)
            self.__dict__.update(named)

    en = _tokens(ROWS + MORE + RARE)
    zh = en.assign(lang="zh", doc_id="z" + en["doc_id"])
    tokens = pd.concat([en, zh], ignore_index=True)
    tokens = tokens.take(np.random.default_rng(2).permutation(len(tokens))).reset_index(drop=True)
    tokens.loc[tokens["doc_id"].isin(["d2", "zd15"]) & (tokens["para"] == 0), "role"] = "heading"
    tokens["entity"] = tokens["entity"].astype("string")  # (a token file's: strings, none here)
    path = tmp_path / "shard.parquet"
    write_parquet(tokens, path)
    monkeypatch.setattr(explorer, "_BATCH_TOKENS", 9)
    reads = []
    read_tokens = counting.read_tokens
    for mod in (explorer, vectorize):
        monkeypatch.setattr(mod, "read_tokens", lambda *a, **k: reads.append(a[0]) or read_tokens(*a, **k))
    langs, variants = ["en", "zh"], counting.CHECK_VARIANTS

    def outputs(d):
        d.mkdir()
        return Named(doc=[d / f"doc_{x}.npz" for x in langs], para=[d / f"para_{x}.npz" for x in langs],
                     check_doc=[d / f"doc_{v}_{x}.npz" for v in variants for x in langs],
                     para_ngrams=[d / f"para_ngrams_{x}.npz" for x in langs], paras=d / "paras.parquet",
                     check_paras=[d / f"paras_{v}.parquet" for v in variants],
                     **{part: d / f"{part}.parquet" for part in explorer.PARTIAL_PARTS})

    params = Named(languages=langs, ngram_max=3, count_roles=["body"], unspaced_languages=["zh"])
    one, two = outputs(tmp_path / "one"), outputs(tmp_path / "two")
    explorer.run_shard(Named([path], tokens=path), one, params, [tmp_path / "one.log"])
    assert reads == [path]
    vectorize.write_shard_counts(counting.read_tokens(path, vectorize.COUNT_COLUMNS), two, params)
    explorer.write_shard_partials({part: getattr(two, part) for part in explorer.PARTIAL_PARTS}, path, langs,
                                  explorer._settings(params))
    files = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(files) == 2 + 2 + 2 * len(variants) + 2 + 1 + len(variants) + len(explorer.PARTIAL_PARTS)
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_sentence_texts_joined_in_arrow_are_the_python_join():
    """_joined_pieces joins a token table's pyarrow texts (a space before each where ``gap``) in the
    order given as Arrow lays them out: the same string and ends (Python code points) as the
    Python join it replaces, for multi-byte, astral and empty texts, several chunks and a slice."""
    import numpy as np
    import pyarrow as pa

    from textdrift.explorer import _joined_pieces

    def python_join(text, gap, order):
        pieces = np.where(gap[order], " " + text.astype(str).to_numpy(dtype=object)[order],
                          text.astype(str).to_numpy(dtype=object)[order]).tolist()
        return "".join(pieces), np.cumsum([len(p) for p in pieces], dtype=np.int64)

    rng = np.random.default_rng(0)
    words = ["Digital", "数字", "经济", "é", "😀x", "", " b", "<&>"]
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["a", "数"], ["", "x😀"]])))
    for text in [pd.Series(rng.choice(words, 200), dtype="str"), pd.Series(rng.choice(words, 50), dtype="str").iloc[7:],
                 chunked, pd.Series([], dtype="str"), pd.Series(["a", "b"], dtype=object)]:
        gap, order = rng.random(len(text)) < 0.5, rng.permutation(len(text))
        got, want = _joined_pieces(text, gap, order), python_join(text, gap, order)
        assert got[0] == want[0] and np.array_equal(got[1], want[1])


def test_cells_numbered_on_codes_as_on_the_joined_strings():
    """_cell_codes numbers the (theme, lang, year) cells of theme_kwic rows as factorizing the joined
    strings did: order of first appearance, -1 without a theme, a language or a year."""
    import numpy as np

    from textdrift.explorer import _cell_codes

    rng = np.random.default_rng(3)
    n = 400
    for year in (rng.integers(2000, 2005, n), np.where(rng.random(n) < 0.1, np.nan, rng.integers(2000, 2005, n))):
        rows = pd.DataFrame({"theme": pd.array(rng.choice(["a", "b", "数", None], n), dtype="str"),
                             "lang": pd.array(rng.choice(["en", "zh", None], n, p=[0.45, 0.45, 0.1]), dtype="str"),
                             "year": year})
        want = pd.factorize(rows["theme"].str.cat([rows["lang"], rows["year"].astype(str)], sep="\x00"))[0]
        assert np.array_equal(_cell_codes(rows), want)
        assert np.array_equal(_cell_codes(rows.iloc[:0]), np.zeros(0, dtype=np.int64))


def test_large_tables_read_in_chunks_give_what_the_whole_tables_give(tmp_path, monkeypatch):
    import numpy as np

    from textdrift import explorer
    from textdrift.io import read_csv, write_csv

    rng = np.random.default_rng(0)
    n = 500
    kwic = pd.DataFrame({
        "doc_id": [f"d{i % 37}" for i in range(n)], "year": rng.integers(2000, 2004, n),
        "lang": rng.choice(["en", "zh"], n),
        "para": rng.integers(0, 5, n), "sent": rng.integers(0, 3, n), "role": "body",
        "kind": rng.choice(["theme", "entity"], n, p=[0.8, 0.2]), "theme": rng.choice(["a", "b", "c"], n),
        "term": "t", "left": "l", "match": "m", "right": rng.choice(["r", ""], n)})
    kwic.loc[[5, 70], ["kind", "theme"]] = ["theme", None]  # in no cell
    kwic["para"] = kwic["para"].astype(object)
    kwic.loc[n - 1, ["kind", "para"]] = ["entity", None]  # never shown, yet its column is float
    steps = rng.integers(0, 4, n)
    phrases = pd.DataFrame({
        "lang": np.where(steps % 2, "en", "zh"), "year_from": 2000 + steps, "year_to": 2001 + steps,
        "phrase": [f"p{i}" for i in range(n)], "display": [f"p{i}" for i in range(n)], "status": "tested",
        "count_from": rng.integers(0, 9, n).astype(float), "count_to": rng.integers(0, 9, n),
        "total_from": 100, "total_to": 120, "z": np.round(rng.normal(size=n), 1), "q": rng.random(n),
        "docs_from": "d1;d2", "docs_to": "d3", "genre_match": ""})
    phrases.loc[450, "count_from"] = np.nan  # a number column missing in one chunk only: float everywhere
    phrases.loc[[3, 9], "z"] = np.nan
    write_csv(kwic, tmp_path / "kwic.csv")
    write_csv(phrases, tmp_path / "phrases.csv")
    monkeypatch.setattr(explorer, "_CHUNK_ROWS", 60)
    kwic, phrases = read_csv(tmp_path / "kwic.csv"), read_csv(tmp_path / "phrases.csv")
    for per_cell, seed in ((1, 0), (3, 4)):
        shown, totals = explorer._read_kwic(tmp_path / "kwic.csv", per_cell, seed)
        k = kwic[kwic["kind"] == "theme"]
        assert shown.equals(explorer._sample(k, ["theme", "lang", "year"], per_cell, seed))
        assert totals == k.groupby(["theme", "lang", "year"]).size().to_dict()
    for per_step in (1, 2, 40):
        kept, tested = explorer._read_phrases(tmp_path / "phrases.csv", per_step)
        assert per_step > 2 or len(kept) < len(phrases) / 2
        assert embed_json(explorer._phrase_steps(kept, tested, per_step)) == embed_json(
            explorer.phrase_payload(phrases, per_step))


RARE = [  # a rare term, twice, in two years; frequent words around it
    ("d1", 2020, 0, 0, [w("Digital"), w("economy"), w("grows"), P]),
    ("d1", 2020, 1, 1, [w("The", keep=False), w("zyxwing"), w("plan"), w("starts"), P]),
    ("d2", 2021, 0, 0, [w("Digital"), w("economy"), w("grows"), P]),
    ("d2", 2021, 0, 1, [w("Digital"), w("economy"), w("shrinks"), P]),
    ("d2", 2021, 1, 2, [w("A", keep=False), w("zyxwing"), w("report"), P]),
]


def test_every_term_with_two_occurrences_is_in_the_index_with_its_sentences_per_year():
    """The default index has no cap: a term with 2 occurrences, among many more frequent ones, is
    searchable, with its sentence in each of its years (a cap per year, not per term)."""
    tokens = _tokens(RARE)
    m = year_matrix(tokens, "en")
    T = term_payload(tokens, m, "en", {"d1": 0, "d2": 1}, ExplorerSettings())
    assert "zyxwing" in T["terms"] and T["min_count"] == 2
    i = T["terms"].index("zyxwing")
    assert T["stats"][i] == [0, 1, 1, 1]
    assert [T["sentences"][c[1]][2] for c in _ctx(T, i)] == ["The zyxwing plan starts.", "A zyxwing report."]
    assert "grows" in T["terms"] and "zyxwing plan" not in T["terms"]  # once only: not in the index
    # every term of the matrix with two occurrences or more, and no other
    total = m.X.toarray().sum(axis=0)
    assert sorted(T["terms"]) == sorted(v for v, n in zip(m.vocab, total) if n >= 2)
    de = T["terms"].index("digital economy")  # 3 occurrences, each year shown: 1 + 2 sentences
    assert sorted(c[0] for c in _ctx(T, de)) == [0, 1, 1]
    # unspaced languages: the page joins the tokens (no second copy of every term in the payload)
    assert T["unspaced"] is False and "display" not in T


def test_formulation_payload_keeps_every_row_in_rank_order():
    from textdrift.explorer import formulation_payload

    t = pd.DataFrame({"lang": ["zh", "zh", "zh"], "year": [2021, 2021, 2020], "status": ["new", "new", "vanished"],
                      "rank": [2, 1, 1], "formulation": ["数字丝路", "全球发展倡议", "互联网+"], "count": [3, 5, 2],
                      "paragraphs": [2, 4, 2], "documents": [1, 1, 1], "years": ["2021:3", "2021:5", "2020:2"],
                      "example_doc": ["a", "a", "b"], "example": ["建设数字丝路。", "全球发展倡议提出。", "互联网+行动。"]})
    F = formulation_payload(t)
    rows = [dict(zip(F["cols"], r)) for r in F["rows"]]
    assert [r["formulation"] for r in rows] == ["互联网+", "全球发展倡议", "数字丝路"]
    assert rows[1]["count"] == 5 and rows[1]["example"] == "全球发展倡议提出。"
    assert formulation_payload(None)["rows"] == []


def test_term_index_is_packed_the_same_every_time_and_inflates_to_its_json():
    """The page carries the term index gzip-compressed (no timestamp: the same index, the same bytes);
    the browser inflates it with DecompressionStream (tests/test_explorer_browser.py)."""
    import gzip

    from textdrift.explorer import pack_terms

    text = embed_json({"zh": {"terms": ["数字 经济", "</script>"]}}).encode("utf-8")
    assert pack_terms(text) == pack_terms(text)
    assert gzip.decompress(pack_terms(text)) == text


def test_term_index_memo_keeps_a_language_whose_inputs_did_not_change(tmp_path, monkeypatch):
    """explorer_terms with the per-language memo writes the bytes it writes without it: on a cold
    run, on a rerun (every language from the memo, none computed), after a document is added in one
    language (only that language computed) and after the documents' page numbers move (every
    language with a document whose number changed computed)."""
    from textdrift import explorer
    from textdrift.io import write_csv, write_parquet
    from textdrift.langmemo import LanguageMemo
    from textdrift.vectorize import save_matrix

    en = _tokens(ROWS + MORE + RARE)
    zh = en.assign(lang="zh", doc_id="z" + en["doc_id"])
    langs = ["zh", "en"]
    write_csv(pd.DataFrame(columns=["lang", "year_from", "year_to", "phrase", "display", "status", "z", "q"]),
              tmp_path / "phrases.csv")
    settings = _settings(min_term_count=1, term_contexts=1, seed=3)
    computed = []
    real = explorer._term_index
    monkeypatch.setattr(explorer, "_term_index", lambda *a, **k: computed.append(1) or real(*a, **k))

    def run(tokens, doc_ids, name, memo_dir=None):
        """The term index's file (bytes) of ``tokens`` in two shards, and how many languages were computed."""
        work = tmp_path / name
        work.mkdir()
        shards = []
        for k, ids in enumerate((["d1", "d3", "zd0", "zd2"], ["d0", "d2", "d15", "d9", "zd1", "zd3", "zd15"])):
            path = work / f"shard-{k}.parquet"
            write_parquet(tokens[tokens["doc_id"].isin(ids)].reset_index(drop=True), path)
            shards.append({part: work / f"shard-{k}.{part}.parquet" for part in explorer.PARTIAL_PARTS})
            explorer.write_shard_partials(shards[-1], path, langs)
        years = {}
        for lang in langs:
            years[lang] = work / f"year_{lang}.npz"
            save_matrix(year_matrix(tokens[tokens["lang"] == lang], lang), years[lang])
        write_csv(pd.DataFrame({"doc_id": doc_ids}), work / "documents.csv")
        paths = {"phrase_changes": tmp_path / "phrases.csv", "documents": work / "documents.csv",
                 "phrases": work / "phrases.json", "terms": work / "terms.json.gz"}
        memo = LanguageMemo(memo_dir, "explorer_terms") if memo_dir else None
        computed.clear()
        explorer.write_term_index(paths, years, shards, langs, [], settings, memo)
        if memo is not None:
            memo.finish()
        return paths["terms"].read_bytes(), len(computed)

    docs = sorted(set(en["doc_id"]) | set(zh["doc_id"]))
    tokens = pd.concat([zh, en], ignore_index=True)
    plain, n = run(tokens, docs, "plain")
    assert n == 2
    assert run(tokens, docs, "cold", tmp_path / "memo") == (plain, 2)
    assert run(tokens, docs, "warm", tmp_path / "memo") == (plain, 0)
    # a document added in English (its own id, sorted last): Chinese comes from the memo
    added = _tokens([("d9", 2021, 0, 0, [w("Digital"), w("trade"), w("grows", "grow"), P])])
    more = pd.concat([tokens, added], ignore_index=True)
    plain, _ = run(more, [*docs, "d9"], "plain-added")
    assert run(more, [*docs, "d9"], "added", tmp_path / "memo") == (plain, 1)
    # the documents renumbered: every language's sentences point to other numbers
    plain, _ = run(more, ["d9", *docs], "plain-moved")
    assert run(more, ["d9", *docs], "moved", tmp_path / "memo") == (plain, 2)


def test_a_languages_rows_of_a_partial_are_those_the_filter_gives():
    """_lang_rows slices a language's rows when they are contiguous (as write_shard_partials writes
    them) and filters them otherwise; ``lang`` plain or dictionary-encoded, in chunks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from textdrift.explorer import _lang_rows

    for langs in (["zh", "zh", "en", "en", "en"], ["en", "zh", "en", "zh", "zh"], ["en"] * 5):
        t = pa.table({"lang": langs, "n": list(range(5))})
        for table in (t, pa.concat_tables([t.slice(0, 2), t.slice(2)]),
                      t.set_column(0, "lang", pc.dictionary_encode(t["lang"]))):
            for lang in ("zh", "en", "xx"):
                want = t.filter(pc.equal(t["lang"], lang)).drop_columns(["lang"])
                assert _lang_rows({"occ": table}, lang)["occ"].equals(want)
