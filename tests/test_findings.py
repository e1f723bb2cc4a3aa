"""Findings as data (textdrift.findings): checks on small invented corpora, values by hand."""

import numpy as np
import pandas as pd
import pytest

from textdrift.entities import names_as_words
from textdrift.findings import FINDING_COLUMNS, build_findings, poisson_ratio_ci
from textdrift.themes import Theme

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
    # 0 of 100 tokens -> 20 of 100: rate ratio (20.5 / 100) / (0.5 / 100) = 41
    assert g["value"] == pytest.approx(41.0) and g["claim"] == "Green rose (en, 2020 → 2021)"
    assert g["holds"] and g["check_roles"] and g["check_entities"] and g["check_poisson"]
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
