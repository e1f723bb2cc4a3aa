"""Theme frequencies: a bilingual codebook of terms, counted per year and language, with intervals.

The codebook (``config/themes.yaml``: themes, terms, context rules; its validation and version
hash) is :mod:`textdrift.codebook`; this module counts the
matches (:mod:`textdrift.matching`) per year and language, with intervals and year-over-year
changes, and runs the `theme_matches` and `themes` rules.

Frequencies
-----------
For each (year, language) with text, all documents pooled, and each theme:
``count`` = number of matches; ``tokens`` = number of ``keep`` tokens (not stop word,
punctuation or number: the denominator of ``vectorize``'s ``rows.tokens``);
``per_10k = count / tokens * 10000``. Every (year, language, theme) gets a row, zeros included;
a (year, language) without text gets none.

Intervals (``ci``), at confidence ``conf`` (``alpha = 1 - conf``), never narrower than the exact
Poisson interval of the same count:

* ``"quasi-poisson"`` (the config's default): the units the mentions cluster in are the documents
  of the (year, language) where it has at least ``min_documents`` of them, else its paragraphs
  (:func:`unit_counts`); one intercept-only Poisson GLM per theme, year and language on the
  units' counts with log(kept tokens) as offset, and the dispersion ``phi`` from the Pearson
  statistic (quasi-Poisson, McCullagh & Nelder 1989; :func:`textdrift.stats.quasi_poisson_rate`);
  the interval ``r exp(-+ t(1 - alpha/2; n - 1) sqrt(phi / count))``, widened where narrower to the
  exact one (:func:`textdrift.stats.rate_ci`). With documents as units the interval is about the
  year (``ci_about`` = ``year``); with paragraphs, about the year's own documents (``its
  documents``): the variation between documents is then not in it.
* ``"poisson"``: the exact Poisson interval for the count (Garwood 1936), divided by ``tokens``::

      lower(k) = chi2.ppf(alpha / 2, 2k) / 2          (0 when k = 0)
      upper(k) = chi2.ppf(1 - alpha / 2, 2k + 2) / 2

  e.g. at 95 %: k = 0 -> [0, 3.689]; k = 1 -> [0.0253, 5.572]; k = 10 -> [4.795, 18.39].
  It treats occurrences as independent; repeated terms in one paragraph make it too narrow.
* ``"bootstrap"``: the same units resampled with replacement ``n_boot`` times
  (:func:`bootstrap_draws`), the percentile interval of the rate (Efron & Tibshirani 1993;
  cluster resampling: Davison & Hinkley 1997, section 3.8), widened to the exact one.

Year-over-year change (:func:`theme_changes`, :func:`step_ratios`): the rate ratio of
consecutive years with text, ``(count_to / tokens_to) / (count_from / tokens_from)`` (no 0.5
added), its interval from the difference of the two log rates with both dispersions
(:func:`textdrift.stats.rate_ratio_ci`), never narrower than the exact conditional interval; a
zero count on one side is ``new`` or ``gone`` (no ratio), on both ``undefined``.

Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.

Matching (which tokens a term matches, how overlaps are resolved, the KWIC context of each
match) is :mod:`textdrift.matching`.

Why one module of over 600 lines, about half of them docstrings: counting, intervals and
year-over-year changes share one table of units (:func:`unit_counts`), and the
`theme_matches` and `themes` rules' shard files are read and written here beside them; the
estimators are in :mod:`textdrift.stats`, the matching and the codebook in their own modules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from textdrift.codebook import Theme, codebook_hash, entity_codebook, load_codebook
from textdrift.config import Settings, defaults, setting
from textdrift.io import read_csv, write_csv, write_csv_tables, write_parquet
from textdrift.matching import MATCH_COLUMNS, MATCH_ORDER, UNSPACED, match_themes, order_matches
from textdrift.stats import poisson_ci  # noqa: F401  (textdrift.themes.poisson_ci: the explorer imports it from here)
from textdrift.counting import PARA_COLUMNS, VARIANTS as _VARIANTS, TokenCodes, counted, paragraph_counts, read_shards, read_tokens, unit_codes

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_T = _D["themes"]

__all__ = ["CodebookFiles", "ThemesFiles", "ThemesSettings", "ABOUT", "BOOTSTRAP_UNITS", "CHANGE_COLUMNS", "CI_METHODS", "rate_model", "step_ratios", "unit_counts", "year_units", "ENTITY_FREQ_COLUMNS", "FREQ_COLUMNS", "KWIC_COLUMNS",
           "TOKEN_COLUMNS", "UNMATCHED_COLUMNS", "bootstrap_draws", "MATCH_KEY", "match_partials", "write_partial_matches", "match_shard",
           "read_matches", "write_kwic", "write_themes", "theme_changes", "excludes_one",
           "theme_frequencies", "theme_table", "unmatched_terms", "run_themes"]

log = logging.getLogger("textdrift.themes")

FREQ_COLUMNS = ["year", "lang", "theme", "count", "tokens", "per_10k", "ci_low", "ci_high", "ci_method", "ci_units",
                "dispersion", "ci_about"]
CHANGE_COLUMNS = ["lang", "theme", "year_from", "year_to", "count_from", "count_to", "tokens_from", "tokens_to",
                  "per_10k_from", "per_10k_to", "rate_ratio", "change", "ci_low", "ci_high", "ci_excludes_1",
                  "ci_method", "units_from", "units_to", "dispersion_from", "dispersion_to", "low_data"]
BOOTSTRAP_UNITS = ("auto", "paragraph", "document")
CI_METHODS = ("quasi-poisson", "poisson", "bootstrap")
# kind: "theme" (theme = a codebook theme id) or "entity" (theme = an entity id, term = its @id)
KWIC_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "role", "kind", "theme", "term", "left", "match", "right"]
ENTITY_FREQ_COLUMNS = ["year", "lang", "entity", "count", "tokens", "per_10k", "ci_low", "ci_high"]
UNMATCHED_COLUMNS = ["theme", "lang", "term"]
# token columns that matching (and the kept-token denominators) need: the rules read only these
TOKEN_COLUMNS = ["doc_id", "year", "lang", "para", "sent", "idx", "text", "norm", "is_punct", "keep", "role", "entity"]


@dataclass(frozen=True)
class ThemesSettings(Settings):
    """The settings of the theme counts and their intervals (the ``themes`` block of the
    configuration, with ``unspaced_languages`` and ``count_roles``); defaults from the schema
    (:class:`textdrift.config.Settings`: ``ThemesSettings.from_config(config)``, or in a rule
    ``ThemesSettings.from_params(params)``).

    Attributes
    ----------
    ci : {"quasi-poisson", "poisson", "bootstrap"}
        The interval (:func:`theme_frequencies`).
    conf_level : float
        Confidence level.
    n_boot, seed : int
        The bootstrap's settings (:func:`bootstrap_draws`).
    bootstrap_unit : {"auto", "paragraph", "document"}
    min_documents : int
        The unit of the model or the bootstrap (:func:`unit_counts`).
    kwic_window : int
        Tokens of KWIC context each side of a match.
    unspaced_languages : tuple of str
    count_roles : tuple of str
        The paragraph roles counted.
    min_tokens : int
        Low-data threshold of :func:`theme_changes` (0 here; the rule passes ``low_data_tokens``).
    group_by : str or None
        A column of the documents table: the frequencies and changes of each group too.
    """

    ci: str = setting("themes", "ci")
    conf_level: float = setting("themes", "conf_level")
    n_boot: int = setting("themes", "n_boot")
    seed: int = setting("themes", "seed")
    bootstrap_unit: str = setting("themes", "bootstrap_unit")
    min_documents: int = setting("themes", "min_documents")
    kwic_window: int = setting("themes", "kwic_window")
    unspaced_languages: tuple = setting("unspaced_languages", convert=tuple)
    count_roles: tuple = setting("count_roles", convert=tuple)
    min_tokens: int = 0
    group_by: str | None = None


@dataclass(frozen=True)
class CodebookFiles:
    """The codebook file, its ``schema`` and the named ``entities`` file with its schema
    (``entities_schema``); :meth:`load` reads them."""

    codebook: str | Path
    schema: str | Path | None = None
    entities: str | Path | None = None
    entities_schema: str | Path | None = None

    def load(self) -> tuple[list[Theme], list]:
        """(the codebook, the entities) (:func:`textdrift.codebook.load_codebook`,
        :func:`textdrift.entities.load_entities`).

        Returns
        -------
        (list of Theme, list of Entity)
        """
        from textdrift.entities import load_entities

        entities = load_entities(self.entities, self.entities_schema)
        return load_codebook(self.codebook, self.schema, entities), entities


@dataclass(frozen=True)
class ThemesFiles:
    """The files of the ``themes`` rule: the shards' theme ``matches``, kept tokens per paragraph
    (``paras``) and entity mentions (``entities``), the ``book`` (:class:`CodebookFiles`), the
    documents table (``documents``, optional); the outputs ``theme_frequencies.csv`` (``freq``),
    ``theme_kwic.csv`` (``kwic``), ``theme_unmatched_terms.csv`` (``unmatched``), and, each written
    unless None, ``entity_frequencies.csv`` (``entity_freq``), ``theme_changes.csv`` (``changes``)
    and the grouped frequencies and changes (``grouped_freq``, ``grouped_changes``)."""

    matches: list
    paras: list
    book: CodebookFiles
    freq: str | Path
    kwic: str | Path
    unmatched: str | Path
    entities: list = ()
    documents: str | Path | None = None
    entity_freq: str | Path | None = None
    changes: str | Path | None = None
    grouped_freq: str | Path | None = None
    grouped_changes: str | Path | None = None


# ---- frequencies ----------------------------------------------------------------------------


def year_units(paras: pd.DataFrame, unit: str = _T["bootstrap_unit"],
               min_documents: int = _T["min_documents"]) -> dict:
    """The units of every (year, lang) and their kept tokens: ``{(year, lang): (unit, keys, tokens)}``
    with ``keys`` the unit's columns (``["doc_id"]`` or ``["doc_id", "para"]``) and ``tokens`` the
    kept tokens of each unit (a Series indexed by the unit's key, in (doc_id[, para]) order).

    The unit is the document (``doc_id``) or the paragraph (``doc_id, para``): ``unit="auto"``
    takes documents where the (year, lang) has at least ``min_documents`` of them, else paragraphs.
    Units without kept tokens are left out (they carry no exposure). The one definition of the
    units of :func:`unit_counts` (the model, the bootstrap) and of the findings' theme checks.

    Parameters
    ----------
    paras : DataFrame
        Kept tokens per paragraph (``PARA_COLUMNS``: year, lang, doc_id, para, keep = how many).
    unit : {"auto", "paragraph", "document"}
    min_documents : int

    Returns
    -------
    dict
    """
    if unit not in BOOTSTRAP_UNITS:
        raise ValueError(f"unit must be one of {BOOTSTRAP_UNITS}, not {unit!r}")
    out = {}
    for (year, lang), part in paras.groupby(["year", "lang"], sort=True):
        n_docs = part.loc[part["keep"] > 0, "doc_id"].nunique()
        use = unit if unit != "auto" else ("document" if n_docs >= min_documents else "paragraph")
        keys = ["doc_id"] if use == "document" else ["doc_id", "para"]
        tok = part.groupby(keys, sort=True)["keep"].sum()
        out[(int(year), lang)] = (use, keys, tok[tok > 0])
    return out


def unit_counts(paras: pd.DataFrame, matches: pd.DataFrame, themes: list[str], unit: str = _T["bootstrap_unit"],
                min_documents: int = _T["min_documents"]) -> dict:
    """The units of every (year, lang) with their kept tokens and matches per theme:
    ``{(year, lang): (unit, t, P)}`` with ``t`` the kept tokens of each unit (n) and ``P`` its
    matches per theme (n x themes), units in (doc_id[, para]) order (:func:`year_units`: documents
    where the (year, lang) has at least ``min_documents`` of them, else paragraphs, with
    ``unit="auto"``; units without kept tokens left out).

    Parameters
    ----------
    paras : DataFrame
        Kept tokens per paragraph (``PARA_COLUMNS``: year, lang, doc_id, para, keep = how many).
    matches : DataFrame
        The matches (year, lang, theme, doc_id, para).
    themes : list of str
        Theme ids, the columns of P.
    unit : {"auto", "paragraph", "document"}
    min_documents : int

    Returns
    -------
    dict
    """
    units = year_units(paras, unit, min_documents)
    out = {}
    m_all = matches[matches["theme"].isin(themes)]
    groups = dict(tuple(m_all.groupby(["year", "lang"], sort=False))) if len(m_all) else {}
    for (year, lang), (use, keys, tok) in units.items():
        m = groups.get((year, lang), m_all.iloc[:0])
        P = np.zeros((len(tok), len(themes)))  # matches per unit x theme
        if len(m):
            rows = tok.index.get_indexer(pd.MultiIndex.from_frame(m[keys]) if len(keys) > 1 else m[keys[0]])
            ok = rows >= 0
            np.add.at(P, (rows[ok], pd.Index(themes).get_indexer(m["theme"])[ok]), 1)
        out[(year, lang)] = (use, tok.to_numpy(dtype=float), P)
    return out


def rate_model(units: dict, themes: list[str]) -> pd.DataFrame:
    """The quasi-Poisson fit (:func:`textdrift.stats.quasi_poisson_rate`) of every (year, lang,
    theme) on its units' counts (:func:`unit_counts`): one intercept-only GLM per theme, year and
    language, with log(kept tokens of the unit) as offset and the Pearson dispersion.

    Parameters
    ----------
    units : dict
        :func:`unit_counts` output.
    themes : list of str

    Returns
    -------
    DataFrame
        ``year, lang, theme, unit, n_units, dispersion, df`` (``dispersion`` NaN where it cannot be
        estimated: a zero count, a single unit).

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed., section 9.2.
    Chapman & Hall.
    """
    from textdrift.stats import quasi_poisson_rate

    rows = []
    for (year, lang), (use, t, P) in units.items():
        for i, th in enumerate(themes):
            _, _, phi, df = quasi_poisson_rate(P[:, i], t)
            rows.append((year, lang, th, use, len(t), phi, df))
    return pd.DataFrame(rows, columns=["year", "lang", "theme", "unit", "n_units", "dispersion", "df"])


def bootstrap_draws(paras: pd.DataFrame, matches: pd.DataFrame, themes: list[str], n_boot: int, seed: int,
                     unit: str = _T["bootstrap_unit"], min_documents: int = _T["min_documents"],
                     chunk: int = 100) -> dict:
    """Bootstrap resamples of every (year, lang) (``ci: bootstrap``): {(year, lang): (C, T, unit,
    n_units)} with C the matches per theme (n_boot x themes) and T the kept tokens (n_boot) of
    each resample.

    The resampling unit is the paragraph (``doc_id, para``) or the document (``doc_id``), as in
    :func:`unit_counts`. Units are drawn with replacement, as many as there are
    (``numpy.random.default_rng([seed, year, crc32(lang)])``: each (year, lang) has its own stream,
    so adding a year changes no other year's interval). Done ``chunk`` resamples at a time as
    multiplicity weights (chunk x units) times the per-unit counts.

    Parameters
    ----------
    paras : DataFrame
        Kept tokens per paragraph (``PARA_COLUMNS``: year, lang, doc_id, para, keep = how many).
    matches : DataFrame
        The matches (year, lang, theme, doc_id, para).
    themes : list of str
        Theme ids, the columns of C.
    n_boot, seed : int
        Number of resamples; seed of the random streams.
    unit : {"auto", "paragraph", "document"}
    min_documents : int
        With ``unit="auto"``, documents are resampled from this many documents of a (year, lang) on.
    chunk : int
        Resamples computed at once.

    Returns
    -------
    dict
        ``{(year, lang): (C, T, unit, n_units)}``.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application, section 3.8
    (cluster resampling). Cambridge University Press.
    """
    import zlib

    out = {}
    for (year, lang), (use, t, P) in unit_counts(paras, matches, themes, unit, min_documents).items():
        rng = np.random.default_rng([seed, int(year), zlib.crc32(str(lang).encode("utf-8"))])
        n = len(t)
        C, T = np.empty((n_boot, len(themes))), np.empty(n_boot)
        for b0 in range(0, n_boot, chunk):
            b1 = min(n_boot, b0 + chunk)
            picks = rng.integers(0, n, (b1 - b0, n)) + n * np.arange(b1 - b0)[:, None]
            W = np.bincount(picks.ravel(), minlength=(b1 - b0) * n).reshape(b1 - b0, n).astype(float)
            C[b0:b1], T[b0:b1] = W @ P, W @ t
        out[(int(year), lang)] = (C, T, use, n)
    return out


#: what an interval is about, by unit: documents resampled or modelled are a sample of what the
#: year could have produced; paragraphs are a sample of the year's own documents
ABOUT = {"document": "year", "paragraph": "its documents"}


def theme_frequencies(
    tokens: pd.DataFrame,
    matches: pd.DataFrame,
    codebook: list[Theme],
    languages,
    settings: ThemesSettings | None = None,
    draws: dict | None = None,
) -> pd.DataFrame:
    """Counts per 10,000 kept tokens for every (year, lang with text, theme), with ``ci`` intervals.

    ``per_10k = count / tokens * 10000`` (``tokens``: the kept tokens of the year and language).
    Intervals (:mod:`textdrift.stats`), at ``conf``:

    * ``"quasi-poisson"``: the rate's quasi-Poisson interval over the units of the (year, lang)
      (:func:`unit_counts`: documents where it has at least ``min_documents``, else paragraphs;
      :func:`rate_model`), widened where narrower to the exact Poisson interval of the count
      (:func:`textdrift.stats.rate_ci`).
    * ``"poisson"``: the exact Poisson (Garwood) interval alone (mentions independent).
    * ``"bootstrap"``: the percentile interval of the units resampled (:func:`bootstrap_draws`),
      widened where narrower to the exact Poisson interval.

    ``ci_method`` (``quasi-poisson:<unit>``, ``bootstrap:<unit>``, ``poisson``), ``ci_units`` (the
    number of units), ``dispersion`` (the quasi-Poisson ``phi``: NaN where it cannot be estimated,
    then the interval is the exact Poisson one), ``ci_about`` (``year``: documents are the units,
    the interval is about the rate the year's kind of document has; ``its documents``: paragraphs
    are the units, the interval is about the rate of these documents only, not of other documents
    the year could have had).

    Parameters
    ----------
    tokens : DataFrame
        A token table, or kept tokens per paragraph (``keep`` is summed).
    matches : DataFrame
        :func:`textdrift.matching.match_themes` output (or its year, lang, theme, doc_id, para).
    codebook : list of Theme
    languages : sequence of str
        Languages to report, in output order.
    settings : ThemesSettings, optional
        ``ci`` (the interval), ``conf_level``, ``n_boot`` and ``seed`` (:func:`bootstrap_draws`),
        ``bootstrap_unit`` and ``min_documents`` (the unit of the model or the bootstrap,
        :func:`unit_counts`); the schema's defaults when None.
    draws : dict, optional
        Resamples already drawn by :func:`bootstrap_draws` (``ci="bootstrap"``; else drawn here).

    Returns
    -------
    DataFrame
        ``FREQ_COLUMNS``, sorted by year, language (``languages`` order), theme (codebook order).

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    from textdrift.stats import rate_ci

    s = settings or ThemesSettings()
    ci, conf, n_boot, seed, unit, min_documents = s.ci, s.conf_level, s.n_boot, s.seed, s.bootstrap_unit, s.min_documents
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, not {ci!r}")
    if unit not in BOOTSTRAP_UNITS:
        raise ValueError(f"bootstrap unit must be one of {BOOTSTRAP_UNITS}, not {unit!r}")
    themes = [t.id for t in codebook]
    tokens = tokens[tokens["lang"].isin(languages)]
    units = tokens.groupby(["year", "lang"], sort=True)["keep"].sum().rename("tokens").reset_index()
    # the matches' dtype: with no theme (an empty entity list) the column would be float and the merge fail
    grid = units.merge(pd.DataFrame({"theme": pd.Series(themes, dtype=matches["theme"].dtype)}), how="cross")
    counts = matches.groupby(["year", "lang", "theme"]).size().rename("count").reset_index()
    df = grid.merge(counts, on=["year", "lang", "theme"], how="left").fillna({"count": 0})
    df = df.astype({"year": "int64", "count": "int64", "tokens": "int64"})
    scale = 10000 / df["tokens"].where(df["tokens"] > 0)  # NaN for a (year, lang) without kept tokens
    df["per_10k"] = df["count"] * scale
    paras = None
    if ci != "poisson" and not (ci == "bootstrap" and draws is not None):
        paras = tokens.groupby(["year", "lang", "doc_id", "para"], sort=True)["keep"].sum().reset_index()
    if ci == "poisson":
        low, high = rate_ci(df["count"], df["tokens"], np.nan, 0, conf)
        df["ci_low"], df["ci_high"] = low * 10000, high * 10000
        df["ci_method"], df["ci_units"], df["dispersion"], df["ci_about"] = "poisson", np.nan, np.nan, "its documents"
    elif ci == "quasi-poisson":
        model = rate_model(unit_counts(paras, matches, themes, unit, min_documents), themes)
        df = df.merge(model, on=["year", "lang", "theme"], how="left")
        low, high = rate_ci(df["count"], df["tokens"], df["dispersion"], df["df"], conf)
        df["ci_low"], df["ci_high"] = low * 10000, high * 10000
        df["ci_method"] = "quasi-poisson:" + df["unit"].astype(str)
        df["ci_units"], df["ci_about"] = df["n_units"], df["unit"].map(ABOUT)
    else:
        if draws is None:
            draws = bootstrap_draws(paras, matches, themes, n_boot, seed, unit, min_documents)
        alpha = 1 - conf
        bounds, method = {}, {}
        for (year, lang), (C, T, use, n) in draws.items():
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = C / T[:, None] * 10000
            low, high = np.nanquantile(rates, [alpha / 2, 1 - alpha / 2], axis=0)
            method[(year, lang)] = (use, n)
            for i, th in enumerate(themes):
                bounds[(year, lang, th)] = (low[i], high[i])
        keys = list(zip(df["year"], df["lang"], df["theme"]))
        el, eh = rate_ci(df["count"], df["tokens"], np.nan, 0, conf)
        df["ci_low"] = np.fmin([bounds[k][0] for k in keys], el * 10000)
        df["ci_high"] = np.fmax([bounds[k][1] for k in keys], eh * 10000)
        df["ci_method"] = [f"bootstrap:{method[k[:2]][0]}" for k in keys]
        df["ci_units"] = [method[k[:2]][1] for k in keys]
        df["dispersion"] = np.nan
        df["ci_about"] = [ABOUT[method[k[:2]][0]] for k in keys]
    lang_order = {lang: i for i, lang in enumerate(languages)}
    theme_order = {t: i for i, t in enumerate(themes)}
    df = df.assign(_l=df["lang"].map(lang_order), _t=df["theme"].map(theme_order))
    return df.sort_values(["year", "_l", "_t"], kind="stable")[FREQ_COLUMNS].reset_index(drop=True)


def step_ratios(a: pd.DataFrame, b: pd.DataFrame, conf: float = _T["conf_level"],
                draws: tuple | None = None) -> pd.DataFrame:
    """Rate ratio of every theme from one (year, lang) to another, with its interval: the one
    estimator of ``theme_changes.csv`` and of the theme findings
    (:func:`textdrift.findings.rate_ratio`).

    ``rate_ratio = (count_to / tokens_to) / (count_from / tokens_from)`` with the interval of
    :func:`textdrift.stats.rate_ratio_ci` from each side's count, tokens and dispersion (the
    quasi-Poisson fits of :func:`theme_frequencies`; ``ci: poisson`` rows have none, so the exact
    conditional interval); no 0.5 is added; ``change`` = ``rise``/``fall``/``same``, or
    ``new``/``gone`` (one count zero: no ratio, a one-sided interval), ``undefined`` (both zero).
    With ``draws`` (``ci: bootstrap``: the two sides' resamples, :func:`bootstrap_draws`), the
    interval of a ratio with both counts positive is the percentile interval of the resampled
    ratios, widened where narrower to the exact conditional one.

    Parameters
    ----------
    a, b : DataFrame
        Rows of :func:`theme_frequencies` of the two sides, one per theme, in the same order.
    conf : float
    draws : tuple, optional
        ``(draws_a, draws_b)`` of :func:`bootstrap_draws`, their theme columns in the rows' order.

    Returns
    -------
    DataFrame
        ``rate_ratio, change, ci_low, ci_high`` (index of ``a``).
    """
    from textdrift.stats import rate_ratio_ci

    def side(d):
        phi = d["dispersion"].to_numpy(dtype=float)
        dfree = d["ci_units"].to_numpy(dtype=float) - 1
        return d["count"].to_numpy(dtype=float), d["tokens"].to_numpy(dtype=float), phi, np.where(np.isnan(dfree), 0, dfree)

    c0, t0, p0, f0 = side(a)
    c1, t1, p1, f1 = side(b)
    rr, low, high, change = rate_ratio_ci((c0, t0, p0, f0), (c1, t1, p1, f1), conf)
    if draws is not None:
        (C0, T0), (C1, T1) = draws[0][:2], draws[1][:2]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios = (C1 / T1[:, None]) / (C0 / T0[:, None])
        alpha = 1 - conf
        bl, bh = np.nanquantile(ratios, [alpha / 2, 1 - alpha / 2], axis=0)
        both = (c0 > 0) & (c1 > 0)
        low, high = np.where(both, np.fmin(low, bl), low), np.where(both, np.fmax(high, bh), high)
    return pd.DataFrame({"rate_ratio": rr, "change": change, "ci_low": low, "ci_high": high}, index=a.index)


def excludes_one(low, high) -> np.ndarray:
    """Whether each interval ``[low, high]`` of a ratio lies wholly above or below 1 (False where
    there is none: NaN bounds).

    Parameters
    ----------
    low, high : array-like of float
        The bounds (``high`` may be ``inf``, ``low`` 0).

    Returns
    -------
    ndarray of bool
    """
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return (low > 1) | (high < 1)


def theme_changes(freq: pd.DataFrame, draws: dict | None = None, conf: float = _T["conf_level"],
                  min_tokens: int = 0) -> pd.DataFrame:
    """Year-over-year change of every theme: the rate ratio between consecutive years with text of
    each language, with its interval (``CHANGE_COLUMNS``; :func:`step_ratios`).

    An interval that excludes 1 (``ci_excludes_1``; :func:`excludes_one`) is a change beyond the
    variation between the units of the two years (documents: a change of the year; paragraphs: a
    contrast of the two years' documents); ``change`` alone is only the direction of the rates.
    ``low_data``: either year has fewer than ``min_tokens`` kept tokens. ``units_*`` and
    ``dispersion_*``: each side's ``ci_units`` and ``dispersion`` of ``freq``.

    Parameters
    ----------
    freq : DataFrame
        :func:`theme_frequencies` output.
    draws : dict, optional
        :func:`bootstrap_draws` of the same paragraphs and matches (``ci: bootstrap`` only).
    conf : float
        Confidence level.
    min_tokens : int
        Low-data threshold in kept tokens.

    Returns
    -------
    DataFrame
        ``CHANGE_COLUMNS``.

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    """
    parts = []
    for lang, d in freq[freq["tokens"] > 0].groupby("lang", sort=False):
        years = sorted(d["year"].unique())
        themes = list(dict.fromkeys(d["theme"]))
        for y0, y1 in zip(years, years[1:]):
            a = d[d["year"] == y0].set_index("theme").loc[themes]
            b = d[d["year"] == y1].set_index("theme").loc[themes]
            boot = (draws[(int(y0), lang)], draws[(int(y1), lang)]) if draws is not None else None
            r = step_ratios(a, b, conf, boot)
            m0, m1 = a["ci_method"].iloc[0], b["ci_method"].iloc[0]
            parts.append(pd.DataFrame({
                "lang": lang, "theme": themes, "year_from": int(y0), "year_to": int(y1),
                "count_from": a["count"].astype(int).to_numpy(), "count_to": b["count"].astype(int).to_numpy(),
                "tokens_from": a["tokens"].astype(int).to_numpy(), "tokens_to": b["tokens"].astype(int).to_numpy(),
                "per_10k_from": a["per_10k"].to_numpy(), "per_10k_to": b["per_10k"].to_numpy(),
                "rate_ratio": r["rate_ratio"].to_numpy(), "change": r["change"].to_numpy(),
                "ci_low": r["ci_low"].to_numpy(), "ci_high": r["ci_high"].to_numpy(),
                "ci_excludes_1": excludes_one(r["ci_low"].to_numpy(), r["ci_high"].to_numpy()),
                "ci_method": m0 if m0 == m1 else f"{m0}/{m1}",
                "units_from": a["ci_units"].to_numpy(), "units_to": b["ci_units"].to_numpy(),
                "dispersion_from": a["dispersion"].to_numpy(), "dispersion_to": b["dispersion"].to_numpy(),
                "low_data": bool(min(a["tokens"].iloc[0], b["tokens"].iloc[0]) < min_tokens)}))
    return pd.concat(parts, ignore_index=True)[CHANGE_COLUMNS] if parts else pd.DataFrame(columns=CHANGE_COLUMNS)


def unmatched_terms(matches: pd.DataFrame, codebook: list[Theme], languages) -> pd.DataFrame:
    """Terms never counted in the corpus (no KWIC row), with a logged warning listing them.

    A term found only inside longer matches of the same theme is listed too: it adds nothing.

    Parameters
    ----------
    matches : DataFrame
        Theme matches (theme, lang, term).
    codebook : list of Theme
    languages : sequence of str

    Returns
    -------
    DataFrame
        ``theme, lang, term`` (``theme_unmatched_terms.csv``).
    """
    distinct = matches[["theme", "lang", "term"]].drop_duplicates()
    found = set(zip(distinct["theme"], distinct["lang"], distinct["term"]))
    rows = [
        (t.id, lang, term)
        for t in codebook for lang in languages for term in t.terms.get(lang, ())
        if (t.id, lang, term) not in found
    ]
    df = pd.DataFrame(rows, columns=UNMATCHED_COLUMNS)
    if len(df):
        listing = "; ".join(f"{th} [{lang}]: " + ", ".join(g["term"]) for (th, lang), g in df.groupby(["theme", "lang"], sort=False))
        log.warning("%d codebook term(s) never matched the corpus: %s", len(df), listing)
    for t in codebook:
        for lang in languages:
            if not t.terms.get(lang):
                log.warning("theme %r has no %s terms: its %s count is always 0", t.id, lang, lang)
    return df


def theme_table(
    tokens: pd.DataFrame,
    codebook: list[Theme],
    languages,
    settings: ThemesSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frequencies, kwic) for a codebook, e.g. one edited in a notebook (see :func:`textdrift.codebook.parse_codebook`).

    Parameters
    ----------
    tokens : DataFrame
        The counted tokens (a token table).
    codebook : list of Theme
    languages : sequence of str
    settings : ThemesSettings, optional
        ``kwic_window`` (tokens of KWIC context each side of a match), ``unspaced_languages``, and
        the intervals' settings of :func:`theme_frequencies`.

    Returns
    -------
    freq : DataFrame
        ``FREQ_COLUMNS`` (:func:`theme_frequencies`; no ``codebook`` version column).
    kwic : DataFrame
        ``KWIC_COLUMNS`` (``kind`` = theme).

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall
    (percentile interval).
    """
    s = settings or ThemesSettings()
    tokens = tokens[tokens["lang"].isin(languages)]
    matches = match_themes(tokens, codebook, s.kwic_window, s.unspaced_languages)
    freq = theme_frequencies(tokens, matches, codebook, languages, s)
    return freq, matches.assign(kind="theme")[KWIC_COLUMNS]


def match_shard(
    token_path: str | Path,
    book: CodebookFiles | tuple,
    matches_path: str | Path,
    paras_path: str | Path | None,
    languages,
    settings: ThemesSettings | None = None,
    entity_matches_path: str | Path | None = None,
    tokens: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The `theme_matches` rule, one token shard: its theme matches (``MATCH_COLUMNS``, KWIC
    included), its entity mentions (same columns, ``theme`` = entity id) and its kept tokens per
    paragraph (``PARA_COLUMNS``), each to a Parquet file; only paragraphs whose role is in
    ``count_roles``.

    Matches never cross a paragraph and a paragraph lies in one shard, so the shards' matches
    together are those of the whole token table.

    Parameters
    ----------
    token_path : str or Path
        The token shard.
    book : CodebookFiles or (list of Theme, list of Entity)
        The codebook, its schema, the entities file and its schema; or the codebook and the entities
        already loaded (:meth:`CodebookFiles.load`).
    matches_path, paras_path : str or Path
        Output Parquet files: theme matches, kept tokens per paragraph (not written when None).
    languages : sequence of str
    settings : ThemesSettings, optional
        ``kwic_window`` (tokens of context each side of a match), ``unspaced_languages``,
        ``count_roles``.
    entity_matches_path : str or Path, optional
        Output of the entity mentions; not written when None.
    tokens : DataFrame or TokenCodes, optional
        The shard's tokens, already read (``token_path`` is then not read); read as integer codes
        (:func:`textdrift.counting.read_tokens`) otherwise.

    Returns
    -------
    DataFrame
        The theme matches written to ``matches_path``.
    """
    s = settings or ThemesSettings()
    kwic_window, unspaced_languages = s.kwic_window, s.unspaced_languages
    codebook, entities = book.load() if isinstance(book, CodebookFiles) else book
    tokens = _coded(read_tokens(token_path, TOKEN_COLUMNS) if tokens is None else tokens, languages)
    tokens = tokens.variant("base", s.count_roles)
    matches = match_themes(tokens, codebook, kwic_window, unspaced_languages)
    write_parquet(matches, matches_path)
    if entity_matches_path is not None:
        write_parquet(match_themes(tokens, entity_codebook(entities, languages), kwic_window, unspaced_languages),
                      entity_matches_path)
    if paras_path is not None:
        write_parquet(paragraph_counts(tokens), paras_path)
    return matches


def _coded(tokens, languages) -> TokenCodes:
    """A token table as integer codes (:class:`textdrift.counting.TokenCodes`), only ``languages``."""
    tokens = tokens if isinstance(tokens, TokenCodes) else TokenCodes.from_frame(tokens)
    inside = tokens.isin("lang", languages)
    return tokens if inside.all() else tokens.take(inside)


#: The columns of a variant's theme matches that the checks read: the sort key of
#: :func:`textdrift.matching.match_themes` (:data:`textdrift.matching.MATCH_ORDER`).
MATCH_KEY = list(MATCH_ORDER)


def match_partials(tokens: pd.DataFrame, codebook, languages, count_roles=tuple(_D["count_roles"]),
                   unspaced_languages=tuple(_D["unspaced_languages"]), variants=_VARIANTS,
                   base: pd.DataFrame | None = None, with_paras: bool = True) -> tuple[dict, dict]:
    """The codebook-dependent partial results of the checks for one token shard (or a whole token
    table): per variant, the kept tokens per paragraph (:func:`textdrift.counting.paragraph_tokens`)
    and the theme matches (:func:`textdrift.matching.match_themes`, ``MATCH_KEY`` columns). Both
    are per paragraph, so the shards' rows together are those of the whole token table.

    Parameters
    ----------
    tokens : DataFrame or TokenCodes
        A token table (every role, entities marked; ``lemma`` and ``is_stop`` for ``entities``).
    codebook : list of Theme
    languages : sequence of str
    count_roles : sequence of str
    unspaced_languages : sequence of str
    variants : sequence of str
    base : DataFrame, optional
        The ``base`` variant's matches of these tokens (``MATCH_KEY`` columns at least): the other
        variants then match only the paragraphs where they differ from it (:func:`_from_base`).
    with_paras : bool
        Whether to compute the kept tokens per paragraph (the first dict is empty otherwise).

    Returns
    -------
    (dict, dict)
        ``{variant: DataFrame}`` of kept tokens per paragraph and of matches.
    """
    tokens = _coded(tokens, languages)
    paras, matches = {}, {}
    for name in variants:
        if base is not None and name != "base":
            matches[name] = _from_base(tokens, name, codebook, count_roles, unspaced_languages, base[MATCH_KEY])
            if with_paras:
                paras[name] = paragraph_counts(tokens.variant(name, count_roles))
            continue
        t = tokens.variant(name, count_roles)
        if with_paras:
            paras[name] = paragraph_counts(t)
        matches[name] = match_themes(t, codebook, 0, unspaced_languages, context=False)[MATCH_KEY]
        del t
    return paras, matches


def _from_base(tokens: pd.DataFrame, name: str, codebook, count_roles, unspaced_languages,
               base: pd.DataFrame) -> pd.DataFrame:
    """A check variant's matches from the ``base`` variant's: a match lies within one sentence
    (:mod:`textdrift.matching`), so only the paragraphs the variant changes are matched again:
    ``roles`` adds the paragraphs of the other roles; ``entities`` rematches the paragraphs with a
    name (names as words) and keeps the base matches of the others. Rows in ``match_themes``
    order (the key is unique, so the same rows as matching the variant's whole table; tested)."""
    para = ["doc_id", "lang", "para"]
    if name == "roles":
        other = ~tokens.isin("role", count_roles) if "role" in tokens and count_roles is not None else None
        extra = tokens.take(other if other is not None and other.any() else np.zeros(len(tokens), dtype=bool))
        kept = base
    elif name == "entities":
        b = tokens.variant("base", count_roles)
        if "entity" not in b:
            return base.reset_index(drop=True)
        unit, first = unit_codes(b, para)
        hit = np.zeros(len(first) + 1, dtype=bool)  # (the last: a missing key)
        hit[unit[b["entity"] >= 0]] = True
        extra = b.take(hit[unit]).names_as_words()
        named_rows = first[hit[:-1]]
        named = pd.MultiIndex.from_arrays([np.asarray(b.labels(c, named_rows), dtype=object) for c in para])
        kept = base[~pd.MultiIndex.from_frame(base[para]).isin(named)]
    else:
        raise ValueError(f"no base rule for variant {name!r}")
    new = match_themes(extra, codebook, 0, unspaced_languages, context=False)[MATCH_KEY] if len(extra) else None
    out = pd.concat([kept, new], ignore_index=True) if new is not None and len(new) else kept
    return order_matches(out, [t.id for t in codebook])


def write_partial_matches(token_path, codebook, matches_paths: dict, languages,
                          count_roles=tuple(_D["count_roles"]), unspaced_languages=tuple(_D["unspaced_languages"]),
                          tokens: pd.DataFrame | None = None, base: pd.DataFrame | None = None) -> None:
    """Part of the `theme_matches` rule: the check variants' theme matches of one token shard
    (:func:`match_partials`), each variant to its Parquet file (their kept tokens per paragraph are
    the ``count`` rule's, :func:`write_paragraph_tokens`).

    Parameters
    ----------
    token_path : str or Path
        The token shard (not read when ``tokens`` is given).
    codebook : list of Theme
    matches_paths : dict of str to str or Path
        Variant -> output file.
    languages, count_roles, unspaced_languages : sequence of str
    tokens : DataFrame, optional
        The shard's tokens, already read (every role; ``lemma`` and ``is_stop`` included).
    base : DataFrame, optional
        The shard's ``base`` matches (:func:`match_shard`'s), see :func:`match_partials`.
    """
    from textdrift.counting import TOKEN_COLUMNS as ALL_COLUMNS

    if tokens is None:
        tokens = read_tokens(token_path, ALL_COLUMNS)
    for name in matches_paths:
        _, matches = match_partials(tokens, codebook, languages, count_roles, unspaced_languages, [name], base=base,
                                    with_paras=False)
        write_parquet(matches[name], matches_paths[name])


def write_themes(files: ThemesFiles, languages, settings: ThemesSettings | None = None) -> None:
    """The `themes` rule: the shards' matches and paragraph counts (:func:`match_shard`) into
    theme_frequencies.csv, entity_frequencies.csv, theme_kwic.csv (theme and entity rows, column
    ``kind``), theme_unmatched_terms.csv and theme_changes.csv (year-over-year rate ratios with
    their intervals, :func:`theme_changes`; with ``documents_path``, the documents and genres of each step).

    ``group_by`` (a column of the documents table): theme frequencies and changes of each group's
    documents alone, with a leading ``group`` column, to ``grouped_freq_path`` and
    ``grouped_changes_path`` (:func:`textdrift.manifest.document_groups`).

    Parameters
    ----------
    files : ThemesFiles
        The inputs (:func:`match_shard`'s matches and entity mentions, the ``count`` rule's kept
        tokens per paragraph, one file per shard; the codebook; the documents table) and the outputs.
    languages : sequence of str
    settings : ThemesSettings, optional
        The intervals' settings (:func:`theme_frequencies`), ``min_tokens`` (the low-data threshold
        of :func:`theme_changes`) and ``group_by``.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442.
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall
    (percentile interval).
    """
    from textdrift.manifest import document_groups, with_group

    settings = settings or ThemesSettings()
    group_by = settings.group_by
    codebook, entities = files.book.load()
    paras = read_shards(files.paras, PARA_COLUMNS)
    docs = read_csv(files.documents) if files.documents is not None else None
    version = codebook_hash(files.book.codebook)
    changes_path, unmatched_path = files.changes, files.unmatched
    grouped_freq_path, grouped_changes_path = files.grouped_freq, files.grouped_changes
    parts = []
    for kind, book, paths, out in (("theme", codebook, files.matches, files.freq),
                                   ("entity", entity_codebook(entities, languages), files.entities, files.entity_freq)):
        if out is None:
            continue
        # the counts read only these columns (repeated strings share one Python object each); the KWIC
        # text is merged shard by shard afterwards (write_kwic), never held whole
        matches = read_matches(paths, book, _COUNT_COLUMNS).select(_COUNT_COLUMNS).to_pandas()
        freq, changes = _theme_tables(paras, matches, book, languages, docs,
                                      kind == "theme" and changes_path is not None, settings)
        log.info("%d %ss: %d matches in %d (year, lang) units", len(book), kind, len(matches),
                 freq[["year", "lang"]].drop_duplicates().shape[0])
        if kind == "theme":
            write_csv(freq.assign(codebook=version), out)
            write_csv(unmatched_terms(matches, codebook, languages), unmatched_path)
            if changes_path is not None:
                write_csv(changes.assign(codebook=version), changes_path)
            if group_by:
                tables = {}
                for g, ids in document_groups(docs, group_by).items():
                    tables[g] = _theme_tables(paras[paras["doc_id"].isin(ids)], matches[matches["doc_id"].isin(ids)],
                                              book, languages, docs[docs["doc_id"].astype(str).isin(ids)],
                                              True, settings)
                write_csv(with_group({g: f for g, (f, _) in tables.items()}).assign(codebook=version), grouped_freq_path)
                write_csv(with_group({g: c for g, (_, c) in tables.items()}).assign(codebook=version),
                          grouped_changes_path)
        else:
            write_csv(freq.rename(columns={"theme": "entity"})[ENTITY_FREQ_COLUMNS], out)
        del matches
        parts.append((kind, book, paths))
    write_kwic(parts, files.kwic)


def _theme_tables(paras: pd.DataFrame, matches: pd.DataFrame, book: list[Theme], languages, docs, with_changes: bool,
                  settings: ThemesSettings) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Frequencies (and, ``with_changes``, year-over-year changes naming the documents of ``docs``,
    the documents table) of the paragraphs ``paras`` and their ``matches``."""
    from textdrift.manifest import step_documents

    s = settings
    draws = (bootstrap_draws(paras[paras["lang"].isin(languages)], matches, [t.id for t in book], s.n_boot, s.seed,
                              s.bootstrap_unit, s.min_documents) if s.ci == "bootstrap" else None)
    conf, min_tokens = s.conf_level, s.min_tokens
    freq = theme_frequencies(paras, matches, book, languages, s, draws)
    if not with_changes:
        return freq, None
    changes = theme_changes(freq, draws, conf, min_tokens)
    return freq, step_documents(changes, docs) if docs is not None else changes


#: the match columns the theme counts read (:func:`write_themes`)
_COUNT_COLUMNS = ["year", "lang", "theme", "term", "doc_id", "para"]


def _sort_key(table, codebook: list[Theme]):
    """Indices that sort a table of matches in :data:`textdrift.matching.MATCH_ORDER` (the theme in
    codebook order; a theme not in ``codebook`` last)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rank = pc.index_in(table["theme"], value_set=pa.array([t.id for t in codebook], type=pa.string()))
    keys = pa.table({"year": table["year"], "lang": table["lang"], "_t": rank, "doc_id": table["doc_id"],
                     "para": table["para"], "start_idx": table["start_idx"]})
    return pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in keys.column_names])


def _match_schema(columns: list[str]):
    import pyarrow as pa

    ints = ("year", "para", "sent", "start_idx", "end_idx")  # (role, kind and the rest: strings)
    return pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in columns])


def _read_ipc(path: Path):
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as f:
        return pa.ipc.open_file(f).read_all()


def _year_lang_runs(t, book: list[Theme]):
    """A shard's matches with the rows of each (year, lang) together, and the year and a code of the
    language of each row: ``(table, year, lang code)``.

    Each (year, lang)'s rows are sorted again by the whole key when the shards' rows of it are
    merged (:func:`write_kwic`), so here they are only grouped: a stable sort of integer codes
    (year, then the language's rank among the shard's languages), not of the strings. A shard with
    a missing language is sorted by :func:`_sort_key` as before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if t["lang"].null_count:
        t = t.take(_sort_key(t, book))
        lang = t["lang"].to_numpy(zero_copy_only=False)
        return t, t["year"].to_numpy(), lang
    lang = pc.dictionary_encode(t["lang"]).combine_chunks()
    rank = np.argsort(np.asarray(lang.dictionary.to_pylist(), dtype=object), kind="stable")
    code = np.empty(len(rank), dtype=np.int64)
    code[rank] = np.arange(len(rank))
    lang_code = code[lang.indices.to_numpy()]
    year = t["year"].to_numpy()
    order = np.lexsort((lang_code, year))  # stable: each run keeps the shard's row order
    return t.take(pa.array(order)), year[order], lang_code[order]


def write_kwic(parts: list[tuple], path: str | Path, batch: int = 100_000) -> None:
    """``theme_kwic.csv``: the matches with their context of every part, one after the other, each
    in :data:`textdrift.matching.MATCH_ORDER` (the rows :func:`read_matches` gives, a ``kind``
    column added), merged shard by shard in bounded memory.

    A k-way merge by the sort key, whose first columns are (year, lang): each shard's file is read
    once, sorted, and its rows of each (year, lang) written to a temporary Arrow file (beside
    ``path``); then each (year, lang) in order is read back from the shards' files, sorted and
    appended to the CSV. Memory holds one shard's matches or one (year, lang)'s, never the whole
    KWIC (at 200 MB of text, about 0.9 M rows with their context).

    Parameters
    ----------
    parts : list of (str, list of Theme, list of path)
        ``(kind, codebook, match files)`` in output order (``theme`` with the codebook, ``entity``
        with :func:`textdrift.codebook.entity_codebook`); the codebook gives the theme order.
    path : str or Path
        The CSV (written atomically by :func:`textdrift.io.write_csv_tables`: the bytes pandas'
        ``to_csv`` writes, built by Arrow's kernels).
    batch : int
        Rows turned into CSV text at a time.
    """
    import shutil
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [c for c in KWIC_COLUMNS if c != "kind"]
    read = list(dict.fromkeys([*columns, *MATCH_ORDER]))
    schema = _match_schema(read)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kwic-", dir=Path(path).parent))

    def frames():
        for k, (kind, book, paths) in enumerate(parts):
            groups: dict[tuple, list[Path]] = {}
            for i, p in enumerate(paths):
                t = pq.read_table(p, columns=read).cast(schema)  # an empty shard's strings are typed null
                if not t.num_rows:
                    continue
                t, year, lang = _year_lang_runs(t, book)
                # the (year, lang) runs of the grouped shard
                cut = np.flatnonzero((year[1:] != year[:-1]) | (lang[1:] != lang[:-1])) + 1
                for a, b in zip([0, *cut], [*cut, t.num_rows]):
                    f = tmp / f"{k}-{i}-{a}.arrow"
                    with pa.OSFile(str(f), "wb") as sink, pa.ipc.new_file(sink, schema) as w:
                        w.write_table(t.slice(a, b - a))
                    groups.setdefault((int(year[a]), str(t["lang"][a].as_py())), []).append(f)
                del t, year, lang
            for key in sorted(groups):
                t = pa.concat_tables([_read_ipc(f) for f in groups[key]])
                t = t.take(_sort_key(t, book)).select(columns)
                t = t.append_column("kind", pa.repeat(pa.scalar(kind, pa.string()), t.num_rows)).select(KWIC_COLUMNS)
                for a in range(0, t.num_rows, batch):
                    yield t.slice(a, batch)
                for f in groups[key]:
                    f.unlink()

    try:
        write_csv_tables(frames(), path, KWIC_COLUMNS)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_matches(match_paths, codebook: list[Theme], columns: list[str] = MATCH_COLUMNS, keep=None):
    """The shards' matches (:func:`match_shard`; ``columns`` and the sort key) as one Arrow table
    in :func:`textdrift.matching.match_themes`' order (year, lang, theme in codebook order, doc_id, para,
    start_idx: a unique key, so the order is well defined).

    Sorted and kept in Arrow (compact strings, no Python object per KWIC string), so the merge of
    a large corpus holds the KWIC text once; ``.to_pandas()`` for a DataFrame.

    Parameters
    ----------
    match_paths : list of str or Path
    codebook : list of Theme
        Gives the theme order.
    columns : list of str
        Columns to read; the sort key (year, lang, theme, doc_id, para, start_idx) is added.
    keep : callable, optional
        Of one shard's table (pyarrow.Table of ``columns``): a boolean mask of the rows to keep,
        applied shard by shard before the merge (so the rows left out are never held together).

    Returns
    -------
    pyarrow.Table
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys([*columns, *MATCH_ORDER]))
    schema = _match_schema(columns)
    tables = []
    for p in match_paths:
        t = pq.read_table(p, columns=columns).cast(schema)  # an empty shard's strings are typed null
        tables.append(t if keep is None else t.filter(keep(t)))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.take(_sort_key(table, codebook))


def run_themes(input, output, params, log) -> None:
    """Rule ``themes``: theme frequencies, changes, KWIC and unmatched terms.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/themes.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    i, o, p = input, output, params
    book = CodebookFiles(i.codebook, i.schema, i.get("entity_list", [None])[0], i.get("entity_list", [None, None])[1])
    files = ThemesFiles(list(i.matches), list(i.paras), book, o.frequencies, o.kwic, o.unmatched, list(i.entities),
                        i.documents, o.entity_frequencies, o.changes, o.get("grouped_frequencies"),
                        o.get("grouped_changes"))
    write_themes(files, p.languages, ThemesSettings.from_params(p))
