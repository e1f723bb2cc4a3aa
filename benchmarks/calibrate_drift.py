"""Calibration of the drift permutation test (textdrift.drift.permutation_test) on
textdrift.synth.calibration_corpus: false-positive rate under a null with document-level variation,
and power on planted drift. Prints the table of docs/methods.md ("TF-IDF drift", "Calibration").

    .venv/bin/python benchmarks/calibrate_drift.py [--replicates 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from textdrift.drift import permutation_test
from textdrift.synth import CalibrationDesign, calibration_corpus
from textdrift.vectorize import count_matrix, year_matrix


def step_p_values(seed: int, planted: tuple[int, float] | None, docs_per_year: int, permutations: int = 999,
                  min_documents: int = 3, years=(2001, 2002, 2003, 2004)) -> tuple[np.ndarray, str]:
    """p_permutation of every step of one corpus; ``planted`` (n, factor): themes t01..tn are
    ``factor`` times as frequent from the third year on (the step into it is the planted one)."""
    effects = {f"t{i:02d}": (years[2], planted[1]) for i in range(1, planted[0] + 1)} if planted else None
    c = calibration_corpus(CalibrationDesign(years=years, docs_per_year=docs_per_year), theme_effects=effects,
                           seed=seed)
    kept = c.tokens[c.tokens["keep"]]
    paras = count_matrix(kept, by=["year", "doc_id", "para"], ngram_max=1)
    table = permutation_test(paras, year_matrix(c.tokens, "en", 1), permutations, seed, min_documents)
    return table["p_permutation"].to_numpy(), str(table["permutation_unit"].iloc[0])


PLANTED = ((12, 3.0), (12, 10.0))  # every theme (96 of the 1,500 words, most of them rare) x3, x10


def calibration(replicates: int, alpha: float = 0.05) -> list[dict]:
    """One row per design: the share of null steps with p <= alpha, and of planted steps."""
    rows = []
    for docs, label in ((6, "6 documents per year"), (3, "3 documents per year"), (1, "1 document per year")):
        null, unit = [], ""
        power: dict = {k: [] for k in PLANTED}
        for r in range(replicates):
            p, unit = step_p_values(r, None, docs)
            null += list(p)
            for k in PLANTED:
                p, _ = step_p_values(10_000 + r, k, docs)
                power[k].append(p[1])  # 2002 -> 2003: the planted step
        null = np.asarray(null)
        rows.append({"design": label, "unit": unit, "null_steps": len(null),
                     "false_positive_rate": float(np.mean(null <= alpha)), "planted_steps": replicates,
                     **{k: float(np.mean(np.asarray(v) <= alpha)) for k, v in power.items()}})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=40)
    args = ap.parse_args()
    t = time.time()
    rows = calibration(args.replicates)
    print("| design | units permuted | null steps | share p <= 0.05 | planted steps | p <= 0.05: 12 themes x3 | "
          "p <= 0.05: 12 themes x10 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['design']} | {r['unit']} | {r['null_steps']} | {r['false_positive_rate']:.3f} | "
              f"{r['planted_steps']} | {r[PLANTED[0]]:.3f} | {r[PLANTED[1]]:.3f} |")
    print(f"({time.time() - t:.0f} s)")


if __name__ == "__main__":
    main()
