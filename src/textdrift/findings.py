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

The theme findings of a language compare its first and last year with text and, listed first,
its last step between consecutive years of the same genres (like with like), when there is one;
rows of genre-matched steps come first in the table. One low-data rule (``low_data_tokens``): a
step with a year under it is not tested, for themes as for phrases (``insufficient``) and drift
(``low_data``).

``design`` says the unit of the claim: ``years`` when both sides have several documents,
``documents`` when a side is a single document; then the claim is worded as a contrast of the
named documents ("rose from a1 (statement, 2020) to b1 (white paper, 2021) (en; a contrast of
documents, not a year trend)"), leaving one document out is ``n/a`` and the checks defined there
are run instead. Each check column is ``holds``, ``fails`` or ``n/a``; ``na_reason`` says why
each ``n/a`` is not defined (``check_name: reason; ...``):

* ``holds`` (True/False): the claim as computed by the pipeline. A theme change holds when the
  interval of its rate ratio (:func:`rate_ratio`) lies entirely on the claimed side of 1 and no
  year of the step is low data. A drift step holds when its years are not low data and its
  permutation test rejects (``p_permutation <= drift.alpha`` in ``tfidf_drift.csv``,
  :func:`textdrift.drift.permutation_test`).
* ``check_roles``: titles, headings and paratext counted too (every role): does it still hold?
* ``check_entities``: named entities counted as ordinary words (no ``@id`` heads, no blocking of
  theme terms inside names): does it still hold?
* ``check_interval``, the other interval. Themes: the exact conditional interval of a ratio of two
  Poisson rates (Clopper-Pearson interval of count_to / (count_from + count_to), turned into a
  rate ratio; every mention independent): does it still exclude 1?
  Phrases and cross-language gaps (whose z treats tokens as independent): the bootstrap interval
  of the rate ratio with paragraphs resampled: does it exclude 1 on the claimed side? ``n/a`` for drift.
* ``check_leave_one_out``: without each document of the two years in turn: does it hold every
  time? ``n/a`` when a side has a single document ("the year is one document"). On a large
  corpus only the ``loo_max`` (10) documents that weigh most are left out: for a theme, those with
  the most matches of it; for drift, those with the most kept tokens.
* ``check_leave_one_paragraph_out`` (where a side is one document; else ``n/a``): themes, the
  paragraph of the two years whose removal moves the rate difference most against the claim is
  left out (:func:`_worst_paragraph`): does the interval still exclude 1 on the claimed side?
  Drift, each of the ``loo_max`` longest paragraphs subtracted from its document in turn: is the
  step still the largest? Phrases, the later year's paragraph with the most occurrences subtracted
  (:func:`_phrase_paragraph_checks`): is the phrase still new or rising?
* ``check_leave_one_term_out`` (themes): each codebook term that matched the theme in the two
  years dropped in turn (its matches removed; the ``loo_max`` most adverse first,
  :func:`_adverse_terms`): does the interval still exclude 1? A change carried by one term fails;
  ``n/a`` for a theme of a single term in that language.

For drift the recount checks ask whether the same step is still the language's largest (cosine
distance of TF-IDF year vectors, idf fitted on the variant's year-documents).

Phrase findings are phrases of at most ``phrases.ngram_max`` words: the variants' counts
(:func:`count_partials`) hold no longer n-gram, so a longer unit of ``phrase_changes.csv`` (up to
``phrases.max_length`` words) could not be recounted and is not a candidate (logged). In a step
whose ranking is ``exploratory`` (``phrase_steps.csv``; :func:`phrase_ranking`: no phrase reaches q
<= ``phrases.q_threshold``) the phrases are picked by ``effect_rank``, ``value_name`` is ``effect``
(the log rate ratio, with ``effect_low``/``effect_high``), the claim says "exploratory, not a called
change", ``holds`` is False and the checks of a called change are ``n/a``.

``survives`` = ``holds`` and no check ``fails`` (``n/a`` is not a failure). ``reason`` says, in
words, what does not hold or fails and what else a reader must know: a single document on a side,
a step between different genres or translation statuses.

The workflow computes the table in three jobs (:func:`findings_table` does the same in one call):
``findings_themes`` (:func:`theme_part`: the theme changes and cross-language gaps, which read the
codebook), ``findings_vocabulary`` (:func:`vocabulary_part`: the drift and phrase findings, which do
not; a codebook edit does not rerun it) and ``findings`` (:func:`assemble_findings`: the two parts'
rows, written as JSON by :func:`write_part`, in the order above, with the codebook's precision).
The theme checks' many rate ratios (every variant, document, paragraph and term left out) are
computed on units built once per step (:class:`_StepRatios`), equal to :func:`rate_ratio` number for
number.

Why one module of about 2,070 lines: the four kinds of finding are recomputed under the same
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
from textdrift.config import Settings, defaults, setting, with_defaults
from textdrift.themes import MATCH_KEY, ThemesSettings, match_partials, write_partial_matches, year_units
from textdrift.matching import order_matches
from textdrift.counting import CHECK_VARIANTS, VARIANTS, variant_tokens

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_T = _D["themes"]

__all__ = ["CHECKS", "FindingsFiles", "FindingsSettings", "FindingsTables",
           "CHECK_VARIANTS", "FINDING_COLUMNS", "MATCH_KEY", "RISING", "VARIANTS", "Partials",
           "build_findings", "count_partials", "findings_table", "match_partials", "merge_partials", "phrase_ranking",
           "rate_ratio", "theme_part", "vocabulary_part", "assemble_findings", "read_part", "write_part",
           "table_partials", "variant_tokens", "write_findings", "write_partial_counts", "write_partial_matches",
           "run_findings", "run_findings_themes", "run_findings_vocabulary"]

log = logging.getLogger("textdrift.findings")


def __getattr__(name: str):
    """``count_partials`` and ``write_partial_counts`` (:mod:`textdrift.vectorize`, re-exported),
    imported on first use: the `findings_themes` and `findings` jobs never count n-grams, and
    :mod:`textdrift.vectorize` imports ``scipy.sparse``."""
    if name in ("count_partials", "write_partial_counts"):
        from textdrift import vectorize

        return getattr(vectorize, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

FINDING_COLUMNS = [
    "finding", "kind", "lang", "subject", "claim", "year_from", "year_to", "value_name", "value_from",
    "value_to", "value", "ci_low", "ci_high", "docs_from", "docs_to", "genres_from", "genres_to", "genre_match",
    "translation_from", "translation_to", "design", "holds", "check_roles", "check_entities", "check_interval",
    "check_leave_one_out", "check_leave_one_paragraph_out", "check_leave_one_term_out", "na_reason", "precision",
    "survives", "reason",
]
CHECKS = ["check_roles", "check_entities", "check_interval", "check_leave_one_out", "check_leave_one_paragraph_out",
          "check_leave_one_term_out"]
HOLDS, FAILS, NA = "holds", "fails", "n/a"  # the values of a check column


@dataclass(frozen=True)
class FindingsSettings(Settings):
    """The settings of the findings and their checks; defaults from the schema
    (:class:`textdrift.config.Settings`: ``FindingsSettings.from_config(config)``, or in the rule
    ``FindingsSettings.from_params(params)``, the fields named as the rule's params).

    Attributes
    ----------
    count_roles : tuple of str
        The roles counted by the pipeline (the ``check_roles`` variant counts every role).
    top_themes, top_phrases : int
        How many theme changes (each way), cross-language gaps and phrases become findings.
    conf_level, n_boot, seed, bootstrap_unit, min_documents
        The intervals' and the bootstrap's settings (:func:`textdrift.themes.bootstrap_draws`;
        ``themes.*`` of the configuration).
    tfidf : dict or None
        ``TfidfTransformer`` arguments (``drift.tfidf``; None: scikit-learn's defaults).
    loo_max : int
        Most documents (or terms) left out, one at a time.
    phrase_settings : dict or None
        The phrase rule's settings the phrase checks recompute with: min_count, alpha_0,
        q_threshold, ngram_max, min_documents, unspaced_languages, min_tokens.
    cross_settings : dict or None
        The cross-language rule's: langs, q_threshold, min_tokens, and ``alignment``
        (``crosslingual_alignment.csv``, a path or a DataFrame; not a configuration key).
    min_precision : float
    min_coded : int
        A theme whose coded precision is under ``min_precision`` on at least ``min_coded`` coded
        contexts is flagged.
    unspaced_languages : tuple of str
        Languages the codebook matches on joined characters.
    low_data_tokens : int
        A theme step with a year under this many kept tokens is not tested (``holds`` False, as a
        phrase step is ``insufficient`` and a drift step ``low_data``).
    drift_alpha : float
        The drift finding holds when the step's ``p_permutation`` is at most this.
    """

    count_roles: tuple = setting("count_roles", convert=tuple)
    top_themes: int = setting("figures", "top_themes")
    conf_level: float = setting("themes", "conf_level")
    n_boot: int = setting("themes", "n_boot")
    seed: int = setting("themes", "seed")
    bootstrap_unit: str = setting("themes", "bootstrap_unit")
    min_documents: int = setting("themes", "min_documents")
    tfidf: dict | None = None
    loo_max: int = 10
    phrase_settings: dict | None = None
    top_phrases: int = setting("figures", "top_phrases")
    cross_settings: dict | None = None
    min_precision: float = setting("validation", "min_precision")
    min_coded: int = setting("validation", "min_coded")
    unspaced_languages: tuple = setting("unspaced_languages", convert=tuple)
    low_data_tokens: int = setting("low_data_tokens")
    drift_alpha: float = setting("drift", "alpha")

    @classmethod
    def from_config(cls, config: dict, **overrides) -> "FindingsSettings":
        """The settings of ``config``, with ``tfidf``, ``phrase_settings`` and ``cross_settings``
        (but its ``alignment``, a file) as the ``findings`` rule passes them.

        Parameters
        ----------
        config : dict
        **overrides
            Values that replace the configuration's.

        Returns
        -------
        FindingsSettings
        """
        c = with_defaults(config)
        derived = {
            "tfidf": c["drift"]["tfidf"],
            "phrase_settings": {**{k: c["phrases"][k] for k in ("min_count", "alpha_0", "q_threshold", "ngram_max",
                                                                 "min_documents")},
                                "unspaced_languages": c["unspaced_languages"], "min_tokens": c["low_data_tokens"]},
            "cross_settings": {**{k: c["crosslingual"][k] for k in ("langs", "q_threshold")},
                               "min_tokens": c["low_data_tokens"]},
        }
        return super().from_config(config, **{**derived, **overrides})

    def themes(self) -> ThemesSettings:
        """The theme rate ratios' settings (:func:`rate_ratio`): the intervals' and the bootstrap's.

        Returns
        -------
        ThemesSettings
        """
        return ThemesSettings(conf_level=self.conf_level, n_boot=self.n_boot, seed=self.seed,
                              bootstrap_unit=self.bootstrap_unit, min_documents=self.min_documents)


@dataclass(frozen=True)
class FindingsTables:
    """The result tables the findings read besides the token counts: ``documents.csv``,
    ``tfidf_drift.csv`` and, each optional (its findings skipped when None),
    ``phrase_changes.csv``, ``crosslingual_themes.csv`` and ``codebook_precision.csv``."""

    documents: pd.DataFrame
    drift: pd.DataFrame
    phrases: pd.DataFrame | None = None
    crossling: pd.DataFrame | None = None
    precision: pd.DataFrame | None = None


@dataclass(frozen=True)
class FindingsFiles:
    """The files of the ``findings`` rule: the codebook (its ``schema``, the ``entities`` file and
    its schema), the tables (:class:`FindingsTables`: ``documents``, ``drift``, ``phrases``,
    ``crosslingual``, ``precision``; the last three optional) and the output ``out``."""

    codebook: str | Path
    documents: str | Path
    drift: str | Path
    out: str | Path
    schema: str | Path | None = None
    entities: str | Path | None = None
    entities_schema: str | Path | None = None
    phrases: str | Path | None = None
    crosslingual: str | Path | None = None
    precision: str | Path | None = None


# ---- theme changes ----------------------------------------------------------------------------


def rate_ratio(paras: pd.DataFrame, matches: pd.DataFrame, themes: list[str], lang: str, y0: int, y1: int,
               settings: ThemesSettings | None = None) -> pd.DataFrame:
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
    settings : ThemesSettings, optional
        As in :func:`textdrift.themes.theme_frequencies` (``n_boot`` and ``seed`` for
        ``ci="bootstrap"`` only); :meth:`FindingsSettings.themes` gives the findings'.

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
    s = settings or ThemesSettings()
    conf = s.conf_level
    book = [Theme(id=th, labels={}, terms={}) for th in themes] if themes else []
    draws = (bootstrap_draws(p, m, themes, s.n_boot, s.seed, s.bootstrap_unit, s.min_documents)
             if s.ci == "bootstrap" else None)
    freq = theme_frequencies(p, m, book, [lang], s, draws)
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
        """Kept tokens per paragraph of variant ``name``, in :func:`textdrift.counting.paragraph_tokens`' order."""
        from textdrift.counting import PARA_COLUMNS

        df = _concat([_load_frame(p, PARA_COLUMNS) for p in self.paras[name]])
        return df.sort_values(PARA_COLUMNS[:-1], kind="stable", ignore_index=True)

    def theme_matches(self, name: str, themes: list[str], keep=None, columns: list[str] = MATCH_KEY) -> pd.DataFrame:
        """Theme matches of variant ``name``, in :func:`textdrift.matching.match_themes`' order; only
        the rows where ``keep`` (a function of a shard's matches: a boolean mask) is true.
        ``columns``: ``MATCH_KEY`` and, for ``base`` only, ``term`` (the codebook term matched;
        the `theme_matches` rule's base files carry every match column, the check variants' only
        ``MATCH_KEY``)."""
        parts = []
        for p in self.matches[name]:
            m = _load_frame(p, list(columns))
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
    from textdrift.matching import match_themes
    from textdrift.vectorize import count_partials

    docs, para_ngrams = count_partials(tokens, languages, ngram_max, count_roles)
    paras, matches = match_partials(tokens, codebook, languages, count_roles, unspaced_languages)
    # the base matches with their codebook term (leave-one-term-out), as the rule's base files have them
    base = variant_tokens(tokens[tokens["lang"].isin(languages)], "base", count_roles)
    matches["base"] = match_themes(base, codebook, 0, unspaced_languages)[[*MATCH_KEY, "term"]]
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


def _by_year(m):
    """``merge_matrices([m], ["year"])`` (:func:`textdrift.vectorize.merge_matrices`) of one
    per-document matrix whose vocabulary is already sorted and distinct (the merged shards'): the
    same rows, counts and vocabulary, without turning the vocabulary into Arrow strings again to
    sort and look it up (the union of one sorted vocabulary is itself); any other matrix goes
    through ``merge_matrices``."""
    import scipy.sparse as sp

    from textdrift.vectorize import CountMatrix, merge_matrices

    vocab = np.asarray(m.vocab, dtype=object)
    if not m.X.shape[0] or not len(vocab) or not bool((vocab[:-1] < vocab[1:]).all()):
        return merge_matrices([m], ["year"])
    coo = m.X.tocoo()
    stacked = sp.csr_matrix((coo.data.astype(np.int64), (coo.row, coo.col)), shape=m.X.shape)
    rows = m.rows.reset_index(drop=True)
    keys = [c for c in ("lang",) if c in rows.columns] + ["year"]
    grouped = rows.groupby(keys, sort=True)
    group = grouped.ngroup().to_numpy()
    S = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (group, np.arange(len(rows)))),
                      shape=(grouped.ngroups, len(rows)))
    X = (S @ stacked).tocsr()
    X.sort_indices()
    merged = grouped["tokens"].sum().reset_index()
    merged["tokens"] = merged["tokens"].astype("int64")
    # m's own vocabulary array (not a copy; nothing writes into a vocabulary): the recounts of
    # _phrase_findings then find their PhraseVocabulary's array by identity, not by comparing terms
    return CountMatrix(X, vocab, merged)


def _by_year_without(years, m, keep: np.ndarray):
    """:func:`_by_year` of ``m.take(keep)`` from ``years`` = :func:`_by_year` of ``m``: the counts and
    kept tokens of the documents left out subtracted from their year's row (integers: the same
    numbers as the sums of the documents kept), the entries that reach 0 removed, so the matrix is
    the one :func:`_by_year` builds. None where that shortcut does not apply (a year left without a
    document loses its row; a matrix :func:`_by_year` merges another way; tokens not integers):
    the caller then groups the documents kept."""
    import scipy.sparse as sp

    from textdrift.vectorize import CountMatrix

    vocab = np.asarray(m.vocab, dtype=object)
    out = np.flatnonzero(~keep)
    rows = m.rows.reset_index(drop=True)
    # years holding m's own vocabulary array: _by_year found it sorted and distinct (not compared again)
    if (not len(out) or not m.X.shape[0] or not len(vocab)
            or not (years.vocab is vocab or bool((vocab[:-1] < vocab[1:]).all()))
            or not np.issubdtype(rows["tokens"].dtype, np.integer)):
        return None
    keys = [c for c in ("lang",) if c in rows.columns] + ["year"]
    grouped = rows.groupby(keys, sort=True)
    group = grouped.ngroup().to_numpy()
    if grouped.ngroups != len(years.rows) or (np.bincount(group[keep], minlength=grouped.ngroups) == 0).any():
        return None
    gone = m.X[out].tocoo()
    minus = sp.csr_matrix((gone.data.astype(np.int64), (group[out][gone.row], gone.col)), shape=years.X.shape)
    X = (years.X - minus).tocsr()
    X.eliminate_zeros()
    X.sort_indices()
    merged = years.rows.copy()
    lost = np.zeros(grouped.ngroups, dtype=np.int64)
    np.add.at(lost, group[out], rows["tokens"].to_numpy(dtype=np.int64)[out])
    merged["tokens"] = (merged["tokens"].to_numpy(dtype=np.int64) - lost).astype("int64")
    return CountMatrix(X, vocab, merged)


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
    ids = str(docs).split(";") if docs else []
    # each document's translation cell (its first row; "" when missing), in one filter of the table
    rows = documents[documents["doc_id"].isin(ids)].drop_duplicates("doc_id")
    cells = rows["translation"].tolist() if "translation" in rows else [None] * len(rows)
    by = {d: str(tr) if pd.notna(tr) else "" for d, tr in zip(rows["doc_id"].tolist(), cells)}
    out = []
    for d in ids:
        tr = by.get(d, "")
        status = dict(p.split(":") for p in tr.split(";") if ":" in p).get(lang, "unknown")
        out.append(status)
    return ";".join(sorted(set(out)))


def build_findings(tokens: pd.DataFrame, codebook, tables: FindingsTables, languages,
                   settings: FindingsSettings | None = None) -> pd.DataFrame:
    """``findings.csv`` (``FINDING_COLUMNS``) from the token table (every role, entities marked), the
    codebook and the tables (``documents.csv``, ``tfidf_drift.csv``, ``phrase_changes.csv`` with the
    phrase rule's ``settings.phrase_settings``, ``crosslingual_themes.csv`` with
    ``settings.cross_settings``, ``codebook_precision.csv``); see the module docstring.

    The token table is counted as one shard (:func:`table_partials`), then
    :func:`findings_table`; the workflow merges the shards' partial results instead, with the same
    result.

    Parameters
    ----------
    tokens : DataFrame
        The token table, every role, entities marked.
    codebook : list of Theme
    tables : FindingsTables
        ``documents.csv``, ``tfidf_drift.csv`` and (optional) ``phrase_changes.csv``,
        ``crosslingual_themes.csv``, ``codebook_precision.csv``.
    languages : sequence of str
    settings : FindingsSettings, optional
        The schema's defaults when None.

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
    s = settings or FindingsSettings()
    ngram_max = int((s.phrase_settings or {}).get("ngram_max", _D["phrases"]["ngram_max"]))
    partials = table_partials(tokens, codebook, languages, s.count_roles, ngram_max, s.unspaced_languages)
    return findings_table(partials, codebook, tables, languages, s)


def findings_table(partials: Partials, codebook, tables: FindingsTables, languages,
                   settings: FindingsSettings | None = None) -> pd.DataFrame:
    """``findings.csv`` (``FINDING_COLUMNS``) from the shards' partial results of the checks
    (:class:`Partials`: :func:`count_partials` and :func:`match_partials` of each token shard) and
    the tables of :func:`build_findings`, which it equals: :func:`theme_part` (what reads the
    codebook) and :func:`vocabulary_part` (what does not) assembled by :func:`assemble_findings`,
    as the workflow's jobs ``findings_themes``, ``findings_vocabulary`` and ``findings`` do.

    Parameters
    ----------
    partials : Partials
    codebook : list of Theme
    tables : FindingsTables
        As in :func:`build_findings`.
    languages : sequence of str
    settings : FindingsSettings, optional
        As in :func:`build_findings`.

    Returns
    -------
    DataFrame
        ``FINDING_COLUMNS``: genre-matched steps first, then surviving findings first.
    """
    s = settings or FindingsSettings()
    return assemble_findings(theme_part(partials, codebook, tables, languages, s),
                             vocabulary_part(partials, tables, languages, s), tables.precision, languages, s)


def theme_part(partials: Partials, codebook, tables: FindingsTables, languages,
               settings: FindingsSettings | None = None) -> dict:
    """The rows of the findings that read the codebook: each language's theme changes
    (:func:`_theme_rows`) and the cross-language gaps (:func:`_crosslingual_findings`), with the
    themes' labels (the rule ``findings_themes``; a codebook edit reruns only this part and
    :func:`assemble_findings`).

    Parameters
    ----------
    partials : Partials
        Every variant's ``paras`` and ``matches`` (``docs`` and ``para_ngrams`` are not read).
    codebook : list of Theme
    tables : FindingsTables
        ``documents``, ``crossling`` (its ``drift``, ``phrases`` and ``precision`` are not read).
    languages : sequence of str
    settings : FindingsSettings, optional
        As in :func:`build_findings`.

    Returns
    -------
    dict
        ``{"labels": {theme: English label}, "themes": {lang: [row, ...]}, "crosslingual": [row, ...]}``
        (rows as :func:`_row` makes them).
    """
    from textdrift.manifest import step_documents

    s = settings or FindingsSettings()
    documents, crossling = tables.documents, tables.crossling
    cross_settings = s.cross_settings
    themes = [t.id for t in codebook]
    labels = {t.id: t.label("en") for t in codebook}
    full_paras = {name: partials.paragraphs(name) for name in VARIANTS}
    bp = full_paras["base"]
    # the theme steps of each language: the last consecutive step between documents of the same genres
    # (when there is one and it is not the whole span), then the first and last year with text
    theme_steps: dict = {}
    for lang in languages:
        have = sorted(bp.loc[(bp["lang"] == lang) & (bp["keep"] > 0), "year"].unique())
        if len(have) < 2:
            continue
        pairs = pd.DataFrame({"lang": lang, "year_from": have[:-1], "year_to": have[1:]})
        same = step_documents(pairs, documents)
        same = same[same["genre_match"] == "same"]
        ends = (int(have[0]), int(have[-1]))
        matched = [(int(r.year_from), int(r.year_to)) for r in same.itertuples()][-1:]
        theme_steps[lang] = [s for s in matched if s != ends] + [ends]
    needed_years = sorted({(lang, y) for lang, st in theme_steps.items() for s in st for y in s})
    # of the matches only those the checks count: the years of the theme steps, and the documents of
    # the cross-language gaps (every document of the two languages under the "corpus" prior)
    cross = cross_settings or {}
    pair = list(cross.get("langs", _D["crosslingual"]["langs"]))
    gap_docs = set(crossling["doc_id"].astype(str)) if crossling is not None and len(crossling) else set()
    every = bool(gap_docs) and cross.get("prior") == "corpus"

    def at_needed_years(v: pd.DataFrame) -> np.ndarray:
        """Whether each row's (lang, year) is one of ``needed_years``."""
        at = np.zeros(len(v), dtype=bool)
        lang_of, year_of = v["lang"].to_numpy(dtype=object), v["year"].to_numpy()
        for lang in dict.fromkeys(lang for lang, _ in needed_years):
            here = lang_of == lang
            at[here] = np.isin(year_of[here], [y for la, y in needed_years if la == lang])
        return at

    def needed(m: pd.DataFrame) -> np.ndarray:
        return at_needed_years(m) | (m["lang"].isin(pair) & (every | m["doc_id"].isin(gap_docs))).to_numpy(dtype=bool)

    # base: with the codebook term of each match (leave-one-term-out)
    full_matches = {name: partials.theme_matches(name, themes, needed,
                                                 [*MATCH_KEY, "term"] if name == "base" else MATCH_KEY)
                    for name in VARIANTS}

    def at_years(v: pd.DataFrame) -> pd.DataFrame:
        return v[at_needed_years(v)].reset_index(drop=True)

    cache: dict = {}

    def counts(name: str, drop=None):
        """(kept tokens per paragraph, theme matches) of a variant; ``drop``: None, a doc_id, a
        ("para", doc_id, para) or a ("term", term): leaving a document, a paragraph or a term out only
        removes rows (matching is per paragraph), nothing is matched again."""
        if (name, None) not in cache:
            cache[(name, None)] = (at_years(full_paras[name]), at_years(full_matches[name]))
        p, m = cache[(name, None)]
        return _leave_out(p, m, drop)

    ratios: dict = {}
    boot = s.themes()
    steps = _StepRatios(counts, themes, boot) if boot.ci == "quasi-poisson" else None

    def ratio(name: str, lang: str, y0: int, y1: int, drop=None, only: str | None = None) -> pd.DataFrame:
        """:func:`rate_ratio` of every theme (``only``: of that theme) for a variant, ``drop`` left out
        (cached; the units of each step built once, :class:`_StepRatios`, for the quasi-Poisson
        interval; another interval through :func:`rate_ratio` itself)."""
        key = (name, lang, y0, y1, drop, only)
        if key not in ratios:
            if steps is not None:
                ratios[key] = steps.ratio((name, lang, y0, y1), drop, only).set_index("theme")
            else:
                p, m = counts(name, drop)
                if only is not None:
                    m = m[m["theme"] == only]
                ratios[key] = rate_ratio(p, m[MATCH_KEY], [only] if only else themes, lang, y0, y1,
                                         boot).set_index("theme")
        return ratios[key]

    def excludes(v, up: bool) -> bool:
        return _excludes_one(v["ci_low"], v["ci_high"], up) if pd.notna(v["ci_low"]) else False

    out: dict = {"labels": labels, "themes": {}, "crosslingual": []}
    for lang in languages:
        rows = []
        for y0, y1 in theme_steps.get(lang, []):
            n_terms = {t.id: len(t.terms.get(lang, ())) + len(getattr(t, "entities", ())) for t in codebook}
            rows += _theme_rows((lang, y0, y1), (ratio, counts, excludes), n_terms, labels, documents, s)
        out["themes"][lang] = rows
    if crossling is not None and len(crossling):
        cross_matches = {**full_matches, "base": full_matches["base"][MATCH_KEY]}
        out["crosslingual"] = _crosslingual_findings(full_paras, cross_matches, crossling, codebook, documents, s)
    return out


def vocabulary_part(partials: Partials, tables: FindingsTables, languages,
                    settings: FindingsSettings | None = None, memo=None) -> dict:
    """The rows of the findings that do not read the codebook: each language's largest drift step
    (:func:`_drift_row`) and the phrases that rose most (:func:`_phrase_findings`,
    :func:`_phrase_paragraph_checks`) (the rule ``findings_vocabulary``; a codebook edit does not
    rerun it).

    Every row is computed within one language (its own matrices, rows of the tables and documents:
    :func:`_language_key`), so the languages are done one after the other, and with ``memo`` a
    language whose inputs are unchanged (after a document is added in the other language) is taken
    from it.

    Parameters
    ----------
    partials : Partials
        The ``base`` ``paras``, every variant's ``docs`` and the ``para_ngrams`` (``matches`` are
        not read).
    tables : FindingsTables
        ``documents``, ``drift`` and ``phrases`` (``crossling`` and ``precision`` are not read).
    languages : sequence of str
    settings : FindingsSettings, optional
        As in :func:`build_findings`.
    memo : textdrift.langmemo.LanguageMemo, optional
        The per-language memo (used only when every matrix of ``partials`` is a file).

    Returns
    -------
    dict
        ``{"drift": {lang: row}, "phrases": [row, ...]}`` (rows as :func:`_row` makes them).
    """
    s = settings or FindingsSettings()
    base_paras = partials.paragraphs("base")
    files = [*(p for v in partials.docs.values() for p in v), *(p for v in partials.para_ngrams.values() for p in v)]
    from textdrift.langmemo import for_files

    memo = for_files(memo, files)
    out: dict = {"drift": {}, "phrases": []}
    for lang in languages:
        key = _language_key(memo, partials, tables, base_paras, lang, s) if memo is not None else None
        part = memo.get(key) if memo is not None else None
        if isinstance(part, dict) and set(part) == {"drift", "phrases"}:
            log.info("%s: the drift and phrase rows kept in the memo (its matrices, rows of the tables and "
                     "documents, the settings and the code unchanged)", lang)
        else:
            part = _language_rows(partials, tables, base_paras, lang, s)
            if memo is not None:
                memo.put(key, part)
        if part["drift"] is not None:
            out["drift"][lang] = part["drift"]
        out["phrases"] += part["phrases"]
    if memo is not None:
        log.info(memo.finish())
    return out


def _language_rows(partials: Partials, tables: FindingsTables, base_paras: pd.DataFrame, lang: str,
                   s: FindingsSettings) -> dict:
    """One language's rows of :func:`vocabulary_part`: ``{"drift": row or None, "phrases": rows}``."""
    documents, drift, phrases = tables.documents, tables.drift, tables.phrases
    # the drift checks need every year, as unigram counts per document (a year = the sum of its
    # documents, so leaving one out is a subtraction): the unigram columns of the document matrices
    # the phrase checks load (the same matrices as merging the shards' unigram columns), else read
    unigrams: dict = {}
    phrase_rows = (_phrase_findings(partials, base_paras, phrases, documents, [lang], s, unigrams)
                   if phrases is not None and len(phrases) else [])

    def unigram_docs(name: str, lang: str):
        if (name, lang) not in unigrams:
            unigrams[(name, lang)] = partials.doc_counts(name, lang, unigrams=True)
        return unigrams[(name, lang)]

    d = drift[drift["lang"] == lang]
    row = _drift_row(d, lang, partials, unigram_docs, base_paras, documents, s) if len(d) else None
    unigrams.clear()
    if phrase_rows:
        phrase_rows = _phrase_paragraph_checks(phrase_rows, partials, s.phrase_settings or {})
    return {"drift": row, "phrases": phrase_rows}


def _frame_digest(df: pd.DataFrame | None) -> str | None:
    """Digest of a table's column names, types and values, row by row in order
    (:func:`textdrift.memo.frame_bytes`)."""
    import hashlib

    from textdrift.memo import frame_bytes

    return None if df is None else hashlib.blake2b(frame_bytes(df), digest_size=20).hexdigest()


def _language_key(memo, partials: Partials, tables: FindingsTables, base_paras: pd.DataFrame, lang: str,
                  s: FindingsSettings) -> str:
    """The memo key of one language's rows (:func:`_language_rows`): exactly what they read. The
    SHA-256 of the language's document matrix files of every variant and of its paragraph n-gram
    files, shard by shard (:func:`textdrift.vectorize.save_matrix` writes a matrix's bytes alone);
    the digest (:func:`_frame_digest`) of its rows of the kept tokens per paragraph (``paras-*``
    files hold both languages), of ``tfidf_drift.csv`` and of ``phrase_changes.csv``; of the rows
    of ``documents.csv`` of the documents with kept tokens in it (the steps' sides, their genres
    and translation status: :func:`textdrift.manifest.step_documents`, :func:`_row`); the settings
    (but the cross-language ones, which this part does not read), the language, and the job and
    code with the versions of the numerical packages, scikit-learn's among them (the drift checks'
    TF-IDF: :meth:`textdrift.langmemo.LanguageMemo.key`, :func:`textdrift.memo.code_digest`)."""
    from dataclasses import asdict

    documents, drift, phrases = tables.documents, tables.drift, tables.phrases
    col = f"tokens_{lang}"
    ids = set(documents.loc[documents[col] > 0, "doc_id"].astype(str)) if col in documents else set()
    own_docs = documents[documents["doc_id"].astype(str).isin(ids)].reset_index(drop=True)
    settings = {k: v for k, v in asdict(s).items() if k != "cross_settings"}
    return memo.key(
        lang=lang, settings=settings,
        docs={f"{v}": [memo.sha(p) for p in paths] for (v, lg), paths in sorted(partials.docs.items()) if lg == lang},
        para_ngrams=[memo.sha(p) for p in partials.para_ngrams.get(lang, [])],
        paras=_frame_digest(base_paras[(base_paras["lang"] == lang).to_numpy()].reset_index(drop=True)),
        drift=_frame_digest(drift[(drift["lang"] == lang).to_numpy()].reset_index(drop=True)),
        phrases=(None if phrases is None or not len(phrases) else
                 _frame_digest(phrases[(phrases["lang"] == lang).to_numpy()].reset_index(drop=True))),
        documents=_frame_digest(own_docs))


def assemble_findings(themes: dict, vocabulary: dict, precision: pd.DataFrame | None, languages,
                      settings: FindingsSettings | None = None) -> pd.DataFrame:
    """``findings.csv`` from the two parts (the rule ``findings``): per language its theme rows, then
    its drift row; then the phrase rows and the cross-language rows; the codebook's precision
    flagged (:func:`_flag_precision`), numbered, genre-matched steps first, then the survivors.

    Parameters
    ----------
    themes : dict
        :func:`theme_part`'s result.
    vocabulary : dict
        :func:`vocabulary_part`'s result.
    precision : DataFrame or None
        ``codebook_precision.csv``.
    languages : sequence of str
    settings : FindingsSettings, optional
        ``min_precision`` and ``min_coded``.

    Returns
    -------
    DataFrame
        ``FINDING_COLUMNS``.
    """
    s = settings or FindingsSettings()
    rows: list = []
    for lang in languages:
        rows += themes["themes"].get(lang, [])
        if lang in vocabulary["drift"]:
            rows.append(vocabulary["drift"][lang])
    rows += vocabulary["phrases"] + themes["crosslingual"]
    df = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    df = _flag_precision(df, precision, themes["labels"], s.min_precision, s.min_coded)
    df["finding"] = range(1, len(df) + 1)
    # like with like first (a step between documents of the same genres), then the survivors
    df["_same"] = (df["genre_match"] == "same") & (df["kind"] != "crosslingual_gap")  # a gap is not a step
    df = df.sort_values(["_same", "survives", "finding"], ascending=[False, False, True], kind="stable")
    return df.drop(columns="_same").reset_index(drop=True)


def _leave_out(p: pd.DataFrame, m: pd.DataFrame, drop) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kept tokens per paragraph ``p`` and theme matches ``m`` with ``drop`` left out: None (nothing),
    a doc_id, a ("para", doc_id, para) or a ("term", term) (matching is per paragraph: leaving a
    document, a paragraph or a term out only removes rows)."""
    if drop is None:
        return p, m
    if isinstance(drop, tuple) and drop[0] == "para":
        keep_p = ~((p["doc_id"] == drop[1]) & (p["para"] == drop[2]))
        keep_m = ~((m["doc_id"] == drop[1]) & (m["para"] == drop[2]))
        return p[keep_p], m[keep_m]
    if isinstance(drop, tuple) and drop[0] == "term":
        return p, m[m["term"] != drop[1]]
    return p[p["doc_id"] != drop], m[m["doc_id"] != drop]


class _StepRatios:
    """:func:`rate_ratio` for the many variants of one step that the theme checks ask for (every
    theme; one theme; one theme with a codebook term left out), equal to it number for number
    (same units, same counts per unit, same quasi-Poisson fits, :func:`textdrift.themes.step_ratios`),
    without regrouping the step's paragraphs for each: the units of a (variant, language, years,
    document or paragraph left out) are built once (:func:`textdrift.themes.year_units`) with the unit of each
    match; a theme's counts per unit are then a ``bincount`` of its matches, and a fit is done
    once per distinct (year, counts per unit) (:func:`textdrift.stats.quasi_poisson_rate`).

    ``counts``: the ``counts(name, drop)`` function of :func:`findings_table` (kept tokens per
    paragraph and theme matches of a variant, with a document or paragraph left out); ``themes``:
    the codebook's theme ids, in row order; ``settings``: :meth:`FindingsSettings.themes`.
    """

    def __init__(self, counts, themes: list[str], settings: ThemesSettings):
        if settings.ci != "quasi-poisson":  # the findings' checks use the schema's default interval
            raise ValueError(f"_StepRatios computes quasi-Poisson intervals, not {settings.ci!r}")
        self.counts, self.themes, self.s = counts, list(themes), settings
        self.steps: dict = {}
        self.frames: dict = {}
        self.units: dict = {}  # the whole step's units per year: (unit, keys, kept tokens), for _without
        self.arrays: dict = {}
        self.fits: dict = {}

    def _rows(self, name: str, lang: str, y0: int, y1: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The step's rows (kept tokens per paragraph, theme matches): each leave-out filters those."""
        where = (name, lang, y0, y1)
        if where not in self.frames:
            p, m = self.counts(name, None)
            self.frames[where] = (
                p[(p["lang"] == lang) & p["year"].isin([y0, y1])],
                m[(m["lang"] == lang) & m["year"].isin([y0, y1]) & m["theme"].isin(self.themes)])
        return self.frames[where]

    def _step(self, name: str, lang: str, y0: int, y1: int, drop) -> dict:
        key = (name, lang, y0, y1, drop)
        if key not in self.steps:
            st = None if drop is None else self._without(name, lang, y0, y1, drop)
            if st is None:
                p, m = _leave_out(*self._rows(name, lang, y0, y1), drop)
                st = self._build(p, m, y0, y1, drop is None, (name, lang, y0, y1) if drop is None else None)
            self.steps[key] = st
        return self.steps[key]

    def _build(self, p: pd.DataFrame, m: pd.DataFrame, y0: int, y1: int, with_term: bool, keep_units) -> dict:
        """A step's tokens, units and the unit, year, theme (and, ``with_term``, term) of each match;
        ``keep_units``: the step's key under which its units and arrays are kept for
        :meth:`_without` (the step without anything left out)."""
        t = p.groupby("year")["keep"].sum()
        tokens = (int(t.get(y0, 0)), int(t.get(y1, 0)))
        # kept for every leave-out the checks ask for: compact (years, units and themes in 32 bits)
        years = np.asarray(m["year"].to_numpy(), dtype=np.int32)
        unit_of = np.full(len(m), -1, dtype=np.int32)  # a match's unit in its year (-1: none)
        units: dict = {}
        built = {}
        if tokens[0] > 0 and tokens[1] > 0:
            for (year, _), (use, keys, tok) in year_units(p, self.s.bootstrap_unit, self.s.min_documents).items():
                at = np.flatnonzero(years == year)
                mine = m.iloc[at]
                if len(mine):
                    unit_of[at] = tok.index.get_indexer(
                        pd.MultiIndex.from_frame(mine[keys]) if len(keys) > 1 else mine[keys[0]])
                units[year] = tok.to_numpy(dtype=float)
                built[year] = (use, keys, tok)
        codes, uniques = pd.factorize(m["theme"])  # the distinct themes looked up, not every match
        theme_of = np.where(codes >= 0, pd.Index(self.themes).get_indexer(uniques)[codes] if len(uniques)
                            else -1, -1).astype(np.int32)
        # only the step without a document or paragraph left out is asked for a term left out
        term = m["term"].astype(str).to_numpy(dtype=object) if "term" in m and with_term else None
        if keep_units is not None:
            self.units[keep_units] = built
        return {"tokens": tokens, "units": units, "year": years, "unit": unit_of, "theme": theme_of, "term": term}

    def _arrays(self, where: tuple) -> dict:
        """The step's paragraphs and matches as arrays (documents as integer codes shared by both)."""
        if where not in self.arrays:
            p, m = self._rows(*where)
            codes, docs = pd.factorize(pd.concat([p["doc_id"], m["doc_id"]], ignore_index=True).astype(str))
            self.arrays[where] = {
                "doc": {d: i for i, d in enumerate(docs)}, "p_doc": codes[:len(p)], "m_doc": codes[len(p):],
                "p_para": p["para"].to_numpy(dtype=np.int64), "m_para": m["para"].to_numpy(dtype=np.int64),
                "p_year": p["year"].to_numpy(dtype=np.int64), "p_keep": p["keep"].to_numpy(dtype=np.int64)}
        return self.arrays[where]

    def _without(self, name: str, lang: str, y0: int, y1: int, drop) -> dict | None:
        """The step with a document (``drop``: its doc_id) or a paragraph (``("para", doc_id, para)``)
        left out, derived from the whole step's units instead of regrouping the paragraphs: the
        same numbers as :meth:`_build` of the rows :func:`_leave_out` keeps (tested).

        Leaving a document or a paragraph out removes its kept tokens from its year (integer sums,
        so the exact difference), removes its units (every unit lies inside one document: a
        document, or one of its paragraphs), or, when the units are documents and a paragraph is
        left out, lowers its document's kept tokens (the unit is dropped at 0, as :func:`year_units`
        drops units without kept tokens); the units that stay keep their order, so a match's unit
        is its unit's place among those. None (then :meth:`_build` regroups) for a term left out, or
        when ``bootstrap_unit: auto`` would choose the other unit for a year once the document is
        gone (it has fewer than ``min_documents`` documents with kept tokens)."""
        if isinstance(drop, tuple) and drop[0] != "para":
            return None
        where = (name, lang, y0, y1)
        full = self._step(name, lang, y0, y1, None)
        a = self._arrays(where)
        doc, para = (drop[1], int(drop[2])) if isinstance(drop, tuple) else (drop, None)
        code = a["doc"].get(str(doc), -1)
        gone_p = a["p_doc"] == code
        gone_m = a["m_doc"] == code
        if para is not None:
            gone_p &= a["p_para"] == para
            gone_m &= a["m_para"] == para
        stay_m = ~gone_m
        lost = {y: int(a["p_keep"][gone_p & (a["p_year"] == y)].sum()) for y in (y0, y1)}
        tokens = (full["tokens"][0] - lost[y0], full["tokens"][1] - lost[y1])
        years = full["year"][stay_m]
        unit_of = np.full(len(years), -1, dtype=np.int32)
        units: dict = {}
        if tokens[0] > 0 and tokens[1] > 0:
            full_unit = full["unit"][stay_m]
            for year, (use, keys, tok) in self.units[where].items():
                here = a["p_year"] == year
                positive = here & (a["p_doc"] == code) & (a["p_keep"] > 0)
                n_docs = int(pd.unique(a["p_doc"][here & (a["p_keep"] > 0)]).size)
                if positive.any() and not (positive & ~gone_p).any():
                    n_docs -= 1  # the document has no kept token left in the year
                unit = self.s.bootstrap_unit
                if (unit if unit != "auto" else ("document" if n_docs >= self.s.min_documents else "paragraph")) != use:
                    return None
                index = tok.index
                doc_of = np.asarray(index.get_level_values(0) if len(keys) > 1 else index, dtype=object) == str(doc)
                values = tok.to_numpy()
                if len(keys) > 1 and para is not None:
                    stays = ~(doc_of & (np.asarray(index.get_level_values(1)) == para))
                elif para is not None:  # documents as units: the paragraph's kept tokens come off its document
                    values = values - np.where(doc_of, int(a["p_keep"][gone_p & here].sum()), 0)
                    stays = values > 0
                else:
                    stays = ~doc_of
                units[year] = values[stays].astype(float)
                place = np.where(stays, np.cumsum(stays) - 1, -1).astype(np.int32)
                at = years == year
                unit_of[at] = np.where(full_unit[at] >= 0, place[np.maximum(full_unit[at], 0)], -1)
        return {"tokens": tokens, "units": units, "year": years, "unit": unit_of, "theme": full["theme"][stay_m],
                "term": None}

    def _fit(self, P: np.ndarray, t: np.ndarray) -> tuple:
        import hashlib

        from textdrift.stats import quasi_poisson_rate

        key = (hashlib.sha1(t.tobytes()).digest(), hashlib.sha1(P.tobytes()).digest())  # the fit's inputs
        if key not in self.fits:
            self.fits[key] = quasi_poisson_rate(P, t)
        return self.fits[key]

    def ratio(self, where: tuple, drop=None, only: str | None = None) -> pd.DataFrame:
        """:func:`rate_ratio` of every theme (``only``: of that theme) of variant ``where[0]`` from
        year ``where[2]`` to ``where[3]`` of language ``where[1]``; ``drop``: None, a doc_id, a
        ("para", doc_id, para) or a ("term", term) left out."""
        from textdrift.stats import rate_ratio_ci

        name, lang, y0, y1 = where
        term = drop[1] if isinstance(drop, tuple) and drop[0] == "term" else None
        st = self._step(name, lang, y0, y1, None if term is not None else drop)
        themes = [only] if only is not None else self.themes
        sel = np.ones(len(st["year"]), dtype=bool)
        if term is not None:
            sel &= st["term"] != term
        idx = [self.themes.index(th) for th in themes]
        count = {y: [int(((st["year"] == y) & sel & (st["theme"] == i)).sum()) for i in idx] for y in (y0, y1)}
        if not (st["tokens"][0] > 0 and st["tokens"][1] > 0):
            rows = pd.DataFrame({"theme": themes})
            rows["count_from"], rows["count_to"] = count[y0], count[y1]
            rows["tokens_from"], rows["tokens_to"] = st["tokens"]
            rows["rate_ratio"] = rows["ci_low"] = rows["ci_high"] = np.nan
            rows["change"] = "undefined"
            return rows[["theme", "count_from", "count_to", "tokens_from", "tokens_to", "rate_ratio", "change",
                         "ci_low", "ci_high"]]
        sides = []
        for y, tokens in ((y0, st["tokens"][0]), (y1, st["tokens"][1])):
            t = st["units"][y]
            here = sel & (st["year"] == y) & (st["unit"] >= 0)
            disp = []
            for i in idx:
                P = np.bincount(st["unit"][here & (st["theme"] == i)], minlength=len(t)).astype(float)
                disp.append(self._fit(P, t)[2])
            # the side textdrift.themes.step_ratios reads from a theme_frequencies row (count, tokens,
            # dispersion, ci_units - 1 as floats), built as arrays: no frame per side
            n = len(themes)
            sides.append((np.array(count[y], dtype=np.int64).astype(float), np.full(n, float(np.int64(tokens))),
                          np.array(disp, dtype=float), np.full(n, float(len(t)) - 1)))
        rr, low, high, change = rate_ratio_ci(sides[0], sides[1], self.s.conf_level)
        # one frame built at once (the columns of rate_ratio, in its order), not column by column
        return pd.DataFrame({"theme": themes, "count_from": count[y0], "count_to": count[y1],
                             "tokens_from": st["tokens"][0], "tokens_to": st["tokens"][1],
                             "rate_ratio": rr, "change": np.asarray(change, dtype=object), "ci_low": low,
                             "ci_high": high})


def _theme_rows(where, fns, n_terms, labels, documents, settings: FindingsSettings) -> list[dict]:
    """The ``top_themes`` themes that rose and fell most from ``y0`` to ``y1`` in ``lang``
    (``where`` = (lang, y0, y1)), with their checks (see the module docstring); ``fns``: the
    (ratio, counts, excludes) functions of :func:`findings_table`; ``n_terms``: {theme: codebook
    terms (and entities) in ``lang``}."""
    from textdrift.manifest import step_documents

    lang, y0, y1 = where
    ratio, counts, excludes = fns
    s = settings
    top_themes, conf, loo_max, low_data_tokens = s.top_themes, s.conf_level, s.loo_max, s.low_data_tokens

    base = ratio("base", lang, y0, y1).copy()
    base["change"] = (base["count_to"] / base["tokens_to"] - base["count_from"] / base["tokens_from"]) * 1e4
    rose = base[base["change"] > 0].sort_values("change", ascending=False, kind="stable").head(top_themes)
    fell = base[base["change"] < 0].sort_values("change", kind="stable").head(top_themes)
    step = step_documents(pd.DataFrame({"lang": [lang], "year_from": [y0], "year_to": [y1]}), documents).iloc[0]
    side_docs = [d for d in f"{step['docs_from']};{step['docs_to']}".split(";") if d]
    one_doc = _one_document_side(step)
    paras, matches = counts("base")
    paras = paras[(paras["lang"] == lang) & paras["year"].isin([y0, y1])]
    in_step = matches[(matches["lang"] == lang) & matches["year"].isin([y0, y1])]
    tokens = {y0: int(base["tokens_from"].iloc[0]), y1: int(base["tokens_to"].iloc[0])}
    low = [f"{y}: {n} kept tokens" for y, n in tokens.items() if n < low_data_tokens]
    untested = (f"a year is under low_data_tokens ({'; '.join(low)} < {low_data_tokens}): the step is not tested"
                if low else "")
    out = []
    for up, chosen in ((True, rose), (False, fell)):
        for theme, r in chosen.iterrows():
            checks, details = {}, {}
            for name in ("roles", "entities"):
                checks[f"check_{name}"] = excludes(ratio(name, lang, y0, y1, only=theme).loc[theme], up)
            pl, pu = poisson_ratio_ci(r["count_from"], r["count_to"], r["tokens_from"], r["tokens_to"], conf)
            checks["check_interval"] = _excludes_one(pl, pu, up)
            mine = in_step[in_step["theme"] == theme]
            if one_doc:
                checks["check_leave_one_out"] = None  # n/a (_row says why)
                worst = _worst_paragraph(paras, mine, y0, y1, up)
                if worst is None:
                    checks["check_leave_one_paragraph_out"] = na("a year is a single paragraph")
                else:
                    v = ratio("base", lang, y0, y1, ("para", *worst), only=theme).loc[theme]
                    checks["check_leave_one_paragraph_out"] = excludes(v, up)
                    details["check_leave_one_paragraph_out"] = (
                        f"without paragraph {worst[1]} of {worst[0]}: " +
                        (f"rate ratio {_fmt(v['rate_ratio'])} [{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}]"
                         if pd.notna(v["rate_ratio"]) else "no match of the theme left"))
            else:
                weight = mine["doc_id"].value_counts()
                heavy = sorted(side_docs, key=lambda d: (-int(weight.get(d, 0)), d))[:loo_max]
                checks["check_leave_one_out"] = all(excludes(ratio("base", lang, y0, y1, d, only=theme).loc[theme], up)
                                                    for d in heavy)
                checks["check_leave_one_paragraph_out"] = None
            terms = _adverse_terms(paras, mine, y0, y1, up)[:loo_max]
            if n_terms.get(theme, 0) < 2:
                checks["check_leave_one_term_out"] = na(f"the theme has one codebook term in {lang}")
            elif not terms:
                checks["check_leave_one_term_out"] = na("no match of the theme in either year")
            else:
                # the most adverse term first; stop at the first that overturns the claim
                bad = next(([t] for t in terms
                            if not excludes(ratio("base", lang, y0, y1, ("term", t), only=theme).loc[theme], up)), [])
                checks["check_leave_one_term_out"] = not bad
                if bad:
                    details["check_leave_one_term_out"] = (
                        f"without “{bad[0]}” the interval includes 1" +
                        ("; every match of the theme is of that term" if mine["term"].nunique() == 1 else ""))
            holds = excludes(r, up) and not untested
            out.append(_row(_Claim(
                "theme_change", lang, theme, f"{labels[theme]} {'rose' if up else 'fell'} ({lang}, {y0} → {y1})",
                y0, y1, "rate_ratio", r["count_from"] / r["tokens_from"] * 1e4,
                r["count_to"] / r["tokens_to"] * 1e4, r["rate_ratio"], r["ci_low"], r["ci_high"], holds,
                holds_reason=untested, details=details), checks, step, documents))
    return out


def _fmt(x) -> str:
    return "inf" if np.isinf(x) else "nan" if pd.isna(x) else f"{x:.2f}"


def _rate_after(paras: pd.DataFrame, mine: pd.DataFrame, y0: int, y1: int, by: list[str]) -> pd.DataFrame:
    """Per group ``by`` of the matches and paragraphs: the rate difference (per kept token) from
    ``y0`` to ``y1`` after leaving the group out."""
    c = mine.groupby("year").size()
    t = paras.groupby("year")["keep"].sum()
    c0, c1, t0, t1 = int(c.get(y0, 0)), int(c.get(y1, 0)), int(t.get(y0, 0)), int(t.get(y1, 0))
    mg = mine.groupby(["year", *by]).size().rename("m")
    tg = paras.groupby(["year", *by])["keep"].sum().rename("t") if set(by) <= set(paras.columns) else None
    g = pd.concat([mg, tg], axis=1).fillna(0) if tg is not None else mg.to_frame().assign(t=0)
    g = g.reset_index()
    in1 = (g["year"] == y1).to_numpy()
    m_, t_ = g["m"].to_numpy(float), g["t"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(in1, c0 / t0 if t0 else np.nan, (c0 - m_) / (t0 - t_))
        r1 = np.where(in1, (c1 - m_) / (t1 - t_), c1 / t1 if t1 else np.nan)
    return g.assign(diff=r1 - r0)


def _worst_paragraph(paras, mine, y0, y1, up) -> tuple | None:
    """(doc_id, para) of the paragraph of the two years whose removal moves the rate difference most
    against the claim (down for a rise, up for a fall); None when a year is one paragraph."""
    if (paras.groupby("year").size() < 2).any():
        return None
    g = _rate_after(paras, mine, y0, y1, ["doc_id", "para"]).dropna(subset=["diff"])
    if g.empty:
        return None
    g = g.sort_values(["diff", "doc_id", "para"], ascending=[up, True, True], kind="stable")
    return str(g["doc_id"].iloc[0]), int(g["para"].iloc[0])


def _adverse_terms(paras, mine, y0, y1, up) -> list[str]:
    """The codebook terms that matched the theme in the two years, the one whose removal moves the
    rate difference most against the claim first."""
    if mine.empty:
        return []
    g = _rate_after(paras, mine, y0, y1, ["term"])
    g = g.groupby("term")["diff"].min() if up else g.groupby("term")["diff"].max()
    return [str(t) for t in g.sort_values(ascending=up, kind="stable").index]


def _drift_row(d: pd.DataFrame, lang: str, partials: Partials, unigram_docs, base_paras: pd.DataFrame,
               documents: pd.DataFrame, settings: FindingsSettings) -> dict:
    """The row of a language's largest drift step (``tfidf_drift.csv`` rows ``d``): it holds when no
    year is low data and the permutation test rejects (``p_permutation <= settings.drift_alpha``)."""
    from textdrift.manifest import step_documents

    tfidf, loo_max, alpha = settings.tfidf, settings.loo_max, settings.drift_alpha

    best = d.loc[d["cosine_distance"].astype(float).idxmax()]
    y0, y1 = int(best["year_from"]), int(best["year_to"])
    low = str(best["low_data"]).lower() in ("true", "1")
    p = float(best["p_permutation"]) if "p_permutation" in best and pd.notna(best["p_permutation"]) else np.nan
    unit = str(best.get("permutation_unit", "") or "")
    holds = (not low) and not np.isnan(p) and p <= alpha
    checks: dict = {"check_interval": None, "check_leave_one_term_out": None}
    target = (y0, y1)
    for name in ("roles", "entities"):
        checks[f"check_{name}"] = _largest_step(unigram_docs(name, lang), tfidf) == target
    bstep = step_documents(pd.DataFrame({"lang": [lang], "year_from": [y0], "year_to": [y1]}), documents).iloc[0]
    docs = [x for x in f"{bstep['docs_from']};{bstep['docs_to']}".split(";") if x]
    details = {}
    if _one_document_side(bstep):
        checks["check_leave_one_out"] = None
        moved = _drift_paragraph_check(partials, unigram_docs("base", lang), lang, y0, y1, tfidf, loo_max)
        if moved is None:
            checks["check_leave_one_paragraph_out"] = na("no paragraph counts for the two years")
        elif moved == "single":
            checks["check_leave_one_paragraph_out"] = na("a year is a single paragraph")
        else:
            checks["check_leave_one_paragraph_out"] = not moved
            if moved:
                details["check_leave_one_paragraph_out"] = f"without paragraph {moved[1]} of {moved[0]}"
    else:
        size = base_paras[base_paras["lang"] == lang].groupby("doc_id")["keep"].sum()
        docs = sorted(docs, key=lambda x: (-int(size.get(x, 0)), x))[:loo_max]
        checks["check_leave_one_out"] = all(_largest_step(unigram_docs("base", lang), tfidf, drop=x) == target
                                            for x in docs)
        checks["check_leave_one_paragraph_out"] = None
    if low:
        reason = "a year is under low_data_tokens: the step is not tested"
    elif np.isnan(p):
        reason = "no permutation test of the step (a side has no paragraph with text)"
    else:
        reason = f"permutation p = {p:.3g} > {alpha:g} ({unit}s permuted)"
        p_min = float(best["p_min"]) if "p_min" in best and pd.notna(best["p_min"]) else 0.0
        if p_min > alpha:
            reason += f"; the design cannot reach {alpha:g} (smallest possible p = {p_min:.3g})"
    notes = []
    if not np.isnan(p) and (holds or low):
        n_perm = best.get("permutations", 0)
        notes.append(f"permutation p = {p:.3g} ({unit}s permuted, {int(n_perm) if pd.notna(n_perm) else 0} splits)")
    if unit == "paragraph" and not np.isnan(p):
        notes.append("paragraphs permuted (a year has fewer than permutation_min_documents documents): the test "
                     "contrasts documents")
    return _row(_Claim("drift_step", lang, "vocabulary", f"largest vocabulary drift ({lang}, {y0} → {y1})", y0, y1,
                       "cosine_distance", np.nan, np.nan, float(best["cosine_distance"]), np.nan, np.nan, bool(holds),
                       holds_reason="" if holds else reason, details=details, notes=tuple(notes)),
                checks, bstep, documents)


def _drift_paragraph_check(partials: Partials, docs, lang: str, y0: int, y1: int, tfidf: dict | None,
                           loo_max: int) -> tuple | str | None | bool:
    """Leave-one-paragraph-out for a drift step: each of the ``loo_max`` longest paragraphs of the two
    years (kept unigrams of the ``base`` paragraph counts) is subtracted from its document in turn;
    returns False when the step stays the largest every time, the first (doc_id, para) after which
    it does not, "single" when a year is a single paragraph (not defined), or None without
    paragraph counts."""
    from textdrift.drift import on_vocabulary
    from textdrift.vectorize import merge_matrices

    parts = []
    for p in partials.para_ngrams.get(lang, []):
        m = _unigram_columns(_load_matrix(p))
        use = np.flatnonzero(m.rows["year"].isin([y0, y1]).to_numpy(dtype=bool))
        if len(use):
            parts.append(m.take(use))
    if not parts:
        return None
    para = merge_matrices(parts, ["year", "doc_id", "para"]) if len(parts) > 1 else parts[0]
    para = on_vocabulary(para, docs.vocab)
    size = np.asarray(para.X.sum(axis=1)).ravel()
    per_year = pd.Series(size > 0).groupby(para.rows["year"].to_numpy()).sum()
    if per_year.reindex([y0, y1]).fillna(0).min() < 2:
        return "single"
    order = sorted(range(len(size)), key=lambda i: (-size[i], str(para.rows["doc_id"].iloc[i]),
                                                     int(para.rows["para"].iloc[i])))[:loo_max]
    for i in order:
        key = (str(para.rows["doc_id"].iloc[i]), int(para.rows["para"].iloc[i]))
        if _largest_step(docs, tfidf, minus=(key[0], para.X[i])) != (y0, y1):
            return key
    return False


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


def phrase_ranking(step: pd.DataFrame, q_threshold: float = _D["phrases"]["q_threshold"]) -> str:
    """The ``ranking`` of one step of ``phrase_changes.csv``, as ``phrase_steps.csv`` states it
    (:data:`textdrift.phrases.RANKINGS`): ``insufficient`` when its phrases are ``insufficient``,
    ``test`` when one has q <= ``q_threshold``, else ``exploratory``.

    Parameters
    ----------
    step : DataFrame
        The rows of one step (language, year_from, year_to).
    q_threshold : float
        Config ``phrases.q_threshold``.

    Returns
    -------
    str
    """
    if len(step) and (step["status"] == "insufficient").all():
        return "insufficient"
    return "test" if len(step) and float(step["q"].min()) <= q_threshold else "exploratory"


def _phrase_findings(partials: Partials, base_paras: pd.DataFrame, phrases: pd.DataFrame, documents: pd.DataFrame,
                     languages, findings_settings: FindingsSettings, unigrams: dict | None = None) -> list[dict]:
    """Rows for the ``top_phrases`` phrases that rose most (largest z, more frequent in the later
    year; of at most ``ngram_max`` words, the longest n-grams the recount checks count) in each
    language's last step of ``phrase_changes.csv``. In an ``exploratory`` step (:func:`phrase_ranking`:
    no phrase reaches q <= ``q_threshold``) they are the first by ``effect_rank`` with a positive
    effect, the row's value is the ``effect`` (a log rate ratio) and its interval, the claim says
    "exploratory, not a called change", ``holds`` is False and the checks that ask whether the
    phrase is still new or rising are ``n/a`` (``check_interval`` is run). The checks recompute
    :func:`textdrift.phrases.phrase_changes` on the variant's year matrices (all years: the prior
    is the language's whole corpus, as in the table) and ask whether the phrase is still new or
    rising; ``check_interval`` resamples paragraphs (its rate ratio's bootstrap interval must exclude
    1); ``check_leave_one_out`` removes each of the (``loo_max``) documents with the most
    occurrences of the phrase from its year, prior included. ``base_paras``: the kept tokens per
    paragraph of every year. ``unigrams``, when given, receives the unigram columns of each
    (variant, language) document matrix loaded here (:func:`_unigram_columns`; the drift checks')."""
    from textdrift.manifest import step_documents
    from textdrift.phrases import PhraseVocabulary, phrase_changes, recount_changes
    from textdrift.counting import ENTITY_HEAD
    from textdrift.vectorize import SEP, CountMatrix, merge_matrices

    boot, top_phrases = findings_settings, findings_settings.top_phrases
    settings = findings_settings.phrase_settings or {}
    ps = {k: settings[k] for k in ("min_count", "alpha_0", "q_threshold", "ngram_max", "unspaced_languages",
                                   "min_tokens", "min_documents") if k in settings}
    rows: list[dict] = []
    doc_mats: dict = {}

    def docs_of(name: str, lang: str):
        if (name, lang) not in doc_mats:
            doc_mats.clear()  # one (variant, language) at a time: the languages are done one after the other
            doc_mats[(name, lang)] = partials.doc_counts(name, lang)
            if unigrams is not None and (name, lang) not in unigrams:
                unigrams[(name, lang)] = _unigram_columns(doc_mats[(name, lang)])
        return doc_mats[(name, lang)]

    results: dict = {}
    year_mats: dict = {}
    vocabularies: dict = {}  # (variant, language) -> its PhraseVocabulary, made once for its recomputations

    def recount(name: str, lang: str, years, m, y0: int, y1: int) -> pd.DataFrame:
        """phrase_changes of one step on ``years`` (units: the documents ``m``), the variant's
        vocabulary work done once (recount_changes; the same table)."""
        if (name, lang) not in vocabularies:
            vocabularies.clear()
            try:
                vocabularies[(name, lang)] = PhraseVocabulary.of(docs_of(name, lang).vocab)
            except ValueError:  # a repeated term: phrase_changes sums its columns each time
                vocabularies[(name, lang)] = None
        v = vocabularies[(name, lang)]
        if v is None or not v.owns(years.vocab):
            return phrase_changes(years, lang=lang, steps={(y0, y1)}, docs=m, **ps)
        # the year matrix's vocabulary is the documents' own array (_by_year, _by_year_without): owned by identity
        return recount_changes(CountMatrix(years.X, v.vocab, years.rows), v, ps, lang, {(y0, y1)}, m)

    def status(name: str, lang: str, phrase: str, y0: int, y1: int, drop: str | None = None) -> str | None:
        key = (name, lang, drop)
        if key not in results:
            m = docs_of(name, lang)
            years = None
            if drop is not None:
                keep = (m.rows["doc_id"] != drop).to_numpy(dtype=bool)
                if (name, lang) not in year_mats:  # the variant's year matrix, once; a document left out is subtracted
                    year_mats.clear()
                    year_mats[(name, lang)] = _by_year(m)
                years = _by_year_without(year_mats[(name, lang)], m, keep)
                m = m.take(keep)
            # the variant's documents are the test's units when both years have min_documents of them;
            # else the tokens (the variants have no paragraph n-gram counts)
            table = recount(name, lang, years if years is not None else _by_year(m), m, y0, y1)
            results[key] = table.set_index(["year_from", "year_to", "phrase"])["status"]
        return results[key].get((y0, y1, phrase))

    q_threshold = float(settings.get("q_threshold", _D["phrases"]["q_threshold"]))
    ngram_max = int(settings.get("ngram_max", _D["phrases"]["ngram_max"]))
    for lang in languages:
        p = phrases[phrases["lang"] == lang]
        if p.empty:
            continue
        y1 = int(p["year_to"].max())
        p = p[p["year_to"] == y1]
        y0 = int(p["year_from"].iloc[0])
        ranking = phrase_ranking(p, q_threshold)
        # the recount checks hold n-grams of at most ngram_max words (count_partials): a longer unit
        # would have no recount, so it is not a candidate
        up = p[((p["count_to"] / p["total_to"]) > (p["count_from"] / p["total_from"])).to_numpy()
               & (p["n"] <= ngram_max).to_numpy()]
        explore = ranking == "exploratory" and "effect_rank" in up
        if explore:  # nothing is called: the phrases ordered by their effect, the strongest rise first
            up = up[up["effect"] > 0]
            top = up.sort_values(["effect_rank", "phrase"], kind="stable").head(top_phrases)
        else:
            top = up.sort_values(["z", "phrase"], ascending=[False, True], kind="stable").head(top_phrases)
        if top.empty:
            continue
        longer = int(((p["n"] > ngram_max) & (p["z"] > 0)).sum())
        if longer:
            log.info("%s %d -> %d: %d rising phrase(s) of more than ngram_max = %d words are not candidate "
                     "findings (the recount checks count n-grams of at most ngram_max words)",
                     lang, y0, y1, longer, ngram_max)
        step = step_documents(pd.DataFrame({"lang": [lang], "year_from": [y0], "year_to": [y1]}), documents).iloc[0]
        side = [d for d in f"{step['docs_from']};{step['docs_to']}".split(";") if d]
        para_rows, para_counts = partials.occurrences(lang, [y0, y1], [str(x) for x in top["phrase"]])
        col = {str(t): i for i, t in enumerate(top["phrase"])}
        paras = base_paras[(base_paras["lang"] == lang) & base_paras["year"].isin([y0, y1])].reset_index(drop=True)
        # the interval check's rate ratios: every top phrase's occurrences as matches (theme = the
        # phrase) on units built once for the step (_StepRatios, equal to rate_ratio of each)
        names = [str(x) for x in top["phrase"]]
        occ_all = pd.concat([para_rows.loc[np.repeat(np.arange(len(para_counts)), para_counts[:, k]),
                                           ["year", "doc_id", "para"]].assign(lang=lang, theme=name)
                             for k, name in enumerate(names)], ignore_index=True)
        step_ratios = (_StepRatios(lambda name, drop=None: (paras, occ_all), names, boot.themes())
                       if len(set(names)) == len(names) and boot.themes().ci == "quasi-poisson" else None)

        def phrase_ratio(phrase: str, occ: pd.DataFrame) -> pd.Series:
            if step_ratios is None:
                return rate_ratio(paras, occ, [phrase], lang, y0, y1, boot.themes()).iloc[0]
            return step_ratios.ratio(("base", lang, y0, y1), None, phrase).iloc[0]

        for r in top.itertuples():
            phrase = str(r.phrase)
            insufficient = r.status == "insufficient"
            holds = r.status in RISING
            checks = {}
            if explore:  # a rank, not a called change: the checks that ask "still new or rising?" do not apply
                why = (f"exploratory ranking: no phrase of the step reaches q <= {q_threshold:g}, no change is "
                       "called to recheck")
                checks = {c: na(why) for c in ("check_roles", "check_entities", "check_leave_one_out")}
                counts = para_counts[:, col[phrase]]
                occ = para_rows.loc[np.repeat(np.arange(len(counts)), counts), ["year", "doc_id", "para"]]
                occ = occ.assign(lang=lang, theme=phrase).reset_index(drop=True)
                rr = phrase_ratio(phrase, occ)
                checks["check_interval"] = _excludes_one(rr["ci_low"], rr["ci_high"], True)
                rows.append(_row(_Claim(
                    "phrase_rise", lang, phrase, f"“{r.display}” ranked {int(r.effect_rank)} of the rising phrases "
                    f"by effect (exploratory, not a called change) ({lang}, {y0} → {y1})", y0, y1, "effect",
                    r.count_from / r.total_from * 1e4, r.count_to / r.total_to * 1e4,
                    float(r.effect), float(r.effect_low), float(r.effect_high), False,
                    holds_reason=f"exploratory: no phrase of the step reaches q <= {q_threshold:g} "
                                 f"(this one q = {r.q:.3g}); ranked by its effect (log rate ratio), not tested"),
                    checks, step, documents))
                continue
            # an insufficient step is not tested, under any variant: the recount checks do not apply
            checks["check_roles"] = None if insufficient else status("roles", lang, phrase, y0, y1) in RISING
            # a phrase with a name in it does not exist when names are words: not applicable
            checks["check_entities"] = (None if insufficient or any(w.startswith(ENTITY_HEAD) for w in phrase.split(SEP))
                                        else status("entities", lang, phrase, y0, y1) in RISING)
            # paragraphs resampled: the phrase's rate ratio from y0 to y1 (rate per kept token)
            counts = para_counts[:, col[phrase]]
            occ = para_rows.loc[np.repeat(np.arange(len(counts)), counts), ["year", "doc_id", "para"]]
            occ = occ.assign(lang=lang, theme=phrase).reset_index(drop=True)
            rr = phrase_ratio(phrase, occ)
            checks["check_interval"] = _excludes_one(rr["ci_low"], rr["ci_high"], True)
            by_doc = occ["doc_id"].value_counts()
            heavy = sorted(side, key=lambda d: (-int(by_doc.get(d, 0)), d))[:boot.loo_max]
            checks["check_leave_one_out"] = (None if insufficient else
                                             all(status("base", lang, phrase, y0, y1, d) in RISING for d in heavy)
                                             and not _one_document_side(step))
            # the log-odds' standard error (Monroe et al.), inflated by the phrase's dispersion between units
            sd = r.log_odds / r.z * np.sqrt(r.dispersion) if r.z else np.nan
            zq = normal_quantile(boot.conf_level)
            reason = ("a year is under low_data_tokens: the step is not tested" if insufficient else
                      f"q = {r.q:.3g} is above q_threshold" if not holds else "")
            rows.append(_row(_Claim(
                "phrase_rise", lang, phrase, f"“{r.display}” {'new' if r.count_from == 0 else 'rose'} ({lang}, "
                f"{y0} → {y1})", y0, y1, "log_odds",
                # per 10,000 n-grams of the phrase's order (total_from, total_to), not per 10,000 tokens
                r.count_from / r.total_from * 1e4, r.count_to / r.total_to * 1e4,
                float(r.log_odds), float(r.log_odds - zq * sd), float(r.log_odds + zq * sd), holds,
                holds_reason=reason), checks, step, documents))
    return rows


# ---- across languages ---------------------------------------------------------------------------


def _phrase_paragraph_checks(rows: list[dict], partials: Partials, settings: dict) -> list[dict]:
    """Leave-one-paragraph-out for the phrase rows whose step has a single document on a side
    (``design`` = ``documents``): the paragraph of the later year with the most occurrences of the
    phrase is subtracted from its document and the phrase test recomputed
    (:func:`textdrift.phrases.phrase_changes` on the ``base`` document counts, all years, the
    prior included, as :func:`_phrase_findings` does): is the phrase still new or rising? ``n/a``
    in an untested (low-data) step and when the later year is one paragraph. The rows of
    :func:`_phrase_findings` are patched (check, ``na_reason``, ``survives``, ``reason``)."""
    import scipy.sparse as sp

    from textdrift.drift import on_vocabulary
    from textdrift.phrases import phrase_changes
    from textdrift.vectorize import CountMatrix, merge_matrices

    ps = {k: settings[k] for k in ("min_count", "alpha_0", "q_threshold", "ngram_max", "unspaced_languages",
                                   "min_tokens") if k in settings}
    docs_of: dict = {}
    paras_of: dict = {}
    out = []
    for row in rows:
        row = dict(row)
        out.append(row)
        if row["kind"] != "phrase_rise" or row["design"] != "documents":
            continue
        col = "check_leave_one_paragraph_out"
        untested = "low_data_tokens" in str(row["reason"])
        lang, y0, y1, phrase = row["lang"], int(row["year_from"]), int(row["year_to"]), str(row["subject"])

        def set_na(why: str | None) -> None:
            """The check's entry of ``na_reason`` replaced by ``why`` (None: removed)."""
            parts = [p for p in str(row["na_reason"]).split("; ") if p and not p.startswith(col + ":")]
            row["na_reason"] = "; ".join([*parts, *([f"{col}: {why}"] if why else [])])

        if untested:
            set_na("not tested: a year is under low_data_tokens")
            continue
        if row["value_name"] == "effect":  # an exploratory rank: no change called to recheck
            set_na("exploratory ranking: no change is called to recheck")
            continue
        para_rows, counts = partials.occurrences(lang, [y0, y1], [phrase])
        later = np.flatnonzero(para_rows["year"].to_numpy() == y1)
        if len(later) < 2:
            set_na("the later year is a single paragraph")
            continue
        j = int(later[np.argmax(counts[later, 0])])
        doc, para = str(para_rows["doc_id"].iloc[j]), int(para_rows["para"].iloc[j])
        if lang not in docs_of:
            docs_of.clear()
            paras_of.clear()
            docs_of[lang] = partials.doc_counts("base", lang)
            parts = [_load_matrix(p) for p in partials.para_ngrams.get(lang, [])]
            parts = [m for m in parts if len(m.rows)]
            merged = merge_matrices(parts, ["year", "doc_id", "para"]) if len(parts) > 1 else parts[0]
            paras_of[lang] = on_vocabulary(merged, docs_of[lang].vocab)
        m, pm = docs_of[lang], paras_of[lang]
        at = np.flatnonzero(((pm.rows["year"] == y1) & (pm.rows["doc_id"].astype(str) == doc)
                             & (pm.rows["para"] == para)).to_numpy())
        d_at = np.flatnonzero((m.rows["doc_id"].astype(str) == doc).to_numpy())
        if not len(at) or not len(d_at):
            set_na("the paragraph's counts are missing")
            continue
        minus = sp.csr_matrix((pm.X[at[0]].toarray().ravel()[None, :] * (np.arange(m.X.shape[0]) == d_at[0])[:, None]))
        rows_ = m.rows.copy()
        if "tokens" in rows_ and "tokens" in pm.rows:
            rows_.loc[rows_.index[d_at[0]], "tokens"] -= int(pm.rows["tokens"].iloc[at[0]])
        sub = CountMatrix((m.X - minus).tocsr(), m.vocab, rows_)
        table = phrase_changes(_by_year(sub), lang=lang, steps={(y0, y1)}, **ps)
        st = table.set_index(["year_from", "year_to", "phrase"])["status"].get((y0, y1, phrase))
        set_na(None)
        if st in RISING:
            row[col] = HOLDS
        else:
            row[col] = FAILS
            row["survives"] = False
            row["reason"] = "; ".join(x for x in (row["reason"], f"fails the check: a paragraph left out (without "
                                                  f"paragraph {para} of {doc}: {st or 'not tested'})") if x)
    return out


def _crosslingual_findings(paras: dict, matches: dict, table: pd.DataFrame, codebook, documents: pd.DataFrame,
                           findings_settings: FindingsSettings) -> list[dict]:
    """Rows for the ``top`` strongest cross-language gaps (``crosslingual_themes.csv`` rows of the
    comparable documents with unequal counts, smallest p first, then the largest |log count
    ratio|, significant or not): a theme counted more in the aligned paragraph pairs of one language
    version of a document than in the other's. The value is the count ratio a / b with its exact
    interval (:func:`textdrift.crosslingual.count_tests`); it holds when its status says so (BH
    q <= ``q_threshold``) and neither version's aligned text is low data. A document whose two
    versions are not comparable (a lead against a full text) yields no row.

    The checks recount the aligned pairs (``settings["alignment"]``: ``crosslingual_alignment.csv``,
    a path or a DataFrame) under the variants (:func:`textdrift.crosslingual.compare_themes` over
    every comparable document: same status?); ``check_interval`` resamples the document's aligned
    pairs (:func:`textdrift.crosslingual.pair_bootstrap`: the percentile interval of the count
    ratio must exclude 1 on the claimed side: mentions cluster in pairs); leaving a document out
    does not apply (a gap is within one document). Without an alignment the three checks are not
    run (None). ``paras`` is unused (the counts are not divided by tokens); ``matches``: each
    variant's theme matches, every year."""
    from textdrift.crosslingual import compare_themes, pair_bootstrap, pair_counts
    from textdrift.io import read_csv

    boot, settings, top = findings_settings, findings_settings.cross_settings or {}, findings_settings.top_themes
    a, b = settings.get("langs", _D["crosslingual"]["langs"])
    q_threshold = float(settings.get("q_threshold", _D["crosslingual"]["q_threshold"]))
    if "comparable" not in table:  # not a table of the aligned-pair comparison
        log.warning("crosslingual_themes.csv has no comparable column: no cross-language finding")
        return []
    comparable = table["comparable"].astype(str).str.lower().isin(["true", "1"])
    # a gap has a direction: equal counts are no gap, whatever their p
    gaps = table[comparable & table["p_value"].notna() & (table[f"count_{a}"] != table[f"count_{b}"])]
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.abs(np.log(gaps["count_ratio"].astype(float).to_numpy()))
    gaps = gaps.assign(_size=size).sort_values(["p_value", "_size", "doc_id", "theme"],
                                               ascending=[True, False, True, True], kind="stable").head(top)
    labels = {t.id: t.label("en") for t in codebook}
    align = settings.get("alignment")
    if isinstance(align, (str, Path)):
        align = read_csv(align, usecols=["doc_id", "pair", f"{a}_paras", f"{b}_paras", "paired"],
                         dtype={f"{a}_paras": str, f"{b}_paras": str})
    docs = table[["doc_id", "year", "pairs", "comparable", "note"]].drop_duplicates("doc_id")
    docs = docs.assign(comparable=comparable.loc[docs.index].to_numpy(), note=docs["note"].fillna(""))
    if align is not None:
        align = align[align["doc_id"].isin(docs.loc[docs["comparable"], "doc_id"])]
    recount: dict = {}

    def counts(name: str) -> pd.DataFrame:
        if name not in recount:
            m = matches[name]
            recount[name] = pair_counts(align, m[m["doc_id"].isin(align["doc_id"]) & m["lang"].isin([a, b])], (a, b))
        return recount[name]

    statuses: dict = {}

    def status(name: str, doc: str, theme: str) -> str | None:
        if name not in statuses:
            statuses[name] = compare_themes(counts(name), docs, codebook, (a, b), boot.conf_level,
                                            q_threshold).set_index(["doc_id", "theme"])["status"]
        return statuses[name].get((doc, theme))

    rows = []
    for r in gaps.itertuples():
        doc, theme = str(r.doc_id), str(r.theme)
        ya, yb = int(getattr(r, f"count_{a}")), int(getattr(r, f"count_{b}"))
        stronger, weaker = (a, b) if ya > yb else (b, a)
        claimed = f"{stronger}_more"
        checks = {"check_roles": None, "check_entities": None, "check_interval": None, "check_leave_one_out": None}
        if align is not None:
            checks["check_roles"] = status("roles", doc, theme) == claimed
            checks["check_entities"] = status("entities", doc, theme) == claimed
            # every aligned pair of the document, zeros included (a pair without the theme is drawn too)
            every = align.loc[align["doc_id"] == doc, "pair"].where(
                align.loc[align["doc_id"] == doc, "paired"].astype(str).str.lower().isin(["true", "1"])).dropna()
            c = counts("base")
            c = c[(c["doc_id"] == doc) & (c["theme"] == theme)].set_index("pair")[[f"count_{a}", f"count_{b}"]]
            c = c.reindex(every.astype(int).to_numpy(), fill_value=0)
            lo, hi = pair_bootstrap(c[f"count_{a}"], c[f"count_{b}"], boot.n_boot, boot.seed, boot.conf_level)
            checks["check_interval"] = _excludes_one(lo, hi, stronger == a)
        genre = documents.loc[documents["doc_id"] == doc, "genre"]
        g = str(genre.iloc[0]) if len(genre) and pd.notna(genre.iloc[0]) and str(genre.iloc[0]) else "unknown"
        step = {"docs_from": doc, "docs_to": doc, "genres_from": g, "genres_to": g,
                "genre_match": "same" if g != "unknown" else "unknown"}
        low = str(r.low_data).lower() in ("true", "1")
        holds = r.status == claimed and not low
        reason = ("a version's aligned text is under low_data_tokens" if low else
                  f"q = {r.q_value:.3g} is above q_threshold {q_threshold:g}" if r.status != claimed else "")
        rows.append(_row(_Claim(
            "crosslingual_gap", f"{a}|{b}", theme,
            f"{labels.get(theme, theme)} counted more in the {stronger} than in the {weaker} version ({doc}, "
            f"{int(r.pairs)} aligned paragraph pairs)",
            int(r.year), int(r.year), "count_ratio", float(ya), float(yb), float(r.count_ratio), float(r.ci_low),
            float(r.ci_high), holds, holds_reason=reason, langs=(a, b)), checks, step, documents))
    return rows


def _largest_step(docs, tfidf: dict | None, drop: str | None = None, minus: tuple | None = None
                  ) -> tuple[int, int] | None:
    """(year_from, year_to) of the largest cosine distance between consecutive years, from a
    per-document unigram matrix (``vectorize.doc_matrix``; rows lang, doc_id, year, tokens), the
    document ``drop`` left out, or ``minus`` = (doc_id, 1 x vocabulary counts) subtracted from that
    document (a paragraph left out) (TF-IDF as in ``tfidf_drift.csv``, fitted on the year-documents)."""
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
    tokens = np.asarray(S @ rows["tokens"].to_numpy(dtype=float)).astype("int64")
    if minus is not None:
        at = rows.index[(rows["doc_id"] == minus[0]).to_numpy()]
        if len(at):
            i = years.index(rows.loc[at[0], "year"])
            sub = sp.csr_matrix(minus[1])
            X = (X - sp.csr_matrix((sub.data, (np.full(sub.nnz, i), sub.indices)), shape=X.shape)).tocsr()
            X.eliminate_zeros()
            tokens[i] -= int(sub.sum())
    year_rows = pd.DataFrame({"lang": rows["lang"].iloc[0], "year": years, "tokens": tokens})
    d = drift_table(CountMatrix(X, docs.vocab, year_rows), 0, **(tfidf or {}))
    if d.empty:
        return None
    best = d.loc[d["cosine_distance"].astype(float).idxmax()]
    return int(best["year_from"]), int(best["year_to"])


def _one_document_side(step) -> bool:
    """Whether a side of a step (``docs_from``/``docs_to`` of :func:`textdrift.manifest.step_documents`)
    has a single document: a claim about that year then rests on one document."""
    return min(len([d for d in str(step[side]).split(";") if d]) for side in ("docs_from", "docs_to")) < 2


def na(reason: str) -> tuple[str, str]:
    """A check that is not defined for a finding, and why (a value of :func:`_row`'s ``checks``)."""
    return (NA, reason)


def _side_words(documents: pd.DataFrame, docs: str, year) -> str:
    """A side of a document contrast in words: ``doc_id (genre, year)``, or ``the n documents of
    year (id, id)``."""
    ids = [d for d in str(docs).split(";") if d]
    if len(ids) != 1:
        return f"the {len(ids)} documents of {year} ({', '.join(ids)})"
    g = documents.loc[documents["doc_id"].astype(str) == ids[0], "genre"] if "genre" in documents else pd.Series()
    genre = str(g.iloc[0]).replace("_", " ") if len(g) and pd.notna(g.iloc[0]) and str(g.iloc[0]) else "unknown genre"
    return f"{ids[0]} ({genre}, {year})"


# why a check is n/a, when the caller says only None (kind -> check -> reason; "*": any kind)
_NA_DEFAULT = {
    "drift_step": {"check_interval": "a drift step has no interval (the permutation test decides holds)",
                   "check_leave_one_term_out": "drift has no codebook terms"},
    "phrase_rise": {"check_leave_one_term_out": "a phrase is a single term"},
    "crosslingual_gap": {"check_leave_one_out": "a gap is within one document",
                         "check_leave_one_paragraph_out": "not run for cross-language gaps",
                         "check_leave_one_term_out": "not run for cross-language gaps"},
    "*": {"check_leave_one_paragraph_out": "both sides have several documents: leave-one-document-out is the check"},
}
_CHECK_NAMES = {"check_roles": "titles, headings and paratext counted", "check_entities": "names counted as words",
                "check_leave_one_out": "a document left out", "check_leave_one_paragraph_out": "a paragraph left out",
                "check_leave_one_term_out": "a codebook term left out"}


@dataclass(frozen=True)
class _Claim:
    """What a findings.csv row claims (:func:`_row`): its kind, language, subject and words, the years,
    the value with its interval, whether it holds (and why not, ``holds_reason``), and ``langs``,
    ``details``, ``notes`` as :func:`_row` describes."""

    kind: str
    lang: str
    subject: str
    claim: str
    y0: int
    y1: int
    value_name: str
    v_from: float
    v_to: float
    value: float
    low: float
    high: float
    holds: bool
    holds_reason: str = ""
    langs: tuple[str, str] | None = None
    details: dict | None = None
    notes: tuple[str, ...] = ()


def _row(c: _Claim, checks, step, documents) -> dict:
    """One findings.csv row, of the claim ``c``.

    ``checks``: {check column: value}, a value being True (``holds``), False (``fails``), None
    (``n/a``, the reason from :data:`_NA_DEFAULT`) or :func:`na` (``n/a`` with its reason); a check
    left out of the dict is ``n/a`` too. Whatever the caller says, leave-one-document-out is
    ``n/a`` ("the year is one document") when a side of a step has a single document; and in an
    untested (low-data) step every check the caller left None is ``n/a`` "not tested". ``langs``:
    the two languages of a cross-language finding (its two sides are one document's two versions).
    ``details``: {check column: words} added to the reason when that check fails; ``notes``: more
    caveats for the reason. A claim ending in ``(lang, y0 → y1)`` is reworded as a contrast of the
    named documents when a side is one document (``design`` = ``documents``; else ``years``;
    ``versions`` for a cross-language gap, two language versions of one document).
    """
    kind, lang, subject, claim, y0, y1 = c.kind, c.lang, c.subject, c.claim, c.y0, c.y1
    value_name, v_from, v_to, value, low, high, holds = c.value_name, c.v_from, c.v_to, c.value, c.low, c.high, c.holds
    holds_reason, langs, details, notes = c.holds_reason, c.langs, c.details, c.notes
    untested = "low_data_tokens" in str(holds_reason)
    one_doc = langs is None and _one_document_side(step)
    status, why_na = {}, []
    for check in CHECKS:
        v = checks.get(check)
        if check == "check_leave_one_out" and one_doc:
            sides = [f"{y} is one document ({step[s]})" for s, y in (("docs_from", y0), ("docs_to", y1))
                     if len([d for d in str(step[s]).split(";") if d]) == 1]
            v = na("the year is one document: " + "; ".join(sides))
        if isinstance(v, tuple):
            status[check] = NA
            why_na.append(f"{check}: {v[1]}")
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            status[check] = NA
            reason = (_NA_DEFAULT.get(kind, {}).get(check)
                      or ("not tested: a year is under low_data_tokens" if untested and check in checks else None)
                      or _NA_DEFAULT["*"].get(check, "not applicable"))
            if kind == "phrase_rise" and check == "check_entities" and not untested:
                reason = "the phrase contains a name (it does not exist when names are words)"
            why_na.append(f"{check}: {reason}")
        else:
            status[check] = HOLDS if bool(v) else FAILS
    survives = bool(holds) and FAILS not in status.values()
    tr_from = _side_translation(documents, step["docs_from"], langs[0] if langs else lang)
    tr_to = _side_translation(documents, step["docs_to"], langs[1] if langs else lang)
    why = []
    if not holds:
        why.append(holds_reason or f"the {int(round(100 * 0.95))}% interval of the rate ratio includes 1")
    names = {**_CHECK_NAMES, "check_interval": {"theme_change": "Poisson interval (independent mentions)"}.get(
        kind, "paragraphs resampled (mentions cluster)")}
    failed = [names[k] + (f" ({details[k]})" if details and details.get(k) else "")
              for k, v in status.items() if v == FAILS]
    if failed:
        why.append("fails " + ("the check" if len(failed) == 1 else "the checks") + ": " + ", ".join(failed))
    why += list(notes)
    suffix = f"({lang}, {y0} → {y1})"
    if one_doc:
        why.append("a side is a single document: the claim is about these documents, not about the years")
        if str(claim).endswith(suffix):
            claim = (str(claim)[:-len(suffix)] + f"from {_side_words(documents, step['docs_from'], y0)} to "
                     f"{_side_words(documents, step['docs_to'], y1)} ({lang}; a contrast of documents, not a year trend)")
    if step["genre_match"] != "same":
        why.append(f"genres differ ({step['genres_from'].replace(';', ', ')} vs {step['genres_to'].replace(';', ', ')})"
                   if step["genre_match"] in ("different", "partial") else "a genre is unknown")
    if tr_from != tr_to:
        why.append(f"translation status differs ({tr_from or '?'} vs {tr_to or '?'})")
    return {"finding": 0, "kind": kind, "lang": lang, "subject": subject, "claim": claim, "year_from": y0,
            "year_to": y1, "value_name": value_name, "value_from": v_from, "value_to": v_to, "value": value,
            "ci_low": low, "ci_high": high, "docs_from": step["docs_from"], "docs_to": step["docs_to"],
            "genres_from": step["genres_from"], "genres_to": step["genres_to"], "genre_match": step["genre_match"],
            "translation_from": tr_from, "translation_to": tr_to, "design": "versions" if langs else "documents" if one_doc else "years",
            "holds": bool(holds), **status, "na_reason": "; ".join(why_na), "precision": np.nan,
            "survives": survives, "reason": "; ".join(why)}


def write_findings(partials: Partials, files: FindingsFiles, languages,
                   settings: FindingsSettings | None = None) -> pd.DataFrame:
    """The ``findings`` rule: ``results/tables/findings.csv`` from the token shards' partial results.

    Parameters
    ----------
    partials : Partials
        The paths of the shards' partial results: ``paras`` and ``matches`` of each variant (the
        `theme_matches` rule's ``matches-{shard}`` for ``base``, the `count` rule's ``paras-{shard}``),
        ``docs`` of each (variant, language) (``base``: the merged ``doc_{lang}.npz``) and
        ``para_ngrams`` of each language (the `count` rule).
    files : FindingsFiles
        The codebook (with its schema and the entities), ``documents.csv``, ``tfidf_drift.csv``, and
        ``phrase_changes.csv``, ``crosslingual_themes.csv``, ``codebook_precision.csv`` (their
        checks are skipped when None); ``out``, ``findings.csv``.
    languages : sequence of str
    settings : FindingsSettings, optional
        As in :func:`build_findings`.

    Returns
    -------
    DataFrame
        The table written (:func:`findings_table`).
    """
    from textdrift.codebook import load_codebook
    from textdrift.entities import load_entities
    from textdrift.io import read_csv, write_csv

    f = files
    codebook = load_codebook(f.codebook, f.schema, load_entities(f.entities, f.entities_schema))
    tables = FindingsTables(read_csv(f.documents), read_csv(f.drift), read_csv(f.phrases) if f.phrases else None,
                            read_csv(f.crosslingual) if f.crosslingual else None,
                            read_csv(f.precision) if f.precision else None)
    df = findings_table(partials, codebook, tables, languages, settings)
    write_csv(df, f.out)
    log.info("%d findings, %d survive every check that is defined", len(df), int(df["survives"].sum()))
    return df


def write_part(part: dict, path: str | Path) -> None:
    """Write a part of the findings (:func:`theme_part`, :func:`vocabulary_part`) as JSON: its rows
    as :func:`_row` made them, numpy scalars as Python numbers (NaN and infinities as JSON's
    ``NaN``/``Infinity``), so that :func:`read_part` gives rows that build the same table.

    Parameters
    ----------
    part : dict
    path : str or Path
    """
    import json

    def plain(x):
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"a findings row holds a {type(x).__name__}, not a number or a string")

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(part, default=plain, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_part(path: str | Path) -> dict:
    """A part of the findings written by :func:`write_part`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
    """
    import json

    return json.loads(Path(path).read_text(encoding="utf-8"))


def run_findings_themes(input, output, params, log) -> None:
    """Rule ``findings_themes``: the findings that read the codebook (:func:`theme_part`), as JSON.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/findings.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.codebook import load_codebook
    from textdrift.entities import load_entities
    from textdrift.io import log_to_file, read_csv

    log_to_file(log[0])
    i, p = input, params
    entities = list(i.get("entities", []))
    partials = Partials({v: list(i[f"paras_{v}"]) for v in VARIANTS}, {v: list(i[f"matches_{v}"]) for v in VARIANTS},
                        {}, {})
    codebook = load_codebook(i.codebook, i.schema, load_entities(*entities) if entities else [])
    tables = FindingsTables(read_csv(i.documents), pd.DataFrame(),
                            crossling=read_csv(i.crosslingual) if i.crosslingual else None)
    part = theme_part(partials, codebook, tables, p.languages, FindingsSettings.from_params(p))
    write_part(part, output[0])
    logging.getLogger("textdrift.findings").info("%d theme rows, %d cross-language rows",
                                                 sum(len(r) for r in part["themes"].values()),
                                                 len(part["crosslingual"]))


def run_findings_vocabulary(input, output, params, log, config=None) -> None:
    """Rule ``findings_vocabulary``: the findings that do not read the codebook (drift and phrases,
    :func:`vocabulary_part`), as JSON.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/findings.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: the per-language memo's settings (``language_memo``,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.io import log_to_file, read_csv
    from textdrift.langmemo import memo_for

    log_to_file(log[0])
    i, p = input, params
    partials = Partials({"base": list(i.paras_base)}, {},
                        {(v, lang): list(i[f"doc_{v}_{lang}"]) for v in VARIANTS for lang in p.languages},
                        {lang: list(i[f"para_ngrams_{lang}"]) for lang in p.languages})
    tables = FindingsTables(read_csv(i.documents), read_csv(i.drift), read_csv(i.phrases) if i.phrases else None)
    part = vocabulary_part(partials, tables, p.languages, FindingsSettings.from_params(p),
                           memo_for(config, "findings_vocabulary"))
    write_part(part, output[0])
    logging.getLogger("textdrift.findings").info("%d drift rows, %d phrase rows", len(part["drift"]),
                                                 len(part["phrases"]))


def run_findings(input, output, params, log) -> None:
    """Rule ``findings``: ``findings.csv`` assembled from the two parts (:func:`assemble_findings`).

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/findings.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file, read_csv, write_csv

    log_to_file(log[0])
    i, p = input, params
    df = assemble_findings(read_part(i.themes), read_part(i.vocabulary), read_csv(i.precision) if i.precision else None,
                           p.languages, FindingsSettings.from_params(p))
    write_csv(df, output[0])
    logging.getLogger("textdrift.findings").info("%d findings, %d survive every check that is defined", len(df),
                                                 int(df["survives"].sum()))
