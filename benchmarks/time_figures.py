"""CPU time of the chart jobs' work, chart by chart, on a results/tables directory (not a test).

For each chart of the requested groups (textdrift.figures.CHART_GROUPS): the CPU seconds
(time.process_time, so a busy machine does not inflate it) to build the figure and to save it
(textdrift.figures.save_figure: the constrained layout once, then PNG and SVG).

Usage::

    python benchmarks/time_figures.py RESULTS/tables --groups phrases themes --out /tmp/charts

Run it with ``PYTHONPATH=<a checkout>/src`` to time another version of the library on the same
tables (docs/performance.md compares main and this branch on the 5 MB synthetic corpus of
/work/briefs/compare.sh, which has the 25 years of the 50 MB benchmark corpus).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from textdrift import figures as F

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tables", type=Path)
    ap.add_argument("--groups", nargs="+", default=list(F.CHART_GROUPS))
    ap.add_argument("--languages", nargs="+", default=["en", "zh"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/textdrift-time-figures"))
    a = ap.parse_args()
    t = a.tables
    tables = {"frequencies": t / "theme_frequencies.csv", "codebook": ROOT / "config/themes.yaml",
              "schema": ROOT / "workflow/schemas/themes.schema.yaml", "precision": t / "codebook_precision.csv",
              "documents": t / "documents.csv", "drift": t / "tfidf_drift.csv", "baseline": t / "tfidf_baseline.csv",
              "similarity": t / "tfidf_similarity.csv", "phrases": t / "phrase_changes.csv",
              "phrase_steps": t / "phrase_steps.csv"}
    a.out.mkdir(parents=True, exist_ok=True)
    clock = time.process_time
    start = clock()
    charts = F.draw_figures(tables, {"languages": a.languages}, a.groups)
    print(f"read tables: {clock() - start:.2f} s")
    for name, draw in charts.items():
        t0 = clock()
        fig = draw()
        t1 = clock()
        F.save_figure(fig, a.out / name)
        print(f"{name}: build {t1 - t0:.2f} s, save {clock() - t1:.2f} s")
    print(f"total CPU: {clock() - start:.2f} s")


if __name__ == "__main__":
    main()
