"""Theme frequencies: matching rules, counts, Poisson intervals, KWIC and codebook validation.

Every expected number is computed by hand in the comments, on tiny invented token tables.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textdrift.io import read_csv
from textdrift.codebook import CodebookError, Theme, codebook_hash, load_codebook, parse_codebook
from textdrift.matching import match_themes
from textdrift.stats import poisson_ci
from textdrift.themes import (
    FREQ_COLUMNS,
    KWIC_COLUMNS,
    CodebookFiles,
    ThemesFiles,
    ThemesSettings,
    match_shard,
    write_themes,
    theme_frequencies,
    theme_table,
    unmatched_terms,
)
from textdrift.vectorize import year_matrix
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/themes.schema.yaml"
STOP = {"the", "a", "with", "of", "is", "and", "的", "和"}


def tokens_of(*paragraphs):
    """Token table from (doc_id, year, lang, para, sentences) where a sentence is a list of
    tokens given as "text" or "text/norm". English tokens are one space apart, Chinese ones
    touch; each sentence gets a new ``sent``; punctuation = no letter or digit."""
    rows, sent = [], {}
    for doc_id, year, lang, para, sentences in paragraphs:
        idx, sep = 0, 0 if lang == "zh" else 1
        for s in sentences:
            n = sent.setdefault((doc_id, lang), 0)
            for tok in s:
                text, _, norm = tok.partition("/")
                norm = norm or text.lower()
                punct = not any(c.isalnum() for c in text)
                stop = norm in STOP
                rows.append(dict(doc_id=doc_id, year=year, lang=lang, para=para, sent=n, idx=idx, text=text,
                                 norm=norm, lemma=norm, is_stop=stop, is_punct=punct, keep=not (stop or punct)))
                idx += len(text) + sep
            sent[(doc_id, lang)] = n + 1
    return pd.DataFrame(rows)


def cb(*themes):
    """Codebook from (id, en terms, zh terms)."""
    return [Theme(i, {"en": i, "zh": i}, {"en": tuple(en), "zh": tuple(zh)}) for i, en, zh in themes]


def count(freq, year, lang, theme):
    row = freq[(freq["year"] == year) & (freq["lang"] == lang) & (freq["theme"] == theme)]
    assert len(row) == 1
    return int(row["count"].iloc[0])


# ---- Poisson interval ------------------------------------------------------------------------


def test_poisson_ci_hand_values():
    # Garwood: low = chi2.ppf(.025, 2k)/2, high = chi2.ppf(.975, 2k+2)/2.
    # k=0: high = -ln(0.025) = 3.6889; k=1: low = -ln(0.975) = 0.02532, high = 5.5716;
    # k=10: [4.7954, 18.3904] (tables of Garwood 1936 / Ulm 1990).
    low, high = poisson_ci([0, 1, 10], 0.95)
    np.testing.assert_allclose(low, [0, 0.025318, 4.795389], atol=1e-5)
    np.testing.assert_allclose(high, [3.688879, 5.571643, 18.390358], atol=1e-5)
    # 90 %: k=0 -> -ln(0.05) = 2.9957
    assert poisson_ci([0], 0.90)[1][0] == pytest.approx(2.995732, abs=1e-6)


# ---- matching rules --------------------------------------------------------------------------


def test_multiword_term_counts_once_and_kwic():
    toks = tokens_of(("d1", 2020, "en", 0, [["The", "digital", "divide", "is", "wide", "."]]))
    m = match_themes(toks, cb(("divide", ["digital divide"], [])))
    assert len(m) == 1
    r = m.iloc[0]
    assert (r["term"], r["left"], r["match"], r["right"]) == ("digital divide", "The", "digital divide", "is wide .")
    # "The digital divide": "digital" starts at char 4, "divide" ends at 4+7+1+6 = 18
    assert (r["para"], r["sent"], r["start_idx"], r["end_idx"]) == (0, 0, 4, 18)


def test_stop_words_inside_a_term_and_no_crossing_of_punctuation_or_sentences():
    toks = tokens_of(
        ("d1", 2020, "en", 0, [["build", "a", "community", "with", "a", "shared/share", "future"],
                               ["digital", ",", "divide"], ["digital"], ["divide"]]),
    )
    m = match_themes(toks, cb(("cf", ["community with a share* future"], []), ("dd", ["digital divide"], [])))
    assert m["theme"].tolist() == ["cf"]  # "digital , divide" and "digital" | "divide" do not match
    assert m["match"].iloc[0] == "community with a shared future"


def test_overlapping_terms_of_one_theme_count_once():
    toks = tokens_of(("d1", 2020, "en", 0, [["cross-border", "data", "flow"]]))
    # Two 2-token terms overlap on "data": equal length, so the leftmost wins -> 1 match.
    m = match_themes(toks, cb(("data", ["data flow", "cross-border data"], [])))
    assert m["term"].tolist() == ["cross-border data"]
    # A 3-token term is longer: it wins, the 2-token ones inside it are dropped -> 1 match.
    m = match_themes(toks, cb(("data", ["data flow", "cross-border data", "cross-border data flow"], [])))
    assert m["term"].tolist() == ["cross-border data flow"]
    # Same span and length: a plain term is credited before a glob, whatever the codebook order.
    zh = tokens_of(("d1", 2020, "zh", 0, [["数字经济"]]))
    assert match_themes(zh, cb(("de", [], ["*经济", "数字经济"])))["term"].tolist() == ["数字经济"]


def test_same_span_counts_for_two_themes():
    toks = tokens_of(("d1", 2020, "en", 0, [["data", "security", "matters"]]))
    freq, kwic = theme_table(toks, cb(("data", ["data security"], []), ("sec", ["security"], [])), ["en"])
    assert count(freq, 2020, "en", "data") == 1 and count(freq, 2020, "en", "sec") == 1
    assert sorted(kwic["match"]) == ["data security", "security"]


def test_glob_terms():
    words = ["cybersecurity", "cybercrime", "cyber", "digitization", "digitisation", "digitalization"]
    toks = tokens_of(("d1", 2020, "en", 0, [words]))
    m = match_themes(toks, cb(("cyber", ["cyber*"], []), ("digi", ["digiti?ation"], [])))
    # "cyber*" matches all three cyber words ("*" may be empty); "digiti?ation" one letter: z or s
    assert m[m["theme"] == "cyber"]["match"].tolist() == ["cybersecurity", "cybercrime", "cyber"]
    assert m[m["theme"] == "digi"]["match"].tolist() == ["digitization", "digitisation"]


def test_chinese_term_matches_across_a_jieba_split_but_never_inside_a_token():
    toks = tokens_of(
        ("d1", 2020, "zh", 0, [["发展", "数字", "经济", "。"]]),  # the term split in two tokens
        ("d1", 2020, "zh", 1, [["数字经济", "很", "重要"]]),  # the term as one token
    )
    m = match_themes(toks, cb(("de", [], ["数字经济"]), ("econ", [], ["经济"]), ("glob", [], ["*经济"])))
    de = m[m["theme"] == "de"]
    assert de["match"].tolist() == ["数字经济", "数字经济"]  # tokens 数字+经济 (para 0) and 数字经济 (para 1)
    assert de["left"].tolist() == ["发展", ""]  # Chinese context joined without spaces
    # 经济 is a token in para 0 only: it does not match inside the token 数字经济 (para 1)
    assert m[m["theme"] == "econ"]["para"].tolist() == [0]
    # a glob term matches one whole token: 经济 (para 0) and 数字经济 (para 1)
    assert m[m["theme"] == "glob"]["match"].tolist() == ["经济", "数字经济"]


def test_chinese_term_must_end_at_a_token_boundary():
    toks = tokens_of(("d1", 2020, "zh", 0, [["数字", "经济体"]]))
    # 数字+经济体 = 数字经济体: 数字经济 would end inside the token 经济体 -> no match
    assert match_themes(toks, cb(("de", [], ["数字经济"]))).empty


def test_kwic_window_stays_in_the_paragraph():
    toks = tokens_of(
        ("d1", 2020, "en", 0, [["one", "two", "three", "green", "four", "five"]]),
        ("d1", 2020, "en", 1, [["six", "seven"]]),
    )
    m = match_themes(toks, cb(("g", ["green"], [])), window=2)
    assert (m["left"].iloc[0], m["right"].iloc[0]) == ("two three", "four five")
    m = match_themes(toks, cb(("g", ["green"], [])), window=8)
    assert (m["left"].iloc[0], m["right"].iloc[0]) == ("one two three", "four five")  # not "six seven"


# ---- frequencies -----------------------------------------------------------------------------


def corpus():
    return tokens_of(
        # 2020 en: kept tokens = digital divide digital divide green bridging gap = 7 (the, is, "." not kept)
        ("d1", 2020, "en", 0, [["the", "digital", "divide", "is", "digital", "divide", "."]]),
        ("d2", 2020, "en", 0, [["green", "bridging", "gap"]]),
        # 2020 zh: kept = 数字 鸿沟 绿色 = 3
        ("d1", 2020, "zh", 0, [["数字", "鸿沟", "和", "绿色"]]),
        # 2021 en only (no Chinese text that year): kept = divide growth = 2
        ("d3", 2021, "en", 0, [["divide", "growth"]]),
    )


CODEBOOK = cb(("divide", ["digital divide", "divide"], ["数字鸿沟"]), ("green", ["green"], ["绿色"]),
              ("sovereignty", ["sovereignty"], ["主权"]))


def test_frequency_table_counts_zeros_and_missing_language_years():
    freq, kwic = theme_table(corpus(), CODEBOOK, ["zh", "en"], ThemesSettings(ci="poisson"))
    assert list(freq.columns) == FREQ_COLUMNS and list(kwic.columns) == KWIC_COLUMNS
    # (2020, zh), (2020, en), (2021, en) x 3 themes = 9 rows; no (2021, zh) row: no Chinese text
    assert len(freq) == 9
    assert freq[(freq["year"] == 2021) & (freq["lang"] == "zh")].empty
    # 2020 en: "digital divide" twice (the longer term wins over "divide": 2, not 4)
    assert count(freq, 2020, "en", "divide") == 2
    assert count(freq, 2020, "en", "green") == 1
    assert count(freq, 2021, "en", "divide") == 1
    assert count(freq, 2020, "zh", "divide") == 1 and count(freq, 2020, "zh", "green") == 1
    tok = freq.set_index(["year", "lang"])["tokens"].groupby(level=[0, 1]).first()
    assert tok.to_dict() == {(2020, "en"): 7, (2020, "zh"): 3, (2021, "en"): 2}
    # per_10k: 2/7*10000 = 2857.142857...
    r = freq[(freq["year"] == 2020) & (freq["lang"] == "en") & (freq["theme"] == "divide")].iloc[0]
    assert r["per_10k"] == pytest.approx(2857.142857, abs=1e-6)
    # Poisson k=2: [0.2422, 7.2247] / 7 * 10000 = [346.0, 10321.0]
    assert r["ci_low"] == pytest.approx(0.242209 / 7 * 1e4, rel=1e-5)
    assert r["ci_high"] == pytest.approx(7.224693 / 7 * 1e4, rel=1e-5)


def test_zero_count_theme_has_a_row_and_the_k0_interval():
    freq, _ = theme_table(corpus(), CODEBOOK, ["zh", "en"])
    r = freq[(freq["year"] == 2020) & (freq["lang"] == "zh") & (freq["theme"] == "sovereignty")].iloc[0]
    # k = 0, tokens = 3: per_10k = 0, interval [0, 3.688879 / 3 * 10000 = 12296.26]
    assert (r["count"], r["tokens"], r["per_10k"], r["ci_low"]) == (0, 3, 0.0, 0.0)
    assert r["ci_high"] == pytest.approx(3.688879 / 3 * 1e4, rel=1e-6)


def test_tokens_are_vectorize_denominator():
    toks = corpus()
    freq, _ = theme_table(toks, CODEBOOK, ["en"])
    rows = year_matrix(toks, "en", 1).rows.set_index("year")["tokens"]
    got = freq.groupby("year")["tokens"].first()
    assert got.to_dict() == rows.to_dict()


def test_language_without_any_text_and_single_year():
    toks = tokens_of(("d1", 2019, "en", 0, [["green", "growth"]]))
    freq, kwic = theme_table(toks, CODEBOOK, ["en", "fr"])
    assert set(freq["lang"]) == {"en"} and set(freq["year"]) == {2019} and len(freq) == 3
    assert count(freq, 2019, "en", "green") == 1 and len(kwic) == 1
    empty, kwic = theme_table(toks.iloc[0:0], CODEBOOK, ["en"])
    assert empty.empty and kwic.empty and list(empty.columns) == FREQ_COLUMNS


SOVEREIGNTY = "  - {id: sovereignty, label_en: Sovereignty, en: [sovereignty, sovereign], zh: [主权]}\n"


def write_shards(toks, tmp_path):
    """One Parquet shard per document, as the segment rule writes them."""
    paths = []
    for i, (_, part) in enumerate(toks.groupby("doc_id")):
        paths.append(tmp_path / f"shard-{i}.parquet")
        part.to_parquet(paths[-1])
    return paths


def run_rules(paths, cbk, out, languages, **kwargs):
    """The `theme_matches` rule on every shard, then the `themes` rule, as the workflow runs them."""
    found = [(p.with_name(p.stem + ".matches.parquet"), p.with_name(p.stem + ".paras.parquet")) for p in paths]
    for p, (m, q) in zip(paths, found):
        match_shard(p, CodebookFiles(cbk, SCHEMA), m, q, languages)
    files = ThemesFiles([m for m, _ in found], [q for _, q in found], CodebookFiles(cbk, SCHEMA), *out)
    write_themes(files, languages, ThemesSettings(**kwargs))


def write_codebook(tmp_path, extra=""):
    cbk = tmp_path / "themes.yaml"
    cbk.write_text(
        "themes:\n"
        "  - {id: divide, label_en: Divide, en: [digital divide, divide], zh: [数字鸿沟]}\n"
        "  - {id: green, label_en: Green, label_zh: 绿色, en: [green], zh: [绿色]}\n" + extra,
        encoding="utf-8",
    )
    return cbk


def test_kwic_rows_add_up_to_counts_and_per_10k_is_reproducible(tmp_path):
    toks = corpus()
    paths = write_shards(toks, tmp_path)
    cbk = write_codebook(tmp_path, SOVEREIGNTY)
    out = [tmp_path / "tables" / n for n in ("freq.csv", "kwic.csv", "unmatched.csv")]
    run_rules(paths, cbk, out, ["zh", "en"])
    freq, kwic, unmatched = (read_csv(p) for p in out)
    # the table names the codebook that produced it (first 12 hex digits of its SHA-256)
    assert list(freq.columns) == [*FREQ_COLUMNS, "codebook"] and list(kwic.columns) == KWIC_COLUMNS
    assert set(freq["codebook"]) == {codebook_hash(cbk)}
    n = kwic.groupby(["year", "lang", "theme"]).size()
    for r in freq.itertuples():
        assert n.get((r.year, r.lang, r.theme), 0) == r.count
        assert r.per_10k == pytest.approx(r.count / r.tokens * 10000, rel=1e-12)
    # never matched: en "sovereignty", "sovereign", zh "主权"; "divide" (en) counted once in 2021
    assert unmatched.values.tolist() == [["sovereignty", "zh", "主权"], ["sovereignty", "en", "sovereignty"],
                                         ["sovereignty", "en", "sovereign"]]


def test_unmatched_terms_are_listed_and_logged(caplog):
    toks = tokens_of(("d1", 2020, "en", 0, [["digital", "divide"]]))
    codebook = cb(("divide", ["digital divide", "divide", "gap"], ["数字鸿沟"]))
    m = match_themes(toks, codebook)
    with caplog.at_level(logging.WARNING, logger="textdrift"):
        un = unmatched_terms(m, codebook, ["en"])
    # "divide" occurs only inside the counted "digital divide": it never counts, so it is listed
    assert un.values.tolist() == [["divide", "en", "divide"], ["divide", "en", "gap"]]
    assert "2 codebook term(s) never matched" in caplog.text and "gap" in caplog.text


def test_bootstrap_interval():
    # Two paragraphs, each 1 match in 2 kept tokens: every resample has rate 1/2*10000 = 5000,
    # so the percentile interval collapses to [5000, 5000]; it is widened to the exact Poisson
    # interval of k = 2 in 4 tokens: [0.242209, 7.224693] / 4 * 10000; 0 matches -> [0, 3.688879 / 4 * 10000]
    toks = tokens_of(("d1", 2020, "en", 0, [["green", "growth"]]), ("d1", 2020, "en", 1, [["green", "jobs"]]))
    freq, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=50, seed=1))
    g = freq.set_index("theme")
    assert (g.loc["green", "ci_low"], g.loc["green", "ci_high"]) == pytest.approx((605.5225, 18061.73), rel=1e-5)
    assert (g.loc["divide", "ci_low"], g.loc["divide", "ci_high"]) == pytest.approx((0.0, 9222.197), rel=1e-6)
    # Unequal paragraphs: same seed -> same interval, and it contains per_10k
    toks = tokens_of(("d1", 2020, "en", 0, [["green", "green", "x"]]), ("d1", 2020, "en", 1, [["y", "z"]]))
    a, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=200, seed=7))
    b, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=200, seed=7))
    pd.testing.assert_frame_equal(a, b)
    r = a.set_index("theme").loc["green"]
    assert r["ci_low"] <= r["per_10k"] <= r["ci_high"] and r["ci_low"] < r["ci_high"]
    with pytest.raises(ValueError, match="ci must be"):
        theme_frequencies(toks, match_themes(toks, CODEBOOK), CODEBOOK, ["en"], ThemesSettings(ci="normal"))


# ---- codebook --------------------------------------------------------------------------------


def test_shipped_codebook_is_valid_and_rich():
    themes = load_codebook(FIXTURE / "config/themes.yaml", SCHEMA)
    assert len(themes) >= 14 and len({t.id for t in themes}) == len(themes)
    for t in themes:
        assert t.labels["en"] and t.labels["zh"]
        assert 10 <= len(t.terms["en"]) <= 30 and 10 <= len(t.terms["zh"]) <= 30, t.id


@pytest.mark.parametrize(
    "theme, message",
    [
        ({"id": "data", "label_en": "Data", "en": ["Data security"]},
         "theme 'data' (themes[1]), field 'en[0]'"),
        ({"id": "data", "en": ["data"]}, "theme 'data' (themes[1]), field 'label_en'"),
        ({"id": "data", "label_en": "D", "color": "red"}, "theme 'data' (themes[1]), field 'color'"),
        ({"id": "data", "label_en": "D", "zh": ["数据", "数据"]}, "theme 'data' (themes[1]), field 'zh'"),
        ({"id": "Data Sec", "label_en": "D"}, "theme 'Data Sec' (themes[1]), field 'id'"),
        ({"id": "green", "label_en": "D"}, "theme 'green' (themes[1]), field 'id': duplicate"),
        ({"id": "data", "label_en": "D", "en": ["data  flow"]}, "theme 'data' (themes[1]), field 'en[0]'"),
    ],
)
def test_codebook_errors_name_theme_and_field(theme, message):
    data = {"themes": [{"id": "green", "label_en": "Green", "en": ["green"]}, theme]}
    with pytest.raises(CodebookError) as err:
        parse_codebook(data, SCHEMA)
    assert message in str(err.value)


def test_uppercase_term_errors_explain_the_fix():
    # ASCII capitals are refused by the schema pattern, with a hint
    with pytest.raises(CodebookError, match=r"field 'zh\[0\]'.*lower-case words"):
        parse_codebook({"themes": [{"id": "ai", "label_en": "AI", "zh": ["AI"]}]}, SCHEMA)
    # other capitals (beyond the schema's A-Z) by load_codebook's own check, which names the fix
    with pytest.raises(CodebookError, match="theme 'eco' \\(themes\\[0\\]\\), field 'fr\\[0\\]'.*write 'économie'"):
        parse_codebook({"themes": [{"id": "eco", "label_en": "E", "fr": ["Économie"]}]}, SCHEMA)


# ---- performance paths: same results as the reference ------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_array_matching_equals_token_by_token_matching(seed):
    from textdrift.matching import _candidates, _candidates_loop, _compile

    rng = np.random.default_rng(seed)
    en_words = ["digital", "divide", "data", "flow", "cross-border", "the", "of", "cyber", "cybercrime", "green"]
    zh_words = ["数字", "经济", "数字经济", "鸿沟", "数字鸿沟", "合作", "南南", "南南合作", "绿色", "的", "，"]
    paragraphs = []
    for d in range(3):
        for lang, words in (("en", en_words), ("zh", zh_words)):
            sents = [[str(w) for w in rng.choice(words, rng.integers(1, 12))] for _ in range(rng.integers(1, 6))]
            paragraphs.append((f"d{d}", 2020, lang, d, sents))
    toks = tokens_of(*paragraphs)
    codebook = cb(
        ("divide", ["digital divide", "divide", "digital divid?"], ["数字鸿沟", "鸿沟", "*鸿沟"]),
        ("data", ["cross-border data flow", "data flow", "data", "cyber*"], ["数字经济", "经济", "*合作", "南南合作"]),
        ("green", ["green", "the green", "of the *"], ["绿色", "数字", "数字数字"]),
    )
    for lang in ("en", "zh"):
        part = toks[toks["lang"] == lang].sort_values(["doc_id", "para", "idx"], kind="stable").reset_index(drop=True)
        from textdrift.counting import segments

        words = np.flatnonzero(~part["is_punct"].to_numpy())
        norms = part["norm"].to_numpy(dtype=object)[words]
        seg = segments(part).to_numpy()[words]
        terms = _compile(codebook, lang, lang == "zh")
        fast, slow = _candidates(terms, norms, seg, lang == "zh"), _candidates_loop(terms, norms, seg, lang == "zh")
        assert {k: sorted((p, q, t.text) for p, q, t in v) for k, v in fast.items()} == {
            k: sorted((p, q, t.text) for p, q, t in v) for k, v in slow.items()}


@pytest.mark.parametrize("seed", range(6))
def test_near_rule_on_arrays_equals_the_word_by_word_check(seed):
    from textdrift.codebook import Rule
    from textdrift.matching import _near_found, _near_loop

    rng = np.random.default_rng(seed)
    for unspaced, vocab, near in [
        (False, ["cyber", "cybercrime", "network", "security", "the", "of", "incident", "develop"],
         ("cyber*", "network", "develop?", "[st]ecurity")),
        (True, ["网络", "安全", "网络安全", "事件", "的", "发", "展", "发展", "数字", "经济"],
         ("网络安全", "发展", "数字经济", "事件", "的发展")),
    ]:
        vocab = np.array(sorted(vocab), dtype=object)
        n = 400
        codes = rng.integers(-1 if not unspaced else 0, len(vocab), n)
        sent = np.cumsum(rng.random(n) < 0.1)
        window = int(rng.integers(1, 6))
        a = np.sort(rng.choice(n, 60, replace=False))
        b = np.minimum(a + rng.integers(0, 3, len(a)), n - 1)
        sent_first, sent_end = np.searchsorted(sent, sent, "left"), np.searchsorted(sent, sent, "right")
        sides = ((np.maximum(np.maximum(a - window, 0), sent_first[a]), a),
                 (b + 1, np.minimum(np.minimum(b + 1 + window, n), sent_end[b])))
        rule = Rule(near=near, window=window)
        fast = _near_found(rule, codes, vocab, sides, unspaced)
        slow = _near_loop(rule, np.append(vocab, None)[codes], sides, unspaced)
        assert fast.tolist() == slow.tolist() and 0 < fast.sum() < len(fast)


@pytest.mark.parametrize("ci", ["poisson", "bootstrap"])
def test_run_themes_shard_by_shard_equals_the_whole_table(tmp_path, ci):
    toks = corpus()
    paths = write_shards(toks, tmp_path)
    cbk = write_codebook(tmp_path)
    out = [tmp_path / n for n in ("freq.csv", "kwic.csv", "unmatched.csv")]
    run_rules(paths, cbk, out, ["zh", "en"], ci=ci, n_boot=100)
    freq, kwic = theme_table(toks, load_codebook(cbk, SCHEMA), ["zh", "en"], ThemesSettings(ci=ci, n_boot=100))
    pd.testing.assert_frame_equal(read_csv(out[0]).drop(columns="codebook"), read_csv_of(freq, tmp_path / "f.csv"))
    pd.testing.assert_frame_equal(read_csv(out[1]), read_csv_of(kwic, tmp_path / "k.csv"))


def test_run_themes_with_shards_without_matches(tmp_path):
    """A shard with no match (its Parquet string columns are typed null) merges; none at all gives a header-only KWIC."""
    toks = pd.concat([corpus(), tokens_of(("d9", 2021, "en", 0, [["nothing", "here"]]))], ignore_index=True)
    cbk = write_codebook(tmp_path)
    out = [tmp_path / n for n in ("freq.csv", "kwic.csv", "unmatched.csv")]
    run_rules(write_shards(toks, tmp_path), cbk, out, ["zh", "en"])
    freq, kwic = theme_table(toks, load_codebook(cbk, SCHEMA), ["zh", "en"])
    pd.testing.assert_frame_equal(read_csv(out[1]), read_csv_of(kwic, tmp_path / "k.csv"))
    assert read_csv(out[0]).query("year == 2021 and lang == 'en'")["tokens"].tolist() == [4, 4]  # d9 counts
    empty = tmp_path / "empty"
    empty.mkdir()
    run_rules(write_shards(toks[toks["doc_id"] == "d9"], empty), cbk, out, ["en"])
    assert out[1].read_text(encoding="utf-8") == ",".join(KWIC_COLUMNS) + "\n"
    assert read_csv(out[0])["count"].tolist() == [0, 0]


def read_csv_of(df, path):
    from textdrift.io import write_csv

    write_csv(df, path)
    return read_csv(path)


@pytest.mark.parametrize("seed", range(8))
def test_array_resolution_equals_the_greedy_pass(seed):
    # random candidates of one theme (duplicates, nested and chained overlaps, plain and glob
    # terms): the kept ones are those of _resolve, with every number of array rounds before the
    # greedy pass takes over the rest
    from textdrift.matching import _compile, _resolve, _resolve_arrays

    rng = np.random.default_rng(seed)
    terms = _compile(cb(("t", ["a", "b c", "d*", "e?", "f g h"], [])), "en", False)
    n = int(rng.integers(1, 200))
    p = rng.integers(0, 60, n).astype(np.int64)
    q = p + rng.integers(0, 4, n)
    ti = rng.integers(0, len(terms), n).astype(np.int64)
    expected = [(a, b, t.text) for a, b, t in _resolve([(a, b, terms[i]) for a, b, i in zip(p.tolist(), q.tolist(), ti.tolist())])]
    for rounds in (0, 1, 2, 32):
        kept = _resolve_arrays(p, q, ti, terms, max_rounds=rounds)
        assert [(int(p[k]), int(q[k]), terms[ti[k]].text) for k in kept] == expected


@pytest.mark.parametrize("seed", range(4))
def test_token_order_is_the_stable_sort_by_doc_para_idx(seed):
    from textdrift.matching import _token_order

    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in rng.permutation(5)]
    rows = [(d, int(p), int(i)) for d in docs for p in rng.permutation(3) for i in sorted(rng.integers(0, 9, 4))]
    for shuffle in (False, True):
        df = pd.DataFrame(rows, columns=["doc_id", "para", "idx"])
        if shuffle:
            df = df.sample(frac=1, random_state=seed)
        want = np.lexsort((df["idx"].to_numpy(), df["para"].to_numpy(), pd.factorize(df["doc_id"], sort=True)[0]))
        order = _token_order(df)
        np.testing.assert_array_equal(np.arange(len(df)) if order is None else order, want)
        blocks = df.sort_values(["doc_id", "para", "idx"], kind="stable")  # sorted: no copy needed
        assert _token_order(blocks) is None


@pytest.mark.parametrize("seed", range(6))
def test_kwic_strings_equal_the_token_by_token_join(seed):
    # random spacing (none, one or two characters between tokens) and shuffled rows: every match's
    # left / match / right is the window of tokens joined as the docstring says
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(3):
        for para in range(3):
            lang = ("en", "zh")[(d + para) % 2]
            words = ["data", "flow", "the", "green", ",", "Data"] if lang == "en" else ["数字", "经济", "绿色", "，", "的"]
            idx = 0
            for sent in range(int(rng.integers(1, 4))):
                for w in rng.choice(words, int(rng.integers(1, 12))):
                    w = str(w)
                    rows.append(dict(doc_id=f"d{d}", year=2020, lang=lang, para=para, sent=sent, idx=idx, text=w, norm=w.lower(),
                                     is_punct=w in {",", "，"}, keep=True))
                    idx += len(w) + int(rng.integers(0, 3))
    toks = pd.DataFrame(rows).sample(frac=1, random_state=seed)
    codebook = cb(("data", ["data flow", "data", "green"], ["数字经济", "经济", "绿色"]))
    window = int(rng.integers(0, 4))
    matches = match_themes(toks, codebook, window)
    assert len(matches)
    for m in matches.itertuples():
        para = toks[(toks["doc_id"] == m.doc_id) & (toks["para"] == m.para)].sort_values("idx")
        text, idx = para["text"].tolist(), para["idx"].tolist()
        r0 = idx.index(m.start_idx)
        r1 = [i + len(t) for i, t in zip(idx, text)].index(m.end_idx)

        def join(lo, hi):
            out = ""
            for k in range(max(lo, 0), min(hi, len(text))):
                out += (" " if out and idx[k] > idx[k - 1] + len(text[k - 1]) else "") + text[k]
            return out
        assert (m.left, m.match, m.right) == (join(r0 - window, r0), join(r0, r1 + 1), join(r1 + 1, r1 + 1 + window))


# ---- clustered intervals and year-over-year rate ratios ---------------------------------------


def _clustered(year=2020, doc="d1"):
    # 10 paragraphs of 10 kept tokens; all 10 matches of "green" sit in ONE paragraph (a cluster)
    paras = [(doc, year, "en", 0, [["green"] * 10])]
    paras += [(doc, year, "en", i, [[f"w{i}{j}" for j in range(10)]]) for i in range(1, 10)]
    return tokens_of(*paras)


def test_clustered_mentions_get_a_wider_bootstrap_than_poisson_interval():
    toks = _clustered()
    poisson, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="poisson"))
    boot, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=2000, seed=3))
    p, b = poisson.set_index("theme").loc["green"], boot.set_index("theme").loc["green"]
    # 10 matches in 100 tokens: 1000 per 10k; Poisson (k = 10): [479.5, 1839.0] per 10k
    assert p["per_10k"] == b["per_10k"] == 1000
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((479.54, 1839.04), abs=0.01)
    # resampling the 10 paragraphs: the cluster is drawn 0 times in (9/10)^10 = 35% of resamples
    # (rate 0), so the interval starts at 0 and reaches far above the Poisson one
    assert b["ci_low"] == 0 and b["ci_high"] > p["ci_high"]
    assert (b["ci_method"], b["ci_units"]) == ("bootstrap:paragraph", 10)
    assert (p["ci_method"], np.isnan(p["ci_units"])) == ("poisson", True)


def test_bootstrap_unit_is_the_document_where_a_year_has_enough_of_them():
    toks = pd.concat([_clustered(doc=f"d{i}") for i in range(3)], ignore_index=True)
    auto, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=50, min_documents=3))
    assert set(auto["ci_method"]) == {"bootstrap:document"} and set(auto["ci_units"]) == {3}
    few, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(ci="bootstrap", n_boot=50, min_documents=4))
    assert set(few["ci_method"]) == {"bootstrap:paragraph"} and set(few["ci_units"]) == {30}


def test_theme_changes_rate_ratio_by_hand():
    from textdrift.themes import theme_changes

    a = tokens_of(("a", 2020, "en", 0, [["green", "x", "y", "z"]]), ("a", 2020, "en", 1, [["x", "y", "z", "w"]]))
    b = tokens_of(("b", 2021, "en", 0, [["green", "green", "x", "y"]]), ("b", 2021, "en", 1, [["green", "x"]]))
    toks = pd.concat([a, b], ignore_index=True)
    m = match_themes(toks, CODEBOOK)
    freq = theme_frequencies(toks, m, CODEBOOK, ["en"], ThemesSettings(ci="quasi-poisson"))
    ch = theme_changes(freq, min_tokens=7).set_index("theme")
    # green: 1 of 8 tokens -> 3 of 6: (3 / 6) / (1 / 8) = 4 (no 0.5 added)
    g = ch.loc["green"]
    assert (g["count_from"], g["count_to"], g["tokens_from"], g["tokens_to"]) == (1, 3, 8, 6)
    assert g["rate_ratio"] == pytest.approx(4.0, abs=1e-12) and g["change"] == "rise"
    # 2020: paragraphs 1/4 and 0/4, r = 1/8, mu = 0.5 each: X2 = 0.5 + 0.5 = 1 on 1 df -> phi = 1;
    # 2021: 2/4 and 1/2, r = 1/2, mu = 2 and 1: X2 = 0 -> phi = 0
    assert (g["dispersion_from"], g["dispersion_to"]) == pytest.approx((1.0, 0.0), abs=1e-9)
    assert (g["units_from"], g["units_to"], g["ci_method"]) == (2, 2, "quasi-poisson:paragraph")
    # v0 = 1/1, v1 = 0/3: nu = 1 / (1 / 1) = 1, t(.975; 1) = 12.7062: 4 exp(-+12.7062)
    assert (g["ci_low"], g["ci_high"]) == pytest.approx((4 * np.exp(-12.706205), 4 * np.exp(12.706205)), rel=1e-5)
    assert g["low_data"]  # 6 tokens < 7
    assert not g["ci_excludes_1"]  # a 4-fold rise whose interval spans 1: a direction, not a change
    # a theme in neither year has no ratio and no interval
    d = ch.loc["divide"]
    assert np.isnan(d["rate_ratio"]) and np.isnan(d["ci_low"]) and d["change"] == "undefined"


def test_bootstrap_of_some_themes_ignores_the_matches_of_others():
    from textdrift.themes import bootstrap_draws

    toks = _clustered()
    m = match_themes(toks, CODEBOOK)  # "green" matches only
    paras = toks.groupby(["year", "lang", "doc_id", "para"])["keep"].sum().reset_index()
    C, T, _, _ = bootstrap_draws(paras, m, ["divide"], 20, 1)[(2020, "en")]
    assert (C == 0).all()  # the green matches are not counted as divide


# ---- quasi-Poisson rates and ratios (issue 25), by hand -------------------------------------


def test_quasi_poisson_rate_by_hand_and_equal_to_statsmodels():
    from textdrift.stats import quasi_poisson_rate

    # counts 1, 0, 3 in 10, 20, 30 tokens: r = 4/60; mu = 2/3, 4/3, 2;
    # X2 = (1/3)^2/(2/3) + (4/3)^2/(4/3) + 1^2/2 = 1/6 + 4/3 + 1/2 = 2 on 2 df: phi = 1; se(log r) = sqrt(1/4)
    assert quasi_poisson_rate([1, 0, 3], [10, 20, 30]) == pytest.approx((4 / 60, 0.5, 1.0, 2))
    # 0 and 4 in 10 and 10: r = 0.2, mu = 2, 2: X2 = 2 + 2 = 4 on 1 df: phi = 4, se = sqrt(4/4) = 1
    assert quasi_poisson_rate([0, 4], [10, 10]) == pytest.approx((0.2, 1.0, 4.0, 1))
    # a unit without tokens is dropped; a zero count or a single unit: no dispersion
    assert quasi_poisson_rate([0, 4, 0], [10, 10, 0]) == pytest.approx((0.2, 1.0, 4.0, 1))
    r, se, phi, df = quasi_poisson_rate([0, 0], [10, 10])
    assert (r, df) == (0, 1) and np.isnan(se) and np.isnan(phi)
    r, se, phi, df = quasi_poisson_rate([3], [10])
    assert (r, df) == (0.3, 0) and np.isnan(phi)
    # the closed form is statsmodels' quasi-Poisson GLM (intercept, offset log t, Pearson scale)
    import warnings

    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(2, 60))
        t = rng.integers(1, 2000, n).astype(float)
        c = rng.poisson(t * rng.gamma(1.5, 0.004, n)).astype(float)
        if c.sum() == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = GLM(c, np.ones((n, 1)), family=Poisson(), offset=np.log(t)).fit(
                start_params=[np.log(c.sum() / t.sum())], tol=1e-12)
        phi = fit.pearson_chi2 / fit.df_resid
        got = quasi_poisson_rate(c, t)
        assert got == pytest.approx((np.exp(fit.params[0]), fit.bse[0] * np.sqrt(phi), phi, n - 1), rel=1e-12)


def test_rate_ci_is_the_wider_of_the_model_and_the_exact_interval():
    from scipy.stats import t

    from textdrift.stats import rate_ci

    q = t.ppf(0.975, 10)  # 2.228139
    # 20 in 1000, phi = 2 on 10 df: 0.02 exp(-+ 2.228139 sqrt(2/20)) = [0.009887, 0.040458],
    # wider than Garwood k = 20: [12.2165, 30.8884] / 1000
    low, high = rate_ci(20, 1000, 2.0, 10)
    assert (low, high) == pytest.approx((0.02 * np.exp(-q * np.sqrt(0.1)), 0.02 * np.exp(q * np.sqrt(0.1))))
    assert low == pytest.approx(0.009887, abs=1e-6)
    # phi = 0.5 (under-dispersed): the model is narrower than the exact interval, which is kept
    low, high = rate_ci(20, 1000, 0.5, 10)
    el, eh = poisson_ci(20)
    assert (low, high) == pytest.approx((el / 1000, eh / 1000))
    # no dispersion (one unit): exact; zero count: [0, 3.688879 / T]; 5 and 8: a positive lower bound
    low, high = rate_ci([0, 5, 8], 100, np.nan, 0)
    assert low[0] == 0 and high[0] == pytest.approx(0.03688879, rel=1e-6)
    assert low[1] == pytest.approx(1.623486 / 100, rel=1e-5) and low[2] == pytest.approx(3.453832 / 100, rel=1e-5)
    assert (high > low).all()


def test_rate_ratio_ci_by_hand():
    from scipy.stats import beta, t

    from textdrift.stats import rate_ratio_ci

    # 10 in 1000 (phi 2, 9 df) -> 20 in 1000 (phi 3, 9 df): R = 2;
    # v0 = 2/10 = .2, v1 = 3/20 = .15; nu = .35^2 / (.2^2/9 + .15^2/9) = 17.64
    rr, low, high, change = rate_ratio_ci((10, 1000, 2.0, 9), (20, 1000, 3.0, 9))
    nu = 0.35 ** 2 / (0.04 / 9 + 0.0225 / 9)
    half = t.ppf(0.975, nu) * np.sqrt(0.35)
    assert nu == pytest.approx(17.64)
    assert (rr, low, high, change) == (pytest.approx(2.0), pytest.approx(2 * np.exp(-half)),
                                       pytest.approx(2 * np.exp(half)), "rise")
    # Poisson sides (phi NaN: one unit): the exact conditional interval, Clopper-Pearson of 8 of 13
    # turned into a ratio: p / (1 - p) * t0 / t1
    rr, low, high, change = rate_ratio_ci((5, 100, np.nan, 0), (8, 120, np.nan, 0))
    pl, pu = beta.ppf(0.025, 8, 6), beta.ppf(0.975, 9, 5)
    assert rr == pytest.approx((8 / 120) / (5 / 100)) and change == "rise"
    assert (low, high) == pytest.approx((pl / (1 - pl) * 100 / 120, pu / (1 - pu) * 100 / 120))
    # gone (2 -> 0, phi 1.5 on the from side): no ratio, [0, high] from 2/1.5 vs 0: Clopper-Pearson
    # upper of 0 in 4/3 is 1 - .025^(3/4); new: [low, inf]; both zero: undefined, no interval
    rr, low, high, change = rate_ratio_ci(([2, 0, 0], 100, [1.5, np.nan, np.nan], [3, 0, 0]),
                                          ([0, 2, 0], 120, [np.nan, 2.0, np.nan], [0, 3, 0]))
    assert np.isnan(rr).all() and list(change) == ["gone", "new", "undefined"]
    pu = 1 - 0.025 ** (1 / (4 / 3))
    assert low[0] == 0 and high[0] == pytest.approx(pu / (1 - pu) * 100 / 120)
    assert low[1] > 0 and high[1] == np.inf and np.isnan(low[2]) and np.isnan(high[2])


def test_rate_ratio_floor_contains_the_statsmodels_score_interval():
    from statsmodels.stats.rates import confint_poisson_2indep

    from textdrift.stats import rate_ratio_ci

    for c0 in (1, 2, 5, 8, 30):
        for c1 in (1, 3, 8, 40):
            _, low, high, _ = rate_ratio_ci((c0, 500, 0.5, 20), (c1, 700, 0.5, 20))
            sl, sh = confint_poisson_2indep(c1, 700, c0, 500, method="score", compare="ratio")
            assert low <= sl + 1e-9 and high >= sh - 1e-9, (c0, c1)


def test_theme_changes_direction_agrees_with_the_rates_on_every_row():
    from textdrift.themes import theme_changes

    rng = np.random.default_rng(5)
    paras = []
    for year in (2019, 2020, 2021, 2022):
        for p in range(int(rng.integers(1, 5))):
            paras.append((f"d{year}", year, "en", p, [[str(rng.choice(["green", "divide", "x", "y", "z"]))
                                                      for _ in range(int(rng.integers(2, 9)))]]))
    toks = tokens_of(*paras)
    m = match_themes(toks, CODEBOOK)
    ch = theme_changes(theme_frequencies(toks, m, CODEBOOK, ["en"]))
    assert len(ch) == 9
    for r in ch.itertuples():
        a, b = r.per_10k_from, r.per_10k_to
        expect = ("undefined" if a == b == 0 else "new" if a == 0 else "gone" if b == 0 else
                  "rise" if b > a else "fall" if b < a else "same")
        assert r.change == expect
        if expect in ("rise", "fall", "same"):
            assert r.rate_ratio == pytest.approx(b / a) and r.ci_low <= r.rate_ratio <= r.ci_high
        else:
            assert np.isnan(r.rate_ratio)
        assert r.ci_excludes_1 == (r.ci_low > 1 or r.ci_high < 1)


def test_ci_excludes_1_only_where_the_interval_lies_on_one_side_of_1():
    from textdrift.themes import excludes_one

    # rise, fall, spanning 1, touching 1, a "new" [lower, inf], a "gone" [0, upper], none
    low = [1.2, 0.1, 0.5, 1.0, 1.5, 0.0, np.nan]
    high = [3.0, 0.9, 2.0, 2.0, np.inf, 28.7, np.nan]
    assert excludes_one(low, high).tolist() == [True, True, False, False, True, False, False]


def test_quasi_poisson_frequencies_use_documents_where_a_year_has_enough():
    toks = pd.concat([_clustered(doc=f"d{i}") for i in range(3)], ignore_index=True)
    auto, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(min_documents=3))
    assert set(auto["ci_method"]) == {"quasi-poisson:document"} and set(auto["ci_units"]) == {3}
    assert set(auto["ci_about"]) == {"year"}
    few, _ = theme_table(toks, CODEBOOK, ["en"], ThemesSettings(min_documents=4))
    assert set(few["ci_method"]) == {"quasi-poisson:paragraph"} and set(few["ci_units"]) == {30}
    assert set(few["ci_about"]) == {"its documents"}
    # the 30 paragraphs: 10 matches in 3 of them (10 tokens each), 300 tokens: r = 1/10;
    # X2 = 3 (10 - 1)^2 / 1 + 27 (0 - 1)^2 / 1 = 270 on 29 df
    g = few.set_index("theme").loc["green"]
    assert g["dispersion"] == pytest.approx(270 / 29)
    # three identical documents: no variation between them, phi = 0, so the exact interval of 30
    d = auto.set_index("theme").loc["green"]
    el, eh = poisson_ci(30)
    assert d["dispersion"] == pytest.approx(0, abs=1e-12)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((el / 300 * 1e4, eh / 300 * 1e4))


def test_findings_rate_ratio_is_the_estimator_of_theme_changes():
    from textdrift.findings import rate_ratio
    from textdrift.counting import paragraph_tokens
    from textdrift.themes import theme_changes

    rng = np.random.default_rng(11)
    paras = [(f"d{year}{k}", year, "en", p, [[str(rng.choice(["green", "divide", "x", "y"])) for _ in range(6)]])
             for year in (2020, 2021) for k in range(2) for p in range(4)]
    toks = tokens_of(*paras)
    m = match_themes(toks, CODEBOOK)
    ch = theme_changes(theme_frequencies(toks, m, CODEBOOK, ["en"])).set_index("theme")
    rr = rate_ratio(paragraph_tokens(toks), m, [t.id for t in CODEBOOK], "en", 2020, 2021).set_index("theme")
    for col in ("rate_ratio", "ci_low", "ci_high"):
        np.testing.assert_allclose(rr[col].to_numpy(float), ch.loc[rr.index, col].to_numpy(float), rtol=1e-12)
    assert (rr["change"] == ch.loc[rr.index, "change"]).all()


def test_no_theme_at_all_gives_an_empty_table():
    """An empty entity list (a new corpus's `entities: []`) has no theme: an empty frequency
    table, not an error (the `theme` column of the grid would otherwise be float)."""
    toks = tokens_of(("d", 2020, "en", 1, [["green", "growth"]]))
    matches = match_themes(toks, cb(("green", ["green"], [])), 0).iloc[0:0]
    freq = theme_frequencies(toks, matches, [], ["en"])
    assert list(freq.columns) == FREQ_COLUMNS and freq.empty


def test_write_kwic_merges_shards_as_the_whole_table_sorted(tmp_path):
    """theme_kwic.csv merged shard by shard (write_kwic: each shard split by (year, lang), then each
    (year, lang) merged) is byte for byte the whole table sorted at once (read_matches), theme rows
    first, then entity rows; an empty shard and a theme missing from the codebook are kept."""
    import pyarrow as pa

    from textdrift.io import write_csv
    from textdrift.matching import MATCH_COLUMNS
    from textdrift.themes import read_matches, write_kwic

    rng = np.random.default_rng(3)
    book = [Theme(id=t, labels={"en": t}) for t in ("b", "a", "c")]  # codebook order: b, a, c
    paths = []
    for shard in range(4):
        n = 0 if shard == 2 else 60
        df = pd.DataFrame({
            "doc_id": [f"d{shard}-{i % 5}" for i in range(n)], "year": rng.integers(2000, 2004, n),
            "lang": rng.choice(["zh", "en"], n), "theme": rng.choice(["a", "b", "c", "zz"], n),
            "term": rng.choice(["x", "绿色"], n), "para": rng.integers(0, 3, n), "sent": rng.integers(0, 2, n),
            "role": "body", "start_idx": np.arange(n)[::-1] + 1000 * shard, "end_idx": np.arange(n) + 1,  # a unique key
            "left": [f"l{i}, \"q\"" for i in range(n)], "match": "m", "right": [f"r\n{i}" for i in range(n)],
        })[MATCH_COLUMNS]
        paths.append(tmp_path / f"m-{shard}.parquet")
        df.to_parquet(paths[-1])
    parts = [("theme", book, paths), ("entity", book[:2], paths[::-1])]
    write_kwic(parts, tmp_path / "kwic.csv", batch=7)
    whole = pa.concat_tables([
        read_matches(p, b, [c for c in KWIC_COLUMNS if c != "kind"]).select([c for c in KWIC_COLUMNS if c != "kind"])
        .to_pandas().assign(kind=kind)[KWIC_COLUMNS].pipe(pa.Table.from_pandas, preserve_index=False)
        for kind, b, p in parts])
    write_csv(whole.to_pandas(), tmp_path / "expected.csv")
    assert (tmp_path / "kwic.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()
    assert len(read_csv(tmp_path / "kwic.csv")) == 2 * 180
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kwic-")]  # the temporary files are gone
    write_kwic([("theme", book, [paths[2]])], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8") == ",".join(KWIC_COLUMNS) + "\n"
