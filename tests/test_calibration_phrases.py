"""Calibration of the phrase test on synthetic corpora with known truth (issue 25, item 6).

``textdrift.synth.calibration_corpus``: every word's rate varies between documents (Gamma
multipliers, ``doc_shape``) and paragraphs, and nothing changes between years unless planted.
The full table (more replicates, and the old method) is printed by
``python benchmarks/calibrate_phrases.py``; its figures are in docs/methods.md, "Phrase changes"
-> "Calibration".
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import calibrate_phrases as cal  # noqa: E402

from textdrift.synth import CalibrationDesign, calibration_corpus  # noqa: E402

CALLED = ["new", "gone", "rising", "falling"]


@pytest.mark.parametrize("seed", [0, 1])
def test_six_documents_a_year_no_change_calls_almost_nothing(seed):
    """6 years x 6 documents, document-level overdispersion, no change: the document-level test calls
    at most a handful of phrases over the 5 steps (the old token-level z calls about 19 on average),
    and among phrases with 20 or more occurrences about 5% have p < 0.05 (old: about 18%)."""
    t = cal.tables(calibration_corpus(CalibrationDesign(docs_per_year=6, doc_shape=2.0), seed=seed).tokens)
    new, old = t["new"], t["old"]
    assert new["status"].isin(CALLED).sum() <= 3
    assert old["status"].isin(CALLED).sum() > new["status"].isin(CALLED).sum()
    big = (new["count_from"] + new["count_to"]) >= 20
    assert (new.loc[big, "p"] < 0.05).mean() <= 0.10
    assert (old.loc[big, "p"] < 0.05).mean() > (new.loc[big, "p"] < 0.05).mean()


def test_one_document_a_year_paragraph_test_is_calibrated_without_document_variation():
    """6 years x 1 document, words cluster by paragraph only: the paragraph-level test calls at most
    a handful of phrases over all steps and about 5% of the frequent phrases have p < 0.05."""
    new = cal.tables(calibration_corpus(CalibrationDesign(docs_per_year=1, doc_shape=1e9), seed=0).tokens)["new"]
    assert new["status"].isin(CALLED).sum() <= 3
    big = (new["count_from"] + new["count_to"]) >= 20
    assert (new.loc[big, "p"] < 0.05).mean() <= 0.10


def test_a_planted_new_phrase_is_called_new_and_ranks_near_the_top():
    """A two-word phrase inserted about once per paragraph from 2004 on (6 documents a year, document
    variation): called new at 2003 -> 2004 and among the top 10 of its step by z."""
    c = calibration_corpus(CalibrationDesign(docs_per_year=6, doc_shape=2.0, phrase_per_para=1.0), seed=0,
                           new_phrases={"p1": 2004})
    planted = next(iter(c.planted["phrases"]))
    new = cal.tables(c.tokens)["new"]
    step = new[new["year_to"] == 2004].reset_index(drop=True)
    row = step[step["phrase"] == planted]
    assert row["status"].tolist() == ["new"]
    assert row.index[0] < 10
