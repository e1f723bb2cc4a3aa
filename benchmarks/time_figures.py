"""CPU time of the chart jobs' work, chart by chart, on a results/tables directory (not a test).

For each chart of the requested groups (textdrift.figures.CHART_GROUPS, and ``formulations``: the
``new_formulations_{lang}`` charts of the `formulation_figures` rule): the CPU seconds
(time.process_time, so a busy machine does not inflate it) to build the figure and to save it
(textdrift.figures.save_figure: the constrained layout once, then PNG and SVG). With ``--phases``
the save is split into the constrained layout, the rest of the PNG's draw, the PNG's encoding and
the SVG (each of matplotlib's and the library's functions timed where it is called, nothing else
changed, so the files are those of a normal save); with ``--profile N`` each chart's build and save
run under cProfile on the CPU clock and the N costliest functions (own time) are printed.

Usage::

    python benchmarks/time_figures.py RESULTS/tables --groups phrases themes --out /tmp/charts
    python benchmarks/time_figures.py RESULTS/tables --groups formulations --languages en --phases

Run it with ``PYTHONPATH=<a checkout>/src`` to time another version of the library on the same
tables (docs/performance.md compares main and this branch on the 5 MB synthetic corpus of
/work/briefs/compare.sh, which has the 25 years of the 50 MB benchmark corpus). The codebook is
``config/themes.yaml`` of this checkout unless ``--codebook`` names the project's.
"""

from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def _phase_clocks(F, spent: dict):
    """Add the CPU seconds of the layout, the PNG's draw, its encoding and the SVG of every save to
    ``spent`` (the PNG's draw includes the layout, the SVG's save nothing else)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    def timed(owner, name, phase):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.process_time() - start
        setattr(owner, name, wrapper)
        return original

    originals = [(ConstrainedLayoutEngine, "execute", timed(ConstrainedLayoutEngine, "execute", "layout")),
                 (FigureCanvasAgg, "draw", timed(FigureCanvasAgg, "draw", "png_draw")),
                 (F, "_png_bytes", timed(F, "_png_bytes", "png_encode")),
                 (Figure, "savefig", timed(Figure, "savefig", "svg"))]
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        spent["png_draw"] = spent.get("png_draw", 0.0) - spent.get("layout", 0.0)


def main() -> None:
    from textdrift import figures as F

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tables", type=Path)
    ap.add_argument("--groups", nargs="+", default=[*F.CHART_GROUPS, "formulations"])
    ap.add_argument("--languages", nargs="+", default=["zh", "en"])
    ap.add_argument("--codebook", type=Path, default=ROOT / "config/themes.yaml")
    ap.add_argument("--out", type=Path, default=Path("/tmp/textdrift-time-figures"))
    ap.add_argument("--phases", action="store_true", help="split each save into layout, PNG draw, encoding, SVG")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile each chart, print N functions")
    a = ap.parse_args()
    t = a.tables
    tables = {"frequencies": t / "theme_frequencies.csv", "codebook": a.codebook,
              "schema": ROOT / "workflow/schemas/themes.schema.yaml", "precision": t / "codebook_precision.csv",
              "documents": t / "documents.csv", "drift": t / "tfidf_drift.csv", "baseline": t / "tfidf_baseline.csv",
              "similarity": t / "tfidf_similarity.csv", "phrases": t / "phrase_changes.csv",
              "phrase_steps": t / "phrase_steps.csv"}
    a.out.mkdir(parents=True, exist_ok=True)
    clock = time.process_time
    start = clock()
    groups = [g for g in a.groups if g != "formulations"]
    charts = F.draw_figures(tables, {"languages": a.languages}, groups) if groups else {}
    if "formulations" in a.groups:
        new = F.read_csv(t / "new_formulations.csv")
        for lang in a.languages:
            rows = new[new["lang"] == lang]
            charts[f"new_formulations_{lang}"] = lambda rows=rows, lang=lang: F.new_formulations_chart(rows, lang)
    print(f"read tables: {clock() - start:.2f} s")
    for name, draw in charts.items():
        profiler = None
        if a.profile:
            import cProfile

            profiler = cProfile.Profile(clock)
            profiler.enable()
        spent: dict = {}
        t0 = clock()
        fig = draw()
        t1 = clock()
        if a.phases:
            with _phase_clocks(F, spent):
                F.save_figure(fig, a.out / name)
        else:
            F.save_figure(fig, a.out / name)
        t2 = clock()
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(a.profile)
        phases = "".join(f", {k} {v:.2f}" for k, v in spent.items())
        print(f"{name}: build {t1 - t0:.2f} s, save {t2 - t1:.2f} s{phases}")
    print(f"total CPU: {clock() - start:.2f} s")


if __name__ == "__main__":
    main()
