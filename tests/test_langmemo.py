"""The per-language memo of `phrases` and `formulations` (textdrift.langmemo): after a document is
added in one language (or a bilingual one), the tables equal a computation without the memo and
the other language comes from it; every part of a language's key misses when it changes; a
corrupt entry is a logged miss. Tiny invented corpora (well under a second of CPU in all)."""

import logging
import shutil

import pandas as pd
import pytest

from textdrift.formulations import FormulationSettings, new_formulations
from textdrift.langmemo import LanguageMemo, table_digest
from textdrift.phrases import write_phrases
from textdrift.vectorize import doc_matrix, save_matrix, year_matrix

STOP = {"the", "of", "的", "和"}
PUNCT = {",", ".", "，", "。"}
ZH = [["数字", "丝绸", "之路", "建设", "。"], ["推进", "数字", "丝绸", "之路", "和", "网络", "强国", "。"],
      ["网络", "强国", "建设", "取得", "成效", "。"]]
EN = [["the", "digital", "silk", "road", "advances", "."], ["build", "the", "digital", "silk", "road", "."],
      ["a", "cyber", "power", "of", "the", "people", "."]]


def _doc(doc_id, year, lang, sentences, genre="report"):
    return {"doc_id": doc_id, "year": year, "lang": lang, "sentences": sentences, "genre": genre}


def _corpus():
    docs = []
    for y, k in [(2017, 1), (2018, 2), (2019, 3)]:
        docs.append(_doc(f"z{y}", y, "zh", ZH[:k] * 2 + [["改革", "开放", "和", "现代化", "建设", "。"]] * (4 - k)))
        docs.append(_doc(f"e{y}", y, "en", EN[:k] * 2 + [["reform", "and", "opening", "up", "."]] * (4 - k)))
    return docs


def _tokens(docs) -> pd.DataFrame:
    rows = []
    for d in docs:
        langs = d["lang"] if isinstance(d["lang"], tuple) else (d["lang"],)
        for para, lang in enumerate(langs):
            sentences = d["sentences"] if len(langs) == 1 else d["sentences"][lang]
            for sent, words in enumerate(sentences):
                for i, w in enumerate(words):
                    rows.append(dict(doc_id=d["doc_id"], year=d["year"], lang=lang, para=para, sent=sent,
                                     idx=100 * sent + 10 * i, text=w, norm=w.lower(), lemma=w, is_stop=w in STOP,
                                     is_punct=w in PUNCT, keep=w not in STOP and w not in PUNCT, role="body"))
    return pd.DataFrame(rows)


def _project(root, docs, shard_of=lambda d: d["year"] % 2):
    """Token shards (two), year and document matrices, documents.csv: the phrases job's inputs."""
    root.mkdir(parents=True, exist_ok=True)
    toks = _tokens(docs)
    paths = {"tokens": [], "year": {}, "doc": {}}
    for shard in (0, 1):
        ids = [d["doc_id"] for d in docs if shard_of(d) == shard]
        path = root / f"shard-{shard}.parquet"
        toks[toks["doc_id"].isin(ids)].reset_index(drop=True).to_parquet(path, index=False)
        paths["tokens"].append(str(path))
    for lang in ("en", "zh"):
        paths["year"][lang] = str(root / f"year_{lang}.npz")
        paths["doc"][lang] = str(root / f"doc_{lang}.npz")
        save_matrix(year_matrix(toks, lang), paths["year"][lang])
        save_matrix(doc_matrix(toks, lang), paths["doc"][lang])
    kept = toks[toks["keep"]]
    documents = pd.DataFrame({"doc_id": [d["doc_id"] for d in docs], "year": [d["year"] for d in docs],
                              "genre": [d["genre"] for d in docs]})
    for lang in ("en", "zh"):
        n = kept[kept["lang"] == lang].groupby("doc_id").size()
        documents[f"tokens_{lang}"] = documents["doc_id"].map(n).fillna(0).astype(int)
    paths["documents"] = str(root / "documents.csv")
    documents.to_csv(paths["documents"], index=False)
    return paths


TERMS = {"zh": ["改革开放和现代化建设"], "en": ["reform and opening up"]}


def _phrases(p, out, memo=None, terms=TERMS, **settings):
    write_phrases(p["year"], out / "changes.csv", documents=p["documents"], doc_matrices=p["doc"],
                  tokens=p["tokens"], codebook_terms=terms, steps_csv=out / "steps.csv", memo=memo,
                  **{"min_count": 1, **settings})
    return (out / "changes.csv").read_bytes(), (out / "steps.csv").read_bytes()


def _kept(caplog) -> set:
    return {r.getMessage().split(":")[0] for r in caplog.records if "kept in the memo" in r.getMessage()}


FORM = FormulationSettings().replace(min_count=2, min_paragraphs=1, min_chars=2, min_words=2)


@pytest.fixture(scope="module")
def warmed(tmp_path_factory):
    """The corpus's inputs, and memos warmed on it (a cold run of each job), made once."""
    root = tmp_path_factory.mktemp("langmemo")
    p = _project(root / "base", _corpus())
    _phrases(p, root, LanguageMemo(root / "memo" / "phrases", "phrases", code="c"))
    new_formulations(p["tokens"], ["en", "zh"], FORM, LanguageMemo(root / "memo" / "formulations",
                                                                   "formulations", code="c"))
    paras = _drift_inputs(p, root / "base")
    (root / "cold").mkdir()
    _drift(p, paras, root / "cold", LanguageMemo(root / "memo" / "drift", "drift", code="c"))
    return root, p


@pytest.fixture
def base(warmed, tmp_path):
    """The warmed inputs, with a copy of the memos in ``tmp_path / "memo"`` (a test changes them)."""
    root, p = warmed
    shutil.copytree(root / "memo", tmp_path / "memo")
    return p


ADDED = {
    "en": _doc("e2019b", 2019, "en", [EN[2], ["reform", "and", "opening", "up", "."]]),
    "zh": _doc("z2019b", 2019, "zh", [ZH[2], ["改革", "开放", "和", "现代化", "建设", "。"]]),
    "both": {**_doc("b2019b", 2019, ("zh", "en"), None), "sentences": {"zh": [ZH[0]], "en": [EN[0]]}},
}


@pytest.mark.parametrize("added", ["en", "zh", "both"])
def test_adding_a_document_recomputes_only_its_languages(base, tmp_path, caplog, added):
    p = _project(tmp_path / "added", _corpus() + [ADDED[added]])
    caplog.set_level(logging.INFO, logger="textdrift")
    memo = LanguageMemo(tmp_path / "memo" / "phrases", "phrases", code="c")
    out_memo, out_full = tmp_path / "m", tmp_path / "f"
    out_memo.mkdir(), out_full.mkdir()
    assert _phrases(p, out_memo, memo) == _phrases(p, out_full)
    expect = {"en": {"zh"}, "zh": {"en"}, "both": set()}[added]
    assert _kept(caplog) == expect
    # written: the changed shard's digest of each language (its file changed) and the recomputed entries
    assert memo.written == 2 + len({"en", "zh"} - expect)
    caplog.clear()
    memo = LanguageMemo(tmp_path / "memo" / "formulations", "formulations", code="c")
    with_memo = new_formulations(p["tokens"], ["en", "zh"], FORM, memo)
    full = new_formulations(p["tokens"], ["en", "zh"], FORM)
    assert len(full) and with_memo.to_csv(index=False) == full.to_csv(index=False)
    assert _kept(caplog) == expect
    # a recomputed language counts again only the year the document went to (2019)
    assert _years_from_memo(caplog) == {lang: "2 of 3" for lang in {"en", "zh"} - expect}


def _years_from_memo(caplog) -> dict:
    return {m.split(":")[0]: m.split(": ")[1].split(" years")[0] for r in caplog.records
            for m in [r.getMessage()] if "years' candidates taken from the memo" in m}


def test_years_of_a_language_taken_whole_are_kept(base, tmp_path, caplog):
    """A run that takes a language's rows from the memo keeps that language's year entries (they
    are not pruned): a document added in the other language, then one in this language, recomputes
    only the year it went to."""
    caplog.set_level(logging.INFO, logger="textdrift")
    docs = _corpus() + [ADDED["en"]]
    memo = LanguageMemo(tmp_path / "memo" / "formulations", "formulations", code="c")
    new_formulations(_project(tmp_path / "en", docs)["tokens"], ["en", "zh"], FORM, memo)
    memo.finish()
    assert _kept(caplog) == {"zh"}
    caplog.clear()
    p = _project(tmp_path / "zh", docs + [ADDED["zh"]])
    memo = LanguageMemo(tmp_path / "memo" / "formulations", "formulations", code="c")
    with_memo = new_formulations(p["tokens"], ["en", "zh"], FORM, memo)
    assert with_memo.to_csv(index=False) == new_formulations(p["tokens"], ["en", "zh"], FORM).to_csv(index=False)
    assert _kept(caplog) == {"en"} and _years_from_memo(caplog) == {"zh": "2 of 3"}


def _change_zh_doc(p, root, what):
    """A copy of the inputs with one Chinese part changed (the English ones untouched)."""
    q = _project(root, _corpus())
    if what == "tokens":  # a token the matrices do not see (not kept), the text around it the same
        path = q["tokens"][1]
        t = pd.read_parquet(path)
        t.loc[(t["lang"] == "zh") & (t["text"] == "和"), "idx"] += 1
        t.to_parquet(path, index=False)
    elif what == "year":
        m = year_matrix(_tokens(_corpus()[:-2]), "zh")
        save_matrix(m, q["year"]["zh"])
    elif what == "doc":
        save_matrix(doc_matrix(_tokens(_corpus()[:-2]), "zh"), q["doc"]["zh"])
    elif what == "documents":
        d = pd.read_csv(q["documents"])
        d.loc[d["doc_id"] == "z2018", "genre"] = "speech"
        d.to_csv(q["documents"], index=False)
    return q


@pytest.mark.parametrize("what", ["tokens", "year", "doc", "documents", "protected", "settings", "code", "corrupt"])
def test_each_part_of_the_key_misses(base, tmp_path, caplog, what):
    memo_dir = tmp_path / "memo" / "phrases"
    p = _change_zh_doc(base, tmp_path / "changed", what) if what in ("tokens", "year", "doc", "documents") else base
    terms = {**TERMS, "zh": [*TERMS["zh"], "不存在的提法"]} if what == "protected" else TERMS
    settings = {"min_count": 2} if what == "settings" else {}
    if what == "corrupt":
        for f in memo_dir.iterdir():
            data = f.read_bytes()
            f.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    caplog.set_level(logging.INFO, logger="textdrift")
    memo = LanguageMemo(memo_dir, "phrases", code="other" if what == "code" else "c")
    out_memo, out_full = tmp_path / "m", tmp_path / "f"
    out_memo.mkdir(), out_full.mkdir()
    assert _phrases(p, out_memo, memo, terms, **settings) == _phrases(p, out_full, None, terms, **settings)
    expect = {"settings": set(), "code": set(), "corrupt": set()}.get(what, {"en"})
    assert _kept(caplog) == expect
    if what == "corrupt":
        assert "is corrupt" in caplog.text
    # the memo now holds this run's entries only
    assert {f.stem for f in memo_dir.iterdir()} == memo.used
    if what in ("tokens", "settings", "code"):  # the formulations' key: the tokens, settings and code
        caplog.clear()
        st = FORM.replace(min_count=3) if what == "settings" else FORM
        memo = LanguageMemo(tmp_path / "memo" / "formulations", "formulations", code="other" if what == "code" else "c")
        with_memo = new_formulations(p["tokens"], ["en", "zh"], st, memo)
        assert with_memo.to_csv(index=False) == new_formulations(p["tokens"], ["en", "zh"], st).to_csv(index=False)
        assert _kept(caplog) == expect


def test_table_digest_ignores_dictionaries_and_chunks():
    import pyarrow as pa

    a = pa.table({"text": pa.array(["x", "y", None, "x"]), "n": pa.array([1, 2, 3, 4])})
    b = pa.concat_tables([a.slice(0, 1), a.slice(1)])
    c = pa.table({"text": pa.array(["x", "y", None, "x", "other"]).dictionary_encode(),
                  "n": pa.array([1, 2, 3, 4, 5])}).slice(0, 4)
    assert table_digest(a) == table_digest(b) == table_digest(c)
    # a string column read plain or dictionary-encoded, one value (lang) or many: the same digest
    for col in (["zh"] * 5, ["zh"] * 9, ["a", "b", "a", None, "c"], [None] * 5, [None] * 9):
        plain = pa.table({"lang": pa.array(col, type=pa.string())})
        coded = pa.table({"lang": pa.chunked_array([pa.array(["other", *col[:2]]).dictionary_encode().slice(1),
                                                    pa.array(col[2:], type=pa.string()).dictionary_encode()])})
        assert table_digest(plain) == table_digest(coded)
    assert table_digest(pa.table({"lang": ["zh"] * 5})) != table_digest(pa.table({"lang": ["zh"] * 4 + ["en"]}))
    # a dictionary column of long runs (doc_id, role) is hashed as its runs: the same whatever the
    # dictionaries and chunks, different when a value or a run's length changes
    values = ["d1"] * 20 + [None] * 3 + ["d2"] * 20

    def runs(parts):
        return pa.table({"doc": pa.chunked_array([pa.array(p).dictionary_encode() for p in parts])})

    one = runs([values])
    assert table_digest(one) == table_digest(runs([values[:7], values[7:30], values[30:]]))
    assert table_digest(one) == table_digest(runs([["x", *values[:21]], values[21:]]).slice(1))
    assert table_digest(one) != table_digest(runs([values[:-1] + ["d3"]]))
    assert table_digest(one) != table_digest(runs([values[1:] + ["d2"]]))
    assert table_digest(a) != table_digest(a.slice(1)) != table_digest(a.set_column(1, "n", pa.array([1, 2, 3, 5])))


def _drift_inputs(p, root):
    """The drift job's inputs for a project of :func:`_project`: its year matrices and one paragraph
    matrix per shard and language."""
    from textdrift.vectorize import para_matrix

    paras = []
    for shard, path in enumerate(p["tokens"]):
        toks = pd.read_parquet(path)
        for lang in ("en", "zh"):
            paras.append(str(root / f"para_{lang}-{shard}.npz"))
            save_matrix(para_matrix(toks, lang), paras[-1])
    return paras


def _drift(p, paras, out, memo=None, settings=None):
    from textdrift.drift import TABLE_COLUMNS, DriftFiles, DriftSettings, write_drift

    files = DriftFiles([p["year"]["en"], p["year"]["zh"]], paras, {n: out / f"{n}.csv" for n in TABLE_COLUMNS},
                       p["documents"])
    write_drift(files, ["en", "zh"], settings or DriftSettings(baseline_rounds=5, permutations=20), memo)
    return [(out / f"{n}.csv").read_bytes() for n in TABLE_COLUMNS]


@pytest.mark.parametrize("what", ["en", "both", "para", "settings"])
def test_drift_memo(base, tmp_path, caplog, what):
    from textdrift.drift import DriftSettings

    memo_dir = tmp_path / "memo" / "drift"
    q = _project(tmp_path / "added", _corpus() + ([ADDED[what]] if what in ADDED else []))
    paras = _drift_inputs(q, tmp_path / "added")
    if what == "para":  # one Chinese paragraph matrix changed, nothing else
        t = pd.read_parquet(q["tokens"][0])
        save_matrix(__import__("textdrift.vectorize").vectorize.para_matrix(t[t["doc_id"] != "z2018"], "zh"),
                    paras[1])
    settings = DriftSettings(baseline_rounds=5, permutations=20)
    settings = settings.replace(seed=settings.seed + 1) if what == "settings" else settings
    caplog.set_level(logging.INFO, logger="textdrift")
    out_memo, out_full = tmp_path / "m", tmp_path / "f"
    out_memo.mkdir(), out_full.mkdir()
    assert _drift(q, paras, out_memo, LanguageMemo(memo_dir, "drift", code="c"), settings) == \
        _drift(q, paras, out_full, None, settings)
    assert _kept(caplog) == {"en": {"zh"}, "para": {"en"}}.get(what, set())


def test_plain_table_digest_hashes_the_strings_bytes_whatever_the_chunks():
    """``plain`` (the explorer's partial indexes): a plain string column hashed as its bytes and
    offsets: the same for any chunks, slices and string or large_string, different when a value, a
    boundary between two values or a null changes; ``rows_digest`` of a mapping joins its tables'."""
    import pyarrow as pa

    from textdrift.langmemo import rows_digest

    a = pa.table({"text": pa.array(["ab", "c", None, "ab"]), "n": pa.array([1, 2, 3, 4])})
    b = pa.concat_tables([a.slice(0, 1), a.slice(1)])
    c = pa.table({"text": pa.array(["x", "ab", "c", None, "ab"], type=pa.large_string()),
                  "n": pa.array([0, 1, 2, 3, 4])}).slice(1)
    assert table_digest(a, plain=True) == table_digest(b, plain=True) == table_digest(c, plain=True)
    assert table_digest(a, plain=True) != table_digest(a)
    for other in (["a", "bc", None, "ab"], ["ab", "c", "", "ab"], ["ab", "c", None, "aB"]):
        assert table_digest(a, plain=True) != table_digest(a.set_column(0, "text", pa.array(other)), plain=True)
    assert rows_digest({"x": a, "y": c}, plain=True) == table_digest(a, plain=True) + "/" + table_digest(c, plain=True)
    assert rows_digest(a) == table_digest(a)


def _shard_docs(p, root):
    """The merge_counts job's inputs for a project of :func:`_project`: one document matrix per
    language and shard, named as the ``count`` rule names them (Chinese first, as the rule lists them)."""
    from textdrift.vectorize import doc_matrix

    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang in ("zh", "en"):
        for shard, path in enumerate(p["tokens"]):
            paths.append(str(root / f"doc_{lang}-{shard}.npz"))
            save_matrix(doc_matrix(pd.read_parquet(path), lang), paths[-1])
    return paths


def _merged(shards, out, memo=None) -> list[bytes]:
    from textdrift.vectorize import merge_shard_matrices

    out.mkdir(parents=True, exist_ok=True)
    year = {lang: out / f"year_{lang}.npz" for lang in ("zh", "en")}
    doc = {lang: out / f"doc_{lang}.npz" for lang in ("zh", "en")}
    merge_shard_matrices(shards, year, doc, memo)
    return [path.read_bytes() for lang in ("zh", "en") for path in (doc[lang], year[lang])]


@pytest.mark.parametrize("added", ["en", "zh", "both", "corrupt"])
def test_merge_counts_memo(tmp_path, caplog, added):
    # cold: the files equal a merge without the memo; after a document added, the same again, with
    # exactly the other language's files from the memo (a corrupt entry: a logged miss)
    memo_dir = tmp_path / "memo"
    shards = _shard_docs(_project(tmp_path / "base", _corpus()), tmp_path / "base")
    assert _merged(shards, tmp_path / "cold", LanguageMemo(memo_dir, "merge_counts", code="c")) == \
        _merged(shards, tmp_path / "plain")
    if added == "corrupt":
        for entry in memo_dir.iterdir():
            entry.write_bytes(entry.read_bytes()[:-5])
    else:
        shards = _shard_docs(_project(tmp_path / "added", _corpus() + [ADDED[added]]), tmp_path / "added")
    caplog.set_level(logging.INFO, logger="textdrift")
    assert _merged(shards, tmp_path / "m", LanguageMemo(memo_dir, "merge_counts", code="c")) == \
        _merged(shards, tmp_path / "f")
    assert _kept(caplog) == {"en": {"zh"}, "zh": {"en"}}.get(added, set())


def _exported(doc, documents, out, memo=None) -> list[bytes]:
    from textdrift.vectorize import export_matrices

    files = {lang: {k: out / f"{k}_{lang}" for k in ("mtx", "features", "docvars", "parquet")} for lang in ("zh", "en")}
    out.mkdir(parents=True, exist_ok=True)
    export_matrices(doc, documents, files, memo)
    return [path.read_bytes() for lang in files for path in files[lang].values()]


@pytest.mark.parametrize("change", ["en", "zh", "genre_zh", "dtype", "corrupt"])
def test_export_memo(tmp_path, caplog, change):
    # cold: the files equal an export without the memo; after a change, the same again, with exactly
    # the unchanged language's files from the memo. "dtype": a missing value in an English document's
    # column makes the column float for every row, so the Chinese document variables change too
    memo_dir = tmp_path / "memo"
    p = _project(tmp_path / "base", _corpus())
    pd.read_csv(p["documents"]).assign(pages=3).to_csv(p["documents"], index=False)
    assert _exported(p["doc"], p["documents"], tmp_path / "cold", LanguageMemo(memo_dir, "export", code="c")) == \
        _exported(p["doc"], p["documents"], tmp_path / "plain")
    if change in ADDED:
        p = _project(tmp_path / "added", _corpus() + [ADDED[change]])
        pd.read_csv(p["documents"]).assign(pages=3).to_csv(p["documents"], index=False)
    elif change == "corrupt":
        for entry in memo_dir.iterdir():
            entry.write_bytes(entry.read_bytes()[:-5])
    else:
        d = pd.read_csv(p["documents"])
        if change == "genre_zh":
            d.loc[d["doc_id"] == "z2018", "genre"] = "speech"
        else:
            d["pages"] = d["pages"].where(d["doc_id"] != "e2018")
        d.to_csv(p["documents"], index=False)
    caplog.set_level(logging.INFO, logger="textdrift")
    assert _exported(p["doc"], p["documents"], tmp_path / "m", LanguageMemo(memo_dir, "export", code="c")) == \
        _exported(p["doc"], p["documents"], tmp_path / "f")
    assert _kept(caplog) == {"en": {"zh"}, "zh": {"en"}, "genre_zh": {"en"}}.get(change, set())
