"""Findings as data (textdrift.findings): checks on small invented corpora, values by hand."""

import numpy as np
import pandas as pd
import pytest

from textdrift.entities import names_as_words
from textdrift.codebook import Theme
from textdrift.findings import FINDING_COLUMNS, build_findings
from textdrift.stats import poisson_ratio_ci

CODEBOOK = [Theme("green", {"en": "Green"}, {"en": ("green",)}), Theme("trade", {"en": "Trade"}, {"en": ("trade",)})]


def tokens(docs):
    """docs: (doc_id, year, [paragraph word lists]); one sentence per paragraph, roles body."""
    rows = []
    for doc_id, year, paras in docs:
        sent = 0
        for p, words in enumerate(paras):
            for i, w in enumerate(words):
                rows.append(dict(doc_id=doc_id, year=year, lang="en", para=p, sent=sent, idx=6 * i, text=w, norm=w,
                                 lemma=w, is_stop=False, is_punct=False, keep=True, role="body", entity=None))
            sent += 1
    return pd.DataFrame(rows)


def documents(ids_years, genre="statement"):
    return pd.DataFrame([{"doc_id": d, "year": y, "genre": genre, "translation": "en:none", "tokens_en": 1}
                         for d, y in ids_years])


NO_DRIFT = pd.DataFrame(columns=["lang", "year_from", "year_to", "cosine_distance", "low_data", "p_cosine"])
FILLER = ["data", "flow", "rule", "city", "road"]


def test_poisson_ratio_interval_by_hand():
    # c0 = 0, c1 = 4, equal exposure: pi in [Clopper-Pearson of 4/4] = [0.025^(1/4), 1] = [0.3976, 1]
    # -> R in [0.3976 / 0.6024, inf) = [0.660, inf)
    low, high = poisson_ratio_ci(0, 4, 100, 100)
    assert low == pytest.approx(0.025 ** 0.25 / (1 - 0.025 ** 0.25), abs=1e-9) and np.isinf(high)
    assert np.isnan(poisson_ratio_ci(0, 0, 100, 100)[0])


def test_names_as_words_restores_heads_and_kept_words():
    t = tokens([("a", 2020, [["support", "global", "development", "initiative"]])])
    t.loc[1, ["norm", "entity"]] = ["@gdi", "gdi"]
    t.loc[2:3, "entity"], t.loc[2:3, "keep"] = "gdi", False
    out = names_as_words(t)
    assert "entity" not in out and out["norm"].tolist() == ["support", "global", "development", "initiative"]
    assert out["keep"].all()


def _rose(b2_has_green: bool):
    a = [(f"a{i}", 2020, [FILLER[:] for _ in range(10)]) for i in (1, 2)]
    b = [("b1", 2021, [["green", *FILLER[:4]] for _ in range(10)]),
         ("b2", 2021, [["green" if b2_has_green else "trade", *FILLER[:4]] for _ in range(10)])]
    return tokens(a + b), documents([("a1", 2020), ("a2", 2020), ("b1", 2021), ("b2", 2021)])


def test_a_finding_that_survives_every_check():
    toks, docs = _rose(True)
    f = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], top_themes=1, n_boot=300)
    assert list(f.columns) == FINDING_COLUMNS
    g = f[f["subject"] == "green"].iloc[0]
    # 0 of 100 tokens -> 20 of 100: a new theme, no ratio (no 0.5 added); its interval is the exact
    # conditional one, [0.025^(1/20) / (1 - 0.025^(1/20)), inf) = [4.94, inf): above 1
    assert np.isnan(g["value"]) and g["claim"] == "Green rose (en, 2020 → 2021)"
    low = 0.025 ** (1 / 20)
    assert g["ci_low"] == pytest.approx(low / (1 - low)) and np.isinf(g["ci_high"])
    assert g["holds"] and g["check_roles"] and g["check_entities"] and g["check_interval"]
    assert g["check_leave_one_out"] and g["survives"] and g["reason"] == ""


def test_a_finding_that_fails_leave_one_document_out():
    toks, docs = _rose(False)  # all green of 2021 is in b1
    g = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], top_themes=1, n_boot=300)
    g = g[g["subject"] == "green"].iloc[0]
    # it holds (0 -> 10 matches, interval above 1) but without b1 there is no green in 2021
    assert g["holds"] and not g["check_leave_one_out"] and not g["survives"]
    assert "fails the check: a document left out" in g["reason"]


def test_a_year_of_one_document_and_different_genres_are_said():
    toks, docs = _rose(True)
    toks = toks[toks["doc_id"].isin(["a1", "b1"])]
    docs = docs[docs["doc_id"].isin(["a1", "b1"])].copy()
    docs.loc[docs["doc_id"] == "b1", "genre"] = "white_paper"
    g = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], top_themes=1, n_boot=200).iloc[0]
    assert not g["survives"] and "a year rests on a single document" in g["reason"]
    assert "genres differ (statement vs white_paper)" in g["reason"] and g["genre_match"] == "different"


def _phrase_corpus(doubled: bool):
    """2020: two documents of filler; 2021: "green deal" in b1 (and in b2 when ``doubled``)."""
    filler = [FILLER[:] for _ in range(20)]
    a = [(f"a{i}", 2020, filler * 2) for i in (1, 2)]
    b = [("b1", 2021, [["green", "deal", *FILLER[:3]] for _ in range(10)] + filler[:10]),
         ("b2", 2021, [["green" if doubled else "trade", "deal", *FILLER[:3]] for _ in range(10)] + filler[:10])]
    return tokens(a + b), documents([("a1", 2020), ("a2", 2020), ("b1", 2021), ("b2", 2021)])


PHRASE_SETTINGS = {"min_count": 2, "alpha_0": "auto", "q_threshold": 0.05, "ngram_max": 2, "min_tokens": 0}


def _phrase_rows(toks, docs, **kwargs):
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    table = phrase_changes(year_matrix(toks, "en", 2), lang="en", **PHRASE_SETTINGS)
    f = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], top_themes=0, n_boot=300, phrases=table,
                       phrase_settings=PHRASE_SETTINGS, top_phrases=3, **kwargs)
    return table, f[f["kind"] == "phrase_rise"].set_index("subject")


def test_phrase_findings_recompute_the_phrase_test():
    toks, docs = _phrase_corpus(doubled=True)
    table, f = _phrase_rows(toks, docs)
    row = table.set_index("phrase").loc["green deal"]
    g = f.loc["green deal"]
    # the row repeats the table's test: log-odds and its interval log-odds +- 1.96 * log-odds / z
    assert g["value"] == pytest.approx(row["log_odds"]) and row["status"] == "new" and g["holds"]
    half = 1.959963984540054 * row["log_odds"] / row["z"]
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(row["log_odds"] - half), pytest.approx(row["log_odds"] + half))
    assert g["claim"] == "“green deal” new (en, 2020 → 2021)"
    assert g["check_roles"] and g["check_entities"] and g["check_interval"] and g["check_leave_one_out"]
    assert g["survives"]


def test_phrase_finding_that_rests_on_one_document_fails_leave_one_out():
    toks, docs = _phrase_corpus(doubled=False)  # "green deal" only in b1
    table, f = _phrase_rows(toks, docs)
    g = f.loc["green deal"]
    assert table.set_index("phrase").loc["green deal", "status"] == "new" and g["holds"]
    assert not g["check_leave_one_out"] and not g["survives"]
    assert "a document left out" in g["reason"]


def test_phrase_finding_in_an_insufficient_step_is_not_tested():
    toks, docs = _phrase_corpus(doubled=True)
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    settings = {**PHRASE_SETTINGS, "min_tokens": 10_000}
    table = phrase_changes(year_matrix(toks, "en", 2), lang="en", **settings)
    f = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], top_themes=0, n_boot=300, phrases=table,
                       phrase_settings=settings, top_phrases=1)
    g = f.iloc[0]
    assert not g["holds"] and pd.isna(g["check_roles"]) and pd.isna(g["check_leave_one_out"])
    assert g["reason"].startswith("a year is under low_data_tokens")


def test_crosslingual_gap_finding():
    from textdrift.crosslingual import compare_themes
    from textdrift.matching import match_themes

    zh_code = [Theme("green", {"en": "Green"}, {"en": ("green",), "zh": ("绿色",)})]
    en = tokens([("d", 2020, [["green", *FILLER] for _ in range(3)] + [FILLER[:] for _ in range(27)])])
    zh = tokens([("d", 2020, [["绿色", *FILLER] for _ in range(30)])]).assign(lang="zh")
    both = pd.concat([zh, en], ignore_index=True)
    docs = pd.DataFrame({"doc_id": ["d"], "year": [2020], "genre": ["statement"],
                         "translation": ["zh:none;en:official"]})
    table = compare_themes(both, match_themes(both, zh_code, 0), zh_code, docs[["doc_id", "year"]], ("zh", "en"),
                           min_tokens=0)
    f = build_findings(both, zh_code, docs, NO_DRIFT, ["zh", "en"], top_themes=1, n_boot=300,
                       crossling=table, cross_settings={"langs": ["zh", "en"], "min_tokens": 0})
    g = f[f["kind"] == "crosslingual_gap"].iloc[0]
    # 30 of 180 zh tokens (30 x 6) vs 3 of 153 en tokens (3 x 6 + 27 x 5): zh stronger
    assert table["status"].iloc[0] == "zh_stronger" and g["holds"] and g["lang"] == "zh|en"
    assert (g["value_from"], g["value_to"]) == (pytest.approx(30 / 180 * 1e4), pytest.approx(3 / 153 * 1e4))
    assert g["check_roles"] and g["check_entities"] and g["check_interval"] and pd.isna(g["check_leave_one_out"])
    assert g["survives"] and "translation status differs (none vs official)" in g["reason"]


def test_findings_from_shard_partials_equal_findings_from_the_whole_token_table():
    """The workflow's path: each token shard's partial results (count_partials, match_partials),
    merged by findings_table, give the table build_findings computes from the whole token table,
    row for row (bootstraps included: the merged rows are put back in the whole table's order)."""
    from textdrift.findings import findings_table, merge_partials, table_partials
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    toks, docs = _phrase_corpus(doubled=True)
    toks.loc[toks.index % 7 == 0, "role"] = "heading"  # the roles check counts other tokens
    toks.loc[toks["norm"] == "green", "role"] = "body"
    settings = {**PHRASE_SETTINGS, "ngram_max": 2}
    table = phrase_changes(year_matrix(toks[toks["role"] == "body"], "en", 2), lang="en", **settings)
    args = dict(top_themes=2, n_boot=200, phrases=table, phrase_settings=settings, top_phrases=3)
    whole = build_findings(toks, CODEBOOK, docs, NO_DRIFT, ["en"], **args)
    # shards that split each year, in an order that is not the table's
    shards = [toks[toks["doc_id"].isin(ids)] for ids in (["b2", "a1"], ["a2", "b1"])]
    parts = merge_partials([table_partials(t, CODEBOOK, ["en"], ngram_max=2) for t in shards])
    merged = findings_table(parts, CODEBOOK, docs, NO_DRIFT, ["en"], **args)
    assert len(whole) and set(whole["kind"]) == {"theme_change", "phrase_rise"}
    pd.testing.assert_frame_equal(merged, whole)
    # the merged rows are in the whole table's order (the bootstraps resample rows)
    pd.testing.assert_frame_equal(parts.paragraphs("base"),
                                  table_partials(toks, CODEBOOK, ["en"], ngram_max=2).paragraphs("base"))
