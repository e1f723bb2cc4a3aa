"""Calibration of the theme intervals on synthetic corpora with known truth (issue 25).

Words cluster by document and paragraph (:func:`textdrift.synth.calibration_corpus`); nothing
changes between years unless planted. The same computation, with more replicates and the other
methods, is ``benchmarks/calibrate_themes.py``; its table is in docs/methods.md ("Theme
frequencies", "Calibration"). Fewer replicates here, so the bounds are looser than the targets
(5% of null changes excluding 1, 95% coverage).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from calibrate_themes import DESIGNS, replicate  # noqa: E402

SIX, ONE = DESIGNS["6 years x 6 documents"], DESIGNS["6 years x 1 document"]


def _null(design, n, seed0):
    reps = [replicate(design, seed0 + r, ["quasi-poisson"])["quasi-poisson"] for r in range(n)]
    cover = np.concatenate([r[0] for r in reps])
    excl1 = np.concatenate([r[1] for r in reps])
    excl_truth = np.concatenate([r[2] for r in reps])
    return cover.mean(), excl1.mean(), excl_truth.mean()


def test_null_changes_and_year_coverage_with_six_documents_a_year():
    # 12 corpora x (6 years x 12 themes) year rates, x (5 steps x 12 themes) ratios
    cover, excl1, _ = _null(SIX, 12, 1000)
    assert excl1 <= 0.15, f"{excl1:.1%} of null year-over-year changes exclude 1"
    assert cover >= 0.90, f"year rate intervals cover the true rate in {cover:.1%}"


def test_one_document_a_year_covers_the_documents_own_rates():
    # the truth of a contrast between two named documents is their own rates (by_doc=True):
    # paragraphs are the units, the interval is about the document
    cover, _, excl_truth = _null(ONE, 12, 2000)
    assert excl_truth <= 0.15, f"{excl_truth:.1%} of the contrasts exclude the documents' true ratio"
    assert cover >= 0.90, f"document rate intervals cover the document's rate in {cover:.1%}"


@pytest.mark.parametrize("design", [SIX, ONE], ids=["6x6", "6x1"])
def test_a_planted_change_is_found(design):
    # x3: found nearly always; x2 with 6 documents a year is found in about half the corpora (the
    # documents' own variation of this theme is as large as the change: see docs/methods.md)
    found = [replicate(design, 3000 + r, ["quasi-poisson"], planted=3.0)["quasi-poisson"][3] for r in range(8)]
    assert np.mean(found) >= 0.8, f"the planted x3 step excludes 1 in {np.mean(found):.0%} of replicates"
