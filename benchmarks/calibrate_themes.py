"""Calibration of the theme intervals on synthetic corpora with known truth.

    .venv/bin/python benchmarks/calibrate_themes.py [--replicates 200] [--methods ...]

For each replicate, :func:`textdrift.synth.calibration_corpus` draws a corpus (words cluster by
document and by paragraph: Gamma multipliers) in two designs: 6 years x 6 documents of 20
paragraphs, and 6 years x 1 document of 120 paragraphs. Nothing changes between years (``null``),
or theme ``t01`` is two or three times as frequent from the fourth year on. Each method's
theme tables are computed from the corpus's units, and the table printed:

* ``excl. 1`` (null): share of the year-over-year theme rate ratios (5 steps x 12 themes) whose
  interval excludes 1 (nominal 5%).
* ``excl. truth``: share whose interval excludes the true ratio: with 6 documents a year, 1 (the
  years' rates are equal); with one document a year, the ratio of the two documents' own rates
  (``theme_rates(by_doc=True)``), which differ by their Gamma draws.
* ``coverage``: share of the year rate intervals that contain the true rate: the year's rate with
  6 documents, the document's own rate with one (nominal 95%).
* ``power x2``, ``power x3``: share of replicates in which the planted step of ``t01`` (its words
  twice or three times as frequent from 2004 on) has an interval above 1.

Methods: ``old`` (the code before issue 25: paragraph bootstrap below ``min_documents`` = 10,
ratio with +0.5, no floor), ``quasi-poisson`` (the pipeline's default), ``qp-pooled`` (the same
with one dispersion per theme pooled over the years), ``bootstrap`` (the
pipeline's ``ci: bootstrap``, documents where a year has at least 5, floored), ``poisson`` (exact
intervals: every mention independent), ``negbin`` (negative binomial NB2 per theme, year and
language, statsmodels ``NegativeBinomial`` with log-token offset, Wald interval of the log rate,
ratio by the difference of log rates; floored like the quasi-Poisson) and ``cluster`` (Poisson GLM
on paragraphs with a covariance robust to clustering by document, statsmodels ``cov_type="cluster"``;
one document a year: by paragraph, i.e. heteroskedasticity-robust).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from textdrift.codebook import Theme  # noqa: E402
from textdrift.synth import CalibrationDesign, calibration_corpus  # noqa: E402
from textdrift.themes import ThemesSettings, bootstrap_draws, theme_changes, theme_frequencies  # noqa: E402

DESIGNS = {"6 years x 6 documents": dict(docs_per_year=6, paras_per_doc=20),
           "6 years x 1 document": dict(docs_per_year=1, paras_per_doc=120)}
METHODS = ("old", "quasi-poisson", "qp-pooled", "bootstrap", "poisson", "negbin", "cluster")
PLANTED = ("t01", 2004)  # the planted theme and the first year of its factor
FACTORS = (2.0, 3.0)


def corpus_units(corpus):
    """(kept tokens per paragraph, theme matches) of a calibration corpus: a theme's words are
    single tokens, so a match is a token whose word is in a theme."""
    t = corpus.tokens
    paras = t.groupby(["year", "lang", "doc_id", "para"], sort=True).size().rename("keep").reset_index()
    word_theme = {w: th for th, ws in corpus.themes.items() for w in ws}
    m = t[t["norm"].isin(word_theme)][["year", "lang", "doc_id", "para", "norm"]]
    m = m.assign(theme=m["norm"].map(word_theme)).drop(columns="norm").reset_index(drop=True)
    return paras, m


def _old(paras, m, book, n_boot=400, seed=1):
    """The method before issue 25: paragraphs resampled below 10 documents, +0.5 ratio, no floor."""
    from textdrift.stats import rate_ratio_interval

    themes = [t.id for t in book]
    draws = bootstrap_draws(paras, m, themes, n_boot, seed, "auto", 10)
    freq = theme_frequencies(paras, m, book, ["en"], ThemesSettings(ci="poisson"))
    alpha = 0.05
    for (year, lang), (C, T, _, _) in draws.items():
        low, high = np.nanquantile(C / T[:, None] * 1e4, [alpha / 2, 1 - alpha / 2], axis=0)
        sel = freq["year"] == year
        freq.loc[sel, "ci_low"], freq.loc[sel, "ci_high"] = low, high
    rows = []
    years = sorted(freq["year"].unique())
    for y0, y1 in zip(years, years[1:]):
        a = freq[freq["year"] == y0].set_index("theme").loc[themes]
        b = freq[freq["year"] == y1].set_index("theme").loc[themes]
        rr, lo, hi = rate_ratio_interval(a["count"], a["tokens"].iloc[0], b["count"], b["tokens"].iloc[0],
                                         draws[(y0, "en")], draws[(y1, "en")])
        rows.append(pd.DataFrame({"theme": themes, "year_from": y0, "year_to": y1, "ci_low": lo, "ci_high": hi}))
    return freq, pd.concat(rows, ignore_index=True)


def _glm_alt(paras, m, book, kind):
    """negbin / cluster: per theme and year, the log rate and its standard error, then the year
    intervals and ratio intervals by the normal approximation, floored by the exact intervals."""
    import statsmodels.api as sm

    from textdrift.stats import rate_ci, rate_ratio_ci

    themes = [t.id for t in book]
    unit = ["doc_id"] if kind == "negbin" and paras["doc_id"].nunique() >= 5 * paras["year"].nunique() \
        else ["doc_id", "para"]
    rows = []
    for year, p in paras.groupby("year"):
        u = p.groupby(unit)["keep"].sum()
        mm = m[m["year"] == year]
        for th in themes:
            c = mm[mm["theme"] == th].groupby(unit).size().reindex(u.index, fill_value=0).to_numpy(float)
            t = u.to_numpy(float)
            k = c.sum()
            se = np.nan
            if k > 0 and len(c) > 1:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        if kind == "negbin":
                            r = sm.NegativeBinomial(c, np.ones((len(c), 1)), offset=np.log(t)).fit(disp=0)
                            se = float(r.bse[0])
                        else:
                            groups = pd.factorize(u.index.get_level_values("doc_id"))[0]
                            if len(np.unique(groups)) < 2:
                                groups = np.arange(len(c))
                            r = sm.GLM(c, np.ones((len(c), 1)), family=sm.families.Poisson(),
                                       offset=np.log(t)).fit(cov_type="cluster", cov_kwds={"groups": groups})
                            se = float(r.bse[0])
                    except Exception:
                        se = np.nan
            # express the standard error as a dispersion: se^2 = phi / k (normal quantile: df = inf)
            phi = se ** 2 * k if np.isfinite(se) else np.nan
            rows.append((year, th, int(k), t.sum(), phi))
    freq = pd.DataFrame(rows, columns=["year", "theme", "count", "tokens", "dispersion"])
    lo, hi = rate_ci(freq["count"], freq["tokens"], freq["dispersion"], np.inf)
    freq["ci_low"], freq["ci_high"] = lo * 1e4, hi * 1e4
    freq["per_10k"] = freq["count"] / freq["tokens"] * 1e4
    out = []
    years = sorted(freq["year"].unique())
    for y0, y1 in zip(years, years[1:]):
        a = freq[freq["year"] == y0].set_index("theme").loc[themes]
        b = freq[freq["year"] == y1].set_index("theme").loc[themes]
        _, l, h, _ = rate_ratio_ci((a["count"], a["tokens"], a["dispersion"], np.inf),
                                   (b["count"], b["tokens"], b["dispersion"], np.inf))
        out.append(pd.DataFrame({"theme": themes, "year_from": y0, "year_to": y1, "ci_low": l, "ci_high": h}))
    return freq, pd.concat(out, ignore_index=True)


def _pooled(paras, m, book):
    """qp-pooled: the quasi-Poisson fits of the pipeline, their dispersion pooled over the years
    of a theme (sum of Pearson X2 over sum of df: one phi per theme, on more degrees of freedom)."""
    from textdrift.stats import rate_ci, rate_ratio_ci

    themes = [t.id for t in book]
    freq = theme_frequencies(paras, m, book, ["en"], ThemesSettings(ci="quasi-poisson", min_documents=5))
    df = (freq["ci_units"] - 1).where(freq["dispersion"].notna(), 0)
    x2 = (freq["dispersion"] * df).fillna(0)
    pooled = x2.groupby(freq["theme"]).transform("sum") / df.groupby(freq["theme"]).transform("sum")
    dfs = df.groupby(freq["theme"]).transform("sum")
    freq = freq.assign(dispersion=pooled, df=dfs)
    lo, hi = rate_ci(freq["count"], freq["tokens"], freq["dispersion"], freq["df"])
    freq["ci_low"], freq["ci_high"] = lo * 1e4, hi * 1e4
    out = []
    years = sorted(freq["year"].unique())
    for y0, y1 in zip(years, years[1:]):
        a = freq[freq["year"] == y0].set_index("theme").loc[themes]
        b = freq[freq["year"] == y1].set_index("theme").loc[themes]
        # one phi for both sides: the log-rate difference has the pooled df
        _, l, h, _ = rate_ratio_ci((a["count"], a["tokens"], a["dispersion"], a["df"]),
                                   (b["count"], b["tokens"], b["dispersion"], b["df"]))
        out.append(pd.DataFrame({"theme": themes, "year_from": y0, "year_to": y1, "ci_low": l, "ci_high": h}))
    return freq, pd.concat(out, ignore_index=True)


def tables(paras, m, book, method):
    """(frequencies, changes) of one method: year, theme, ci_low, ci_high (per 10k); year_from,
    year_to, theme, ci_low, ci_high."""
    if method == "old":
        return _old(paras, m, book)
    if method == "qp-pooled":
        return _pooled(paras, m, book)
    if method in ("negbin", "cluster"):
        return _glm_alt(paras, m, book, method)
    ci = method
    draws = bootstrap_draws(paras, m, [t.id for t in book], 400, 1, "auto", 5) if ci == "bootstrap" else None
    freq = theme_frequencies(paras, m, book, ["en"], ThemesSettings(ci=ci, min_documents=5), draws=draws)
    return freq, theme_changes(freq, draws)


def replicate(design: dict, seed: int, methods, planted: float | None = None) -> dict:
    """One corpus (theme ``t01`` ``planted`` times as frequent from 2004 on, or nothing planted):
    per method, (year intervals covering the truth, changes excluding 1, changes excluding the
    true ratio, the planted step excluding 1 above, the planted step's rows, log half-widths)."""
    effects = {PLANTED[0]: (PLANTED[1], planted)} if planted else None
    corpus = calibration_corpus(CalibrationDesign(**design), seed=seed, theme_effects=effects)
    paras, m = corpus_units(corpus)
    book = [Theme(th, {"en": th}, {"en": tuple(ws)}) for th, ws in corpus.themes.items()]
    one_doc = design["docs_per_year"] == 1
    truth = corpus.theme_rates(by_doc=one_doc)[["year", "theme", "rate"]]
    truth = truth.groupby(["year", "theme"])["rate"].first() * 1e4  # one document a year: its own rate
    out = {}
    for method in methods:
        freq, ch = tables(paras, m, book, method)
        f = freq.set_index(["year", "theme"])
        tr = truth.reindex(f.index)
        cover = ((f["ci_low"] <= tr) & (tr <= f["ci_high"])).to_numpy()
        true_ratio = (truth.reindex(list(zip(ch["year_to"], ch["theme"]))).to_numpy()
                      / truth.reindex(list(zip(ch["year_from"], ch["theme"]))).to_numpy())
        excl1 = ((ch["ci_low"] > 1) | (ch["ci_high"] < 1)).to_numpy()
        excl_truth = ((ch["ci_low"] > true_ratio) | (ch["ci_high"] < true_ratio)).to_numpy()
        step = (ch["theme"] == PLANTED[0]) & (ch["year_to"] == PLANTED[1])
        found = bool((ch.loc[step, "ci_low"] > 1).all())
        widths = np.log(freq["ci_high"] / freq["per_10k"]).to_numpy()
        out[method] = (cover, excl1, excl_truth, found, step.to_numpy(), widths)
    return out


def calibrate(replicates: int = 100, methods=METHODS, designs=DESIGNS, seed0: int = 1000) -> pd.DataFrame:
    """The table: per design and method, the null false-positive share, the share excluding the
    truth, the coverage of the year rates (null corpora), and the power on the planted x2 theme
    (planted corpora, the planted step only; its other rows are not counted)."""
    rows = []
    for name, design in designs.items():
        acc = {mth: {"cover": [], "excl1": [], "excl_truth": [], **{f: [] for f in FACTORS}} for mth in methods}
        for r in range(replicates):
            null = replicate(design, seed0 + r, methods)
            plants = {f: replicate(design, seed0 + 100000 * (i + 1) + r, methods, planted=f)
                      for i, f in enumerate(FACTORS)}
            for mth in methods:
                cover, excl1, excl_truth, _, _, _ = null[mth]
                acc[mth]["cover"].append(cover)
                acc[mth]["excl1"].append(excl1)
                acc[mth]["excl_truth"].append(excl_truth)
                for f in FACTORS:
                    acc[mth][f].append(plants[f][mth][3])
        for mth in methods:
            a = acc[mth]
            rows.append({"design": name, "method": mth, "replicates": replicates,
                         "changes excl. 1": np.mean(np.concatenate(a["excl1"])),
                         "changes excl. truth": np.mean(np.concatenate(a["excl_truth"])),
                         "year coverage": np.mean(np.concatenate(a["cover"])),
                         **{f"power x{f:g}": np.mean(a[f]) for f in FACTORS}})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--seed", type=int, default=1000)
    a = ap.parse_args(argv)
    t0 = time.time()
    table = calibrate(a.replicates, a.methods, seed0=a.seed)
    pd.set_option("display.width", 200)
    fmt = {c: "{:.1%}".format for c in table.columns if c.startswith(("changes", "year", "power"))}
    print(table.to_string(index=False, formatters=fmt), flush=True)
    print(f"\n({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
