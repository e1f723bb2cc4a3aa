"""TF-IDF drift: how far each year's vocabulary moved from the previous available year.

Unit and input
--------------
The unit is the **year-document** of one language (all documents of the year
pooled), counted over kept unigram ``norm`` s: the year matrix of
:mod:`textdrift.vectorize` restricted to n = 1 (``year_{lang}.npz``,
``.select(1)``). Languages are never compared with each other (their
vocabularies do not overlap).

Formulas
--------
Let ``c[d, t]`` be the count of term t in year-document d, ``n`` the number of
year-documents of the language and ``df(t)`` the number of them containing t.

* TF-IDF (scikit-learn ``TfidfTransformer``, defaults ``norm="l2"``,
  ``use_idf=True``, ``smooth_idf=True``, ``sublinear_tf=False``; Salton & Buckley
  1988)::

      idf(t)      = ln((1 + n) / (1 + df(t))) + 1          (smooth idf)
      w[d, t]     = c[d, t] * idf(t)                        (1 + ln c if sublinear_tf)
      v[d]        = w[d] / ||w[d]||_2                       (l2 norm)

  The idf is fitted on the year-documents of that language only.
* Cosine distance between years a and b: ``1 - v[a].v[b] / (||v[a]|| ||v[b]||)``
  (0 = same direction, 1 = no shared weighted term). NaN if a vector is empty.
* Jensen-Shannon divergence (Lin 1991), base 2, of the relative unigram
  frequencies ``P = c[a] / sum c[a]`` and ``Q = c[b] / sum c[b]``::

      M   = (P + Q) / 2
      JSD = H(M) - (H(P) + H(Q)) / 2 = KL(P||M)/2 + KL(Q||M)/2,   H(P) = -sum P log2 P

  in [0, 1] (0 = identical distributions, 1 = disjoint vocabularies). It uses
  raw frequencies, so it does not depend on the idf of a tiny collection (with
  four year-documents idf takes only four values). Computed here with numpy;
  ``scipy.spatial.distance.jensenshannon`` returns its square root.
* Consecutive pairs: the available years of a language (years with kept
  tokens), sorted; ``gap = year_to - year_from`` (2017 -> 2022 is a five-year
  step). A year with fewer than ``min_tokens`` kept tokens makes the pair
  ``low_data`` (still computed, flagged, explained in ``note``). A language with a
  single year has nothing to compare: no pair rows, a log message.
* Top terms: the ``top_n`` largest ``v[d, t]`` of each year. Term shifts: for each
  consecutive pair, ``change = v[b, t] - v[a, t]``; the ``top_n`` largest
  positive changes ("rising") and the ``top_n`` most negative ("falling").

Split-half baseline
-------------------
Drift between two years mixes real change with noise from length and document
mix. To show how far a year is from *itself*, its paragraphs (units
``(doc_id, para)`` with at least one kept token) are shuffled into two halves
(``floor(k/2)`` and ``ceil(k/2)`` paragraphs), ``baseline_rounds`` times; each half
is summed into a count vector, transformed with the transformer fitted on the
real year-documents (same idf) and compared by cosine distance and JSD
(Kilgarriff 2001's split-half homogeneity). Years with fewer than
``baseline_min_paragraphs`` paragraphs get no baseline (NaN). Each year draws
from its own ``numpy.random.default_rng([seed, year])``, so the baseline of a
year does not change when other years or languages are added.
*Limit*: a half is about half as long as its year-document, and shorter texts
share fewer terms, so the baseline somewhat over-estimates the distance
between two full-length samples of the same year; read it as an upper
reference for "no change", not as a significance test.

Cross-year halves (length-matched drift)
----------------------------------------
To compare like with like, the same rounds also compare a random half of
``year_from`` with a random half of ``year_to`` (:func:`cross_year_halves`). In
round r, ``A1, A2`` are the halves of ``year_from`` and ``B1, B2`` those of
``year_to`` drawn by the per-year generators above (the very halves the baseline
uses; ``A1`` has ``floor(k/2)`` paragraphs); ``d`` is the cosine distance (idf of
the transformer fitted on the year-documents) or the JSD::

    c_r = d(A1, B1)                         cross-year half distance
    w_r = (d(A1, A2) + d(B1, B2)) / 2       within-year half distance of the same round
    halves_cosine, halves_jsd = mean_r c_r
    excess_cosine = halves_cosine - (baseline_cosine_from + baseline_cosine_to) / 2
                  = mean_r (c_r - w_r)      (same for excess_jsd)
    p_cosine = #{r : c_r <= w_r} / rounds   (cosine; c_r <= w_r + 1e-12 counts, for rounding)

All four sides are halves, so the length bias of the baseline cancels: excess near 0
means the two years differ about as much as two halves of one year; excess > 0 means
more. ``p_cosine`` is the share of rounds in which the cross-year halves were at most as
far apart as the within-year halves of that round: 0 = in every round the years
differed more than halves of one year did. If every paragraph of both years were drawn
independently from one source, ``E[c_r] ~ E[w_r]`` and ``p_cosine`` lies well inside
(0, 1) (about 0.2-0.5 in simulations); it is NOT a calibrated p-value.
NaN (and a ``note``) when either year has fewer than ``baseline_min_paragraphs``
paragraphs. These five columns are appended after ``note`` in ``tfidf_drift.csv``.
*Limits*: the rounds share the same few paragraphs, so they are not independent and
``p_cosine`` has resolution ``1 / rounds`` only; the within-year halves are complements
of one finite pool, so for two years with near-identical paragraphs excess is *below* 0
(e.g. both years "a", "a", "b", "b": -0.15); when the years differ much in length the
reference ``w_r`` averages a short and a long year; paragraphs of one document stay
exchangeable with those of other documents (the split ignores documents and genres).

Permutation test
----------------
``p_permutation`` (:func:`permutation_test`): the units of the two years (documents when both
have at least ``permutation_min_documents``, else paragraphs) reassigned at random between them
(all splits when there are at most ``permutations``), the cosine distance recomputed with the
fixed idf; ``p = #{T >= T_obs} / C(k, n_a)`` (exact) or ``(1 + #{T_r >= T_obs}) / (1 + R)``. This
is the test behind the drift finding; ``p_cosine`` above is descriptive. With paragraphs as units
(one document a year) it contrasts two documents, not two years.

References
----------
* Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic text
  retrieval. Information Processing & Management 24(5), 513-523.
* Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE
  Transactions on Information Theory 37(1), 145-151.
* Kilgarriff, A. (2001). Comparing corpora. International Journal of Corpus
  Linguistics 6(1), 97-133.
* Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero.
  Statistical Applications in Genetics and Molecular Biology 9(1), 39.
* scikit-learn, ``TfidfTransformer`` (smooth idf):
  https://scikit-learn.org/stable/modules/feature_extraction.html#tfidf-term-weighting

Why one module of over 1,150 lines, nearly half of them docstrings: the distances, the split-half baseline, the cross-year
halves and the permutation test are one method (the baselines and the permutation distribution
are the scale against which a distance is read, and the baselines
fast dense path must keep the arithmetic of :func:`textdrift.stats.jsd` and
:func:`textdrift.stats.cosine_similarity`, checked against the sparse reference in
``tests/test_drift.py``); the estimators themselves are in :mod:`textdrift.stats`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from textdrift.io import read_csv, write_csv
from textdrift.config import Settings, defaults, setting
from textdrift.stats import cosine_similarity, dense_vector, jsd
from textdrift.vectorize import SEP, CountMatrix, by_language, count_matrix, load_matrix, merge_matrices, year_matrix_of

_D = defaults()  # the configuration schema's defaults: every keyword default below that is a config setting

__all__ = ["BASELINE_COLUMNS", "DRIFT_COLUMNS", "DriftFiles", "DriftSettings", "HALVES_COLUMNS", "PERMUTATION_COLUMNS", "SHIFT_COLUMNS", "SIMILARITY_COLUMNS",
           "TABLE_COLUMNS", "TIE_TOLERANCE", "TOP_TERM_COLUMNS", "cross_year_halves",
           "drift_table", "group_drift", "on_vocabulary", "permutation_test", "write_drift", "similarity_table",
           "split_half_baseline", "term_shifts", "tfidf_vectors", "top_terms", "run_drift"]

log = logging.getLogger("textdrift.drift")

DRIFT_COLUMNS = [
    "lang", "year_from", "year_to", "gap", "cosine_distance", "jsd", "tokens_from", "tokens_to", "low_data",
    "baseline_cosine_from", "baseline_cosine_to", "baseline_jsd_from", "baseline_jsd_to", "note",
    # cross-year halves (appended after ``note`` so the earlier columns keep their positions)
    "halves_cosine", "halves_jsd", "excess_cosine", "excess_jsd", "p_cosine",
    # the permutation test of the step (appended after the halves)
    "permutation_unit", "permutations", "p_permutation", "p_min",
]
HALVES_COLUMNS = ["lang", "year_from", "year_to", "rounds", "halves_cosine", "halves_jsd", "p_cosine"]
TIE_TOLERANCE = 1e-12  # p_cosine counts a round when cross <= within + this (rounding of 1 - cos)
SIMILARITY_COLUMNS = ["lang", "year_a", "year_b", "cosine_similarity", "jsd"]
TOP_TERM_COLUMNS = ["lang", "year", "rank", "term", "tfidf", "count"]
SHIFT_COLUMNS = ["lang", "year_from", "year_to", "term", "tfidf_from", "tfidf_to", "change", "direction", "rank"]
BASELINE_COLUMNS = [
    "lang", "year", "paragraphs", "tokens", "rounds",
    "cosine_mean", "cosine_p05", "cosine_p95", "jsd_mean", "jsd_p05", "jsd_p95",
]
# output name (key of write_drift's ``out``) -> columns
TABLE_COLUMNS = {"drift": DRIFT_COLUMNS, "similarity": SIMILARITY_COLUMNS, "top_terms": TOP_TERM_COLUMNS,
                 "term_shifts": SHIFT_COLUMNS, "baseline": BASELINE_COLUMNS}


# --- building blocks ------------------------------------------------------------------------------


def tfidf_vectors(matrix: CountMatrix, **tfidf_params) -> tuple[sp.csr_matrix, TfidfTransformer]:
    """TF-IDF weights of every row of a count matrix, and the transformer fitted on it.

    ``tfidf_params`` are ``TfidfTransformer`` arguments (default: the schema's ``drift.tfidf``);
    transform other count vectors (e.g. split halves) with the returned transformer to
    weight them with the same idf.

    Parameters
    ----------
    matrix : CountMatrix
    **tfidf_params
        ``TfidfTransformer`` arguments.

    Returns
    -------
    V : scipy.sparse.csr_matrix
        One l2-normalised (by default) row per row of ``matrix``.
    transformer : sklearn.feature_extraction.text.TfidfTransformer
        Fitted on ``matrix``.

    References
    ----------
    Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic text retrieval.
    Information Processing & Management 24(5), 513-523.
    """
    transformer = TfidfTransformer(**{**_D["drift"]["tfidf"], **tfidf_params})
    return transformer.fit_transform(matrix.X.astype(float)).tocsr(), transformer


def _unigrams(matrix: CountMatrix, unit: str) -> CountMatrix:
    """Unigram columns, rows sorted by ``unit``, rows with no kept tokens dropped."""
    m = matrix.select(1)
    order = np.argsort(m.rows[unit].to_numpy(), kind="stable")
    order = order[np.asarray(m.X[order].sum(axis=1)).ravel() > 0]
    return m.take(order)


def _lang(matrix: CountMatrix) -> str:
    return str(matrix.rows["lang"].iloc[0]) if "lang" in matrix.rows and len(matrix.rows) else ""


def on_vocabulary(matrix: CountMatrix, vocab: np.ndarray) -> CountMatrix:
    """Re-index the columns of ``matrix`` to ``vocab`` (missing terms count 0, terms not in vocab dropped).

    Parameters
    ----------
    matrix : CountMatrix
    vocab : ndarray of str
        The target vocabulary, in its column order.

    Returns
    -------
    CountMatrix
        Same rows, columns ``vocab`` (dropped counts are logged).
    """
    position = {t: j for j, t in enumerate(vocab)}
    src = [j for j, t in enumerate(matrix.vocab) if t in position]
    dst = [position[matrix.vocab[j]] for j in src]
    P = sp.csr_matrix((np.ones(len(src), dtype=np.int64), (src, dst)), shape=(len(matrix.vocab), len(vocab)))
    X = (matrix.X @ P).tocsr()
    if matrix.X.sum() != X.sum():
        log.warning("on_vocabulary: %d counts of terms outside the target vocabulary dropped", matrix.X.sum() - X.sum())
    return CountMatrix(X, np.asarray(vocab), matrix.rows.copy())


# --- tables ---------------------------------------------------------------------------------------


def drift_table(
    matrix: CountMatrix,
    min_tokens: int = _D["low_data_tokens"],
    baseline: pd.DataFrame | None = None,
    halves: pd.DataFrame | None = None,
    permutation: pd.DataFrame | None = None,
    **tfidf_params,
) -> pd.DataFrame:
    """Cosine distance and JSD between consecutive available years of one language's year matrix.

    ``baseline`` is the output of :func:`split_half_baseline` (per-year means are copied in);
    without it the baseline columns are NaN. ``halves`` is the output of :func:`cross_year_halves`
    (``halves_cosine``, ``halves_jsd``, ``p_cosine`` copied in; ``excess_* = halves_* - mean of the
    two baseline means``); without it those columns are NaN. ``permutation`` is the output of
    :func:`permutation_test` (``permutation_unit``, ``permutations``, ``p_permutation``, ``p_min`` copied in;
    empty/NaN without it). A language with fewer than two years gives no rows.

    Parameters
    ----------
    matrix : CountMatrix
        One language's year matrix.
    min_tokens : int
        A year under this many kept tokens is low data.
    baseline, halves, permutation : DataFrame, optional
    **tfidf_params
        ``TfidfTransformer`` arguments.

    Returns
    -------
    DataFrame
        ``DRIFT_COLUMNS``.

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions on
    Information Theory 37(1), 145-151 (:func:`textdrift.stats.jsd`).
    """
    m = _unigrams(matrix, "year")
    lang = _lang(matrix)
    if len(m.rows) < 2:
        log.info("%s %s text: nothing to compare", "only one year of" if len(m.rows) else "no", lang)
        return pd.DataFrame(columns=DRIFT_COLUMNS)
    V, _ = tfidf_vectors(m, **tfidf_params)
    years = m.rows["year"].tolist()
    tokens = dict(zip(years, m.rows["tokens"]))
    base = baseline.set_index("year") if baseline is not None else None
    cross = halves.set_index(["year_from", "year_to"]) if halves is not None else None
    perm = permutation.set_index(["year_from", "year_to"]) if permutation is not None and len(permutation) else None
    out = []
    for i in range(len(years) - 1):
        a, b = years[i], years[i + 1]
        notes = [f"low data: {y} has {tokens[y]} tokens (< {min_tokens})" for y in (a, b) if tokens[y] < min_tokens]
        bl = {}
        for side, y in (("from", a), ("to", b)):
            row = base.loc[y] if base is not None and y in base.index else None
            bl[f"baseline_cosine_{side}"] = float(row["cosine_mean"]) if row is not None else np.nan
            bl[f"baseline_jsd_{side}"] = float(row["jsd_mean"]) if row is not None else np.nan
            if base is not None and np.isnan(bl[f"baseline_cosine_{side}"]):
                k = int(row["paragraphs"]) if row is not None else 0
                notes.append(f"no split-half baseline for {y}: only {k} paragraph(s) with text")
        hv = {c: np.nan for c in ("halves_cosine", "halves_jsd", "p_cosine")}
        if cross is not None:
            if (a, b) in cross.index:
                hv = {c: float(cross.loc[(a, b), c]) for c in hv}
            if np.isnan(hv["halves_cosine"]):
                notes.append("no cross-year halves (too few paragraphs)")
        for name in ("cosine", "jsd"):  # NaN if either baseline or the halves are missing
            hv[f"excess_{name}"] = hv[f"halves_{name}"] - (bl[f"baseline_{name}_from"] + bl[f"baseline_{name}_to"]) / 2
        pt = {"permutation_unit": "", "permutations": 0, "p_permutation": np.nan, "p_min": np.nan}
        if perm is not None and (a, b) in perm.index:
            pr = perm.loc[(a, b)]
            pt = {"permutation_unit": str(pr["permutation_unit"]), "permutations": int(pr["permutations"]),
                  "p_permutation": float(pr["p_permutation"]), "p_min": float(pr["p_min"])}
        out.append({
            "lang": lang, "year_from": a, "year_to": b, "gap": b - a,
            "cosine_distance": 1.0 - cosine_similarity(V[i], V[i + 1]),
            "jsd": jsd(m.X[i], m.X[i + 1]),
            "tokens_from": tokens[a], "tokens_to": tokens[b],
            "low_data": tokens[a] < min_tokens or tokens[b] < min_tokens,
            **bl, "note": "; ".join(notes), **hv, **pt,
        })
    return pd.DataFrame(out, columns=DRIFT_COLUMNS)


def similarity_table(matrix: CountMatrix, **tfidf_params) -> pd.DataFrame:
    """Cosine similarity of TF-IDF vectors and JSD for every ordered pair of years (diagonal included).

    Parameters
    ----------
    matrix : CountMatrix
        One language's year matrix (its unigrams are used).
    **tfidf_params
        ``TfidfTransformer`` arguments.

    Returns
    -------
    DataFrame
        ``SIMILARITY_COLUMNS``, one row per ordered pair of years (n x n rows).

    References
    ----------
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions on
    Information Theory 37(1), 145-151 (:func:`textdrift.stats.jsd`).
    """
    m = _unigrams(matrix, "year")
    if not len(m.rows):
        return pd.DataFrame(columns=SIMILARITY_COLUMNS)
    V, _ = tfidf_vectors(m, **tfidf_params)
    years, lang = m.rows["year"].tolist(), _lang(matrix)
    # dense rows once (the same vectors the sparse rows give); both measures are symmetric bit for bit
    # (a.b = b.a term by term, na*nb = nb*na, (p+q)/2 = (q+p)/2, kl_p + kl_q = kl_q + kl_p)
    Vd, Xd = V.toarray(), m.X.toarray().astype(float)
    pair = {}
    for i in range(len(years)):
        for j in range(i, len(years)):
            pair[i, j] = pair[j, i] = (cosine_similarity(Vd[i], Vd[j]), jsd(Xd[i], Xd[j]))
    out = [
        {"lang": lang, "year_a": a, "year_b": b, "cosine_similarity": pair[i, j][0], "jsd": pair[i, j][1]}
        for i, a in enumerate(years) for j, b in enumerate(years)
    ]
    return pd.DataFrame(out, columns=SIMILARITY_COLUMNS)


def top_terms(matrix: CountMatrix, top_n: int = _D["drift"]["top_n"], unit: str = "year",
              **tfidf_params) -> pd.DataFrame:
    """The ``top_n`` highest TF-IDF terms of each year (ties: higher count, then term), with raw counts.

    ``unit`` is the row column that names a document ("year"; :func:`group_drift` uses "group").

    Parameters
    ----------
    matrix : CountMatrix
        One language's year (or group) matrix (its unigrams are used).
    top_n : int
    unit : str
    **tfidf_params
        ``TfidfTransformer`` arguments.

    Returns
    -------
    DataFrame
        ``TOP_TERM_COLUMNS``; terms with a zero count are not listed.
    """
    m = _unigrams(matrix, unit)
    if not len(m.rows):
        return pd.DataFrame(columns=TOP_TERM_COLUMNS)
    V, _ = tfidf_vectors(m, **tfidf_params)
    lang, frames = _lang(matrix), []
    for i, y in enumerate(m.rows[unit]):
        df = pd.DataFrame({"term": m.vocab, "tfidf": dense_vector(V[i]), "count": dense_vector(m.X[i]).astype("int64")})
        df = df[df["count"] > 0].sort_values(["tfidf", "count", "term"], ascending=[False, False, True]).head(top_n)
        frames.append(df.assign(lang=lang, year=y, rank=np.arange(1, len(df) + 1)))
    return pd.concat(frames, ignore_index=True)[TOP_TERM_COLUMNS]


def term_shifts(matrix: CountMatrix, top_n: int = _D["drift"]["top_n"], unit: str = "year",
                **tfidf_params) -> pd.DataFrame:
    """For each consecutive pair, the ``top_n`` rising and ``top_n`` falling terms by change in TF-IDF weight.

    Ties are broken by term; terms whose weight does not change are never listed. ``unit`` as in
    :func:`top_terms`.

    Parameters
    ----------
    matrix, top_n, unit, **tfidf_params
        As in :func:`top_terms`.

    Returns
    -------
    DataFrame
        ``SHIFT_COLUMNS``; empty with fewer than two units.
    """
    m = _unigrams(matrix, unit)
    if len(m.rows) < 2:
        return pd.DataFrame(columns=SHIFT_COLUMNS)
    V, _ = tfidf_vectors(m, **tfidf_params)
    units, lang, frames = m.rows[unit].tolist(), _lang(matrix), []
    for i in range(len(units) - 1):
        df = pd.DataFrame({"term": m.vocab, "tfidf_from": dense_vector(V[i]), "tfidf_to": dense_vector(V[i + 1])})
        df["change"] = df["tfidf_to"] - df["tfidf_from"]
        rising = df[df["change"] > 0].sort_values(["change", "term"], ascending=[False, True]).head(top_n)
        falling = df[df["change"] < 0].sort_values(["change", "term"], ascending=[True, True]).head(top_n)
        for part, direction in ((rising, "rising"), (falling, "falling")):
            frames.append(part.assign(lang=lang, year_from=units[i], year_to=units[i + 1],
                                      direction=direction, rank=np.arange(1, len(part) + 1)))
    return pd.concat(frames, ignore_index=True)[SHIFT_COLUMNS]


def _draw_first_halves(k: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """``rounds x floor(k/2)`` paragraph indices: row r is ``rng.permutation(k)[: k // 2]`` of round r.

    ``Generator.permuted`` along axis 1 shuffles the rows one after the other with the same
    Fisher-Yates draws as ``permutation`` (tested against the sparse reference implementation in ``tests/test_drift.py``).
    """
    return rng.permuted(np.tile(np.arange(k), (rounds, 1)), axis=1)[:, : k // 2]


def _dense_year_halves(P: sp.csr_matrix, year, rounds: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The random halves of one year's paragraphs (round r: the ``floor(k/2)`` paragraphs drawn by
    ``numpy.random.default_rng([seed, year])`` in round r, and the other ``ceil(k/2)``), as dense
    float count arrays on the year's columns only.

    ``P``: the year's paragraph rows (float CSR). Returns ``(cols, H1, H2)``: ``cols`` the sorted
    columns with a non-zero count in the year, ``H1, H2`` the two ``rounds x len(cols)`` halves
    (row r of round r). Counts are integers, so the float sums are exact.
    """
    k = P.shape[0]
    cols, inverse = np.unique(P.indices, return_inverse=True)
    Pc = sp.csr_matrix((P.data, inverse.reshape(-1), P.indptr), shape=(k, len(cols)))
    first = _draw_first_halves(k, rounds, np.random.default_rng([seed, int(year)]))
    pick = np.zeros((rounds, k))
    pick[np.repeat(np.arange(rounds), k // 2), first.ravel()] = 1.0
    H1 = np.ascontiguousarray((Pc.T @ pick.T).T)
    H2 = np.asarray(Pc.sum(axis=0)).ravel() - H1
    return cols, H1, H2


def _dense_tfidf(transformer: TfidfTransformer, H: np.ndarray, cols: np.ndarray, width: int):
    """``transformer.transform`` of count rows ``H`` on columns ``cols`` (sorted) of a ``width``-column
    matrix, as a dense full-width array, and the l2 norm of each row (``np.linalg.norm`` of the row,
    as :func:`textdrift.stats.cosine_similarity` computes it). The CSR input holds the same entries in the same
    column order as the sparse halves of the sparse reference implementation in ``tests/test_drift.py`` (so the same row sums and norms)."""
    mask = H != 0
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))])
    X = sp.csr_matrix((H[mask], cols[np.nonzero(mask)[1]], indptr), shape=(H.shape[0], width))
    W = transformer.transform(X).toarray()
    return W, np.array([np.linalg.norm(w) for w in W], dtype=float).reshape(-1)


def _on_columns(H: np.ndarray, cols: np.ndarray, union: np.ndarray) -> np.ndarray:
    """``H`` (columns ``cols``) re-indexed to the sorted superset ``union`` (zeros elsewhere)."""
    if len(cols) == len(union):
        return H
    out = np.zeros((H.shape[0], len(union)))
    out[:, np.searchsorted(union, cols)] = H
    return out


def _dense_cosine_distances(WA, na, WB, nb) -> list[float]:
    """``1 - cosine_similarity(WA[r], WB[r])`` per row, with the row norms given (same arithmetic)."""
    out = []
    for r in range(WA.shape[0]):
        if na[r] == 0 or nb[r] == 0:
            out.append(float("nan"))
        else:
            out.append(1.0 - float(np.clip(WA[r] @ WB[r] / (na[r] * nb[r]), -1.0, 1.0)))
    return out


def _dense_rowwise_jsd(A: np.ndarray, B: np.ndarray) -> list[float]:
    """``[jsd(A[r], B[r]) for r in rows]`` of two dense non-negative count arrays (same arithmetic as :func:`textdrift.stats.jsd`).

    The element-wise terms of every row are computed at once over the non-zero entries in row-major
    (= column) order; each KL sum is ``np.sum`` of that row's contiguous slice, as in :func:`textdrift.stats.jsd`.
    """
    ps, qs = A.sum(axis=1), B.sum(axis=1)  # sums of integers: exact
    mA, mB = A > 0, B > 0
    nA, nB = mA.sum(axis=1), mB.sum(axis=1)
    oA, oB = np.concatenate([[0], np.cumsum(nA)]), np.concatenate([[0], np.cumsum(nB)])
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q_p = A[mA] / np.repeat(ps, nA), B[mA] / np.repeat(qs, nA)   # p and q where p > 0
        q, p_q = B[mB] / np.repeat(qs, nB), A[mB] / np.repeat(ps, nB)   # q and p where q > 0
        tp = p * np.log2(p / ((p + q_p) / 2))
        tq = q * np.log2(q / ((p_q + q) / 2))
    out = []
    for r in range(A.shape[0]):
        if ps[r] <= 0 or qs[r] <= 0:
            out.append(float("nan"))
            continue
        kl_p = float(np.sum(tp[oA[r]:oA[r + 1]]))
        kl_q = float(np.sum(tq[oB[r]:oB[r + 1]]))
        out.append(float(min(1.0, max(0.0, (kl_p + kl_q) / 2))))
    return out


def _split_rounds(paragraphs: CountMatrix, matrix: CountMatrix, rounds: int, seed: int, min_paragraphs: int,
                  tfidf_params: dict) -> tuple:
    """The split-half rounds of every year, shared by :func:`split_half_baseline` and :func:`cross_year_halves`.

    Returns ``(m, transformer, per_year, cross)``: ``m`` the unigram year matrix, ``transformer``
    fitted on it; ``per_year[year] = (k, has_halves, cosine distances, jsds)`` of the within-year
    halves (``has_halves`` False below ``min_paragraphs``, and then no distances);
    ``cross[(year_from, year_to)] = (cosine distances, jsds)`` of the first halves of consecutive
    years (both with halves). Computed once per language by :func:`write_drift`, on dense halves
    (:func:`_dense_year_halves`); the values equal bit for bit those of the sparse reference
    implementation in ``tests/test_drift.py`` (sparse halves, ``jsd`` and ``cosine_similarity``
    row by row). Only the previous year's halves are kept.
    """
    m = _unigrams(matrix, "year")
    if not len(m.rows):
        return m, None, {}, {}
    _, transformer = tfidf_vectors(m, **tfidf_params)
    para = on_vocabulary(paragraphs.select(1), m.vocab)
    para_years = para.rows["year"].to_numpy()
    X = para.X.astype(float).tocsr()
    per_year, cross, prev = {}, {}, None
    for y in m.rows["year"]:
        rows = np.flatnonzero(para_years == y)
        k = len(rows)
        if k < min_paragraphs:
            per_year[y], prev = (k, False, [], []), None
            continue
        if rounds <= 0:
            per_year[y], prev = (k, True, [], []), None
            continue
        cols, H1, H2 = _dense_year_halves(X[rows], y, rounds, seed)
        W, n = _dense_tfidf(transformer, np.vstack([H1, H2]), cols, X.shape[1])
        W1, W2, n1, n2 = W[:rounds], W[rounds:], n[:rounds], n[rounds:]
        per_year[y] = (k, True, _dense_cosine_distances(W1, n1, W2, n2), _dense_rowwise_jsd(H1, H2))
        if prev is not None:  # JSD: only the order of the non-zero columns matters, so the union of both years'
            a, cols_a, HA, WA, na = prev
            union = np.union1d(cols_a, cols)
            cross[(a, y)] = (_dense_cosine_distances(WA, na, W1, n1),
                             _dense_rowwise_jsd(_on_columns(HA, cols_a, union), _on_columns(H1, cols, union)))
        prev = (y, cols, H1, W1, n1)
    return m, transformer, per_year, cross


def split_half_baseline(
    paragraphs: CountMatrix,
    matrix: CountMatrix,
    rounds: int = _D["drift"]["baseline_rounds"],
    seed: int = _D["drift"]["seed"],
    min_paragraphs: int = _D["drift"]["baseline_min_paragraphs"],
    _rounds: tuple | None = None,
    **tfidf_params,
) -> pd.DataFrame:
    """Within-year distance between random halves of each year's paragraphs.

    ``paragraphs``: unigram counts per paragraph (rows with ``year``, ``doc_id``, ``para``,
    ``tokens``), e.g. ``count_matrix(tokens, by=["year", "doc_id", "para"], ngram_max=1)``;
    it is aligned to the vocabulary of ``matrix`` (the year matrix), on which the
    TF-IDF transformer is fitted. One row per year of ``matrix``; NaN statistics and
    ``rounds = 0`` where a year has fewer than ``min_paragraphs`` paragraphs.

    Parameters
    ----------
    paragraphs : CountMatrix
        Unigram counts per paragraph.
    matrix : CountMatrix
        The year matrix (vocabulary and idf).
    rounds, seed : int
        Random splits per year and their seed.
    min_paragraphs : int
    **tfidf_params

    Returns
    -------
    DataFrame
        ``BASELINE_COLUMNS``.

    References
    ----------
    Kilgarriff, A. (2001). Comparing corpora. International Journal of Corpus Linguistics 6(1), 97-133.
    """
    m, _, per_year, _ = _rounds or _split_rounds(paragraphs, matrix, rounds, seed, min_paragraphs, tfidf_params)
    if not len(m.rows):
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    lang, out = _lang(matrix), []
    for y, year_tokens in zip(m.rows["year"], m.rows["tokens"]):
        k, has_halves, cos, div = per_year[y]
        stats = {"cosine": [], "jsd": []}
        if has_halves:
            stats["cosine"], stats["jsd"] = cos, div
        else:
            log.info("%s %s: %d paragraph(s) with text (< %d): no split-half baseline", lang, y, k, min_paragraphs)
        row = {"lang": lang, "year": y, "paragraphs": k, "tokens": int(year_tokens), "rounds": len(stats["cosine"])}
        for name, values in stats.items():
            v = np.asarray(values, dtype=float)
            row[f"{name}_mean"] = float(np.mean(v)) if len(v) else np.nan
            row[f"{name}_p05"] = float(np.quantile(v, 0.05)) if len(v) else np.nan
            row[f"{name}_p95"] = float(np.quantile(v, 0.95)) if len(v) else np.nan
        out.append(row)
    return pd.DataFrame(out, columns=BASELINE_COLUMNS)


def cross_year_halves(
    paragraphs: CountMatrix,
    matrix: CountMatrix,
    rounds: int = _D["drift"]["baseline_rounds"],
    seed: int = _D["drift"]["seed"],
    min_paragraphs: int = _D["drift"]["baseline_min_paragraphs"],
    _rounds: tuple | None = None,
    **tfidf_params,
) -> pd.DataFrame:
    """Length-matched drift: a random half of ``year_from`` against a random half of ``year_to``.

    Same arguments, same halves and same idf as :func:`split_half_baseline`: in round r the first
    half ``A1`` drawn for ``year_from`` (its halves ``A1, A2``) is compared with the first half ``B1``
    drawn for ``year_to`` (``B1, B2``). One row per consecutive pair of available years::

        c_r = d(A1, B1)                           cross-year half distance (cosine or JSD)
        w_r = (d(A1, A2) + d(B1, B2)) / 2         within-year half distance of the same round
        halves_cosine, halves_jsd = mean_r c_r
        p_cosine = #{r : c_r <= w_r} / rounds     (cosine distance; ties within 1e-12 count)

    NaN (and ``rounds = 0``) when either year has fewer than ``min_paragraphs`` paragraphs.

    Parameters
    ----------
    paragraphs, matrix, rounds, seed, min_paragraphs, **tfidf_params
        As in :func:`split_half_baseline`.

    Returns
    -------
    DataFrame
        ``HALVES_COLUMNS``.

    References
    ----------
    Kilgarriff, A. (2001). Comparing corpora. International Journal of Corpus Linguistics 6(1), 97-133.
    """
    if _rounds is None and len(_unigrams(matrix, "year").rows) < 2:
        return pd.DataFrame(columns=HALVES_COLUMNS)
    m, _, per_year, cross = _rounds or _split_rounds(paragraphs, matrix, rounds, seed, min_paragraphs, tfidf_params)
    if len(m.rows) < 2:
        return pd.DataFrame(columns=HALVES_COLUMNS)
    lang, years = _lang(matrix), m.rows["year"].tolist()
    within = {y: per_year[y][2] for y in years if per_year[y][1]}
    out = []
    for a, b in zip(years[:-1], years[1:]):
        row = {"lang": lang, "year_from": a, "year_to": b, "rounds": 0,
               "halves_cosine": np.nan, "halves_jsd": np.nan, "p_cosine": np.nan}
        if (a, b) in cross and rounds > 0:
            cos, div = cross[(a, b)]
            c, w = np.asarray(cos), (np.asarray(within[a]) + np.asarray(within[b])) / 2
            row.update(rounds=rounds, halves_cosine=float(np.mean(c)), halves_jsd=float(np.mean(div)),
                       p_cosine=float(np.mean(c <= w + TIE_TOLERANCE)))
        out.append(row)
    return pd.DataFrame(out, columns=HALVES_COLUMNS)


# --- permutation test of a step -------------------------------------------------------------------

PERMUTATION_COLUMNS = ["lang", "year_from", "year_to", "permutation_unit", "units_from", "units_to", "permutations",
                       "p_permutation", "p_min"]


def _dense_distances(A: np.ndarray, B: np.ndarray, idf: np.ndarray, sublinear: bool) -> np.ndarray:
    """Cosine distance between the TF-IDF weights of the rows of two dense count arrays (fixed idf).

    ``w = tf(c) * idf`` with ``tf(c) = c`` (``1 + ln c`` for c > 0 when ``sublinear``); the norm
    of :class:`~sklearn.feature_extraction.text.TfidfTransformer` only rescales a row, so it does
    not change the cosine. NaN where a row is empty.
    """
    if sublinear:
        with np.errstate(divide="ignore"):
            A = np.where(A > 0, 1.0 + np.log(np.where(A > 0, A, 1.0)), 0.0)
            B = np.where(B > 0, 1.0 + np.log(np.where(B > 0, B, 1.0)), 0.0)
    WA, WB = A * idf, B * idf
    na, nb = np.sqrt((WA * WA).sum(axis=1)), np.sqrt((WB * WB).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = (WA * WB).sum(axis=1) / (na * nb)
    return 1.0 - np.clip(cos, -1.0, 1.0)


def _gram_distances(U: sp.csr_matrix, idf: np.ndarray, total: np.ndarray, batch_cells: int):
    """The cosine distance of the two sides of splits, from the units' Gram matrix (linear tf).

    With ``w = idf**2``, a split ``s`` (0/1 over the k units), side A = ``s U`` and side B = ``t - A``
    (``t`` the two years' total counts)::

        A.B_w   = s v - s G s'        v = U (w * t),   G = U diag(w) U'   (k x k)
        |A|_w^2 = s G s',   |B|_w^2 = t.t_w - 2 s v + s G s'
        d(s)    = 1 - A.B_w / (|A|_w |B|_w)

    so a batch of splits costs ``splits x k^2``, not ``splits x columns``. Returns the function
    of a boolean split array and the batch size (``batch_cells / k`` splits).
    """
    w = idf * idf
    G = np.asarray((U.multiply(w[None, :]) @ U.T).todense(), dtype=float)
    v = np.asarray(U @ (w * total)).ravel()
    tt = float(np.sum(w * total * total))

    def distances(split: np.ndarray) -> np.ndarray:
        S = split.astype(float)
        lin = S @ v
        quad = np.einsum("ij,ij->i", S @ G, S)
        nb2 = np.maximum(tt - 2.0 * lin + quad, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = (lin - quad) / np.sqrt(quad * nb2)
        return 1.0 - np.clip(cos, -1.0, 1.0)

    return distances, max(1, batch_cells // max(1, U.shape[0]))


def _splits(k: int, n_from: int, permutations: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """The splits of ``k`` units into ``n_from`` (year_from) and ``k - n_from``: a boolean array
    (splits x k, True = year_from), and whether it is every split (exact) rather than a random draw
    of ``permutations`` of them (with replacement; the observed split is not among them)."""
    from itertools import combinations
    from math import comb

    if comb(k, n_from) <= permutations:
        out = np.zeros((comb(k, n_from), k), dtype=bool)
        for i, c in enumerate(combinations(range(k), n_from)):
            out[i, list(c)] = True
        return out, True
    order = rng.permuted(np.tile(np.arange(k), (permutations, 1)), axis=1)
    out = np.zeros((permutations, k), dtype=bool)
    out[np.repeat(np.arange(permutations), n_from), order[:, :n_from].ravel()] = True
    return out, False


def permutation_test(paragraphs: CountMatrix, matrix: CountMatrix,
                     permutations: int = _D["drift"]["permutations"], seed: int = _D["drift"]["seed"],
                     min_documents: int = _D["drift"]["permutation_min_documents"],
                     batch_cells: int = 4_000_000, **tfidf_params) -> pd.DataFrame:
    """Permutation test of each step: is the cosine distance of two years larger than when their
    units are reassigned at random between them?

    For consecutive available years a and b of one language, the units are the documents of the
    two years when both have at least ``min_documents`` of them, else their paragraphs (rows of
    ``paragraphs`` with a kept token). With ``n_a`` units in a and ``k`` in all, a split assigns
    ``n_a`` of the ``k`` units to a and the rest to b; each side's unigram counts are summed and
    weighted with the idf fitted on the real year-documents (the transformer of
    :func:`tfidf_vectors`, fixed), and ``T`` is the cosine distance of the two sides::

        T_obs = T(observed split)                                   (= cosine_distance of the step)
        exact  (C(k, n_a) <= permutations): p = #{splits s: T_s >= T_obs} / C(k, n_a)
        random (otherwise): p = (1 + #{r: T_r >= T_obs}) / (1 + permutations)

    (``>=`` with a tolerance of 1e-12 for rounding). Under the null hypothesis that the units of
    the two years are exchangeable (each year's units drawn from one source), p is a valid
    p-value: P(p <= alpha) <= alpha (Phipson & Smyth 2010 for the ``+1``). With documents as units
    the null is "the two years' documents come from one population", the claim a reader makes
    about years; with paragraphs it is "the two sides' paragraphs come from one population",
    which two different documents of one year also violate (documents differ in topic): the test
    then contrasts the documents, not the years. Its smallest p is ``1 / C(k, n_a)`` (exact) or
    ``1 / (1 + permutations)``. Random splits draw from ``numpy.random.default_rng([seed, a,
    b])``. With linear tf (the default) the distances of a batch of splits come from the units' Gram
    matrix (:func:`_gram_distances`: cost ``nnz x k`` once, then ``permutations x k^2``); with
    ``sublinear_tf`` each split's counts are summed (``permutations x nnz``), in batches of
    ``batch_cells`` dense cells.

    Parameters
    ----------
    paragraphs : CountMatrix
        Unigram counts per paragraph (rows ``year``, ``doc_id``, ``para``), any vocabulary.
    matrix : CountMatrix
        The language's year matrix (its unigram vocabulary and idf).
    permutations : int
        Most splits drawn (all splits, exactly, when there are fewer).
    seed : int
    min_documents : int
    batch_cells : int
        Dense cells per batch of splits (memory bound).
    **tfidf_params
        ``TfidfTransformer`` arguments.

    Returns
    -------
    DataFrame
        ``PERMUTATION_COLUMNS``: one row per consecutive pair of available years; ``permutations``
        the number of splits compared (``C(k, n_a)`` when exact); ``p_min`` the smallest p the design
        allows (``1 / C(k, n_a)``, twice that when ``n_a = k - n_a``: a split and its mirror image give
        the same distance; ``1 / (1 + permutations)`` when drawn): 3 + 3 documents give 0.1, so such
        a step can never reach 0.05; NaN p when a side has no unit.

    References
    ----------
    Good, P. (2005). Permutation, Parametric and Bootstrap Tests of Hypotheses, 3rd ed. Springer.
    Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology 9(1), 39.
    """
    m = _unigrams(matrix, "year")
    if len(m.rows) < 2:
        return pd.DataFrame(columns=PERMUTATION_COLUMNS)
    _, transformer = tfidf_vectors(m, **tfidf_params)
    params = {**_D["drift"]["tfidf"], **tfidf_params}
    idf_all = transformer.idf_ if params.get("use_idf", True) else np.ones(len(m.vocab))
    para = on_vocabulary(paragraphs.select(1), m.vocab)
    keep = np.asarray(para.X.sum(axis=1)).ravel() > 0
    para = para.take(np.flatnonzero(keep))
    X = para.X.astype(float).tocsr()
    years_of = para.rows["year"].to_numpy()
    docs_of = para.rows["doc_id"].astype(str).to_numpy()
    lang, years, out = _lang(matrix), m.rows["year"].tolist(), []
    for a, b in zip(years[:-1], years[1:]):
        row = {"lang": lang, "year_from": a, "year_to": b, "permutation_unit": "", "units_from": 0, "units_to": 0,
               "permutations": 0, "p_permutation": np.nan, "p_min": np.nan}
        ra, rb = np.flatnonzero(years_of == a), np.flatnonzero(years_of == b)
        docs_a, docs_b = np.unique(docs_of[ra]), np.unique(docs_of[rb])
        rows = np.concatenate([ra, rb])
        if min(len(docs_a), len(docs_b)) >= min_documents:
            unit = "document"
            ids = np.concatenate([docs_a, docs_b])
            code = {d: i for i, d in enumerate(ids)}
            S = sp.csr_matrix((np.ones(len(rows)), ([code[d] for d in docs_of[rows]], np.arange(len(rows)))),
                              shape=(len(ids), len(rows)))
            U, n_a = (S @ X[rows]).tocsr(), len(docs_a)
        else:
            unit, U, n_a = "paragraph", X[rows], len(ra)
        k = U.shape[0]
        row.update(permutation_unit=unit, units_from=n_a, units_to=k - n_a)
        if n_a == 0 or n_a == k:
            out.append(row)
            continue
        cols = np.unique(U.indices)
        Uk = U[:, cols].tocsr()  # units x columns
        idf, total = idf_all[cols], np.asarray(Uk.sum(axis=0)).ravel()
        observed = np.zeros((1, k), dtype=bool)
        observed[0, :n_a] = True
        splits, exact = _splits(k, n_a, permutations, np.random.default_rng([seed, int(a), int(b)]))
        if params.get("sublinear_tf", False):  # tf = 1 + ln c is not linear in the units: sum each split's counts
            Uc = Uk.T.tocsr()

            def distances(split: np.ndarray) -> np.ndarray:
                A = np.asarray((Uc @ split.T.astype(float)).T)
                return _dense_distances(A, total - A, idf, True)

            per = max(1, batch_cells // max(1, len(cols)))
        else:  # linear tf: every term of the cosine is a linear or quadratic form of the split (k x k Gram matrix)
            distances, per = _gram_distances(Uk, idf, total, batch_cells)
        t_obs = float(distances(observed)[0])
        count = 0
        for start in range(0, len(splits), per):
            count += int(np.sum(distances(splits[start:start + per]) >= t_obs - TIE_TOLERANCE))
        n = len(splits)
        p = count / n if exact else (1 + count) / (1 + n)
        # the smallest p the design allows: with n_a = k - n_a a split and its mirror image give the same T
        p_min = (2 if 2 * n_a == k else 1) / n if exact else 1 / (1 + n)
        row.update(permutations=n, p_permutation=float(p) if np.isfinite(t_obs) else np.nan, p_min=float(p_min))
        out.append(row)
    return pd.DataFrame(out, columns=PERMUTATION_COLUMNS)


# --- comparing any two groups (notebooks) ---------------------------------------------------------


def group_drift(
    tokens_a: pd.DataFrame,
    tokens_b: pd.DataFrame,
    labels: tuple[str, str] = ("a", "b"),
    min_tokens: int = _D["low_data_tokens"],
    top_n: int = _D["drift"]["top_n"],
    **tfidf_params,
) -> dict[str, pd.DataFrame]:
    """Compare two groups of documents of ONE language (e.g. two sets of doc_ids) with the drift methods.

    Each group's kept tokens are pooled into one document and TF-IDF is fitted on the two.
    Returns ``{"drift": one row (lang, group_from, group_to, cosine_distance, jsd, tokens_from,
    tokens_to, low_data), "top_terms": per group, "term_shifts": from group a to group b}``.

    Parameters
    ----------
    tokens_a, tokens_b : DataFrame
        The two groups' token tables (one language).
    labels : (str, str)
        Names of the two groups in the output.
    min_tokens : int
    top_n : int
    **tfidf_params

    Returns
    -------
    dict of DataFrame
    """
    langs = set(tokens_a["lang"]) | set(tokens_b["lang"])
    if len(langs) != 1:
        raise ValueError(f"group_drift: both groups must be of one language, got {sorted(langs)}")
    lang = langs.pop()
    both = pd.concat([tokens_a.assign(group=0), tokens_b.assign(group=1)], ignore_index=True)
    m = _unigrams(count_matrix(both, by=["group"], ngram_max=1), "group")
    if len(m.rows) != 2:
        raise ValueError("group_drift: a group has no kept tokens")
    m.rows.insert(0, "lang", lang)
    V, _ = tfidf_vectors(m, **tfidf_params)
    n_a, n_b = m.rows["tokens"]
    drift = pd.DataFrame([{
        "lang": lang, "group_from": labels[0], "group_to": labels[1],
        "cosine_distance": 1.0 - cosine_similarity(V[0], V[1]), "jsd": jsd(m.X[0], m.X[1]),
        "tokens_from": n_a, "tokens_to": n_b, "low_data": min(n_a, n_b) < min_tokens,
    }])
    label = dict(enumerate(labels))
    terms = top_terms(m, top_n, unit="group", **tfidf_params).rename(columns={"year": "group"})
    terms["group"] = terms["group"].map(label)
    shifts = term_shifts(m, top_n, unit="group", **tfidf_params)
    shifts = shifts.rename(columns={"year_from": "group_from", "year_to": "group_to"}).replace(
        {"group_from": label, "group_to": label})
    return {"drift": drift, "top_terms": terms, "term_shifts": shifts}


# --- the workflow step ----------------------------------------------------------------------------


def _unigram_columns(matrix: CountMatrix) -> CountMatrix:
    """``matrix.select(1)`` without the fixed-width string copy of the whole n-gram vocabulary."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(matrix.vocab):
        return matrix.select(1)
    spaces = pc.count_substring(pa.array(np.asarray(matrix.vocab, dtype=object), type=pa.string()), SEP)
    cols = np.flatnonzero(spaces.to_numpy(zero_copy_only=False) == 0)
    return CountMatrix(matrix.X[:, cols].tocsr(), matrix.vocab[cols], matrix.rows.copy())


def _language_tables(matrix: CountMatrix, paras: CountMatrix, settings: DriftSettings) -> dict[str, pd.DataFrame]:
    """The five drift tables of one language from its year matrix (unigrams) and paragraph matrix."""
    s = settings
    min_tokens, top_n, baseline_rounds, baseline_min_paragraphs, seed = (s.min_tokens, s.top_n, s.baseline_rounds,
                                                                         s.baseline_min_paragraphs, s.seed)
    permutations, permutation_min_documents = s.permutations, s.permutation_min_documents
    tfidf = {**_D["drift"]["tfidf"], **(s.tfidf or {})}
    # the rounds (halves and their within-year distances) are drawn once for both tables
    split = _split_rounds(paras, matrix, baseline_rounds, seed, baseline_min_paragraphs, tfidf)
    baseline = split_half_baseline(paras, matrix, baseline_rounds, seed, baseline_min_paragraphs, _rounds=split,
                                   **tfidf)
    halves = cross_year_halves(paras, matrix, baseline_rounds, seed, baseline_min_paragraphs, _rounds=split, **tfidf)
    del split
    perm = permutation_test(paras, matrix, permutations, seed, permutation_min_documents, **tfidf)
    return {"baseline": baseline,
            "drift": drift_table(matrix, min_tokens, baseline, halves=halves, permutation=perm, **tfidf),
            "similarity": similarity_table(matrix, **tfidf), "top_terms": top_terms(matrix, top_n, **tfidf),
            "term_shifts": term_shifts(matrix, top_n, **tfidf)}


def _stack(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS[name])


@dataclass(frozen=True)
class DriftSettings(Settings):
    """The settings of the drift tables (the ``drift`` block of the configuration, with
    ``low_data_tokens``); defaults from the schema (:class:`textdrift.config.Settings`).

    Attributes
    ----------
    min_tokens : int
        A year under this many kept tokens is low data.
    top_n : int
        Terms per year in ``top_terms`` and per direction in ``term_shifts``.
    baseline_rounds, baseline_min_paragraphs, seed : int
        As in :func:`split_half_baseline`.
    tfidf : dict
        ``TfidfTransformer`` arguments over :data:`TFIDF_DEFAULTS`.
    permutations, permutation_min_documents : int
        As in :func:`permutation_test` (its seed is ``seed``).
    group_by : str or None
        A column of the documents table: the tables of each group's documents too.
    """

    min_tokens: int = setting("low_data_tokens")
    top_n: int = setting("drift", "top_n")
    baseline_rounds: int = setting("drift", "baseline_rounds")
    baseline_min_paragraphs: int = setting("drift", "baseline_min_paragraphs")
    seed: int = setting("drift", "seed")
    tfidf: dict = setting("drift", "tfidf")
    permutations: int = setting("drift", "permutations")
    permutation_min_documents: int = setting("drift", "permutation_min_documents")
    group_by: str | None = None


@dataclass(frozen=True)
class DriftFiles:
    """The files of the ``drift`` rule: ``year`` (``year_{lang}.npz``, in the order of the
    languages), ``para`` (the per-paragraph unigram matrices, any number of files), ``out`` (table
    name -> CSV), and optional ``documents`` (``documents.csv``), ``doc`` (``doc_{lang}.npz``, in
    the order of the languages) and ``grouped`` (table name -> the grouped CSV)."""

    year: list
    para: list
    out: dict
    documents: str | Path | None = None
    doc: list = ()
    grouped: dict | None = None


def write_drift(files: DriftFiles, languages: list[str], settings: DriftSettings | None = None, memo=None) -> None:
    """Write the five drift tables for every language.

    ``files.year[i]`` is ``year_{languages[i]}.npz``; ``files.para`` are the per-paragraph unigram
    matrices (``vectorize.para_matrix``; any number of files, e.g. one per shard and language,
    merged per language by the ``lang`` of their rows) that the split-half rounds draw from;
    ``files.out`` maps ``drift``, ``similarity``, ``top_terms``, ``term_shifts``, ``baseline`` to CSV
    paths. ``files.documents``: the documents table (``results/tables/documents.csv``); when given,
    each drift step says which documents and genres stand on each side
    (:func:`textdrift.manifest.step_documents`).

    ``settings.group_by`` (a column of the documents table): the same five tables computed on each
    group's documents alone (their year matrices summed from ``files.doc``, ``doc_{lang}.npz`` in
    the order of ``languages``), written to ``files.grouped`` (same keys as ``out``) with a leading
    ``group`` column (:func:`textdrift.manifest.document_groups`).

    Parameters
    ----------
    files : DriftFiles
    languages : list of str
    settings : DriftSettings, optional
        The schema's defaults when None.
    memo : textdrift.langmemo.LanguageMemo, optional
        Each language's five tables kept by a digest of exactly what they are computed from: the
        language's year matrix file, its paragraph matrix files (``para_{lang}-*``; a file named
        otherwise counts for every language), the settings and the code (each language draws its
        rounds from its own generator seeded with ``seed``: no stream is shared across languages).
        A language whose tables are kept is not computed (the tables are the same either way).
        Not used with ``group_by``.

    References
    ----------
    Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic text retrieval.
    Information Processing & Management 24(5), 513-523.
    Lin, J. (1991). Divergence measures based on the Shannon entropy. IEEE Transactions on
    Information Theory 37(1), 145-151.
    Kilgarriff, A. (2001). Comparing corpora. International Journal of Corpus Linguistics 6(1), 97-133.
    """
    from textdrift.manifest import document_groups, step_documents, with_group

    params = settings or DriftSettings()
    group_by, out, grouped = params.group_by, files.out, files.grouped
    year_paths, para_paths, doc_paths = files.year, files.para, files.doc
    docs = read_csv(files.documents) if files.documents is not None else None
    groups = document_groups(docs, group_by) if group_by else {}
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLE_COLUMNS}
    by_group: dict[str, dict[str, list[pd.DataFrame]]] = {g: {name: [] for name in TABLE_COLUMNS} for g in groups}
    from textdrift.langmemo import file_languages, for_files

    memo = None if groups else for_files(memo, [*year_paths, *para_paths])
    keys, kept = {}, {}
    for lang, path in zip(languages, year_paths) if memo is not None else []:
        from dataclasses import asdict

        own = [p for p in para_paths if lang in file_languages(p, "para", languages)]
        keys[lang] = memo.key(lang=lang, settings=asdict(params), year=memo.sha(path), paras=[memo.sha(p) for p in own])
        value = memo.get(keys[lang])
        if isinstance(value, dict) and set(value) == set(TABLE_COLUMNS):
            kept[lang] = value
    para_parts = by_language([load_matrix(p) for p in para_paths
                              if any(x not in kept for x in file_languages(p, "para", languages))], languages)
    doc_files = dict(zip(languages, doc_paths))
    for lang, path in zip(languages, year_paths):
        if lang in kept:
            log.info("%s: the tables kept in the memo (its year and paragraph matrices, the settings and the code "
                     "unchanged)", lang)
            for name, df in kept[lang].items():
                tables[name].append(df)
            continue
        matrix = _unigram_columns(load_matrix(path))  # every table uses the unigrams only
        years = sorted(matrix.rows["year"].tolist())
        log.info("%s: %d year-document(s) %s", lang, len(years), years)
        if not years:
            log.info("no %s text: no drift rows", lang)
            if memo is not None:
                memo.put(keys[lang], {name: pd.DataFrame(columns=TABLE_COLUMNS[name]) for name in TABLE_COLUMNS})
            continue
        paras = merge_matrices(para_parts[lang], ["year", "doc_id", "para"])
        computed = _language_tables(matrix, paras, params)
        if memo is not None:
            memo.put(keys[lang], computed)
        for name, df in computed.items():
            tables[name].append(df)
        if groups:
            per_doc = _unigram_columns(load_matrix(doc_files[lang]))
            for g, ids in groups.items():
                year_g = year_matrix_of(per_doc, ids)
                if not len(year_g.rows):
                    continue
                paras_g = paras.take(paras.rows["doc_id"].astype(str).isin(ids).to_numpy(dtype=bool))
                log.info("%s, %s = %s: %d year(s)", lang, group_by, g, len(year_g.rows))
                for name, df in _language_tables(year_g, paras_g, params).items():
                    by_group[g][name].append(df)
    for name, frames in tables.items():
        df = _stack(frames, name)
        if name == "drift" and docs is not None:
            df = step_documents(df, docs)
        write_csv(df, out[name])
    if memo is not None:
        log.info(memo.finish())
    if groups:
        for name in TABLE_COLUMNS:
            frames = {}
            for g, ids in groups.items():
                df = _stack(by_group[g][name], name)
                if name == "drift":
                    df = step_documents(df, docs[docs["doc_id"].astype(str).isin(ids)])
                frames[g] = df
            write_csv(with_group(frames), grouped[name])


def run_drift(input, output, params, log, config=None) -> None:
    """Rule ``drift``: TF-IDF drift, similarity, top terms, shifts and baselines per language.

    Parameters
    ----------
    input, output, params : Snakemake's named lists of the rule (``workflow/rules/drift.smk``)
        Attribute access by the names the rule gives; any object with those attributes works.
    log : list of str
        The job's log file (first item).
    config : dict, optional
        The workflow's configuration: the per-language memo's settings (``language_memo``,
        :func:`textdrift.langmemo.memo_for`); None: no memo.
    """
    from textdrift.io import log_to_file
    from textdrift.langmemo import memo_for

    log_to_file(log[0])
    outputs = {k: v for k, v in output.items() if not k.startswith("grouped_")}
    grouped = {k.removeprefix("grouped_"): v for k, v in output.items() if k.startswith("grouped_")}
    files = DriftFiles(list(input.year), list(input.para), outputs, input.documents, list(input.doc), grouped)
    write_drift(files, params.languages, DriftSettings.from_params(params), memo_for(config, "drift"))
