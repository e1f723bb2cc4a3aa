"""Calibration of the phrase-change test on synthetic corpora with known truth (docs/methods.md,
"Phrase changes" -> "Calibration").

For each design (years x documents per year, document-level overdispersion or none) and seed,
``textdrift.synth.calibration_corpus`` draws a corpus in which nothing changes from year to year
(null), and one with a planted new two-word phrase from the fourth year on; the phrase table is
computed by

* ``old``: Monroe et al.'s z with the normal (tokens independent; the method before issue 25);
* ``new``: :func:`textdrift.phrases.phrase_changes` with the document and paragraph matrices
  (documents when both years have ``phrases.min_documents`` documents, else paragraphs);

and the script prints, per design and method: phrases called changing at q <= 0.05 over all steps
(mean per corpus, and the share of corpora with any), the per-test share of p < 0.05 (all tested
phrases, and those with 20 or more occurrences in the step), and for the planted phrase: the
share of corpora where it is called new at its step, and its median rank by z among the step's
phrases.

    python benchmarks/calibrate_phrases.py                 # 20 replicates per design
    python benchmarks/calibrate_phrases.py --reps 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

DESIGNS = [  # name, docs per year, doc_shape (None: no document-level variation)
    ("6 years x 6 documents, document variation", 6, 2.0),
    ("6 years x 2 documents, document variation", 2, 2.0),
    ("6 years x 1 document, document variation", 1, 2.0),
    ("6 years x 1 document, paragraph variation only", 1, None),
]


def matrices(tokens: pd.DataFrame):
    from textdrift.vectorize import count_matrix, doc_matrix, year_matrix

    paras = count_matrix(tokens, ["year", "doc_id", "para"], 3)
    paras.rows.insert(0, "lang", "en")
    return year_matrix(tokens, "en"), doc_matrix(tokens, "en"), paras


def tables(tokens: pd.DataFrame, q_threshold: float = 0.05) -> dict[str, pd.DataFrame]:
    """The phrase table by the old and the new method."""
    from textdrift.phrases import phrase_changes, status
    from textdrift.stats import p_values, q_values

    ym, dm, pm = matrices(tokens)
    new = phrase_changes(ym, docs=dm, paras=pm)
    old = new.copy()
    old["p"] = p_values(old["z"])
    old["q"] = old.groupby("year_from")["p"].transform(lambda p: q_values(p.to_numpy()))
    old["status"] = status(old["count_from"], old["count_to"], old["total_from"], old["total_to"], old["z"],
                           old["q"], q_threshold)
    return {"old": old, "new": new}


def one(docs: int, doc_shape, seed: int, planted_year: int = 2004) -> list[dict]:
    from textdrift.synth import CalibrationDesign, calibration_corpus

    shape = 1e9 if doc_shape is None else doc_shape
    out = []
    c0 = calibration_corpus(CalibrationDesign(docs_per_year=docs, doc_shape=shape), seed=seed)
    null = tables(c0.tokens)
    # the truth behind the calls: each year's documents' own rates (the mean of its documents' rates)
    truth = c0.doc_rates.groupby(["year", "word"])["rate"].mean()
    alts = {}
    for rate in (0.3, 1.0):  # insertions of the planted phrase per paragraph
        c = calibration_corpus(CalibrationDesign(docs_per_year=docs, doc_shape=shape, phrase_per_para=rate),
                               seed=seed, new_phrases={"p1": planted_year})
        alts[rate] = (next(iter(c.planted["phrases"])), tables(c.tokens))
    for method in ("old", "new"):
        t = null[method]
        called = t["status"].isin(["new", "gone", "rising", "falling"])
        big = (t["count_from"] + t["count_to"]) >= 20
        uni = t[called & (t["n"] == 1)]
        true_ratio = (truth.reindex(list(zip(uni["year_to"], uni["phrase"]))).to_numpy()
                      / truth.reindex(list(zip(uni["year_from"], uni["phrase"]))).to_numpy())
        up = uni["status"].isin(["new", "rising"]).to_numpy()
        right = np.where(up, true_ratio > 1, true_ratio < 1)
        row = {"method": method, "called": int(called.sum()), "p05": float((t["p"] < 0.05).mean()),
               "called_uni": len(uni), "right_way": int(right.sum()),
               "true_ratio_far": int((np.abs(np.log(true_ratio)) > np.log(1.5)).sum()),
               "p05_20": float((t.loc[big, "p"] < 0.05).mean()) if big.any() else np.nan}
        for rate, (planted, alt) in alts.items():
            s = alt[method]
            step = s[s["year_to"] == planted_year].reset_index(drop=True)
            hit = step.index[step["phrase"] == planted]
            row[f"new_{rate}"] = bool(len(hit)) and step.loc[hit[0], "status"] == "new"
            row[f"rank_{rate}"] = int(hit[0]) + 1 if len(hit) else np.nan
        out.append(row)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    rows = []
    t0 = time.time()
    for name, docs, shape in DESIGNS:
        for r in range(a.reps):
            rows += [dict(design=name, **x) for x in one(docs, shape, a.seed + r)]
    df = pd.DataFrame(rows)
    g = df.groupby(["design", "method"], sort=False)
    table = pd.DataFrame({
        "called at q<=0.05 (mean per corpus)": g["called"].mean().round(2),
        "corpora with any call": g["called"].apply(lambda s: f"{(s > 0).sum()}/{len(s)}"),
        "called unigrams: true document rates differ in the called direction (by more than x1.5)":
            g.apply(lambda d: f"{d['right_way'].sum()} ({d['true_ratio_far'].sum()}) of {d['called_uni'].sum()}"),
        "p<0.05 (all tested)": g["p05"].mean().round(3),
        "p<0.05 (count>=20)": g["p05_20"].mean().round(3),
        **{f"planted ({r}/para) called new": g[f"new_{r}"].apply(lambda s: f"{s.sum()}/{len(s)}") for r in (0.3, 1.0)},
        **{f"planted ({r}/para) rank by z (median)": g[f"rank_{r}"].median() for r in (0.3, 1.0)},
    })
    print(f"{a.reps} replicates per design (seeds {a.seed}..{a.seed + a.reps - 1}), {time.time() - t0:.0f} s")
    print(table.to_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
