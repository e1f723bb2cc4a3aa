"""Findings as data: each headline finding with its value, interval, documents, and the checks it
survives (``results/tables/findings.csv``).

A finding is a claim the findings state in words: a theme rose or fell most between a language's first and
last year with text, a step was the language's largest vocabulary drift, a phrase rose most in a
language's last step (:func:`_phrase_findings`), or a theme is counted more in one language
version of a bilingual document than in the other (:func:`_crosslingual_findings`). Each is
recomputed from the token table under variants of what is counted (:data:`VARIANTS`), and
survives only if it holds in every one. The token table is never read whole: the per-shard rules
count each shard under each variant (:func:`count_partials` in `count`, :func:`match_partials` in
`theme_matches`) and :func:`findings_table` merges these partial results (:class:`Partials`; a
document and its paragraphs lie in one shard, so the merge equals the whole table's count, rows
in the same order):

* ``holds``: the claim as computed by the pipeline. A theme change holds when the bootstrap
  interval of its rate ratio (:mod:`textdrift.themes`: paragraphs or documents resampled) lies
  entirely on the claimed side of 1. A drift step holds when its years are not low data and their
  random halves were farther apart than halves of one year in at least 95% of the rounds
  (``p_cosine <= 0.05`` in ``tfidf_drift.csv``).
* ``check_roles``: titles, headings and paratext counted too (every role): does it still hold?
* ``check_entities``: named entities counted as ordinary words (no ``@id`` heads, no blocking of
  theme terms inside names): does it still hold?
* ``check_interval``, the other interval. Themes: the exact conditional interval of a ratio of two
  Poisson rates (Clopper-Pearson interval of count_to / (count_from + count_to), turned into a
  rate ratio; every mention independent) instead of the bootstrap: does it still exclude 1?
  Phrases and cross-language gaps (whose z treats tokens as independent): the bootstrap interval
  of the rate ratio with paragraphs resampled: does it exclude 1 on the claimed side?
* ``check_leave_one_out``: without each document of the two years in turn (a side with a single
  document fails: the claim then rests on one document): does it hold every time? On a large
  corpus only the ``loo_max`` (10) documents that weigh most are left out: for a theme, those with
  the most matches of it; for drift, those with the most kept tokens (if the claim survives losing
  its most influential documents, a smaller one will not overturn it).

For drift the checks ask whether the same step is still the language's largest (cosine distance
of TF-IDF year vectors, idf fitted on the variant's year-documents); ``check_interval`` does not
apply (empty).

``survives`` = ``holds`` and every applicable check. ``reason`` says, in words, what fails and
what else a reader must know: a step between different genres or translation statuses.

Why one module of about 1,050 lines: the four kinds of finding are recomputed under the same
variants (the token table counted another way, each document left out) and written as rows of
one table by one row builder; split by kind, each part would need the variant cache and the
checks of the others; the per-shard partial results are those variants. The intervals are :mod:`textdrift.stats`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from textdrift.stats import normal_quantile, poisson_ratio_ci
from textdrift.config import defaults
from textdrift.themes import MATCH_KEY, match_partials, write_partial_matches
from textdrift.matching import order_matches
from textdrift.vectorize import CHECK_VARIANTS, VARIANTS, count_partials, variant_tokens, write_partial_counts

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_T = _D["themes"]

__all__ = ["BOOT_KEYS", "CHECKS", "CHECK_VARIANTS", "FINDING_COLUMNS", "MATCH_KEY", "RISING", "VARIANTS", "Partials",
           "build_findings", "count_partials", "findings_table", "match_partials", "merge_partials", "rate_ratio",
           "table_partials", "variant_tokens", "write_findings", "write_partial_counts", "write_partial_matches",
           "run_findings"]

log = logging.getLogger("textdrift.findings")

FINDING_COLUMNS = [
    "finding", "kind", "lang", "subject", "claim", "year_from", "year_to", "value_name", "value_from",
    "value_to", "value", "ci_low", "ci_high", "docs_from", "docs_to", "genres_from", "genres_to", "genre_match",
    "translation_from", "translation_to", "holds", "check_roles", "check_entities", "check_interval",
    "check_leave_one_out", "precision", "survives", "reason",
]
CHECKS = ["check_roles", "check_entities", "check_interval", "check_leave_one_out"]
BOOT_KEYS = ("conf", "n_boot", "seed", "unit", "min_documents")  # the bootstrap settings of rate_ratio


# ---- theme changes ----------------------------------------------------------------------------


def rate_ratio(paras: pd.DataFrame, matches: pd.DataFrame, themes: list[str], lang: str, y0: int, y1: int,
               conf: float = _T["conf_level"], n_boot: int = _T["n_boot"], seed: int = _T["seed"],
               unit: str = _T["bootstrap_unit"], min_documents: int = _T["min_documents"],
               ci: str = _T["ci"]) -> pd.DataFrame:
    """Per theme: counts, tokens, rate ratio ``(c1/t1) / (c0/t0)`` from year ``y0`` to ``y1`` of
    ``lang`` and its interval, by the estimator of ``theme_changes.csv``
    (:func:`textdrift.themes.theme_frequencies` of the two years, then
    :func:`textdrift.themes.step_ratios`: quasi-Poisson over documents or paragraphs, never
    narrower than the exact conditional interval; no 0.5 added; ``change`` says ``new``, ``gone``
    or ``undefined`` where a count is zero, and the ratio is then NaN).

    Parameters
    ----------
    paras : DataFrame
        Kept tokens per paragraph (year, lang, doc_id, para, keep: a count).
    matches : DataFrame
        Theme matches (year, lang, doc_id, para, theme).
    themes : list of str
        Theme ids, in row order.
    lang : str
    y0, y1 : int
        The years compared, from and to.
    conf, unit, min_documents, ci
        As in :func:`textdrift.themes.theme_frequencies`.
    n_boot, seed
        The bootstrap's settings (``ci="bootstrap"`` only).

    Returns
    -------
    DataFrame
        ``theme, count_from, count_to, tokens_from, tokens_to, rate_ratio, change, ci_low, ci_high``
        (NaN ratio and interval when a year has no kept token).

    References
    ----------
    McCullagh, P. & Nelder, J. A. (1989). Generalized Linear Models, 2nd ed. Chapman & Hall.
    """
    from textdrift.codebook import Theme
    from textdrift.themes import bootstrap_draws, step_ratios, theme_frequencies

    p = paras[(paras["lang"] == lang) & paras["year"].isin([y0, y1])]
    m = matches[(matches["lang"] == lang) & matches["year"].isin([y0, y1]) & matches["theme"].isin(themes)]
    t = p.groupby("year")["keep"].sum()
    c = m.groupby(["year", "theme"]).size()
    rows = pd.DataFrame({"theme": themes})
    rows["count_from"] = [int(c.get((y0, th), 0)) for th in themes]
    rows["count_to"] = [int(c.get((y1, th), 0)) for th in themes]
    rows["tokens_from"], rows["tokens_to"] = int(t.get(y0, 0)), int(t.get(y1, 0))
    if not (rows["tokens_from"].iloc[0] > 0 and rows["tokens_to"].iloc[0] > 0):
        rows["rate_ratio"] = rows["ci_low"] = rows["ci_high"] = np.nan
        rows["change"] = "undefined"
        return rows[["theme", "count_from", "count_to", "tokens_from", "tokens_to", "rate_ratio", "change", "ci_low",
                     "ci_high"]]
    book = [Theme(id=th, labels={}, terms={}) for th in themes] if themes else []
    draws = bootstrap_draws(p, m, themes, n_boot, seed, unit, min_documents) if ci == "bootstrap" else None
    freq = theme_frequencies(p, m, book, [lang], ci, conf, n_boot, seed, unit, min_documents, draws)
    a = freq[freq["year"] == y0].set_index("theme").loc[themes]
    b = freq[freq["year"] == y1].set_index("theme").loc[themes]
    r = step_ratios(a, b, conf, (draws[(y0, lang)], draws[(y1, lang)]) if draws is not None else None)
    for col in ("rate_ratio", "change", "ci_low", "ci_high"):
        rows[col] = r[col].to_numpy()
    return rows


def _excludes_one(low: float, high: float, rose: bool) -> bool:
    return bool(low > 1) if rose else bool(high < 1)


# ---- the per-shard partial results ---------------------------------------------------------------

def _load_frame(part, columns: list[str]) -> pd.DataFrame:
    return part[columns] if isinstance(part, pd.DataFrame) else pd.read_parquet(part, columns=columns)


def _load_matrix(part):
    from textdrift.vectorize import load_matrix

    return load_matrix(part) if isinstance(part, (str, Path)) else part


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    full = [f for f in frames if len(f)]
    return pd.concat(full, ignore_index=True) if full else frames[0].iloc[:0].reset_index(drop=True)


@dataclass
class Partials:
    """The per-shard partial results the findings are merged from, each a list with one item per
    shard (a DataFrame or CountMatrix, or the path of the file holding it, read when needed).

    ``paras``: {variant: kept tokens per paragraph}; ``matches``: {variant: theme matches
    (``MATCH_KEY``)} (:func:`match_partials`); ``docs``: {(variant, lang): n-gram counts per
    document}; ``para_ngrams``: {lang: the ``base`` n-gram counts per paragraph}
    (:func:`count_partials`).
    """

    paras: dict
    matches: dict
    docs: dict
    para_ngrams: dict

    def paragraphs(self, name: str) -> pd.DataFrame:
        """Kept tokens per paragraph of variant ``name``, in :func:`textdrift.themes.paragraph_tokens`' order."""
        from textdrift.themes import PARA_COLUMNS

        df = _concat([_load_frame(p, PARA_COLUMNS) for p in self.paras[name]])
        return df.sort_values(PARA_COLUMNS[:-1], kind="stable", ignore_index=True)

    def theme_matches(self, name: str, themes: list[str], keep=None) -> pd.DataFrame:
        """Theme matches of variant ``name``, in :func:`textdrift.matching.match_themes`' order; only
        the rows where ``keep`` (a function of a shard's matches: a boolean mask) is true."""
        parts = []
        for p in self.matches[name]:
            m = _load_frame(p, MATCH_KEY)
            parts.append(m if keep is None else m[keep(m)])
        return order_matches(_concat(parts), themes)

    def doc_counts(self, name: str, lang: str, unigrams: bool = False):
        """N-gram (``unigrams``: unigram) counts per document of variant ``name`` in ``lang``, the shards merged."""
        from textdrift.vectorize import merge_matrices

        parts = []
        for p in self.docs[(name, lang)]:
            m = _load_matrix(p)
            parts.append(_unigram_columns(m) if unigrams else m)
        return parts[0] if len(parts) == 1 else merge_matrices(parts, ["doc_id", "year"])

    def occurrences(self, lang: str, years, phrases: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
        """The ``base`` paragraphs (year, doc_id, para; sorted) of ``years`` in ``lang`` and how often
        each of ``phrases`` occurs in them (paragraphs x phrases)."""
        rows, counts = [], []
        for p in self.para_ngrams.get(lang, []):
            m = _load_matrix(p)
            if not len(m.rows):
                continue
            use = np.flatnonzero(m.rows["year"].isin(list(years)).to_numpy(dtype=bool))
            vocab = np.asarray(m.vocab, dtype=object)
            at = np.searchsorted(vocab, np.array(phrases, dtype=object)) if len(vocab) else np.zeros(len(phrases), int)
            X = np.zeros((len(use), len(phrases)), dtype=np.int64)
            sub = m.X[use]
            for k, (j, phrase) in enumerate(zip(at, phrases)):
                if j < len(vocab) and vocab[j] == phrase:
                    X[:, k] = sub[:, int(j)].toarray().ravel()
            rows.append(m.rows.iloc[use][["year", "doc_id", "para"]].reset_index(drop=True))
            counts.append(X)
        if not rows:
            return pd.DataFrame(columns=["year", "doc_id", "para"]), np.zeros((0, len(phrases)), dtype=np.int64)
        df = pd.concat(rows, ignore_index=True)
        order = np.lexsort((df["para"].to_numpy(), pd.factorize(df["doc_id"], sort=True)[0], df["year"].to_numpy()))
        return df.take(order).reset_index(drop=True), np.vstack(counts)[order]


def table_partials(tokens: pd.DataFrame, codebook, languages, count_roles=tuple(_D["count_roles"]),
                   ngram_max: int = _D["vectorize"]["ngram_max"],
                   unspaced_languages=tuple(_D["unspaced_languages"])) -> Partials:
    """The partial results of one token table (a shard, or a whole corpus as one shard).

    Parameters
    ----------
    tokens : DataFrame
        A token table (every role, entities marked).
    codebook : list of Theme
    languages, count_roles, unspaced_languages : sequence of str
    ngram_max : int

    Returns
    -------
    Partials
    """
    docs, para_ngrams = count_partials(tokens, languages, ngram_max, count_roles)
    paras, matches = match_partials(tokens, codebook, languages, count_roles, unspaced_languages)
    return Partials({k: [v] for k, v in paras.items()}, {k: [v] for k, v in matches.items()},
                    {k: [v] for k, v in docs.items()}, {k: [v] for k, v in para_ngrams.items()})


def merge_partials(parts: list[Partials]) -> Partials:
    """The partial results of several shards as one (their lists concatenated).

    Parameters
    ----------
    parts : list of Partials

    Returns
    -------
    Partials
    """
    def joined(field: str) -> dict:
        out: dict = {}
        for p in parts:
            for k, v in getattr(p, field).items():
                out.setdefault(k, []).extend(v)
        return out

    return Partials(joined("paras"), joined("matches"), joined("docs"), joined("para_ngrams"))


def _unigram_columns(m):
    """The unigram columns of a count matrix (as the drift rule takes them, :mod:`textdrift.drift`)."""
    from textdrift.vectorize import SEP, CountMatrix

    if not len(m.vocab):
        return m
    import pyarrow as pa
    import pyarrow.compute as pc

    spaces = pc.count_substring(pa.array(np.asarray(m.vocab, dtype=object), type=pa.string()), SEP)
    cols = np.flatnonzero(spaces.to_numpy(zero_copy_only=False) == 0)
    return CountMatrix(m.X[:, cols].tocsr(), m.vocab[cols], m.rows.copy())


# ---- the table ---------------------------------------------------------------------------------


def _side_translation(documents: pd.DataFrame, docs: str, lang: str) -> str:
    out = []
    for d in str(docs).split(";") if docs else []:
        row = documents[documents["doc_id"] == d]
        tr = str(row["translation"].iloc[0]) if len(row) and pd.notna(row["translation"].iloc[0]) else ""
        status = dict(p.split(":") for p in tr.split(";") if ":" in p).get(lang, "unknown")
        out.append(status)
    return ";".join(sorted(set(out)))


def build_findings(tokens: pd.DataFrame, codebook, documents: pd.DataFrame, drift: pd.DataFrame,
                   languages, count_roles=tuple(_D["count_roles"]), top_themes: int = _D["figures"]["top_themes"],
                   conf: float = _T["conf_level"], n_boot: int = _T["n_boot"], seed: int = _T["seed"],
                   unit: str = _T["bootstrap_unit"], min_documents: int = _T["min_documents"],
                   tfidf: dict | None = None, loo_max: int = 10, phrases: pd.DataFrame | None = None,
                   phrase_settings: dict | None = None, top_phrases: int = _D["figures"]["top_phrases"],
                   crossling: pd.DataFrame | None = None, cross_settings: dict | None = None,
                   precision: pd.DataFrame | None = None, min_precision: float = _D["validation"]["min_precision"],
                   min_coded: int = _D["validation"]["min_coded"],
                   unspaced_languages=tuple(_D["unspaced_languages"])) -> pd.DataFrame:
    """``findings.csv`` (``FINDING_COLUMNS``) from the token table (every role, entities marked), the
    codebook, ``documents.csv``, ``tfidf_drift.csv``, ``phrase_changes.csv`` (``phrases``, with the
    phrase rule's ``phrase_settings``: min_count, alpha_0, q_threshold, ngram_max,
    unspaced_languages, min_tokens) and ``crosslingual_themes.csv`` (``crossling``, with
    ``cross_settings``: langs, prior, alpha_0, z_threshold, min_tokens); see the module docstring.

    The token table is counted as one shard (:func:`table_partials`), then
    :func:`findings_table`; the workflow merges the shards' partial results instead, with the same
    result.

    Parameters
    ----------
    tokens : DataFrame
        The token table, every role, entities marked.
    codebook : list of Theme
    documents : DataFrame
        ``documents.csv``.
    drift : DataFrame
        ``tfidf_drift.csv``.
    languages : sequence of str
    count_roles : sequence of str
        The roles counted by the pipeline (the ``check_roles`` variant counts every role).
    top_themes, top_phrases : int
        How many theme changes (each way), cross-language gaps and phrases become findings.
    conf, n_boot, seed, unit, min_documents
        The bootstrap's settings (:func:`textdrift.themes.bootstrap_draws`).
    tfidf : dict, optional
        ``TfidfTransformer`` arguments.
    loo_max : int
        Most documents left out, one at a time.
    phrases, phrase_settings, crossling, cross_settings
        See above.
    precision : DataFrame, optional
        ``codebook_precision.csv``.
    min_precision : float
    min_coded : int
    unspaced_languages : sequence of str
        Languages the codebook matches on joined characters.

    Returns
    -------
    DataFrame
        ``FINDING_COLUMNS``, surviving findings first.

    References
    ----------
    Ulm, K. (1990). A simple method to calculate the confidence interval of a standardized mortality
    ratio. American Journal of Epidemiology 131(2), 373-375 (:func:`textdrift.stats.poisson_ratio_ci`).
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    """
    ngram_max = int((phrase_settings or {}).get("ngram_max", _D["phrases"]["ngram_max"]))
    partials = table_partials(tokens, codebook, languages, count_roles, ngram_max, unspaced_languages)
    return findings_table(partials, codebook, documents, drift, languages, top_themes, conf, n_boot, seed, unit,
                          min_documents, tfidf, loo_max, phrases, phrase_settings, top_phrases, crossling,
                          cross_settings, precision, min_precision, min_coded)


def findings_table(partials: Partials, codebook, documents: pd.DataFrame, drift: pd.DataFrame, languages,
                   top_themes: int = _D["figures"]["top_themes"],
                   conf: float = _T["conf_level"], n_boot: int = _T["n_boot"], seed: int = _T["seed"],
                   unit: str = _T["bootstrap_unit"], min_documents: int = _T["min_documents"],
                   tfidf: dict | None = None, loo_max: int = 10, phrases: pd.DataFrame | None = None,
                   phrase_settings: dict | None = None, top_phrases: int = _D["figures"]["top_phrases"],
                   crossling: pd.DataFrame | None = None, cross_settings: dict | None = None,
                   precision: pd.DataFrame | None = None, min_precision: float = _D["validation"]["min_precision"],
                   min_coded: int = _D["validation"]["min_coded"]) -> pd.DataFrame:
    """``findings.csv`` (``FINDING_COLUMNS``) from the shards' partial results of the checks
    (:class:`Partials`: :func:`count_partials` and :func:`match_partials` of each token shard) and
    the tables of :func:`build_findings`, which it equals.

    Parameters
    ----------
    partials : Partials
    codebook : list of Theme
    documents, drift : DataFrame
        ``documents.csv``, ``tfidf_drift.csv``.
    languages : sequence of str
    top_themes, conf, n_boot, seed, unit, min_documents, tfidf, loo_max
        As in :func:`build_findings`.
    phrases, phrase_settings, top_phrases, crossling, cross_settings
        As in :func:`build_findings`.
    precision, min_precision, min_coded
        As in :func:`build_findings`.

    Returns
    -------
    DataFrame
        ``FINDING_COLUMNS``, surviving findings first.
    """
    from textdrift.manifest import step_documents

    themes = [t.id for t in codebook]
    labels = {t.id: t.label("en") for t in codebook}
    # every year: the phrase and cross-language checks; the theme checks only the first and last
    # year of each language (with text)
    full_paras = {name: partials.paragraphs(name) for name in VARIANTS}
    ends = []
    bp = full_paras["base"]
    for lang in languages:
        have = bp.loc[(bp["lang"] == lang) & (bp["keep"] > 0), "year"]
        if have.nunique() >= 2:
            ends.append((lang, int(have.min())))
            ends.append((lang, int(have.max())))
    keep_rows = pd.MultiIndex.from_tuples(ends, names=["lang", "year"]) if ends else None
    # of the matches only those the checks count: the first and last years, and the documents of the
    # cross-language gaps (every document of the two languages under the "corpus" prior)
    cross = cross_settings or {}
    pair = list(cross.get("langs", _D["crosslingual"]["langs"]))
    gap_docs = set(crossling["doc_id"].astype(str)) if crossling is not None and len(crossling) else set()
    every = bool(gap_docs) and cross.get("prior") == "corpus"

    def needed(m: pd.DataFrame) -> np.ndarray:
        at = (pd.MultiIndex.from_frame(m[["lang", "year"]]).isin(keep_rows) if ends else np.zeros(len(m), bool))
        return np.asarray(at) | (m["lang"].isin(pair) & (every | m["doc_id"].isin(gap_docs))).to_numpy(dtype=bool)

    full_matches = {name: partials.theme_matches(name, themes, needed) for name in VARIANTS}

    def at_ends(v: pd.DataFrame) -> pd.DataFrame:
        return (v[pd.MultiIndex.from_frame(v[["lang", "year"]]).isin(keep_rows)] if ends else v.iloc[:0]).reset_index(
            drop=True)

    # the drift checks need every year, as unigram counts per document (a year = the sum of its
    # documents, so leaving one out is a subtraction)
    doc_counts: dict = {}

    def unigram_docs(name: str, lang: str):
        if (name, lang) not in doc_counts:
            doc_counts[(name, lang)] = partials.doc_counts(name, lang, unigrams=True)
        return doc_counts[(name, lang)]

    cache: dict = {}

    def counts(name: str, drop: str | None = None):
        """(kept tokens per paragraph, theme matches) of a variant; leaving a document out only
        removes its rows (matching is per paragraph), nothing is matched again."""
        if (name, None) not in cache:
            cache[(name, None)] = (at_ends(full_paras[name]), at_ends(full_matches[name]))
        if drop is None:
            return cache[(name, None)]
        p, m = cache[(name, None)]
        return p[p["doc_id"] != drop], m[m["doc_id"] != drop]

    ratios: dict = {}

    def ratio(name: str, lang: str, y0: int, y1: int, drop: str | None = None) -> pd.DataFrame:
        """rate_ratio of every theme for a variant (cached: one bootstrap per variant, not per theme)."""
        key = (name, lang, y0, y1, drop)
        if key not in ratios:
            ratios[key] = rate_ratio(*counts(name, drop), themes, lang, y0, y1, **boot).set_index("theme")
        return ratios[key]

    rows = []
    base_paras, _ = counts("base")
    boot = {"conf": conf, "n_boot": n_boot, "seed": seed, "unit": unit, "min_documents": min_documents}
    for lang in languages:
        years = sorted(base_paras.loc[(base_paras["lang"] == lang) & (base_paras["keep"] > 0), "year"].unique())
        if len(years) < 2:
            continue
        y0, y1 = int(years[0]), int(years[-1])
        base = ratio("base", lang, y0, y1).copy()
        base["change"] = (base["count_to"] / base["tokens_to"] - base["count_from"] / base["tokens_from"]) * 1e4
        rose = base[base["change"] > 0].sort_values("change", ascending=False, kind="stable").head(top_themes)
        fell = base[base["change"] < 0].sort_values("change", kind="stable").head(top_themes)
        step = step_documents(pd.DataFrame({"lang": [lang], "year_from": [y0], "year_to": [y1]}), documents).iloc[0]
        side_docs = [d for d in f"{step['docs_from']};{step['docs_to']}".split(";") if d]
        _, base_matches = counts("base")
        in_step = base_matches[(base_matches["lang"] == lang) & base_matches["year"].isin([y0, y1])]
        for up, chosen in ((True, rose), (False, fell)):
            for theme, r in chosen.iterrows():
                checks = {}
                for name in ("roles", "entities"):
                    v = ratio(name, lang, y0, y1).loc[theme]
                    checks[f"check_{name}"] = _excludes_one(v["ci_low"], v["ci_high"], up)
                pl, pu = poisson_ratio_ci(r["count_from"], r["count_to"], r["tokens_from"], r["tokens_to"], conf)
                checks["check_interval"] = _excludes_one(pl, pu, up)
                weight = in_step[in_step["theme"] == theme]["doc_id"].value_counts()
                heavy = sorted(side_docs, key=lambda d: (-int(weight.get(d, 0)), d))[:loo_max]
                loo = []
                for d in heavy:
                    v = ratio("base", lang, y0, y1, d).loc[theme]
                    loo.append(_excludes_one(v["ci_low"], v["ci_high"], up) if pd.notna(v["ci_low"]) else False)
                checks["check_leave_one_out"] = bool(all(loo)) and not _one_document_side(step)
                rows.append(_row(
                    "theme_change", lang, theme, f"{labels[theme]} {'rose' if up else 'fell'} ({lang}, {y0} → {y1})",
                    y0, y1, "rate_ratio", r["count_from"] / r["tokens_from"] * 1e4,
                    r["count_to"] / r["tokens_to"] * 1e4, r["rate_ratio"], r["ci_low"], r["ci_high"],
                    _excludes_one(r["ci_low"], r["ci_high"], up), checks, step, documents))
        # the largest drift step
        d = drift[drift["lang"] == lang]
        if len(d):
            best = d.loc[d["cosine_distance"].idxmax()]
            holds = (not str(best["low_data"]).lower() in ("true", "1")) and pd.notna(best.get("p_cosine")) \
                and float(best["p_cosine"]) <= 0.05
            checks = {"check_interval": None}
            target = (int(best["year_from"]), int(best["year_to"]))
            for name in ("roles", "entities"):
                checks[f"check_{name}"] = _largest_step(unigram_docs(name, lang), tfidf) == target
            bstep = step_documents(pd.DataFrame({"lang": [lang], "year_from": [best["year_from"]],
                                                 "year_to": [best["year_to"]]}), documents).iloc[0]
            docs = [x for x in f"{bstep['docs_from']};{bstep['docs_to']}".split(";") if x]
            size = base_paras[base_paras["lang"] == lang].groupby("doc_id")["keep"].sum()
            docs = sorted(docs, key=lambda x: (-int(size.get(x, 0)), x))[:loo_max]
            loo = [_largest_step(unigram_docs("base", lang), tfidf, drop=x) == target for x in docs]
            checks["check_leave_one_out"] = bool(all(loo)) and not _one_document_side(bstep)
            rows.append(_row(
                "drift_step", lang, "vocabulary",
                f"largest vocabulary drift ({lang}): {best['year_from']} → {best['year_to']}",
                int(best["year_from"]), int(best["year_to"]), "cosine_distance", np.nan, np.nan,
                float(best["cosine_distance"]), np.nan, np.nan, bool(holds), checks, bstep, documents,
                holds_reason="" if holds else ("a year is low data" if str(best["low_data"]).lower() in ("true", "1")
                                               else "halves of the two years were not farther apart than halves of "
                                                    "one year in 95% of rounds")))
    boot_settings = {**boot, "loo_max": loo_max}
    if phrases is not None and len(phrases):
        rows += _phrase_findings(partials, full_paras["base"], phrases, documents, languages, phrase_settings or {}, top_phrases,
                                 boot_settings)
    if crossling is not None and len(crossling):
        rows += _crosslingual_findings(full_paras, full_matches, crossling, codebook, documents, cross_settings or {}, top_themes,
                                       boot_settings)
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    df = _flag_precision(df, precision, labels, min_precision, min_coded)
    df["finding"] = range(1, len(df) + 1)
    return df.sort_values(["survives", "finding"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _flag_precision(df: pd.DataFrame, precision: pd.DataFrame | None, labels: dict, min_precision: float,
                    min_coded: int) -> pd.DataFrame:
    """A theme finding (``theme_change``, ``crosslingual_gap``) gets the codebook's precision for its
    theme and language(s) (``codebook_precision.csv``; the lower of the two for a gap); with at least
    ``min_coded`` coded rows and a precision under ``min_precision`` it does not survive, and the
    reason says so (the count is of a term list that is often not the theme there)."""
    if precision is None or precision.empty or df.empty:
        return df
    by = {(str(r.theme), str(r.lang)): r for r in precision.itertuples()}
    df = df.copy()
    for i, r in df.iterrows():
        if r["kind"] not in ("theme_change", "crosslingual_gap"):
            continue
        cells = [by.get((r["subject"], lang)) for lang in str(r["lang"]).split("|")]
        cells = [c for c in cells if c is not None and c.n_coded > 0]
        if not cells:
            continue
        worst = min(cells, key=lambda c: c.precision)
        df.at[i, "precision"] = worst.precision
        if worst.n_coded >= min_coded and worst.precision < min_precision:
            df.at[i, "survives"] = False
            note = (f"codebook precision of {labels.get(r['subject'], r['subject'])} ({worst.lang}) is "
                    f"{worst.precision:.2f} < {min_precision:.2f} ({worst.relevant} of {worst.n_coded} coded matches)")
            df.at[i, "reason"] = "; ".join(x for x in (r["reason"], note) if x)
    return df


# ---- phrases ----------------------------------------------------------------------------------

RISING = ("new", "rising")


def _phrase_findings(partials: Partials, base_paras: pd.DataFrame, phrases: pd.DataFrame, documents: pd.DataFrame,
                     languages, settings: dict, top_phrases: int, boot: dict) -> list[dict]:
    """Rows for the ``top_phrases`` phrases that rose most (largest z, more frequent in the later
    year) in each language's last step of ``phrase_changes.csv``; the checks recompute
    :func:`textdrift.phrases.phrase_changes` on the variant's year matrices (all years: the prior
    is the language's whole corpus, as in the table) and ask whether the phrase is still new or
    rising; ``check_interval`` resamples paragraphs (its rate ratio's bootstrap interval must exclude
    1); ``check_leave_one_out`` removes each of the (``loo_max``) documents with the most
    occurrences of the phrase from its year, prior included. ``base_paras``: the kept tokens per
    paragraph of every year."""
    from textdrift.manifest import step_documents
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import ENTITY_HEAD, SEP, merge_matrices

    ps = {k: settings[k] for k in ("min_count", "alpha_0", "q_threshold", "ngram_max", "unspaced_languages",
                                   "min_tokens") if k in settings}
    rows: list[dict] = []
    doc_mats: dict = {}

    def docs_of(name: str, lang: str):
        if (name, lang) not in doc_mats:
            doc_mats.clear()  # one (variant, language) at a time: the languages are done one after the other
            doc_mats[(name, lang)] = partials.doc_counts(name, lang)
        return doc_mats[(name, lang)]

    results: dict = {}

    def status(name: str, lang: str, phrase: str, y0: int, y1: int, drop: str | None = None) -> str | None:
        key = (name, lang, drop)
        if key not in results:
            m = docs_of(name, lang)
            if drop is not None:
                m = m.take((m.rows["doc_id"] != drop).to_numpy(dtype=bool))
            table = phrase_changes(merge_matrices([m], ["year"]), lang=lang, steps={(y0, y1)}, **ps)
            results[key] = table.set_index(["year_from", "year_to", "phrase"])["status"]
        return results[key].get((y0, y1, phrase))

    for lang in languages:
        p = phrases[phrases["lang"] == lang]
        if p.empty:
            continue
        y1 = int(p["year_to"].max())
        p = p[p["year_to"] == y1]
        y0 = int(p["year_from"].iloc[0])
        up = p[(p["count_to"] / p["total_to"]) > (p["count_from"] / p["total_from"])]
        top = up.sort_values(["z", "phrase"], ascending=[False, True], kind="stable").head(top_phrases)
        if top.empty:
            continue
        step = step_documents(pd.DataFrame({"lang": [lang], "year_from": [y0], "year_to": [y1]}), documents).iloc[0]
        side = [d for d in f"{step['docs_from']};{step['docs_to']}".split(";") if d]
        para_rows, para_counts = partials.occurrences(lang, [y0, y1], [str(x) for x in top["phrase"]])
        col = {str(t): i for i, t in enumerate(top["phrase"])}
        paras = base_paras[(base_paras["lang"] == lang) & base_paras["year"].isin([y0, y1])].reset_index(drop=True)
        for r in top.itertuples():
            phrase = str(r.phrase)
            insufficient = r.status == "insufficient"
            holds = r.status in RISING
            checks = {}
            # an insufficient step is not tested, under any variant: the recount checks do not apply
            checks["check_roles"] = None if insufficient else status("roles", lang, phrase, y0, y1) in RISING
            # a phrase with a name in it does not exist when names are words: not applicable
            checks["check_entities"] = (None if insufficient or any(w.startswith(ENTITY_HEAD) for w in phrase.split(SEP))
                                        else status("entities", lang, phrase, y0, y1) in RISING)
            # paragraphs resampled: the phrase's rate ratio from y0 to y1 (rate per kept token)
            counts = para_counts[:, col[phrase]]
            occ = para_rows.loc[np.repeat(np.arange(len(counts)), counts), ["year", "doc_id", "para"]]
            occ = occ.assign(lang=lang, theme=phrase).reset_index(drop=True)
            rr = rate_ratio(paras, occ, [phrase], lang, y0, y1, **{k: boot[k] for k in BOOT_KEYS}).iloc[0]
            checks["check_interval"] = _excludes_one(rr["ci_low"], rr["ci_high"], True)
            by_doc = occ["doc_id"].value_counts()
            heavy = sorted(side, key=lambda d: (-int(by_doc.get(d, 0)), d))[:boot["loo_max"]]
            checks["check_leave_one_out"] = (None if insufficient else
                                             all(status("base", lang, phrase, y0, y1, d) in RISING for d in heavy)
                                             and not _one_document_side(step))
            sd = r.log_odds / r.z if r.z else np.nan
            zq = normal_quantile(boot["conf"])
            reason = ("a year is under low_data_tokens: the step is not tested" if insufficient else
                      f"q = {r.q:.3g} is above q_threshold" if not holds else "")
            rows.append(_row(
                "phrase_rise", lang, phrase, f"“{r.display}” {'new' if r.count_from == 0 else 'rose'} ({lang}, "
                f"{y0} → {y1})", y0, y1, "log_odds", r.count_from / r.total_from * 1e4, r.count_to / r.total_to * 1e4,
                float(r.log_odds), float(r.log_odds - zq * sd), float(r.log_odds + zq * sd), holds, checks, step,
                documents, holds_reason=reason))
    return rows


# ---- across languages ---------------------------------------------------------------------------


def _crosslingual_findings(paras: dict, matches: dict, table: pd.DataFrame, codebook, documents: pd.DataFrame,
                           settings: dict, top: int, boot: dict) -> list[dict]:
    """Rows for the ``top`` largest cross-language gaps (``crosslingual_themes.csv`` rows, largest
    |z| first, significant or not): a theme counted more in one language version of a document
    than in the other; it holds when its status says so (|z| >= z_threshold) and neither version is
    low data. The checks recount the document under the variants
    (:func:`textdrift.crosslingual.compare_themes`: same status?); ``check_interval`` resamples each
    version's paragraphs (the rate ratio b / a must exclude 1 on the claimed side);
    leaving a document out does not apply (a gap is within one document). ``paras``, ``matches``:
    each variant's kept tokens per paragraph and theme matches, every year."""
    from textdrift.crosslingual import compare_themes

    a, b = settings.get("langs", _D["crosslingual"]["langs"])
    cs = {k: settings[k] for k in ("prior", "alpha_0", "z_threshold", "min_tokens") if k in settings}
    gaps = table[table["status"] != "absent"]
    gaps = gaps.assign(_abs=gaps["z"].abs()).sort_values(["_abs", "doc_id", "theme"], ascending=[False, True, True],
                                                         kind="stable").head(top)
    labels = {t.id: t.label("en") for t in codebook}
    doc_ids = sorted(set(table["doc_id"].astype(str)))
    recount: dict = {}

    def status(name: str, doc: str, theme: str) -> str | None:
        if name not in recount:
            # (the corpus prior counts every document of the two languages, as the crosslingual rule does)
            def mine(v: pd.DataFrame) -> pd.DataFrame:
                return v[(v["doc_id"].isin(doc_ids) | (cs.get("prior") == "corpus")) & v["lang"].isin([a, b])]

            docs = table[["doc_id", "year"]].drop_duplicates()
            recount[name] = compare_themes(mine(paras[name]), mine(matches[name]), codebook, docs, (a, b),
                                           boot["conf"], **cs).set_index(["doc_id", "theme"])["status"]
        return recount[name].get((doc, theme))

    rows = []
    for r in gaps.itertuples():
        doc, theme = str(r.doc_id), str(r.theme)
        stronger = a if r.z > 0 else b  # z > 0: more frequent in a
        claimed = f"{stronger}_stronger"
        checks = {"check_roles": status("roles", doc, theme) == claimed,
                  "check_entities": status("entities", doc, theme) == claimed}
        # the two versions as two "years" (0 = a, 1 = b) of one pseudo-language: rate ratio b / a
        bp, bm = paras["base"], matches["base"]
        p = bp[(bp["doc_id"] == doc) & bp["lang"].isin([a, b])].reset_index(drop=True)
        m = bm[(bm["doc_id"] == doc) & bm["lang"].isin([a, b]) & (bm["theme"] == theme)].reset_index(drop=True)
        relabel = {a: 0, b: 1}
        p = p.assign(year=p["lang"].map(relabel), lang="pair")
        m = m.assign(year=m["lang"].map(relabel), lang="pair")
        rr = rate_ratio(p, m, [theme], "pair", 0, 1, **{k: boot[k] for k in BOOT_KEYS}).iloc[0]
        checks["check_interval"] = _excludes_one(rr["ci_low"], rr["ci_high"], stronger == b)
        checks["check_leave_one_out"] = None
        genre = documents.loc[documents["doc_id"] == doc, "genre"]
        g = str(genre.iloc[0]) if len(genre) and pd.notna(genre.iloc[0]) and str(genre.iloc[0]) else "unknown"
        step = {"docs_from": doc, "docs_to": doc, "genres_from": g, "genres_to": g,
                "genre_match": "same" if g != "unknown" else "unknown"}
        low = str(r.low_data).lower() in ("true", "1")
        holds = r.status == claimed and not low
        reason = ("a version is under low_data_tokens" if low else
                  f"|z| = {abs(r.z):.2f} is below z_threshold" if r.status != claimed else "")
        sd = r.log_odds / r.z if r.z else np.nan
        zq = normal_quantile(boot["conf"])
        rows.append(_row(
            "crosslingual_gap", f"{a}|{b}", theme,
            f"{labels.get(theme, theme)} counted more in the {stronger} than in the {b if stronger == a else a} "
            f"version ({doc})",
            int(r.year), int(r.year), "log_odds", float(getattr(r, f"per_10k_{a}")), float(getattr(r, f"per_10k_{b}")),
            float(r.log_odds), float(r.log_odds - zq * sd), float(r.log_odds + zq * sd), holds, checks, step,
            documents, holds_reason=reason, langs=(a, b)))
    return rows


def _largest_step(docs, tfidf: dict | None, drop: str | None = None) -> tuple[int, int] | None:
    """(year_from, year_to) of the largest cosine distance between consecutive years, from a
    per-document unigram matrix (``vectorize.doc_matrix``; rows lang, doc_id, year, tokens), the
    document ``drop`` left out (TF-IDF as in ``tfidf_drift.csv``, fitted on the year-documents)."""
    import scipy.sparse as sp

    from textdrift.drift import drift_table
    from textdrift.vectorize import CountMatrix

    rows = docs.rows.reset_index(drop=True)
    use = (rows["doc_id"] != drop).to_numpy() if drop is not None else np.ones(len(rows), dtype=bool)
    years = sorted(rows.loc[use, "year"].unique())
    if len(years) < 2:
        return None
    S = sp.csr_matrix((np.ones(int(use.sum())), (rows.loc[use, "year"].map({y: i for i, y in enumerate(years)}),
                                                  np.flatnonzero(use))), shape=(len(years), len(rows)))
    X = (S @ docs.X).tocsr()
    year_rows = pd.DataFrame({"lang": rows["lang"].iloc[0], "year": years,
                              "tokens": np.asarray(S @ rows["tokens"].to_numpy(dtype=float)).astype("int64")})
    d = drift_table(CountMatrix(X, docs.vocab, year_rows), 0, **(tfidf or {}))
    if d.empty:
        return None
    best = d.loc[d["cosine_distance"].astype(float).idxmax()]
    return int(best["year_from"]), int(best["year_to"])


def _one_document_side(step) -> bool:
    """Whether a side of a step (``docs_from``/``docs_to`` of :func:`textdrift.manifest.step_documents`)
    has a single document: a claim about that year then rests on one document."""
    return min(len(str(step[side]).split(";")) for side in ("docs_from", "docs_to")) < 2


def _row(kind, lang, subject, claim, y0, y1, value_name, v_from, v_to, value, low, high, holds, checks, step,
         documents, holds_reason="", langs: tuple[str, str] | None = None) -> dict:
    """One findings.csv row; ``langs``: the two languages of a cross-language finding (its two
    sides are one document's two versions)."""
    applicable = [v for v in checks.values() if v is not None]
    survives = bool(holds) and all(applicable)
    tr_from = _side_translation(documents, step["docs_from"], langs[0] if langs else lang)
    tr_to = _side_translation(documents, step["docs_to"], langs[1] if langs else lang)
    why = []
    if not holds:
        why.append(holds_reason or f"the {int(round(100 * 0.95))}% interval of the rate ratio includes 1")
    names = {"check_roles": "titles, headings and paratext counted",
             "check_entities": "names counted as words",
             "check_interval": {"theme_change": "Poisson interval (independent mentions)"}.get(
                 kind, "paragraphs resampled (mentions cluster)"),
             "check_leave_one_out": "a document left out"}
    failed = [names[k] for k, v in checks.items() if v is False]
    if failed:
        why.append("fails " + ("the check" if len(failed) == 1 else "the checks") + ": " + ", ".join(failed))
    if langs is None and _one_document_side(step):
        why.append("a year rests on a single document")
    if step["genre_match"] != "same":
        why.append(f"genres differ ({step['genres_from'].replace(';', ', ')} vs {step['genres_to'].replace(';', ', ')})"
                   if step["genre_match"] in ("different", "partial") else "a genre is unknown")
    if tr_from != tr_to:
        why.append(f"translation status differs ({tr_from or '?'} vs {tr_to or '?'})")
    return {"finding": 0, "kind": kind, "lang": lang, "subject": subject, "claim": claim, "year_from": y0,
            "year_to": y1, "value_name": value_name, "value_from": v_from, "value_to": v_to, "value": value,
            "ci_low": low, "ci_high": high, "docs_from": step["docs_from"], "docs_to": step["docs_to"],
            "genres_from": step["genres_from"], "genres_to": step["genres_to"], "genre_match": step["genre_match"],
            "translation_from": tr_from, "translation_to": tr_to, "holds": bool(holds), **checks,
            "precision": np.nan, "survives": survives, "reason": "; ".join(why)}


def write_findings(partials: Partials, codebook_path, documents_path, drift_path, out_path, languages,
                   schema_path=None, entities_path=None, entities_schema=None,
                   top_themes: int = _D["figures"]["top_themes"],
                   conf_level: float = _T["conf_level"], n_boot: int = _T["n_boot"], seed: int = _T["seed"],
                   bootstrap_unit: str = _T["bootstrap_unit"], min_documents: int = _T["min_documents"],
                   tfidf: dict | None = None,
                   loo_max: int = 10, phrases_path=None, phrase_settings: dict | None = None,
                   top_phrases: int = _D["figures"]["top_phrases"],
                   crosslingual_path=None, cross_settings: dict | None = None, precision_path=None,
                   min_precision: float = _D["validation"]["min_precision"],
                   min_coded: int = _D["validation"]["min_coded"]) -> pd.DataFrame:
    """The ``findings`` rule: ``results/tables/findings.csv`` from the token shards' partial results.

    Parameters
    ----------
    partials : Partials
        The paths of the shards' partial results: ``paras`` and ``matches`` of each variant (the
        `theme_matches` rule's ``paras-{shard}`` and ``matches-{shard}`` for ``base``), ``docs`` of
        each (variant, language) (``base``: the merged ``doc_{lang}.npz``) and ``para_ngrams`` of
        each language (the `count` rule).
    codebook_path, documents_path, drift_path : str or Path
        The codebook, ``documents.csv`` and ``tfidf_drift.csv``.
    out_path : str or Path
        ``findings.csv``.
    languages : sequence of str
    schema_path, entities_path, entities_schema : str or Path, optional
        The codebook schema, the entities file and its schema.
    phrases_path, crosslingual_path, precision_path : str or Path, optional
        ``phrase_changes.csv``, ``crosslingual_themes.csv``, ``codebook_precision.csv``; their checks
        are skipped when None.
    top_themes, conf_level, n_boot, seed, bootstrap_unit, min_documents, tfidf, loo_max
        As in :func:`build_findings` (``conf_level`` is its ``conf``, ``bootstrap_unit`` its ``unit``).
    phrase_settings, top_phrases, cross_settings, min_precision, min_coded
        As in :func:`build_findings`.

    Returns
    -------
    DataFrame
        The table written (:func:`findings_table`).
    """
    from textdrift.codebook import load_codebook
    from textdrift.entities import load_entities
    from textdrift.io import read_csv, write_csv

    codebook = load_codebook(codebook_path, schema_path, load_entities(entities_path, entities_schema))
    df = findings_table(partials, codebook, read_csv(documents_path), read_csv(drift_path), languages, top_themes,
                        conf_level, n_boot, seed, bootstrap_unit, min_documents, tfidf, loo_max,
                        read_csv(phrases_path) if phrases_path else None, phrase_settings, top_phrases,
                        read_csv(crosslingual_path) if crosslingual_path else None, cross_settings,
                        read_csv(precision_path) if precision_path else None, min_precision, min_coded)
    write_csv(df, out_path)
    log.info("%d findings, %d survive every check", len(df), int(df["survives"].sum()))
    return df


def run_findings(input, output, params, log) -> None:
    """Rule ``findings``: the headline findings and their robustness checks.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/findings.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    i, p = input, params
    entities = list(i.get("entities", []))
    partials = Partials({v: list(i[f"paras_{v}"]) for v in VARIANTS}, {v: list(i[f"matches_{v}"]) for v in VARIANTS},
                        {(v, lang): list(i[f"doc_{v}_{lang}"]) for v in VARIANTS for lang in p.languages},
                        {lang: list(i[f"para_ngrams_{lang}"]) for lang in p.languages})
    write_findings(partials, i.codebook, i.documents, i.drift, output[0], p.languages,
                   schema_path=i.schema, entities_path=entities[0] if entities else None,
                   entities_schema=entities[1] if entities else None, top_themes=p.top_themes, conf_level=p.conf_level,
                   n_boot=p.n_boot, seed=p.seed, bootstrap_unit=p.bootstrap_unit, min_documents=p.min_documents,
                   tfidf=p.tfidf, phrases_path=i.phrases, phrase_settings=p.phrase_settings, top_phrases=p.top_phrases,
                   crosslingual_path=i.crosslingual, cross_settings=p.cross_settings, precision_path=i.precision,
                   min_precision=p.min_precision, min_coded=p.min_coded)
