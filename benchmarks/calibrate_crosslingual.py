"""Calibration of the cross-language comparison (docs/methods.md, "Across languages" -> "Calibration").

Two language versions of synthetic corpora with document- and paragraph-level clustering
(:func:`textdrift.synth.calibration_corpus`, 6 years x 6 documents x 20 paragraphs, 12 themes),
translated by :func:`textdrift.synth.translated_pairs` (each paragraph an aligned pair), compared by
:func:`textdrift.crosslingual.compare_themes` (per document and theme) and
:func:`textdrift.crosslingual.trend_table` (per year and theme, the documents pooled). Printed:

* under four nulls (the two versions say the same thing): the share of document x theme and of
  year x theme comparisons with p <= 0.05 (the paired randomization test that decides, and the
  conditional binomial test), the share called at BH q <= 0.05, and how often the 95% interval of
  the count ratio covers the true ratio 1;
* with a planted gap (the Chinese version loses theme t01 in a share of the pairs where the
  source has it): how often it is found (q <= 0.05, the right side) and how often the interval
  covers the true ratio (1 - share).

Usage: ``python benchmarks/calibrate_crosslingual.py [--reps 40]`` (about 4 s per replicate and setting; the
table in docs/methods.md is ``--reps 20``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from textdrift.codebook import Theme
from textdrift.crosslingual import CrosslingualSettings, compare_themes, trend_table
from textdrift.synth import calibration_corpus, translated_pairs

NULLS = {
    "close translation (render 0.85)": {"render": 0.85},
    "independent Poisson (render 0)": {"render": 0.0},
    "extra variation within pairs (Gamma shape 2)": {"within_shape": 2.0},
    "extra variation within pairs (Gamma shape 0.5)": {"within_shape": 0.5},
}


def one(rep: int, gen: dict, drop: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    corpus = calibration_corpus(seed=rep)
    pairs, docs = translated_pairs(corpus, drop=drop, seed=10_000 + rep, **gen)
    codebook = [Theme(t, {"en": t}) for t in corpus.themes]
    themes = compare_themes(pairs, docs, codebook, min_tokens=0)
    trends = trend_table(pairs, docs, codebook, CrosslingualSettings(min_tokens=0))
    return themes, trends[(trends["scope"] == "year") & (trends["theme"] != "")]


def summary(frames: list[pd.DataFrame], true_ratio: float, theme: str | None = None) -> dict:
    df = pd.concat(frames, ignore_index=True)
    if theme is not None:
        df = df[df["theme"] == theme]
    df = df[df["p_value"].notna()]
    cover = (df["ci_low"] <= true_ratio) & (true_ratio <= df["ci_high"])
    return {"n": len(df), "p<=.05": float((df["p_value"] <= 0.05).mean()),
            "binom p<=.05": float((df["binom_p"] <= 0.05).mean()),
            "q<=.05": float(df["status"].str.endswith("_more").mean()), "covers": float(cover.mean()),
            "called en_more": float((df["status"] == "en_more").mean())}


def run(reps: int, share: float = 0.5) -> pd.DataFrame:
    rows = []
    for name, gen in NULLS.items():
        docs, years = zip(*(one(r, gen) for r in range(reps)))
        rows.append({"setting": f"null: {name}", "unit": "document x theme", **summary(list(docs), 1.0)})
        rows.append({"setting": f"null: {name}", "unit": "year x theme", **summary(list(years), 1.0)})
    drop = {"t01": ("zh", share)}
    docs, years = zip(*(one(r, NULLS["close translation (render 0.85)"], drop) for r in range(reps)))
    for unit, frames in (("document x theme", docs), ("year x theme", years)):
        rows.append({"setting": f"planted: zh loses t01 in {share:.0%} of its pairs", "unit": unit,
                     **summary(list(frames), 1 - share, "t01")})
        rows.append({"setting": "planted: the 11 other themes (null)", "unit": unit,
                     **{k: v for k, v in summary([f[f["theme"] != "t01"] for f in frames], 1.0).items()}})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    out = run(args.reps)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(out.to_string(index=False))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
