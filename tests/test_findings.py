"""Findings as data (textdrift.findings): checks on small invented corpora, values by hand."""

import numpy as np
import pandas as pd
import pytest

from textdrift.counting import names_as_words
from textdrift.codebook import Theme
from textdrift.findings import FINDING_COLUMNS, FindingsSettings, FindingsTables, build_findings
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
    f = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    assert list(f.columns) == FINDING_COLUMNS
    g = f[f["subject"] == "green"].iloc[0]
    # 0 of 100 tokens -> 20 of 100: a new theme, no ratio (no 0.5 added); its interval is the exact
    # conditional one, [0.025^(1/20) / (1 - 0.025^(1/20)), inf) = [4.94, inf): above 1
    assert np.isnan(g["value"]) and g["claim"] == "Green rose (en, 2020 → 2021)"
    low = 0.025 ** (1 / 20)
    assert g["ci_low"] == pytest.approx(low / (1 - low)) and np.isinf(g["ci_high"])
    assert g["holds"] and g["design"] == "years"
    assert (g["check_roles"], g["check_entities"], g["check_interval"], g["check_leave_one_out"]) == ("holds",) * 4
    # two documents a side: leave-one-document-out is the check, a paragraph left out is n/a
    assert g["check_leave_one_paragraph_out"] == "n/a"
    assert "check_leave_one_paragraph_out: both sides have several documents" in g["na_reason"]
    assert g["check_leave_one_term_out"] == "n/a" and "the theme has one codebook term in en" in g["na_reason"]
    assert g["survives"] and g["reason"] == ""


def test_a_finding_that_fails_leave_one_document_out():
    toks, docs = _rose(False)  # all green of 2021 is in b1
    g = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    g = g[g["subject"] == "green"].iloc[0]
    # it holds (0 -> 10 matches, interval above 1) but without b1 there is no green in 2021
    assert g["holds"] and g["check_leave_one_out"] == "fails" and not g["survives"]
    assert "fails the check: a document left out" in g["reason"]


def test_a_year_of_one_document_and_different_genres_are_said():
    toks, docs = _rose(True)
    toks = toks[toks["doc_id"].isin(["a1", "b1"])]
    docs = docs[docs["doc_id"].isin(["a1", "b1"])].copy()
    docs.loc[docs["doc_id"] == "b1", "genre"] = "white_paper"
    g = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=200, low_data_tokens=0)).iloc[0]
    # leave-one-document-out is not defined (n/a, never "fails"); the claim names the two documents
    assert g["check_leave_one_out"] == "n/a" and g["design"] == "documents"
    assert "check_leave_one_out: the year is one document: 2020 is one document (a1); 2021 is one document (b1)" \
        in g["na_reason"]
    assert g["claim"] == ("Green rose from a1 (statement, 2020) to b1 (white paper, 2021) "
                          "(en; a contrast of documents, not a year trend)")
    assert "a side is a single document: the claim is about these documents, not about the years" in g["reason"]
    assert "genres differ (statement vs white_paper)" in g["reason"] and g["genre_match"] == "different"


def _phrase_corpus(doubled: bool):
    """2020: two documents of filler; 2021: "green deal" in b1 (and in b2 when ``doubled``)."""
    filler = [FILLER[:] for _ in range(20)]
    a = [(f"a{i}", 2020, filler * 2) for i in (1, 2)]
    b = [("b1", 2021, [["green", "deal", *FILLER[:3]] for _ in range(10)] + filler[:10]),
         ("b2", 2021, [["green" if doubled else "trade", "deal", *FILLER[:3]] for _ in range(10)] + filler[:10])]
    return tokens(a + b), documents([("a1", 2020), ("a2", 2020), ("b1", 2021), ("b2", 2021)])


# min_documents 3: these two-document years are tested at the token level, as the table below (no
# document or paragraph matrices given); at the default 2 the checks would test between documents (df 2)
PHRASE_SETTINGS = {"min_count": 2, "alpha_0": "auto", "q_threshold": 0.05, "ngram_max": 2, "min_tokens": 0,
                   "min_documents": 3}


def _phrase_rows(toks, docs, **kwargs):
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    table = phrase_changes(year_matrix(toks, "en", 2), lang="en", **PHRASE_SETTINGS)
    f = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT, phrases=table), ["en"],
                       FindingsSettings(top_themes=0, n_boot=300, phrase_settings=PHRASE_SETTINGS, top_phrases=3,
                                        **kwargs))
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
    assert (g["check_roles"], g["check_entities"], g["check_interval"], g["check_leave_one_out"]) == ("holds",) * 4
    assert g["check_leave_one_term_out"] == "n/a" and "a phrase is a single term" in g["na_reason"]
    assert g["survives"]


def test_phrase_finding_that_rests_on_one_document_fails_leave_one_out():
    toks, docs = _phrase_corpus(doubled=False)  # "green deal" only in b1
    table, f = _phrase_rows(toks, docs)
    g = f.loc["green deal"]
    assert table.set_index("phrase").loc["green deal", "status"] == "new" and g["holds"]
    assert g["check_leave_one_out"] == "fails" and not g["survives"]
    assert "a document left out" in g["reason"]


def test_phrase_findings_of_an_exploratory_step_are_ranked_by_effect_and_not_called():
    """No phrase reaches q <= q_threshold: the step is exploratory (phrase_steps.csv's ranking); its
    findings are the first phrases by effect_rank, worded as such, not a called change, and the
    checks that ask "still rising?" are n/a, not fails."""
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    toks, docs = _phrase_corpus(doubled=True)
    settings = {**PHRASE_SETTINGS, "q_threshold": 1e-12}
    table = phrase_changes(year_matrix(toks, "en", 2), lang="en", **settings)
    assert table["q"].min() > 1e-12
    # a unit longer than ngram_max at the top of the table: the recount checks cannot count it
    long = table.iloc[[0]].assign(phrase="green deal a b c", display="green deal a b c", n=5, z=99.0,
                                  effect=9.0, effect_rank=0)
    table = pd.concat([long, table.assign(effect_rank=table["effect_rank"] + (table["effect"] > 0))],
                      ignore_index=True)
    f = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT, phrases=table), ["en"],
                       FindingsSettings(top_themes=0, n_boot=300, phrase_settings=settings, top_phrases=2))
    f = f[f["kind"] == "phrase_rise"]
    want = table[(table["effect"] > 0) & (table["n"] <= 2)].sort_values("effect_rank").head(2)
    assert f["subject"].tolist() == want["phrase"].tolist() and "green deal a b c" not in set(f["subject"])
    g = f.iloc[0]
    assert g["value_name"] == "effect" and g["value"] == pytest.approx(want["effect"].iloc[0])
    assert (g["ci_low"], g["ci_high"]) == (pytest.approx(want["effect_low"].iloc[0]),
                                          pytest.approx(want["effect_high"].iloc[0]))
    assert "exploratory, not a called change" in g["claim"] and not g["holds"] and not g["survives"]
    assert g["reason"].startswith("exploratory: no phrase of the step reaches q <= 1e-12")
    for check in ("check_roles", "check_entities", "check_leave_one_out"):
        assert g[check] == "n/a" and f"{check}: exploratory ranking" in g["na_reason"]
    assert g["check_interval"] in ("holds", "fails")


def test_phrase_finding_in_an_insufficient_step_is_not_tested():
    toks, docs = _phrase_corpus(doubled=True)
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    settings = {**PHRASE_SETTINGS, "min_tokens": 10_000}
    table = phrase_changes(year_matrix(toks, "en", 2), lang="en", **settings)
    f = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT, phrases=table), ["en"],
                       FindingsSettings(top_themes=0, n_boot=300, phrase_settings=settings, top_phrases=1))
    g = f.iloc[0]
    assert not g["holds"] and g["check_roles"] == "n/a" and g["check_leave_one_out"] == "n/a"
    assert "check_roles: not tested: a year is under low_data_tokens" in g["na_reason"]
    assert g["reason"].startswith("a year is under low_data_tokens")


def test_crosslingual_gap_finding():
    """Thirty aligned one-paragraph pairs: 绿色 in every Chinese paragraph, "green" in three English
    ones: 30 vs 3 matches; the paired test: 27 pairs with zh more -> p = 2 / 2^27."""
    from textdrift.crosslingual import CrosslingualSettings, compare_documents
    from textdrift.matching import match_themes

    zh_code = [Theme("green", {"en": "Green"}, {"en": ("green",), "zh": ("绿色",)})]
    en = tokens([("d", 2020, [["green", *FILLER] for _ in range(3)] + [FILLER[:] for _ in range(27)])])
    zh = tokens([("d", 2020, [["绿色", *FILLER] for _ in range(30)])]).assign(lang="zh")
    both = pd.concat([zh, en], ignore_index=True)
    docs = pd.DataFrame({"doc_id": ["d"], "year": [2020], "genre": ["statement"],
                         "translation": ["zh:none;en:official"]})
    texts = {"d": {lang: [" ".join(w) for _, w in both[both["lang"] == lang].groupby("para")["text"]]
                   for lang in ("zh", "en")}}
    matches = match_themes(both, zh_code, 0)
    out = compare_documents(texts, matches, both, docs[["doc_id", "year"]], zh_code,
                            CrosslingualSettings(langs=("zh", "en"), min_tokens=0, alignment={"length_ratio": 1.0}))
    table = out["themes"]
    assert out["documents"]["comparable"].all() and table["pairs"].iloc[0] == 30
    f = build_findings(both, zh_code, FindingsTables(docs, NO_DRIFT, crossling=table), ["zh", "en"],
                       FindingsSettings(top_themes=1, n_boot=300, cross_settings={"langs": ["zh", "en"], "min_tokens": 0,
                                                                                  "alignment": out["alignment"]}))
    g = f[f["kind"] == "crosslingual_gap"].iloc[0]
    assert table["status"].iloc[0] == "zh_more" and g["holds"] and g["lang"] == "zh|en"
    assert table["p_value"].iloc[0] == pytest.approx(2 / 2 ** 27)
    assert (g["value_name"], g["value_from"], g["value_to"], g["value"]) == ("count_ratio", 30, 3, 10)
    assert g["ci_low"] > 1 and g["claim"] == "Green counted more in the zh than in the en version (d, 30 aligned paragraph pairs)"
    assert (g["check_roles"], g["check_entities"], g["check_interval"]) == ("holds",) * 3
    assert g["check_leave_one_out"] == "n/a" and "check_leave_one_out: a gap is within one document" in g["na_reason"]
    assert g["design"] == "versions"
    assert g["survives"] and "translation status differs (none vs official)" in g["reason"]
    # a not comparable document gives no finding
    lead = table.assign(comparable=False, status="not_comparable", p_value=np.nan)
    f = build_findings(both, zh_code, FindingsTables(docs, NO_DRIFT, crossling=lead), ["zh", "en"],
                       FindingsSettings(top_themes=1, n_boot=300, cross_settings={"langs": ["zh", "en"], "min_tokens": 0,
                                                                                  "alignment": out["alignment"]}))
    assert not (f["kind"] == "crosslingual_gap").any()


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
    tables = FindingsTables(docs, NO_DRIFT, phrases=table)
    args = FindingsSettings(top_themes=2, n_boot=200, phrase_settings=settings, top_phrases=3)
    whole = build_findings(toks, CODEBOOK, tables, ["en"], args)
    # shards that split each year, in an order that is not the table's
    shards = [toks[toks["doc_id"].isin(ids)] for ids in (["b2", "a1"], ["a2", "b1"])]
    parts = merge_partials([table_partials(t, CODEBOOK, ["en"], ngram_max=2) for t in shards])
    merged = findings_table(parts, CODEBOOK, tables, ["en"], args)
    assert len(whole) and set(whole["kind"]) == {"theme_change", "phrase_rise"}
    pd.testing.assert_frame_equal(merged, whole)
    # the merged rows are in the whole table's order (the bootstraps resample rows)
    pd.testing.assert_frame_equal(parts.paragraphs("base"),
                                  table_partials(toks, CODEBOOK, ["en"], ngram_max=2).paragraphs("base"))


# ---- design-aware checks: n/a, one document a side, paragraphs and terms left out --------------

TWO_TERMS = [Theme("green", {"en": "Green"}, {"en": ("green", "clean")}), Theme("trade", {"en": "Trade"}, {"en": ("trade",)})]


def _one_document_a_year(later: list[list[str]]):
    """a1 (2020): 20 paragraphs of filler; b1 (2021): the paragraphs ``later``."""
    toks = tokens([("a1", 2020, [FILLER[:] for _ in range(20)]), ("b1", 2021, later)])
    return toks, documents([("a1", 2020), ("b1", 2021)])


def test_one_document_a_side_runs_paragraph_and_term_checks_instead():
    # "green" and "clean" spread over 12 of the 20 paragraphs of b1: no paragraph, no term carries the rise
    later = [[w, *FILLER[:4]] for w in ["green", "clean"] * 6] + [FILLER[:] for _ in range(8)]
    toks, docs = _one_document_a_year(later)
    g = build_findings(toks, TWO_TERMS, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    g = g[g["subject"] == "green"].iloc[0]
    assert g["design"] == "documents" and g["holds"]
    assert g["check_leave_one_out"] == "n/a" and "the year is one document" in g["na_reason"]
    assert g["check_leave_one_paragraph_out"] == "holds" and g["check_leave_one_term_out"] == "holds"
    assert g["survives"]  # n/a is not a failure
    assert g["claim"] == ("Green rose from a1 (statement, 2020) to b1 (statement, 2021) "
                          "(en; a contrast of documents, not a year trend)")


def test_a_change_carried_by_one_term_fails_leave_one_term_out():
    # 12 paragraphs of b1 with "green", none with "clean" (the theme's other term): the rise is one term's
    later = [["green", *FILLER[:4]] for _ in range(12)] + [FILLER[:] for _ in range(8)]
    toks, docs = _one_document_a_year(later)
    g = build_findings(toks, TWO_TERMS, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    g = g[g["subject"] == "green"].iloc[0]
    assert g["holds"] and g["check_leave_one_paragraph_out"] == "holds" and not g["survives"]
    assert g["check_leave_one_term_out"] == "fails"
    assert ("fails the check: a codebook term left out (without “green” the interval includes 1; every match of "
            "the theme is of that term)") in g["reason"]


def test_a_change_carried_by_one_paragraph_fails_leave_one_paragraph_out():
    # all 12 matches of b1 in its first paragraph: without it nothing is left
    later = [["green", "clean"] * 6 + FILLER[:2]] + [FILLER[:] for _ in range(19)]
    toks, docs = _one_document_a_year(later)
    g = build_findings(toks, TWO_TERMS, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300, low_data_tokens=0))
    g = g[g["subject"] == "green"].iloc[0]
    assert g["check_leave_one_paragraph_out"] == "fails" and not g["survives"]
    assert "a paragraph left out (without paragraph 0 of b1: no match of the theme left)" in g["reason"]


def test_low_data_gates_theme_findings_as_phrase_findings():
    toks, docs = _rose(True)  # 100 and 100 kept tokens a year, under the default low_data_tokens (500)
    g = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=300))
    g = g[g["subject"] == "green"].iloc[0]
    assert not g["holds"] and not g["survives"]
    assert g["reason"].startswith("a year is under low_data_tokens (2020: 100 kept tokens; 2021: 100 kept tokens "
                                  "< 500): the step is not tested")
    assert g["check_roles"] == "holds"  # the checks are still computed, for the reader


def test_genre_matched_step_is_a_theme_step_and_comes_first():
    # 2020 statement, 2021 white paper, 2022 statement x2 ... the last step of one genre (2022 -> 2023) first
    years = [("a1", 2020), ("a2", 2020), ("b1", 2021), ("b2", 2021), ("c1", 2022), ("c2", 2022),
             ("d1", 2023), ("d2", 2023)]
    paras = {2020: [FILLER[:]], 2021: [["green", *FILLER[:4]]], 2022: [["trade", *FILLER[:4]]],
             2023: [["green", *FILLER[:4]]]}
    toks = tokens([(d, y, paras[y] * 10) for d, y in years])
    docs = documents(years)
    docs.loc[docs["year"] == 2021, "genre"] = "white_paper"
    f = build_findings(toks, CODEBOOK, FindingsTables(docs, NO_DRIFT), ["en"],
                       FindingsSettings(top_themes=1, n_boot=200, low_data_tokens=0))
    steps = list(dict.fromkeys(zip(f["year_from"], f["year_to"])))
    assert steps == [(2022, 2023), (2020, 2023)]  # 2020 -> 2023 is "same" too, but the last like-with-like first
    assert (f.loc[f["year_from"] == 2022, "genre_match"] == "same").all()


def test_drift_finding_holds_by_the_permutation_test_and_says_when_it_cannot():
    toks, docs = _rose(True)
    drift = pd.DataFrame({"lang": ["en"], "year_from": [2020], "year_to": [2021], "cosine_distance": [0.4],
                          "low_data": [False], "p_cosine": [0.0], "permutation_unit": ["paragraph"],
                          "permutations": [999], "p_permutation": [0.001], "p_min": [0.001]})
    g = build_findings(toks, CODEBOOK, FindingsTables(docs, drift), ["en"],
                       FindingsSettings(top_themes=0, low_data_tokens=0)).iloc[0]
    assert g["kind"] == "drift_step" and g["holds"] and g["claim"] == "largest vocabulary drift (en, 2020 → 2021)"
    assert g["check_interval"] == "n/a" and g["check_leave_one_term_out"] == "n/a"
    assert g["check_leave_one_out"] == "holds" and g["check_leave_one_paragraph_out"] == "n/a"
    assert "permutation p = 0.001 (paragraphs permuted, 999 splits)" in g["reason"]
    # p_cosine no longer decides: a p_permutation above alpha does not hold, and a design that cannot
    # reach alpha (3 + 3 documents: p_min 0.1) says so
    drift = drift.assign(permutation_unit="document", permutations=20, p_permutation=0.1, p_min=0.1)
    g = build_findings(toks, CODEBOOK, FindingsTables(docs, drift), ["en"],
                       FindingsSettings(top_themes=0, low_data_tokens=0)).iloc[0]
    assert not g["holds"] and g["reason"].startswith(
        "permutation p = 0.1 > 0.05 (documents permuted); the design cannot reach 0.05 (smallest possible p = 0.1)")


def _one_document_phrases(spread: bool):
    """a1 (2020): filler; b1 (2021): "green deal" 10 times, in 10 paragraphs or in one."""
    filler = [FILLER[:] for _ in range(20)]
    if spread:
        later = [["green", "deal", *FILLER[:3]] for _ in range(10)] + filler[:10]
    else:
        later = [["green", "deal"] * 10 + FILLER[:3]] + filler[:19]
    return tokens([("a1", 2020, filler * 2), ("b1", 2021, later)]), documents([("a1", 2020), ("b1", 2021)])


def test_phrase_with_one_document_a_side_runs_leave_one_paragraph_out():
    toks, docs = _one_document_phrases(spread=True)
    _, f = _phrase_rows(toks, docs)
    g = f.loc["green deal"]
    assert g["holds"] and g["design"] == "documents" and g["check_leave_one_out"] == "n/a"
    assert g["check_leave_one_paragraph_out"] == "holds" and "check_leave_one_paragraph_out" not in g["na_reason"]
    toks, docs = _one_document_phrases(spread=False)
    _, f = _phrase_rows(toks, docs)
    g = f.loc["green deal"]
    assert g["holds"] and g["check_leave_one_paragraph_out"] == "fails" and not g["survives"]
    assert "fails the check: a paragraph left out (without paragraph 0 of b1: " in g["reason"]



# ---- the workflow's three jobs and the step ratios -------------------------------------------------

def test_step_ratios_equal_rate_ratio_for_every_check():
    """_StepRatios (units built once per step) gives rate_ratio's numbers exactly: every theme, one
    theme, a document, a paragraph and a term left out, in a step with paragraphs and one with
    documents as units; and its units are unit_counts' (same kept tokens, same order)."""
    from textdrift.findings import MATCH_KEY, _StepRatios, rate_ratio
    from textdrift.matching import match_themes
    from textdrift.themes import ThemesSettings, unit_counts, year_units
    from textdrift.counting import paragraph_tokens

    toks, docs = _phrase_corpus(doubled=True)
    paras = paragraph_tokens(toks)
    matches = match_themes(toks, TWO_TERMS)[[*MATCH_KEY, "term"]]
    themes = [t.id for t in TWO_TERMS]
    for min_documents in (1, 5):  # documents, then paragraphs as the units
        s = ThemesSettings(min_documents=min_documents)
        mine = {y: tok.to_numpy(dtype=float)
                for (y, _), (_, _, tok) in year_units(paras, s.bootstrap_unit, min_documents).items()}
        theirs = {y: t for (y, _), (_, t, _) in unit_counts(paras, matches, themes, s.bootstrap_unit, min_documents).items()}
        assert mine.keys() == theirs.keys() and all(np.array_equal(mine[y], theirs[y]) for y in mine)

        def counts(name, drop=None):
            if isinstance(drop, tuple):
                keep_p = ~((paras["doc_id"] == drop[1]) & (paras["para"] == drop[2]))
                keep_m = ~((matches["doc_id"] == drop[1]) & (matches["para"] == drop[2]))
                return paras[keep_p], matches[keep_m]
            if drop is None:
                return paras, matches
            return paras[paras["doc_id"] != drop], matches[matches["doc_id"] != drop]

        steps = _StepRatios(counts, themes, s)
        y0, y1 = int(paras["year"].min()), int(paras["year"].max())
        first = paras[paras["year"] == y1].iloc[0]
        cases = [(None, None), (None, "green"), ("a1", None), ("b1", "trade"),
                 (("para", first["doc_id"], int(first["para"])), "green"), (("term", "clean"), "green")]
        for drop, only in cases:
            p, m = counts("base", drop if not (isinstance(drop, tuple) and drop[0] == "term") else None)
            if isinstance(drop, tuple) and drop[0] == "term":
                m = m[m["term"] != drop[1]]
            if only is not None:
                m = m[m["theme"] == only]
            want = rate_ratio(p, m[MATCH_KEY], [only] if only else themes, "en", y0, y1, s)
            pd.testing.assert_frame_equal(steps.ratio(("base", "en", y0, y1), drop, only), want)


DEEP_B1 = {("b1", k) for k in range(2, 6)}  # b1's paragraphs after the first two: like those (a test's CPU)


def test_step_ratios_leave_outs_derived_from_the_whole_step():
    """_StepRatios derives a step with a document or a paragraph left out from the whole step's units
    (_without): the units, kept tokens and each match's unit that regrouping the rows left
    (_build of _leave_out) gives, for every document and paragraph left out, with documents and
    paragraphs as units, a document whose only kept paragraph is left out (its unit gone), and a
    year whose unit choice flips once a document is gone (then regrouped); rate_ratio's numbers."""
    from textdrift.counting import paragraph_tokens
    from textdrift.findings import MATCH_KEY, _leave_out, _StepRatios, rate_ratio
    from textdrift.matching import match_themes
    from textdrift.themes import ThemesSettings

    filler = [FILLER[:] for _ in range(6)]
    toks = tokens([("a1", 2020, filler), ("a2", 2020, [["green", "deal", *FILLER[:2]]] + filler[:3]),
                   ("b1", 2021, [["green", "deal", *FILLER[:3]] for _ in range(4)] + filler[:2]),
                   ("b2", 2021, [["trade", "deal", "green"]] + filler[:1]), ("c1", 2021, [["green", *FILLER[:2]]])])
    paras = paragraph_tokens(toks)
    matches = match_themes(toks, TWO_TERMS)[[*MATCH_KEY, "term"]]
    themes = [t.id for t in TWO_TERMS]
    drops = [*sorted(paras["doc_id"].unique()), *[("para", r.doc_id, int(r.para)) for r in paras.itertuples()
                                                  if r.doc_id != "a1" and (r.doc_id, r.para) not in DEEP_B1]]
    derived = regrouped = 0
    for min_documents in (1, 3, 5):  # documents; 2021's choice flips when one is gone; paragraphs
        s = ThemesSettings(min_documents=min_documents)
        steps = _StepRatios(lambda name, drop=None: _leave_out(paras, matches, drop), themes, s)
        for drop in drops:
            mine = steps._without("base", "en", 2020, 2021, drop)
            if mine is None:
                regrouped += 1
                continue
            derived += 1
            want = steps._build(*_leave_out(paras, matches, drop), 2020, 2021, False, None)
            assert mine["tokens"] == want["tokens"] and mine["units"].keys() == want["units"].keys()
            for y in want["units"]:
                assert mine["units"][y].dtype == want["units"][y].dtype
                np.testing.assert_array_equal(mine["units"][y], want["units"][y])
            for k in ("year", "unit", "theme"):
                assert mine[k].dtype == want[k].dtype
                np.testing.assert_array_equal(mine[k], want[k])
        for drop, only in (("a2", None), ("b1", "green"), (("para", "c1", 0), None)) if min_documents == 1 else ():
            p, m = _leave_out(paras, matches, drop)
            m = m if only is None else m[m["theme"] == only]
            want = rate_ratio(p, m[MATCH_KEY], [only] if only else themes, "en", 2020, 2021, s)
            pd.testing.assert_frame_equal(steps.ratio(("base", "en", 2020, 2021), drop, only), want)
    assert derived and regrouped


def test_the_three_jobs_give_the_table_of_one_call(tmp_path):
    """theme_part and vocabulary_part, written as JSON and read back, assembled by assemble_findings:
    the table of findings_table, byte for byte once written."""
    from textdrift.findings import (assemble_findings, findings_table, read_part, table_partials, theme_part,
                                    vocabulary_part, write_part)
    from textdrift.io import write_csv
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import year_matrix

    toks, docs = _phrase_corpus(doubled=True)
    settings = {**PHRASE_SETTINGS, "ngram_max": 2}
    table = phrase_changes(year_matrix(toks[toks["role"] == "body"], "en", 2), lang="en", **settings)
    tables = FindingsTables(docs, NO_DRIFT, phrases=table)
    args = FindingsSettings(top_themes=2, n_boot=200, phrase_settings=settings, top_phrases=3)
    parts = table_partials(toks, CODEBOOK, ["en"], ngram_max=2)
    write_part(theme_part(parts, CODEBOOK, tables, ["en"], args), tmp_path / "themes.json")
    write_part(vocabulary_part(parts, tables, ["en"], args), tmp_path / "vocabulary.json")
    assembled = assemble_findings(read_part(tmp_path / "themes.json"), read_part(tmp_path / "vocabulary.json"),
                                  None, ["en"], args)
    whole = findings_table(parts, CODEBOOK, tables, ["en"], args)
    assert set(whole["kind"]) == {"theme_change", "phrase_rise"}
    write_csv(assembled, tmp_path / "a.csv")
    write_csv(whole, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    pd.testing.assert_frame_equal(assembled, whole)


def test_a_document_left_out_of_the_year_matrix_by_subtraction_equals_regrouping():
    """findings._by_year_without: the year matrix with a document subtracted is the matrix
    _by_year builds from the documents kept (hand-computed on four documents of two years), and
    the shortcut declines when a year would lose its last document."""
    import scipy.sparse as sp

    from textdrift.findings import _by_year, _by_year_without
    from textdrift.vectorize import CountMatrix

    rows = pd.DataFrame({"lang": "en", "year": [2000, 2000, 2001, 2001], "doc_id": ["a", "b", "c", "d"],
                         "tokens": [3, 2, 2, 2]})
    X = sp.csr_matrix(np.array([[1, 0, 2], [0, 1, 1], [1, 1, 0], [2, 0, 0]]))
    m = CountMatrix(X, np.array(["digital", "economy", "trade"], dtype=object), rows)
    years = _by_year(m)
    keep = np.array([True, False, True, True])  # b left out
    got = _by_year_without(years, m, keep)
    want = _by_year(m.take(keep))
    assert got.X.toarray().tolist() == [[1, 0, 2], [3, 1, 0]] == want.X.toarray().tolist()
    assert got.X.nnz == want.X.nnz  # the zero left by subtracting b is not stored
    assert (got.X.indices == want.X.indices).all() and (got.X.indptr == want.X.indptr).all()
    assert list(got.vocab) == list(want.vocab)
    pd.testing.assert_frame_equal(got.rows, want.rows)
    assert got.rows["tokens"].tolist() == [3, 4]
    # m's own vocabulary array (the recounts find their PhraseVocabulary's by identity); an unsorted
    # one, merged by merge_matrices into a new array, is still compared: no shortcut
    assert years.vocab is m.vocab and got.vocab is m.vocab
    mu = CountMatrix(X, np.array(["trade", "digital", "economy"], dtype=object), rows)
    assert _by_year(mu).vocab is not mu.vocab and _by_year_without(_by_year(mu), mu, keep) is None
    rng = np.random.default_rng(7)  # a random case against regrouping
    rows = pd.DataFrame({"lang": "zh", "year": rng.integers(2000, 2004, 40), "doc_id": [f"d{i}" for i in range(40)],
                         "tokens": rng.integers(1, 50, 40)})
    m = CountMatrix(sp.csr_matrix(rng.poisson(0.4, (40, 30))), np.array([f"w{i:02d}" for i in range(30)], dtype=object),
                    rows)
    years = _by_year(m)
    for out in range(40):
        keep = np.arange(40) != out
        got, want = _by_year_without(years, m, keep), _by_year(m.take(keep))
        if got is None:  # only when the document was its year's last
            assert (rows["year"] == rows["year"][out]).sum() == 1
            continue
        assert (got.X != want.X).nnz == 0 and got.X.nnz == want.X.nnz
        pd.testing.assert_frame_equal(got.rows, want.rows)
    m4 = CountMatrix(X, np.array(["digital", "economy", "trade"], dtype=object),
                     pd.DataFrame({"lang": "en", "year": [2000, 2000, 2001, 2001], "doc_id": list("abcd"),
                                   "tokens": [3, 2, 2, 2]}))
    assert _by_year_without(_by_year(m4), m4, np.array([True, True, False, False])) is None  # 2001 emptied
