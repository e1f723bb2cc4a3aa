"""Year-over-year phrase changes: weighted log-odds ratio with an informative Dirichlet prior.

Method (Monroe, Colaresi & Quinn 2008, "Fightin' Words: Lexical Feature Selection and
Evaluation for Identifying the Content of Political Conflict", *Political Analysis* 16(4),
372-403, section 3.5)
---------------------------------------------------------------------------------------
* **Phrases** are the n-grams (n = 1..``ngram_max``) of the year matrices written by
  :mod:`textdrift.vectorize` (``data/processed/vectors/year_{lang}.npz``): runs of kept
  tokens (``norm``) inside one sentence, never across a punctuation token, words joined by
  one space. Nothing is re-counted here; ``ngram_max`` may not exceed ``vectorize.ngram_max``.
* **Steps**: for each language, the *available* years (year-documents with at least one
  kept token, sorted) are compared pairwise in order: 2017 -> 2022 -> 2023 -> 2024. A
  language with fewer than two available years yields no rows (logged).
* **Which phrases are tested**: those occurring at least ``min_count`` times in the two
  compared years together (count_from + count_to >= min_count); the choice is per step, so
  a phrase frequent only in other years is not tested in this one.
* **Totals per n-gram order**: for phrase w of order n, ``n_from``/``n_to`` are the total
  counts of *all* phrases of order n in that year (tested or not): unigram totals for
  unigrams, bigram totals for bigrams, ... so each order is its own multinomial and its
  probabilities are comparable. (The orders overlap - a bigram's words are also counted
  as unigrams - which is why they are not pooled into one total.)
* **Prior**: the language's whole corpus (all years). With c_w the count of w in it and
  C_n the total of order n in it,

      alpha_w = alpha_0 * c_w / C_n            (so the alpha_w of one order sum to alpha_0)

  ``alpha_0`` (the prior's weight, in pseudo-counts) is per order: ``"auto"`` (default) =
  the median, over the language's available year-documents, of their total of order n,
  i.e. the prior counts as much as one typical year of text. It scales with the corpus,
  as Monroe et al. scale their prior to the corpus, so the same setting suits 2,000 or
  2,000,000 tokens a year; a year much smaller than that (the one-paragraph Chinese 2022)
  is pulled strongly towards the corpus-wide rate instead of producing wild ratios. A
  positive number fixes alpha_0 for every order.
* **Statistic** for each tested phrase (Monroe et al. eqs. 16, 18, 19/22):

      delta_w = log((y_to + a_w) / (n_to + a_0 - y_to - a_w))
              - log((y_from + a_w) / (n_from + a_0 - y_from - a_w))
      var_w   = 1 / (y_to + a_w) + 1 / (y_from + a_w)
      z_w     = delta_w / sqrt(var_w)

  ``log_odds`` = delta_w; positive means relatively more frequent in ``year_to``.
* **Bounded prior**: in each step, alpha_0 of order n is at most the smaller of the two years'
  totals of order n (at least 1), so the prior never weighs more than the smaller year; a
  year much smaller than the corpus is no longer pulled wholesale to the corpus rate.
* **Error control**: ``p`` = 2 (1 - Phi(|z|)) (two-sided, normal); ``q`` = Benjamini-Hochberg
  adjusted p over all phrases tested in the step and language (``scipy.stats.
  false_discovery_control``; Benjamini & Hochberg 1995, JRSS B 57(1), 289-300): the expected
  share of false discoveries among the phrases called rising or falling is at most
  ``q_threshold``.
* **Status** (``q_threshold``, config ``phrases.q_threshold``): a change is called when q <= q_threshold and the
  phrase's own rate (count / total of its order) moved in the direction of z (so a phrase
  whose rate rose is never called falling, whatever the prior): ``new`` = count_from == 0 and
  called up; ``gone`` = count_to == 0 and called down; ``rising``, ``falling``; else
  ``stable``. A step in which either year has fewer than ``min_tokens`` (the top-level
  ``low_data_tokens``) kept unigrams is ``insufficient`` for every phrase: too little text to
  call any change. new/gone are relative to the previous available year only.

Output (``results/tables/phrase_changes.csv``, every tested phrase, sorted by lang,
year_from, descending z): ``lang, year_from, year_to, phrase, n, count_from, count_to,
total_from, total_to, alpha_w, alpha_0, log_odds, z, p, q, status, display``. ``log_odds`` and
``z`` can be recomputed from the other columns of their row with the formulas above.
``display`` is ``phrase`` with the spaces between words removed for languages written
without spaces (``unspaced_languages``, e.g. "数字 经济" -> "数字经济"); note that the
bigram "数字 经济" and the dictionary word "数字经济" then display alike (``n`` tells them apart).

Comparing any two groups of documents from a notebook (``a`` plays ``year_from``)::

    from textdrift.vectorize import load_matrix
    from textdrift.phrases import group_phrase_changes, row_counts
    m = load_matrix("data/processed/vectors/doc_en.npz")
    a = row_counts(m, m.rows["doc_id"].isin(["doc_a1", "doc_a2"]))
    b = row_counts(m, m.rows["doc_id"].isin(["doc_b"]))
    group_phrase_changes(a, b, prior_counts=row_counts(m))      # prior: all documents

(or build ``m`` with ``vectorize.count_matrix(tokens.assign(group=...), ["group"])``).

Over 500 lines, half of them docstrings (the method and its formulas, above): one method, the
phrase changes between consecutive years and between any two groups of documents.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from textdrift.config import UNSPACED_LANGUAGES, defaults
from textdrift.io import read_csv, write_csv, write_csv_batches
from textdrift.stats import log_odds_dirichlet, p_values, q_values
from textdrift.vectorize import SEP, CountMatrix, load_matrix, year_matrix_of

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting
_P = _D["phrases"]

__all__ = ["COLUMNS", "GROUP_COLUMNS", "PHRASE_STEP_COLUMNS", "STATUSES", "check_ngram_max", "group_phrase_changes", "ngram_order",
           "order_totals", "phrase_changes", "row_counts", "write_phrases", "status", "run_phrases"]

log = logging.getLogger("textdrift.phrases")

GROUP_COLUMNS = ["phrase", "n", "count_from", "count_to", "total_from", "total_to",
                 "alpha_w", "alpha_0", "log_odds", "z", "p", "q", "status"]
COLUMNS = ["lang", "year_from", "year_to", *GROUP_COLUMNS, "display"]
STATUSES = ("new", "gone", "rising", "falling", "stable", "insufficient")
#: the columns of :data:`textdrift.manifest.STEP_COLUMNS` that ``phrase_changes.csv`` repeats on each
#: phrase (the step's ``docs_from, docs_to, genres_from, genres_to`` are in ``tfidf_drift.csv``)
PHRASE_STEP_COLUMNS = ["genre_match"]


def status(count_from, count_to, total_from, total_to, z, q, q_threshold: float = _P["q_threshold"]) -> np.ndarray:
    """new | gone | rising | falling | stable for each phrase (first matching rule wins).

    A change is called only where it is significant after false-discovery control (q <=
    ``q_threshold``) *and* the phrase's own rate moved the same way as z (count / total of
    its n-gram order): the prior can pull a small year's estimate across the other year's,
    and a phrase whose rate rose is then never called falling.

    Parameters
    ----------
    count_from, count_to : array_like
        The phrase's counts in the two years.
    total_from, total_to : array_like
        The totals of its n-gram order in the two years.
    z, q : array_like
        Log-odds z and Benjamini-Hochberg q.
    q_threshold : float

    Returns
    -------
    ndarray of str
        One of ``new, gone, rising, falling, stable`` per phrase.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    count_from, count_to, z, q = (np.asarray(v) for v in (count_from, count_to, z, q))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_from = count_from / np.asarray(total_from, dtype=float)
        rate_to = count_to / np.asarray(total_to, dtype=float)
    sig = q <= q_threshold
    up, down = sig & (z > 0) & (rate_to > rate_from), sig & (z < 0) & (rate_to < rate_from)
    return np.select([(count_from == 0) & up, (count_to == 0) & down, up, down],
                     list(STATUSES[:4]), default="stable")


def ngram_order(phrases) -> np.ndarray:
    """n of each phrase (words are joined by one space).

    Parameters
    ----------
    phrases : sequence of str

    Returns
    -------
    ndarray of int
    """
    arr = pa.array(np.asarray(phrases, dtype=object), type=pa.string())
    return np.asarray(pc.count_substring(arr, SEP).to_numpy(zero_copy_only=False), dtype=int) + 1


def order_totals(counts: pd.Series) -> pd.Series:
    """Total count of each n-gram order in a Series of phrase counts (index: n).

    Parameters
    ----------
    counts : Series
        Phrase counts indexed by phrase.

    Returns
    -------
    Series
        Total count per order n.
    """
    return counts.groupby(ngram_order(counts.index)).sum()


def row_counts(m: CountMatrix, rows=None) -> pd.Series:
    """Phrase counts of a CountMatrix summed over the selected rows (boolean mask; all when None).

    Parameters
    ----------
    m : CountMatrix
    rows : array_like of bool, optional

    Returns
    -------
    Series of int64
        Indexed by phrase (``m.vocab``, index name ``phrase``).
    """
    X = m.X if rows is None else m.X[np.asarray(rows, dtype=bool)]
    return pd.Series(np.asarray(X.sum(axis=0)).ravel().astype(np.int64), index=pd.Index(m.vocab, name="phrase"))


def check_ngram_max(ngram_max: int, vectorize_ngram_max: int) -> None:
    """Phrases are read from vectorize's matrices, which hold no n-gram longer than its ngram_max.

    Parameters
    ----------
    ngram_max : int
        ``phrases.ngram_max``.
    vectorize_ngram_max : int
        ``vectorize.ngram_max``.

    Raises
    ------
    ValueError
        When ``ngram_max`` is not an integer from 1 to ``vectorize_ngram_max``.
    """
    if not isinstance(ngram_max, int) or not 1 <= ngram_max <= vectorize_ngram_max:
        raise ValueError(
            f"phrases.ngram_max = {ngram_max!r} must be an integer from 1 to vectorize.ngram_max = "
            f"{vectorize_ngram_max}: the year matrices hold no longer n-grams. Raise "
            "vectorize.ngram_max or lower phrases.ngram_max in config/config.yaml.")


def group_phrase_changes(counts_a: pd.Series, counts_b: pd.Series, prior_counts: pd.Series | None = None,
                   alpha_0: float | str | Mapping[int, float] = _P["alpha_0"], min_count: int = _P["min_count"],
                   q_threshold: float = _P["q_threshold"], ngram_max: int | None = None,
                   min_tokens: int = 0) -> pd.DataFrame:
    """Weighted log-odds of every phrase between group a (``from``) and group b (``to``).

    ``counts_a``/``counts_b``: phrase counts (Series indexed by phrase, words joined by one
    space), *all* phrases of the group, since the totals per n-gram order are taken from them.
    ``prior_counts``: background counts the prior is proportional to (default a + b); every
    tested phrase must occur in it. ``alpha_0``: a positive number, a mapping
    {order: number}, or ``"auto"`` = per order, the median of the two groups' totals.
    Tested phrases: count_a + count_b >= ``min_count`` and order <= ``ngram_max`` (None: all).
    ``alpha_0`` is bounded by the smaller group's total of each order; a group with fewer than
    ``min_tokens`` unigrams makes every status ``insufficient``.
    Returns the columns ``GROUP_COLUMNS``; positive ``log_odds`` = more frequent in b.

    Parameters
    ----------
    counts_a, counts_b : Series
        Phrase counts of the two groups.
    prior_counts : Series, optional
        Background counts of the prior.
    alpha_0 : float, mapping or "auto"
    min_count : int
    q_threshold : float
    ngram_max : int, optional
    min_tokens : int

    Returns
    -------
    DataFrame
        ``GROUP_COLUMNS``, by descending z.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    a = counts_a.groupby(level=0).sum()
    b = counts_b.groupby(level=0).sum()
    prior = (a.add(b, fill_value=0) if prior_counts is None else prior_counts).groupby(level=0).sum()
    prior = prior[prior > 0]
    tot_a, tot_b, tot_prior = order_totals(a), order_totals(b), order_totals(prior)
    if isinstance(alpha_0, str):
        if alpha_0 != "auto":
            raise ValueError(f"alpha_0 must be a positive number, a mapping or 'auto', got {alpha_0!r}")
        alpha_0 = pd.concat([tot_a, tot_b], axis=1).fillna(0).median(axis=1).to_dict()

    y = pd.concat({"count_from": a, "count_to": b}, axis=1).fillna(0).astype(np.int64)
    y = y[y.sum(axis=1) >= min_count]
    n = ngram_order(y.index)
    if ngram_max is not None:
        y, n = y[n <= ngram_max], n[n <= ngram_max]
    df = y.rename_axis("phrase").reset_index()
    df.insert(1, "n", n)
    df["total_from"] = tot_a.reindex(n, fill_value=0).to_numpy()
    df["total_to"] = tot_b.reindex(n, fill_value=0).to_numpy()
    a0 = (pd.Series(alpha_0).reindex(n).to_numpy(float) if isinstance(alpha_0, Mapping)
          else np.full(len(df), float(alpha_0)))
    c_w = prior.reindex(df["phrase"], fill_value=0).to_numpy(float)
    # A lone phrase of its order has probability 1 everywhere: its log-odds are undefined.
    single = (prior.groupby(ngram_order(prior.index)).size() < 2).reindex(n, fill_value=True).to_numpy()
    low = min(int(tot_a.get(1, 0)), int(tot_b.get(1, 0))) < min_tokens
    return _score(df, c_w, a0, tot_prior.reindex(n).to_numpy(float), single, q_threshold, low)


def _score(df: pd.DataFrame, c_w: np.ndarray, a0: np.ndarray, tot_prior: np.ndarray, single: np.ndarray,
           q_threshold: float, insufficient: bool = False) -> pd.DataFrame:
    """Prior (alpha_w = a0 * c_w / tot_prior), log-odds, z, p, q and status of the tested phrases
    of one step in ``df``.

    ``df`` has phrase, n, count_from, count_to, total_from, total_to; rows flagged ``single`` (the
    only phrase of their order) are dropped. ``a0`` is bounded here by the smaller of the two
    totals of the phrase's order (at least 1): the prior never weighs more than the smaller side.
    q: Benjamini-Hochberg over the step's tested phrases. ``insufficient``: every status is
    ``insufficient`` (a side below the low-data threshold). Returns ``GROUP_COLUMNS`` sorted by
    descending z.
    """
    a0 = np.minimum(np.asarray(a0, dtype=float),
                    np.maximum(1.0, np.minimum(df["total_from"].to_numpy(float), df["total_to"].to_numpy(float))))
    if np.any(c_w <= 0) or np.any(~(a0 > 0)):
        bad = df.loc[(c_w <= 0) | ~(a0 > 0), "phrase"].head(5).tolist()
        raise ValueError(f"every tested phrase needs a positive prior count and alpha_0; not so for {bad}")
    if single.any():
        log.info("skipping %d phrase(s) that are the only phrase of their n-gram order", single.sum())
    df["alpha_w"] = a0 * c_w / tot_prior
    df["alpha_0"] = a0
    df = df[~single].reset_index(drop=True)
    delta, _, z = log_odds_dirichlet(df["count_from"], df["count_to"], df["alpha_w"], df["alpha_0"],
                                     df["total_from"], df["total_to"])
    df["log_odds"], df["z"] = delta, z
    df["p"] = p_values(z)
    df["q"] = q_values(df["p"].to_numpy())
    df["status"] = ("insufficient" if insufficient else
                    status(df["count_from"], df["count_to"], df["total_from"], df["total_to"], z, df["q"], q_threshold))
    return df.sort_values(["z", "phrase"], ascending=[False, True], ignore_index=True)[GROUP_COLUMNS]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("lang", "phrase", "status", "display") else float)
                         for c in COLUMNS})


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """lang, year_from, descending z (ties by phrase, for a stable file)."""
    return df.sort_values(["lang", "year_from", "z", "phrase"], ascending=[True, True, False, True],
                          kind="stable", ignore_index=True)[COLUMNS]


def phrase_changes(matrix: CountMatrix, min_count: int = _P["min_count"], alpha_0: float | str = _P["alpha_0"],
                   q_threshold: float = _P["q_threshold"], ngram_max: int = _P["ngram_max"],
                   unspaced_languages: tuple[str, ...] | list[str] = UNSPACED_LANGUAGES,
                   lang: str | None = None, min_tokens: int = 0, steps=None) -> pd.DataFrame:
    """Phrase changes between consecutive available years of one language's year matrix.

    ``matrix``: ``vectorize.year_matrix`` output (rows: lang, year, tokens). Prior: the
    matrix's column sums (the language's whole corpus); ``alpha_0="auto"``: per n-gram
    order, the median total of that order over the available years. ``lang`` defaults to
    the matrix's ``lang`` column (an empty matrix has none). Returns ``COLUMNS``.

    Parameters
    ----------
    matrix : CountMatrix
        One language's year matrix (a vocabulary with repeated terms has their columns summed).
    min_count : int
        A phrase is tested in a step when count_from + count_to >= min_count.
    alpha_0 : float, mapping or "auto"
        The prior's weight per n-gram order.
    q_threshold : float
        Benjamini-Hochberg level at which a change is called.
    ngram_max : int
        Longest n-gram tested.
    unspaced_languages : sequence of str
        Languages whose ``display`` drops the spaces between words.
    lang : str, optional
    min_tokens : int
        A step with a year under this many kept unigrams is ``insufficient``.
    steps : collection of (int, int), optional
        Only these steps (year_from, year_to) of consecutive available years (None: every step);
        each step's rows are those of the whole table (the prior is still every year's).

    Returns
    -------
    DataFrame
        ``COLUMNS``, sorted by lang, year_from, descending z.

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    rows = matrix.rows.reset_index(drop=True)
    if lang is None:
        lang = str(rows["lang"].iloc[0]) if len(rows) else "?"
    avail = rows[rows["tokens"] > 0].sort_values("year")
    if len(avail) < 2:
        log.info("%s: %d year(s) with text (%s); two are needed, no phrase changes",
                 lang, len(avail), ", ".join(map(str, avail["year"])) or "none")
        return _empty()
    if not pd.Index(matrix.vocab).is_unique:  # not written by vectorize: sum the columns of a repeated term
        codes, terms = pd.factorize(pd.Index(matrix.vocab))
        merge = sp.csr_matrix((np.ones(len(codes), dtype=matrix.X.dtype), (np.arange(len(codes)), codes)),
                              shape=(len(codes), len(terms)))
        matrix = CountMatrix((matrix.X @ merge).tocsr(), np.asarray(terms, dtype=object), matrix.rows)
    per_year = {int(r.year): i for i, r in avail.iterrows()}  # year -> row of the matrix
    X = matrix.X.tocsr()
    vocab = np.asarray(matrix.vocab, dtype=object)
    order = ngram_order(vocab)
    orders, order_idx = np.unique(order, return_inverse=True)
    # totals of each n-gram order: per row (one sparse product) and in the prior (all rows)
    onehot = sp.csr_matrix((np.ones(len(order), dtype=np.int64), (np.arange(len(order)), order_idx)),
                           shape=(len(order), len(orders)))
    row_totals = np.asarray((X @ onehot).toarray(), dtype=np.int64)
    prior = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
    tot_prior = np.bincount(order_idx, weights=prior, minlength=len(orders))
    tot_prior = pd.Series(np.where(np.bincount(order_idx, weights=prior > 0, minlength=len(orders)) > 0,
                                   tot_prior, np.nan), index=orders)
    # A lone phrase of its order has probability 1 everywhere: its log-odds are undefined.
    single_order = pd.Series(np.bincount(order_idx, weights=prior > 0, minlength=len(orders)) < 2, index=orders)
    if alpha_0 == "auto":
        alpha_0 = pd.DataFrame({y: pd.Series(row_totals[i], index=orders) for y, i in per_year.items()}
                               ).fillna(0).median(axis=1).to_dict()
    if isinstance(alpha_0, str):
        raise ValueError(f"alpha_0 must be a positive number, a mapping or 'auto', got {alpha_0!r}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {min_count}")
    years = list(per_year)
    out = []
    for y0, y1 in zip(years, years[1:]):
        if steps is not None and (y0, y1) not in steps:
            continue
        i0, i1 = per_year[y0], per_year[y1]
        pair = X[[i0, i1]]
        both = np.asarray(pair.sum(axis=0)).ravel()
        cols = np.flatnonzero(both >= min_count)
        if ngram_max is not None:
            cols = cols[order[cols] <= ngram_max]
        y = pair[:, cols].toarray().astype(np.int64)
        n = order[cols]
        k = order_idx[cols]
        df = pd.DataFrame({"phrase": vocab[cols], "n": n, "count_from": y[0], "count_to": y[1],
                           "total_from": row_totals[i0][k], "total_to": row_totals[i1][k]})
        a0 = (pd.Series(alpha_0).reindex(n).to_numpy(float) if isinstance(alpha_0, Mapping)
              else np.full(len(df), float(alpha_0)))
        uni = np.flatnonzero(orders == 1)
        low = len(uni) == 0 or min(row_totals[i0][uni[0]], row_totals[i1][uni[0]]) < min_tokens
        df = _score(df, prior[cols].astype(float), a0, tot_prior.to_numpy(float)[k],
                    single_order.to_numpy()[k], q_threshold, low)
        out.append(_label_step(df, lang, y0, y1))
    return _finish(out, lang, unspaced_languages) if out else _empty()


def _label_step(df: pd.DataFrame, lang: str, y0: int, y1: int) -> pd.DataFrame:
    """Prefix one step's rows with lang, year_from, year_to and log its status counts."""
    df.insert(0, "lang", lang)
    df.insert(1, "year_from", y0)
    df.insert(2, "year_to", y1)
    counts = df["status"].value_counts()
    log.info("%s %d -> %d: %d phrases tested; %s", lang, y0, y1, len(df),
             ", ".join(f"{s} {counts.get(s, 0)}" for s in STATUSES))
    return df


def _finish(steps: list[pd.DataFrame], lang: str, unspaced_languages) -> pd.DataFrame:
    """All steps of one language in one table, with the ``display`` form, sorted."""
    df = pd.concat(steps, ignore_index=True)
    df["display"] = df["phrase"].str.replace(SEP, "", regex=False) if lang in unspaced_languages else df["phrase"]
    return _sorted(df)


def write_phrases(year_matrices: Mapping[str, str | Path], out_csv: str | Path,
                ngram_max: int = _P["ngram_max"], vectorize_ngram_max: int = _D["vectorize"]["ngram_max"],
                min_count: int = _P["min_count"], alpha_0: float | str = _P["alpha_0"],
                q_threshold: float = _P["q_threshold"],
                unspaced_languages: tuple[str, ...] | list[str] = UNSPACED_LANGUAGES,
                min_tokens: int = 0, documents: str | Path | None = None, group_by: str | None = None,
                doc_matrices: Mapping[str, str | Path] | None = None,
                grouped_csv: str | Path | None = None) -> pd.DataFrame:
    """Rule ``phrases``: phrase changes of every language ({lang: year_{lang}.npz}) into one CSV;
    with ``documents`` (``results/tables/documents.csv``), each row also says whether its step compares
    like with like (``genre_match`` of :func:`textdrift.manifest.step_documents`; the step's document
    and genre lists are in ``tfidf_drift.csv``, one row per step).

    ``group_by`` (a column of ``documents``): the same table computed on each group's documents
    alone (year matrices summed from ``doc_matrices``, {lang: doc_{lang}.npz}; the prior is the
    group's own corpus), written to ``grouped_csv`` with a leading ``group`` column.

    Parameters
    ----------
    year_matrices : mapping of str to str or Path
    out_csv : str or Path
        ``phrase_changes.csv``.
    ngram_max : int
    vectorize_ngram_max : int
        Checked by :func:`check_ngram_max`.
    min_count, alpha_0, q_threshold, unspaced_languages, min_tokens
        As in :func:`phrase_changes`.
    documents : str or Path, optional
    group_by : str, optional
    doc_matrices : mapping of str to str or Path, optional
    grouped_csv : str or Path, optional

    Returns
    -------
    int
        The number of rows written to ``out_csv`` (one language in memory at a time).

    References
    ----------
    Monroe, B. L., Colaresi, M. P. & Quinn, K. M. (2008). Fightin' words. Political Analysis 16(4),
    372-403 (:func:`textdrift.stats.log_odds_dirichlet`).
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57(1), 289-300.
    """
    from textdrift.manifest import STEP_COLUMNS, document_groups, step_documents, with_group

    check_ngram_max(ngram_max, vectorize_ngram_max)
    args = (min_count, alpha_0, q_threshold, ngram_max, unspaced_languages)
    docs = read_csv(documents) if documents is not None else None

    def with_steps(df: pd.DataFrame, docs_of) -> pd.DataFrame:
        if docs_of is None:
            return df
        # genre_match only: the step's document and genre lists are tfidf_drift.csv's (one row per
        # step); repeated on every phrase they made the table grow with documents x phrases
        return step_documents(df, docs_of).drop(columns=[c for c in STEP_COLUMNS if c not in PHRASE_STEP_COLUMNS])

    def table(matrices: dict, docs_of) -> pd.DataFrame:
        frames = [phrase_changes(m, *args, lang, min_tokens) for lang, m in matrices.items()]
        frames = [f for f in frames if len(f)]
        return with_steps(_sorted(pd.concat(frames, ignore_index=True)) if frames else _empty(), docs_of)

    # The table is sorted by language first: one language's year matrix and rows in memory at a time.
    written = 0

    def by_language():
        nonlocal written
        for lang in sorted(year_matrices):
            log.info("%s: reading %s", lang, year_matrices[lang])
            df = phrase_changes(load_matrix(year_matrices[lang]), *args, lang, min_tokens)
            if len(df):
                written += len(df)
                yield with_steps(_sorted(df), docs)
        if not written:
            yield with_steps(_empty(), docs)

    write_csv_batches(by_language(), out_csv)
    log.info("wrote %d rows to %s", written, out_csv)
    if group_by:
        per_doc = {lang: load_matrix(path) for lang, path in (doc_matrices or {}).items()}
        frames = {}
        for g, ids in document_groups(docs, group_by).items():
            sub = {lang: year_matrix_of(m, ids) for lang, m in per_doc.items()}
            frames[g] = table({lang: m for lang, m in sub.items() if len(m.rows)},
                              docs[docs["doc_id"].astype(str).isin(ids)])
        grouped = with_group(frames)
        write_csv(grouped, grouped_csv)
        log.info("wrote %d rows (%s groups) to %s", len(grouped), group_by, grouped_csv)
    return written


def run_phrases(input, output, params, log) -> None:
    """Rule ``phrases``: year-over-year phrase changes per language.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/phrases.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    """
    from textdrift.io import log_to_file

    log_to_file(log[0])
    i, o, p = input, output, params
    write_phrases(dict(zip(p.languages, i.year)), o.changes, p.ngram_max, p.vectorize_ngram_max,
                  p.min_count, p.alpha_0, p.q_threshold, p.unspaced_languages, p.min_tokens,
                  documents=i.documents, group_by=p.group_by, doc_matrices=dict(zip(p.languages, i.doc)),
                  grouped_csv=o.get("grouped"))
