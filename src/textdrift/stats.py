"""Statistics shared by the analyses: intervals, tests, divergences.

One place for the estimators and tests that more than one step uses, each with its formula and
its source (about 800 lines: the count models of the rates and ratios, with their floors at the
exact intervals, sit beside the older intervals and tests); the steps (:mod:`textdrift.themes`, :mod:`textdrift.drift`, :mod:`textdrift.phrases`,
:mod:`textdrift.crosslingual`, :mod:`textdrift.findings`, :mod:`textdrift.validation`) call
these and hold only what is particular to them (which units are counted, resampled or compared).

* Counts and rates: :func:`poisson_ci` (exact interval of a Poisson count),
  :func:`poisson_ratio_ci` (exact interval of a ratio of two Poisson rates),
  :func:`quasi_poisson_rate` (a rate from counts in units, with its overdispersion),
  :func:`rate_ci` (its interval, never narrower than the exact Poisson one),
  :func:`rate_ratio_ci` (ratio of two such rates, never narrower than the exact conditional one),
  :func:`rate_ratio_interval` (rate ratio +0.5 with a bootstrap percentile interval: the
  estimator before issue 25, kept for benchmarks/calibrate_themes.py's comparison),
  :func:`wilson` (score interval of a proportion), :func:`clopper_pearson` (exact interval of a
  proportion).
* Tests: :func:`log_odds_dirichlet` (weighted log-odds with an informative Dirichlet prior),
  :func:`p_values` (two-sided normal), :func:`q_values` (Benjamini-Hochberg), :func:`binom_test`
  (exact binomial), :func:`spearman_rho` (rank correlation),
  :func:`normal_quantile`.
* Distances: :func:`jsd` (Jensen-Shannon divergence), :func:`cosine_similarity`.

``scipy.stats`` is imported inside the functions that need it: importing it costs about a second
at every Snakemake start; ``scipy.sparse`` is not imported at all (a sparse row exists only
where the caller imported it).
"""

from __future__ import annotations

import sys

import numpy as np

from textdrift.config import defaults

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = [
    "binom_test",
    "clopper_pearson",
    "cosine_similarity",
    "dense_vector",
    "jsd",
    "log_odds_dirichlet",
    "normal_quantile",
    "p_values",
    "poisson_ci",
    "poisson_ratio_ci",
    "q_values",
    "quasi_poisson_rate",
    "rate_ci",
    "rate_ratio_ci",
    "rate_ratio_interval",
    "spearman_rho",
    "wilson",
]


# ---- intervals --------------------------------------------------------------------------------


def poisson_ci(k, conf: float = _D["themes"]["conf_level"]) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson count.

    ``lower(k) = chi2.ppf(alpha / 2, 2k) / 2`` (0 when k = 0) and
    ``upper(k) = chi2.ppf(1 - alpha / 2, 2k + 2) / 2``, with ``alpha = 1 - conf``; at 95 %:
    k = 0 -> [0, 3.689], k = 1 -> [0.0253, 5.572], k = 10 -> [4.795, 18.39].

    Parameters
    ----------
    k : array_like
        Counts.
    conf : float
        Confidence level.

    Returns
    -------
    low, high : ndarray
        The interval of the expected count, elementwise.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    """
    k = np.asarray(k, dtype=float)
    alpha = 1 - conf
    with np.errstate(invalid="ignore"):  # k = 0: no lower quantile (0 by definition)
        low = np.where(k > 0, _chi2_ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = _chi2_ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low, high


# The quantiles below are scipy.stats' own formulas (scipy 1.17: chi2._ppf, t._ppf, norm._ppf,
# norm._sf) on scipy.special, which is cheaper to import than scipy.stats; they give the same bits
# (tests/test_stats.py compares them with scipy.stats).


def _chi2_ppf(p, df):
    """``scipy.stats.chi2.ppf(p, df)`` for 0 < p < 1: ``2 * gammaincinv(df / 2, p)`` (NaN where df <= 0)."""
    from scipy.special import gammaincinv

    df = np.asarray(df, dtype=float)
    return np.where(df > 0, 2 * gammaincinv(df / 2, p), np.nan)[()]



def poisson_ratio_ci(c0: int, c1: int, t0: float, t1: float,
                     conf: float = _D["themes"]["conf_level"]) -> tuple[float, float]:
    """Exact conditional interval of the ratio of two Poisson rates ``R = (c1/t1) / (c0/t0)``.

    Given n = c0 + c1, c1 ~ Binomial(n, pi) with pi = t1 R / (t0 + t1 R); the Clopper-Pearson
    interval (pl, pu) of pi gives R in [pl/(1-pl) * t0/t1, pu/(1-pu) * t0/t1].

    Parameters
    ----------
    c0, c1 : int
        Counts in the first and second exposure.
    t0, t1 : float
        Exposures (here: kept tokens).
    conf : float
        Confidence level.

    Returns
    -------
    low, high : float
        The interval of R; NaN when n = 0, ``high`` infinite when c0 = 0.

    References
    ----------
    Ulm, K. (1990). A simple method to calculate the confidence interval of a standardized
    mortality ratio. American Journal of Epidemiology 131(2), 373-375.
    """
    n = c0 + c1
    if n == 0:
        return np.nan, np.nan
    alpha = 1 - conf
    # scipy.stats.beta.ppf, computed as scipy.stats does it (_beta_quantiles: the same floats)
    pl = _beta_quantiles(alpha / 2, c1, n - c1 + 1, upper=False)[()] if c1 > 0 else 0.0
    pu = _beta_quantiles(1 - alpha / 2, c1 + 1, n - c1, upper=False)[()] if c1 < n else 1.0
    scale = t0 / t1
    return pl / (1 - pl) * scale, (pu / (1 - pu) * scale if pu < 1 else np.inf)


def quasi_poisson_rate(counts, exposure) -> tuple[float, float, float, int]:
    """Rate of a count over an exposure summed over units (documents or paragraphs), with the
    extra-Poisson variation between the units (quasi-Poisson GLM, McCullagh & Nelder 1989, ch. 9).

    The model: ``E[c_u] = mu_u = r t_u`` and ``Var[c_u] = phi mu_u`` for each unit u with count
    ``c_u`` and exposure ``t_u`` (here: kept tokens): the intercept-only Poisson GLM with offset
    ``log t`` and the Pearson scale (``statsmodels.api.GLM(c, 1, family=Poisson(),
    offset=log(t)).fit(scale="X2")``), computed in closed form: the estimate is
    ``r = sum c / sum t`` (the pooled rate), the dispersion the Pearson statistic over its
    degrees of freedom, ``phi = sum (c_u - r t_u)^2 / (r t_u) / (n - 1)``, and the standard error
    of ``log r`` is ``sqrt(phi / sum c)``. ``phi`` = 1 is Poisson (independent mentions); mentions
    that cluster in some units give ``phi`` > 1. (``tests/test_themes.py`` checks the closed form
    against statsmodels' iterative fit, which it equals to within 1e-12 relative; it costs
    microseconds where the fit costs milliseconds.)

    Parameters
    ----------
    counts, exposure : array_like
        Per unit (units with exposure 0 are dropped).

    Returns
    -------
    rate, se_log, dispersion, df : float, float, float, int
        ``df = n - 1`` (units with exposure, less one). ``dispersion`` and ``se_log`` are NaN
        when they cannot be estimated: a zero total count (the rate is 0, its log undefined;
        nothing is known of the dispersion) or a single unit (``df`` = 0).

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., sections 4.5 and 9.2
    (quasi-likelihood; dispersion from the Pearson statistic). Chapman & Hall.
    """
    c = np.asarray(counts, dtype=float)
    t = np.asarray(exposure, dtype=float)
    c, t = c[t > 0], t[t > 0]
    n, total, tokens = len(c), float(c.sum()), float(t.sum())
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    rate = total / tokens
    if total == 0 or n < 2:
        return rate, np.nan, np.nan, n - 1
    # the fit in closed form: with an intercept and an offset only, the maximum-likelihood rate is
    # the pooled one, the fitted counts are r t_u (they sum to the total), and the Fisher
    # information of log r is sum mu_u = sum c
    mu = rate * t
    phi = float(np.sum((c - mu) ** 2 / mu) / (n - 1))
    return rate, float(np.sqrt(phi / total)), phi, n - 1


def _t_quantile(conf: float, df) -> np.ndarray:
    """Two-sided Student t quantile at ``conf`` (normal where ``df`` is infinite)."""
    from scipy.special import stdtrit

    df = np.asarray(df, dtype=float)
    return np.where(df > 0, stdtrit(df, 1 - (1 - conf) / 2), np.nan)[()]  # scipy.stats.t.ppf


def rate_ci(count, exposure, dispersion, df, conf: float = _D["themes"]["conf_level"]) -> tuple[np.ndarray, np.ndarray]:
    """Interval of a rate ``count / exposure``: the wider of the quasi-Poisson interval and the
    exact Poisson (Garwood) interval of the same count.

    Quasi-Poisson (McCullagh & Nelder 1989, section 9.2; the t quantile because ``phi`` is
    estimated on ``df`` degrees of freedom)::

        r exp(-+ t(1 - alpha/2; df) sqrt(phi / count))

    and the exact interval ``poisson_ci(count) / exposure`` (:func:`poisson_ci`); the result is
    ``[min(low_model, low_exact), max(high_model, high_exact)]``: never narrower than the exact
    Poisson interval, whatever the estimated dispersion (a ``phi`` under 1, or a lucky estimate from
    few units, cannot claim more certainty than independent mentions). Where ``phi`` is NaN (a
    zero count, a single unit), the exact interval alone: a zero count gets ``[0, 3.689 / exposure]``
    at 95%.

    Parameters
    ----------
    count, exposure, dispersion, df : array_like
        Broadcast together.
    conf : float

    Returns
    -------
    low, high : ndarray
        Intervals of the rate (per unit of exposure); NaN where the exposure is 0.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    """
    k, e, phi, df = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (count, exposure, dispersion, df)))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(e > 0, 1 / e, np.nan)
        el, eh = poisson_ci(k, conf)
        el, eh = el * scale, eh * scale
        ok = (k > 0) & np.isfinite(phi) & (df > 0)
        half = np.where(ok, _t_quantile(conf, np.where(df > 0, df, 1)) * np.sqrt(np.where(ok, phi, 1) / np.where(k > 0, k, 1)), 0)
        rate = k * scale
        ml, mh = rate * np.exp(-half), rate * np.exp(half)
    return np.where(ok, np.minimum(ml, el), el), np.where(ok, np.maximum(mh, eh), eh)


def rate_ratio_ci(side0, side1, conf: float = _D["themes"]["conf_level"]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two rates ``R = (c1 / t1) / (c0 / t0)`` (from 0 to 1), with an interval that keeps
    the overdispersion of each side and is never narrower than the exact conditional interval.

    * Both counts positive: ``R`` as observed; the quasi-Poisson interval of the difference of
      the log-rates (independent samples; McCullagh & Nelder 1989)::

          log R -+ t(1 - alpha/2; nu) sqrt(phi0 / c0 + phi1 / c1)

      with Welch-Satterthwaite degrees of freedom
      ``nu = (v0 + v1)^2 / (v0^2 / df0 + v1^2 / df1)``, ``v = phi / c``; a side whose ``phi`` is
      NaN (one unit) counts as Poisson (``phi`` = 1, ``df`` infinite). Widened, where narrower, to
      the exact conditional interval: given ``n = c0 + c1``, ``c1 ~ Binomial(n, pi)`` with
      ``pi = t1 R / (t0 + t1 R)``; the Clopper-Pearson interval of ``pi``
      (``statsmodels.stats.proportion.proportion_confint(method="beta")``) turned into ``R``
      (:func:`poisson_ratio_ci`); it contains the score interval of
      ``statsmodels.stats.rates.confint_poisson_2indep`` (tested on a grid of counts).
    * One count zero: no ratio (NaN), ``change`` = ``new`` (``c0`` = 0) or ``gone`` (``c1`` = 0);
      the interval is the exact conditional one on the counts divided by the dispersion of the
      side that has one (``max(phi, 1)``: ``c / phi`` is the Poisson count of the same
      information), so ``gone`` gets ``[0, high]`` and ``new`` ``[low, inf]``.
    * Both zero: ``undefined``, no ratio, no interval.

    ``change`` is otherwise ``rise`` (R > 1), ``fall`` (R < 1) or ``same``: it always agrees with
    the two raw rates; no 0.5 is added to any count.

    Parameters
    ----------
    side0 : tuple of array_like
        ``(c0, t0, phi0, df0)``: count, exposure, dispersion (NaN: none) and its degrees of freedom
        of side 0 (from).
    side1 : tuple of array_like
        ``(c1, t1, phi1, df1)``: the same of side 1 (to).
    conf : float

    Returns
    -------
    rate_ratio, low, high : ndarray of float
    change : ndarray of str

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    Ulm, K. (1990). A simple method to calculate the confidence interval of a standardized
    mortality ratio. American Journal of Epidemiology 131(2), 373-375.
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components.
    Biometrics Bulletin 2(6), 110-114.
    """
    c0, t0, phi0, df0, c1, t1, phi1, df1 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (*side0, *side1)))
    alpha = 1 - conf
    none0, none1 = ~np.isfinite(phi0) | (df0 <= 0), ~np.isfinite(phi1) | (df1 <= 0)
    p0, p1 = np.where(none0, 1.0, phi0), np.where(none1, 1.0, phi1)
    d0, d1 = np.where(none0, np.inf, df0), np.where(none1, np.inf, df1)
    both = (c0 > 0) & (c1 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rr = np.where(both, (c1 / t1) / (c0 / t0), np.nan)
        v0, v1 = p0 / np.where(c0 > 0, c0, 1), p1 / np.where(c1 > 0, c1, 1)
        nu = (v0 + v1) ** 2 / (v0 ** 2 / d0 + v1 ** 2 / d1)
        half = _t_quantile(conf, nu) * np.sqrt(v0 + v1)
        ml, mh = rr * np.exp(-half), rr * np.exp(half)
        # one side zero: the counts divided by the dispersion of the side that has one
        scale = np.where(both, 1.0, np.maximum(np.where(c0 > 0, p0, p1), 1.0))
        el, eh = _exact_ratio_ci(c0 / scale, t0, c1 / scale, t1, alpha)
    low = np.where(both, np.fmin(ml, el), el)
    high = np.where(both, np.fmax(mh, eh), eh)
    change = np.select([both & (rr > 1), both & (rr < 1), both, (c0 == 0) & (c1 > 0), (c0 > 0) & (c1 == 0)],
                       ["rise", "fall", "same", "new", "gone"], "undefined")
    undefined = change == "undefined"
    return rr, np.where(undefined, np.nan, low), np.where(undefined, np.nan, high), change


def _beta_quantiles(p: float, a, b, upper: bool) -> np.ndarray:
    """``scipy.stats.beta.ppf(p, a, b)`` (``upper``: ``beta.isf(p, a, b)``), computed as scipy
    1.17's ``rv_continuous.ppf``/``isf`` does it on ``scipy.special``: NaN unless a > 0 and b > 0;
    the support's end where p is 0 or 1; else ``_ufuncs._beta_ppf(p, a, b)`` (Boost's beta
    quantile), ``betainccinv(a, b, p)`` for the upper tail, times the scale 1 plus the location 0."""
    import scipy.special as sc

    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    ok = (a > 0) & (b > 0)
    out = np.full(a.shape, np.nan)
    low_end, high_end = (1.0, 0.0) if upper else (0.0, 1.0)  # the value at p = 0 and at p = 1
    if p == 0 or p == 1:
        out[ok] = low_end if p == 0 else high_end
    elif 0 < p < 1 and ok.any():
        if upper:
            out[ok] = sc.betainccinv(a[ok], b[ok], p) * 1.0 + 0.0
        else:
            from scipy.special import _ufuncs

            ppf = getattr(_ufuncs, "_beta_ppf", None)
            if ppf is None:  # a scipy without the private ufunc: scipy.stats itself
                from scipy.stats import beta

                ppf = beta.ppf
            out[ok] = ppf(p, a[ok], b[ok]) * 1.0 + 0.0
    return out


def clopper_pearson(count, nobs, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The Clopper-Pearson interval of the proportion ``count / nobs``, as
    ``statsmodels.stats.proportion.proportion_confint(count, nobs, alpha, method="beta")``
    computes it (statsmodels 0.15), with the same floats but without importing ``scipy.stats``
    (about 0.65 s per job)::

        low  = beta.ppf(alpha / 2, count, nobs - count + 1)    (0 where count = 0)
        high = beta.isf(alpha / 2, count + 1, nobs - count)    (1 where count = nobs)

    (:func:`_beta_quantiles`: scipy.stats' own calls on ``scipy.special``). Counts may be
    fractional. ``tests/test_themes_identical.py`` compares it with statsmodels bit for bit over
    grids of counts, totals and levels; if a scipy version drops the private ``_beta_ppf``, the
    function falls back to ``scipy.stats`` itself.

    Parameters
    ----------
    count, nobs : array_like
        Successes and trials (broadcast).
    alpha : float
        1 - the confidence level (two-sided: alpha / 2 in each tail).

    Returns
    -------
    low, high : ndarray of float

    References
    ----------
    Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in
    the case of the binomial. Biometrika 26(4), 404-413.
    """
    count, nobs = np.broadcast_arrays(np.asarray(count, dtype=float), np.asarray(nobs, dtype=float))
    half = alpha / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = count / nobs
        low = _beta_quantiles(half, count, nobs - count + 1, upper=False)
        high = _beta_quantiles(half, count + 1, nobs - count, upper=True)
    low[share == 0] = 0
    high[share == 1] = 1
    return low, high


def _exact_ratio_ci(c0, t0, c1, t1, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact conditional interval of ``(c1/t1) / (c0/t0)``, vectorized (:func:`poisson_ratio_ci`):
    the Clopper-Pearson interval of ``c1 / (c0 + c1)`` (:func:`clopper_pearson`: statsmodels'
    ``proportion_confint(method="beta")``), turned into a rate ratio; counts may be fractional
    (counts divided by a dispersion). NaN where both are 0."""
    n = c0 + c1
    with np.errstate(invalid="ignore", divide="ignore"):
        pl, pu = clopper_pearson(c1, np.where(n > 0, n, 1), alpha)
        pl, pu = np.asarray(pl, dtype=float), np.asarray(pu, dtype=float)
        pl, pu = np.where(c1 > 0, pl, 0.0), np.where(c0 > 0, pu, 1.0)
        s = t0 / t1
        low = pl / (1 - pl) * s
        high = np.where(pu < 1, pu / (1 - pu) * s, np.inf)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def rate_ratio_interval(c0, t0, c1, t1, draws0: tuple, draws1: tuple, conf: float = _D["themes"]["conf_level"]):
    """Rate ratio per theme from year 0 to year 1, with its bootstrap percentile interval (the
    estimator of ``theme_changes.csv`` before issue 25, kept for the comparison of
    ``benchmarks/calibrate_themes.py``; the pipeline uses :func:`rate_ratio_ci`).

    ``rate_ratio = ((c1 + 0.5) / t1) / ((c0 + 0.5) / t0)`` (the 0.5 of Haldane and Anscombe keeps a
    zero count finite); the interval: the same ratio in each pair of independent resamples of the
    two years, its ``(1 - conf) / 2`` and ``(1 + conf) / 2`` percentiles. A theme absent from both
    years has no ratio (NaN): the 0.5 would only compare the token counts.

    Parameters
    ----------
    c0, c1 : array_like
        Counts per theme in year 0 and year 1.
    t0, t1 : float
        Kept tokens of year 0 and year 1.
    draws0, draws1 : tuple
        ``(C, T, ...)`` of the resamples of each year (:func:`textdrift.themes.bootstrap_draws`):
        C the counts per theme (n_boot x themes), T the kept tokens (n_boot).
    conf : float
        Confidence level.

    Returns
    -------
    rate_ratio, low, high : ndarray
        Per theme.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall
    (percentile interval).
    """
    (C0, T0), (C1, T1) = draws0[:2], draws1[:2]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = ((C1 + 0.5) / T1[:, None]) / ((C0 + 0.5) / T0[:, None])
    alpha = 1 - conf
    low, high = np.nanquantile(ratios, [alpha / 2, 1 - alpha / 2], axis=0)
    c0, c1 = np.asarray(c0, dtype=float), np.asarray(c1, dtype=float)
    rr = ((c1 + 0.5) / t1) / ((c0 + 0.5) / t0)
    none = (c0 == 0) & (c1 == 0)
    return np.where(none, np.nan, rr), np.where(none, np.nan, low), np.where(none, np.nan, high)


def wilson(k: int, n: int, conf: float = _D["themes"]["conf_level"]) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n.

    ``(p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`` with p = k / n and z the normal
    quantile of ``conf``, computed as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    computes it (Newcombe 1998's form, the same operations in the same order, so the same floats:
    tested), with ``scipy.special.ndtri`` alone, which spares the job that only needs this (the
    ``precision`` rule) the import of ``scipy.stats``; at k = 8, n = 10: [0.490, 0.943].

    Parameters
    ----------
    k, n : int
        Successes and trials.
    conf : float
        Confidence level.

    Returns
    -------
    low, high : float
        NaN when n = 0.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22(158), 209-212.
    Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of
    seven methods. Statistics in Medicine 17(8), 857-872.
    """
    from math import sqrt

    from scipy.special import ndtri

    if n == 0:
        return np.nan, np.nan
    k, n = int(k), int(n)
    if not 0 <= k <= n:
        raise ValueError(f"wilson: k must be in [0, n], not k = {k}, n = {n}")
    if not 0 <= conf <= 1:
        raise ValueError(f"wilson: conf must be in [0, 1], not {conf}")
    # scipy.stats._binomtest._binom_wilson_conf_int, two-sided, without continuity correction
    p = k / n
    z = ndtri(0.5 + 0.5 * conf)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * sqrt(4 * n * p * (1 - p) + z**2)
    low = 0.0 if k == 0 else center - delta
    high = 1.0 if k == n else center + delta
    return float(low), float(high)


# ---- tests ------------------------------------------------------------------------------------


def log_odds_dirichlet(y_from, y_to, alpha_w, alpha_0, n_from, n_to):
    """Weighted log-odds ratio (to vs from) with an informative Dirichlet prior.

    Monroe et al. eqs. 16, 18, 19/22::

        delta = log((y_to + a_w) / (n_to + a_0 - y_to - a_w))
              - log((y_from + a_w) / (n_from + a_0 - y_from - a_w))
        var   = 1 / (y_to + a_w) + 1 / (y_from + a_w)
        z     = delta / sqrt(var)

    Parameters
    ----------
    y_from, y_to : array_like
        Counts of the word (phrase, theme) in each group.
    alpha_w, alpha_0 : array_like
        The word's prior pseudo-count and the prior's total weight.
    n_from, n_to : array_like
        Totals of each group. All arguments broadcast as numpy arrays.

    Returns
    -------
    delta, var, z : ndarray
        Positive ``delta`` and ``z``: relatively more frequent in the ``to`` group.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words: lexical feature selection
    and evaluation for identifying the content of political conflict. Political Analysis 16(4),
    372-403.
    """
    y_from, y_to, a, a0, n_from, n_to = (np.asarray(v, dtype=float) for v in
                                         (y_from, y_to, alpha_w, alpha_0, n_from, n_to))
    delta = (np.log((y_to + a) / (n_to + a0 - y_to - a))
             - np.log((y_from + a) / (n_from + a0 - y_from - a)))
    var = 1.0 / (y_to + a) + 1.0 / (y_from + a)
    return delta, var, delta / np.sqrt(var)


def p_values(z) -> np.ndarray:
    """Two-sided p-value of each z under the standard normal: ``2 * (1 - Phi(|z|))``.

    Parameters
    ----------
    z : array_like

    Returns
    -------
    ndarray
    """
    from scipy.special import ndtr

    return 2 * ndtr(-np.abs(np.asarray(z, dtype=float)))  # scipy.stats.norm.sf(|z|) = ndtr(-|z|)


def q_values(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q) of one family of tests.

    ``q_(i) = min over j >= i of p_(j) * m / j`` (p sorted ascending, m tests), clipped to [0, 1]:
    ``scipy.stats.false_discovery_control(p, method="bh")``, computed as scipy 1.17 does it (the
    same sort, products and running minimum: the same floats, tested) without importing
    ``scipy.stats``.

    Parameters
    ----------
    p : array_like
        The family's p-values.

    Returns
    -------
    ndarray
        In the order of ``p``.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the
    Royal Statistical Society B 57(1), 289-300.
    """
    p = np.asarray(p, dtype=float)
    if not np.all(p == np.clip(p, 0.0, 1.0)):
        raise ValueError("`ps` must include only numbers between 0 and 1.")
    if len(p) <= 1:
        return p
    m = len(p)
    order = np.argsort(p)
    q = p[order] * (m / np.arange(1, m + 1, dtype=float))
    np.minimum.accumulate(q[::-1], out=q[::-1])
    out = np.empty_like(q)
    out[order] = q
    return np.clip(out, 0.0, 1.0)


def binom_test(k: int, n: int, p: float = 0.5) -> float:
    """The two-sided exact binomial test of k successes in n trials at probability p, minimum
    likelihood (the p-value sums the outcomes no more likely than k, with a relative tolerance of
    1e-7): ``scipy.stats.binomtest(k, n, p).pvalue``, computed as scipy 1.17 does it (the same
    binary search over the pmf on the other side of the mode, the same pmf, cdf and sf, each on
    ``scipy.special``'s Boost binomial as scipy.stats' ``binom`` calls it) without importing
    ``scipy.stats``; ``tests/test_themes_identical.py`` compares it bit for bit. The conditional
    test of two Poisson counts x, y (statsmodels ``test_poisson_2indep(x, 1, y, 1,
    method="exact-cond")``) is ``binom_test(x, x + y, 0.5)``.

    Parameters
    ----------
    k, n : int
        Successes and trials (0 <= k <= n, n >= 1).
    p : float
        The null probability.

    Returns
    -------
    float

    References
    ----------
    Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson
    series. Biometrika 31(3/4), 313-323.
    """
    try:
        from scipy.special import _ufuncs

        pmf_, cdf_, sf_ = _ufuncs._binom_pmf, _ufuncs._binom_cdf, _ufuncs._binom_sf
    except (ImportError, AttributeError):  # a scipy without the private ufuncs: scipy.stats itself
        from scipy.stats import binomtest

        return float(binomtest(int(k), int(n), p).pvalue)
    k, n = int(k), int(n)
    if n < 1 or not 0 <= k <= n or not 0 <= p <= 1:
        raise ValueError(f"binom_test needs 0 <= k <= n, n >= 1 and 0 <= p <= 1 (k={k}, n={n}, p={p})")

    def pmf(x):  # binom.pmf: 0 off the support (the integers 0..n), the ufunc clipped to [0, 1]
        x = np.float64(x)
        return np.clip(pmf_(x, n, p), 0, 1) if 0 <= x <= n and np.floor(x) == x else np.float64(0.0)

    def cdf(x):
        x = np.float64(x)
        return np.float64(1.0) if x >= n else np.clip(cdf_(np.floor(x), n, p), 0, 1) if x >= 0 else np.float64(0.0)

    def sf(x):
        x = np.float64(x)
        return np.float64(1.0) if x < 0 else np.clip(sf_(np.floor(x), n, p), 0, 1) if x < n else np.float64(0.0)

    def search(a, d, lo, hi):  # scipy.stats._binomtest._binary_search_for_binom_tst
        while lo < hi:
            mid = lo + (hi - lo) // 2
            midval = a(mid)
            if midval < d:
                lo = mid + 1
            elif midval > d:
                hi = mid - 1
            else:
                return mid
        return lo if a(lo) <= d else lo - 1

    d = pmf(k)
    rerr = 1 + 1e-7
    if k == p * n:
        pval = 1.0
    elif k < p * n:
        ix = search(lambda x1: -pmf(x1), -d * rerr, np.ceil(p * n), n)
        y = n - ix + int(d * rerr == pmf(ix))
        pval = cdf(k) + sf(n - y)
    else:
        ix = search(pmf, d * rerr, 0, np.floor(p * n))
        y = ix + 1
        pval = cdf(y - 1) + sf(k - 1)
    return float(min(1.0, pval))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, ties sharing the mean of their ranks (``scipy.stats.rankdata``'s
    "average": a stable sort, the first ordinal rank of each run of equal values plus half the run's
    length less one; exact half-integers)."""
    n = len(x)
    j = np.argsort(x, kind="stable")
    y = x[j]
    first = np.concatenate([[True], y[:-1] != y[1:]])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=n)
    ranks = np.empty(n, dtype=float)
    ranks[j] = np.repeat((starts + 1) + (counts.astype(float) - 1) / 2, counts)
    return ranks


def spearman_rho(x, y) -> float:
    """Spearman's rank correlation of two samples: Pearson's correlation of their average ranks
    (ties share the mean rank), ``scipy.stats.spearmanr(x, y).statistic`` computed as scipy 1.17
    does it for two 1-D samples (NaN for fewer than two observations, a constant sample or a NaN in
    either; the ranks stacked as the columns of one array that ``numpy.corrcoef`` reads with
    ``rowvar=False``, laid out as ``numpy.apply_along_axis`` lays them out: the same floats, tested
    over grids with ties, constants and NaN in tests/test_themes_identical.py) without importing
    ``scipy.stats`` (its import is most of a small job's start-up).

    Parameters
    ----------
    x, y : array_like
        Two 1-D samples of the same length (floats or integers).

    Returns
    -------
    float

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. American
    Journal of Psychology 15(1), 72-101.
    """
    a = np.column_stack((np.asarray(x), np.asarray(y)))
    if a.shape[0] <= 1:
        return float("nan")
    if (a[:, 0][0] == a[:, 0]).all() or (a[:, 1][0] == a[:, 1]).all():
        return float("nan")  # a constant sample (scipy warns and returns NaN)
    if np.issubdtype(a.dtype, np.floating) and np.isnan(np.max(a)):
        return float("nan")
    # apply_along_axis(rankdata, 0, a): the ranks in a (2, n) buffer, read through its transpose
    ranked = np.empty((2, a.shape[0]), dtype=float)
    ranked[0], ranked[1] = _average_ranks(a[:, 0]), _average_ranks(a[:, 1])
    return float(np.corrcoef(ranked.T, rowvar=False)[1, 0])


def normal_quantile(conf: float) -> float:
    """The two-sided standard normal quantile of ``conf``: ``Phi^-1(1 - (1 - conf) / 2)`` (1.96 at 0.95).

    Parameters
    ----------
    conf : float

    Returns
    -------
    float
    """
    from scipy.special import ndtri

    return float(ndtri(1 - (1 - conf) / 2))  # scipy.stats.norm.ppf


def dense_vector(x) -> np.ndarray:
    """A sparse or dense row as a flat float array.

    Parameters
    ----------
    x : array_like or scipy.sparse matrix
        One row.

    Returns
    -------
    ndarray of float
        1-D.
    """
    # (a sparse row exists only if scipy.sparse was imported: not imported here, it costs a job
    # that needs none of it about 0.3 s)
    sp = sys.modules.get("scipy.sparse")
    return np.asarray(x.toarray() if sp is not None and sp.issparse(x) else x, dtype=float).ravel()


def jsd(p, q) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two count or probability vectors.

    Both are normalised to sum 1 first; with m = (p + q) / 2,
    ``JSD = (KL(p || m) + KL(q || m)) / 2``, ``KL(a || m) = sum a log2(a / m)`` (0 log 0 = 0).
    Equals ``scipy.spatial.distance.jensenshannon(p, q, base=2) ** 2``.

    Parameters
    ----------
    p, q : array_like or sparse row
        Non-negative counts or probabilities.

    Returns
    -------
    float
        NaN if either is empty (sums to 0).

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions on
    Information Theory 37(1), 145-151.
    """
    p, q = dense_vector(p), dense_vector(q)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a):  # KL(a || m), with 0 log 0 = 0; m > 0 wherever a > 0
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return float(min(1.0, max(0.0, (kl(p) + kl(q)) / 2)))


def cosine_similarity(a, b) -> float:
    """Cosine of the angle between two vectors: ``a . b / (|a| |b|)``, clipped to [-1, 1].

    Parameters
    ----------
    a, b : array_like or sparse row

    Returns
    -------
    float
        NaN if either is all zeros.
    """
    a, b = dense_vector(a), dense_vector(b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    return float(np.clip(a @ b / (na * nb), -1.0, 1.0))
