"""TF-IDF drift (textdrift.drift) against values computed by hand on tiny invented inputs."""

import logging
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import jensenshannon

from textdrift import drift, stats
from textdrift.io import read_csv
from textdrift.vectorize import (
    CountMatrix,
    count_matrix,
    doc_matrix,
    load_matrix,
    merge_matrices,
    merge_shard_matrices,
    para_matrix,
    write_shard_matrices,
    year_matrix,
)

IDF_B = math.log(3 / 2) + 1  # smooth idf of a term in 1 of n = 2 documents: ln((1+2)/(1+1)) + 1 = 1.4054651


def matrix(counts, vocab, years, lang="en"):
    """A year matrix of one language from a dense count list (tokens = row sums)."""
    X = sp.csr_matrix(np.asarray(counts, dtype=np.int64))
    rows = pd.DataFrame({"lang": lang, "year": years, "tokens": np.asarray(counts).sum(axis=1)})
    return CountMatrix(X, np.array(vocab, dtype=object), rows)


def tokens_table(paragraphs):
    """Invented token table: paragraphs = [(doc_id, year, lang, para, "w1 w2 ...")], every word kept,
    one sentence per paragraph."""
    rows = []
    for doc_id, year, lang, para, text in paragraphs:
        for i, w in enumerate(text.split()):
            rows.append({"doc_id": doc_id, "year": year, "lang": lang, "para": para, "sent": para, "idx": i,
                         "text": w, "norm": w, "lemma": w, "is_stop": False, "is_punct": False, "keep": True})
    return pd.DataFrame(rows)


# --- reference implementation of the split-half rounds (sparse halves, the plain formulas row by
# row): the dense rounds of drift._split_rounds must equal it bit for bit ----------------------------


def _year_halves(para, year, rounds: int, seed: int, min_paragraphs: int):
    """The random halves of one year's paragraphs, one pair per round.

    Returns ``(k, halves)``: ``k`` paragraphs of ``year`` in ``para``; ``halves`` is ``(first, second)``,
    two ``rounds x V`` count matrices (row r: the ``floor(k/2)`` paragraphs drawn in round r, and the
    other ``ceil(k/2)``), or None when ``k < min_paragraphs``. The draws come from
    ``numpy.random.default_rng([seed, year])``, one permutation per round, so every caller that asks
    for the same year, seed and rounds gets the same halves.
    """
    rows = np.flatnonzero(para.rows["year"].to_numpy() == year)
    k = len(rows)
    if k < min_paragraphs:
        return k, None
    P = para.X[rows].tocsr()
    rng = np.random.default_rng([seed, int(year)])
    first = np.concatenate([rng.permutation(k)[: k // 2] for _ in range(rounds)]) if rounds else np.array([], int)
    pick = sp.csr_matrix((np.ones(len(first), dtype=np.int64), (np.repeat(np.arange(rounds), k // 2), first)),
                         shape=(rounds, k))
    H1 = (pick @ P).tocsr()
    H2 = (sp.csr_matrix(np.ones((rounds, 1), dtype=np.int64)) @ sp.csr_matrix(P.sum(axis=0)) - H1).tocsr()
    H1.sum_duplicates()  # canonical (sorted indices) once, not in every comparison
    H2.sum_duplicates()
    return k, (H1, H2)


def _half_distances(transformer, A: sp.csr_matrix, B: sp.csr_matrix):
    """Cosine distance (TF-IDF with ``transformer``'s idf) and JSD (raw counts) of row r of A vs row r of B."""
    WA, WB = transformer.transform(A.astype(float)).tocsr(), transformer.transform(B.astype(float)).tocsr()
    for M in (WA, WB):
        M.sum_duplicates()  # canonical: sorted column indices, no duplicates (as toarray() would give)
    cos = [1.0 - stats.cosine_similarity(_row(WA, r), _row(WB, r)) for r in range(A.shape[0])]
    return cos, _rowwise_jsd(A, B)


def _row(M: sp.csr_matrix, r: int):
    """Row r of a CSR matrix as a dense float vector (``M[r].toarray().ravel()`` without the slicing cost)."""
    out = np.zeros(M.shape[1], dtype=float)
    s, e = M.indptr[r], M.indptr[r + 1]
    out[M.indices[s:e]] = M.data[s:e]
    return out


def _rowwise_jsd(A: sp.csr_matrix, B: sp.csr_matrix):
    """``[jsd(A[r], B[r]) for r in rows]`` on the sparse rows of two count matrices, same arithmetic.

    Only the non-zero entries enter each KL term, in column order, as in :func:`jsd`; the sums of
    counts are sums of integers (exact in any order).
    """
    A, B = sp.csr_matrix(A, dtype=float, copy=True), sp.csr_matrix(B, dtype=float, copy=True)
    A.sum_duplicates()
    B.sum_duplicates()
    A.eliminate_zeros()
    B.eliminate_zeros()
    V = A.shape[1]
    key_a = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr)) * V + A.indices
    key_b = np.repeat(np.arange(B.shape[0], dtype=np.int64), np.diff(B.indptr)) * V + B.indices

    def other_at(keys_x, keys_y, data_y):  # values of y at the positions of x (0 where y has none)
        pos = np.searchsorted(keys_y, keys_x)
        pos_c = np.minimum(pos, max(len(keys_y) - 1, 0))
        hit = (pos < len(keys_y)) & (keys_y[pos_c] == keys_x) if len(keys_y) else np.zeros(len(keys_x), bool)
        return np.where(hit, data_y[pos_c] if len(keys_y) else 0.0, 0.0)

    q_at_a, p_at_b = other_at(key_a, key_b, B.data), other_at(key_b, key_a, A.data)
    out = []
    for r in range(A.shape[0]):
        sa, ea, sb, eb = A.indptr[r], A.indptr[r + 1], B.indptr[r], B.indptr[r + 1]
        ps, qs = A.data[sa:ea].sum(), B.data[sb:eb].sum()
        if ps <= 0 or qs <= 0:
            out.append(float("nan"))
            continue
        p, q_p = A.data[sa:ea] / ps, q_at_a[sa:ea] / qs   # p and q where p > 0
        q, p_q = B.data[sb:eb] / qs, p_at_b[sb:eb] / ps   # q and p where q > 0
        kl_p = float(np.sum(p * np.log2(p / ((p + q_p) / 2))))
        kl_q = float(np.sum(q * np.log2(q / ((p_q + q) / 2))))
        out.append(float(min(1.0, max(0.0, (kl_p + kl_q) / 2))))
    return out



# --- jsd and cosine --------------------------------------------------------------------------------


def test_jsd_hand_values():
    # P=(1,0), Q=(0,1): M=(.5,.5), H(M)=1, H(P)=H(Q)=0 -> 1
    assert stats.jsd([1, 0], [0, 1]) == pytest.approx(1.0)
    # P=(.5,.5), Q=(1,0): M=(.75,.25), H(M) = -(.75 log2 .75 + .25 log2 .25) = 0.8112781;
    # H(P)=1, H(Q)=0 -> 0.8112781 - 0.5 = 0.3112781
    assert stats.jsd([0.5, 0.5], [1, 0]) == pytest.approx(0.3112781, abs=1e-7)
    # counts are normalised first: (2,2) vs (3,0) is the same pair of distributions
    assert stats.jsd([2, 2], [3, 0]) == pytest.approx(0.3112781, abs=1e-7)
    # scipy returns the square root
    assert stats.jsd([0.5, 0.5], [1, 0]) == pytest.approx(jensenshannon([0.5, 0.5], [1, 0], base=2) ** 2)
    assert stats.jsd([1, 2, 3], [1, 2, 3]) == 0.0
    assert math.isnan(stats.jsd([0, 0], [1, 0]))  # an empty distribution has no divergence


def test_cosine_of_empty_vector_is_nan():
    assert math.isnan(stats.cosine_similarity([0, 0], [1, 0]))
    assert stats.cosine_similarity([1, 1], [2, 2]) == pytest.approx(1.0)


# --- TF-IDF by hand --------------------------------------------------------------------------------

# vocab (a, b, c); 2017: a=2 b=1 ; 2018: a=1 c=1. n = 2, df(a)=2, df(b)=df(c)=1.
# idf(a) = ln(3/3) + 1 = 1 ; idf(b) = idf(c) = ln(3/2) + 1 = 1.4054651
# 2017: w = (2, 1.4054651, 0), ||w|| = sqrt(4 + 1.9753321) = 2.4444493 -> v = (0.8181802, 0.5749619, 0)
# 2018: w = (1, 0, 1.4054651), ||w|| = sqrt(1 + 1.9753321) = 1.7249151 -> v = (0.5797387, 0, 0.8148025)
# cosine = 0.8181802 * 0.5797387 = 0.4743307 ; distance = 0.5256693
# JSD: P = (2/3, 1/3, 0), Q = (1/2, 0, 1/2), M = (7/12, 1/6, 1/4)
#   H(M) = 1.3844315, H(P) = 0.9182958, H(Q) = 1 -> 1.3844315 - (0.9182958 + 1)/2 = 0.4252836
HAND = matrix([[2, 1, 0], [1, 0, 1]], ["a", "b", "c"], [2017, 2018])


def test_tfidf_vectors_by_hand():
    V, transformer = drift.tfidf_vectors(HAND)
    np.testing.assert_allclose(transformer.idf_, [1.0, IDF_B, IDF_B])
    np.testing.assert_allclose(V.toarray(), [[0.8181802, 0.5749619, 0], [0.5797387, 0, 0.8148025]], atol=1e-7)


def test_drift_table_by_hand():
    t = drift.drift_table(HAND, min_tokens=1)
    assert list(t.columns) == drift.DRIFT_COLUMNS
    row = t.iloc[0]
    assert (row["year_from"], row["year_to"], row["gap"]) == (2017, 2018, 1)
    assert row["cosine_distance"] == pytest.approx(0.5256693, abs=1e-7)
    assert row["jsd"] == pytest.approx(0.4252836, abs=1e-7)
    assert (row["tokens_from"], row["tokens_to"], bool(row["low_data"])) == (3, 2, False)
    assert math.isnan(row["baseline_cosine_from"]) and row["note"] == ""  # no baseline given


def test_tfidf_params_are_passed_on():
    # without idf: 2017 (2,1,0)/sqrt5, 2018 (1,0,1)/sqrt2 -> cosine 2/sqrt10 = 0.6324555
    t = drift.drift_table(HAND, min_tokens=1, use_idf=False)
    assert t["cosine_distance"].iloc[0] == pytest.approx(1 - 0.6324555, abs=1e-7)


def test_term_absent_from_one_year_and_shifts():
    s = drift.term_shifts(HAND, top_n=5)
    assert list(s.columns) == drift.SHIFT_COLUMNS
    # c is absent in 2017: tfidf_from 0, rises by 0.8148025; a falls 0.8181802 -> 0.5797387 (-0.2384415),
    # b falls 0.5749619 -> 0 (-0.5749619, the largest fall)
    rising = s[s["direction"] == "rising"]
    assert rising[["term", "tfidf_from", "rank"]].values.tolist() == [["c", 0.0, 1]]
    assert rising["change"].iloc[0] == pytest.approx(0.8148025, abs=1e-7)
    falling = s[s["direction"] == "falling"]
    assert falling["term"].tolist() == ["b", "a"] and falling["rank"].tolist() == [1, 2]
    np.testing.assert_allclose(falling["change"], [-0.5749619, -0.2384415], atol=1e-7)
    np.testing.assert_allclose(s["change"], s["tfidf_to"] - s["tfidf_from"])


def test_top_terms_by_hand():
    t = drift.top_terms(HAND, top_n=2)
    assert list(t.columns) == drift.TOP_TERM_COLUMNS
    # 2017: a (0.818, count 2), b (0.575, count 1); 2018: c (0.815), a (0.580); zero weights never listed
    assert t[["year", "rank", "term", "count"]].values.tolist() == [
        [2017, 1, "a", 2], [2017, 2, "b", 1], [2018, 1, "c", 1], [2018, 2, "a", 1]]
    assert len(drift.top_terms(HAND, top_n=10)) == 4  # each year has only two terms with weight


def test_similarity_table_is_full_matrix():
    t = drift.similarity_table(HAND)
    assert list(t.columns) == drift.SIMILARITY_COLUMNS
    assert t[["year_a", "year_b"]].values.tolist() == [[2017, 2017], [2017, 2018], [2018, 2017], [2018, 2018]]
    np.testing.assert_allclose(t["cosine_similarity"], [1, 0.4743307, 0.4743307, 1], atol=1e-7)
    np.testing.assert_allclose(t["jsd"], [0, 0.4252836, 0.4252836, 0], atol=1e-7)


def test_identical_and_disjoint_years():
    same = drift.drift_table(matrix([[3, 1], [3, 1]], ["a", "b"], [2020, 2021]), min_tokens=1)
    assert same["cosine_distance"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert same["jsd"].iloc[0] == 0.0
    disjoint = drift.drift_table(matrix([[3, 0], [0, 5]], ["a", "b"], [2020, 2021]), min_tokens=1)
    assert disjoint["cosine_distance"].iloc[0] == pytest.approx(1.0)
    assert disjoint["jsd"].iloc[0] == pytest.approx(1.0)


def test_consecutive_available_years_gap_and_low_data():
    m = matrix([[5, 1], [1, 5], [3, 3]], ["a", "b"], [2024, 2017, 2022])  # rows out of order
    t = drift.drift_table(m, min_tokens=6)
    assert t[["year_from", "year_to", "gap"]].values.tolist() == [[2017, 2022, 5], [2022, 2024, 2]]
    assert t["low_data"].tolist() == [False, False]  # every year has exactly 6 tokens: not < 6
    t = drift.drift_table(m, min_tokens=7)
    assert t["low_data"].tolist() == [True, True]
    assert t["note"].iloc[0] == "low data: 2017 has 6 tokens (< 7); low data: 2022 has 6 tokens (< 7)"
    assert t["cosine_distance"].notna().all()  # flagged, still computed


def test_single_year_and_no_text(caplog):
    one = matrix([[2, 1]], ["a", "b"], [2022], lang="zh")
    with caplog.at_level(logging.INFO, logger="textdrift"):
        t = drift.drift_table(one)
    assert t.empty and list(t.columns) == drift.DRIFT_COLUMNS
    assert "only one year of zh text: nothing to compare" in caplog.text
    assert drift.term_shifts(one).empty
    assert len(drift.similarity_table(one)) == 1 and len(drift.top_terms(one)) == 2
    empty = CountMatrix(sp.csr_matrix((0, 0), dtype=np.int64), np.array([], dtype=object),
                        pd.DataFrame({"lang": [], "year": [], "tokens": []}))
    for f in (drift.drift_table, drift.similarity_table, drift.top_terms, drift.term_shifts):
        assert f(empty).empty
    assert drift.split_half_baseline(empty, empty).empty


# --- split-half baseline ---------------------------------------------------------------------------


def paragraph_matrix(tokens):
    return count_matrix(tokens, by=["year", "doc_id", "para"], ngram_max=1)


def test_baseline_by_hand():
    # 2020: four paragraphs "a", "a", "b", "b". A 2+2 split either separates a from b (2 of the 6 splits:
    # halves {a:2} and {b:2}, disjoint -> cosine distance 1, JSD 1) or mixes them (4 of 6: both halves
    # {a:1, b:1} -> 0). So every round is 0 or 1 and cosine and JSD agree round by round.
    # 2021: three paragraphs: fewer than min_paragraphs = 4 -> no baseline.
    tok = tokens_table([("d1", 2020, "en", 0, "a"), ("d1", 2020, "en", 1, "a"), ("d2", 2020, "en", 0, "b"),
                        ("d2", 2020, "en", 1, "b"), ("d3", 2021, "en", 0, "a b"), ("d3", 2021, "en", 1, "b"),
                        ("d3", 2021, "en", 2, "c")])
    b = drift.split_half_baseline(paragraph_matrix(tok), year_matrix(tok, "en", 1), rounds=300, seed=1)
    assert list(b.columns) == drift.BASELINE_COLUMNS
    y20, y21 = b.iloc[0], b.iloc[1]
    assert (y20["year"], y20["paragraphs"], y20["tokens"], y20["rounds"]) == (2020, 4, 4, 300)
    assert y20["cosine_mean"] == pytest.approx(y20["jsd_mean"])
    assert 0.2 < y20["cosine_mean"] < 0.47  # expectation 1/3; 300 rounds: sd 0.027
    assert (y20["cosine_p05"], y20["cosine_p95"]) == pytest.approx((0.0, 1.0))
    assert (y21["paragraphs"], y21["rounds"]) == (3, 0) and y21[["cosine_mean", "jsd_p95"]].isna().all()


def test_baseline_identical_paragraphs_is_zero_and_deterministic():
    tok = tokens_table([("d", 2020, "en", p, "a b b c") for p in range(5)]
                       + [("e", 2021, "en", p, w) for p, w in enumerate(["a", "b c", "c d", "a d", "e"])])
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    b = drift.split_half_baseline(paras, years, rounds=50, seed=7)
    # 2020: every paragraph identical -> halves (2 and 3 paragraphs) are proportional -> 0
    assert b["cosine_mean"].iloc[0] == pytest.approx(0.0, abs=1e-12) and b["jsd_mean"].iloc[0] == 0.0
    assert b["cosine_mean"].iloc[1] > 0
    pd.testing.assert_frame_equal(b, drift.split_half_baseline(paras, years, rounds=50, seed=7))
    assert not b.equals(drift.split_half_baseline(paras, years, rounds=50, seed=8))


def test_baseline_goes_into_drift_table():
    tok = tokens_table([("d", 2020, "en", p, "a b") for p in range(4)] + [("e", 2022, "en", 0, "a c")])
    years = year_matrix(tok, "en", 1)
    base = drift.split_half_baseline(paragraph_matrix(tok), years, rounds=10)
    row = drift.drift_table(years, min_tokens=1, baseline=base).iloc[0]
    assert row["baseline_cosine_from"] == pytest.approx(0.0, abs=1e-12) and row["baseline_jsd_from"] == 0.0
    assert math.isnan(row["baseline_cosine_to"]) and math.isnan(row["baseline_jsd_to"])
    assert row["note"] == "no split-half baseline for 2022: only 1 paragraph(s) with text"


# --- cross-year halves -----------------------------------------------------------------------------

OLD_DRIFT_COLUMNS = [
    "lang", "year_from", "year_to", "gap", "cosine_distance", "jsd", "tokens_from", "tokens_to", "low_data",
    "baseline_cosine_from", "baseline_cosine_to", "baseline_jsd_from", "baseline_jsd_to", "note",
]
NEW_COLUMNS = ["halves_cosine", "halves_jsd", "excess_cosine", "excess_jsd", "p_cosine"]


def drift_with_halves(tok, rounds=200, seed=3, min_paragraphs=4):
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    base = drift.split_half_baseline(paras, years, rounds=rounds, seed=seed, min_paragraphs=min_paragraphs)
    halves = drift.cross_year_halves(paras, years, rounds=rounds, seed=seed, min_paragraphs=min_paragraphs)
    return drift.drift_table(years, min_tokens=1, baseline=base, halves=halves), halves


PERMUTATION_COLUMNS = ["permutation_unit", "permutations", "p_permutation", "p_min"]


def test_new_columns_are_appended_after_the_old_ones():
    assert drift.DRIFT_COLUMNS == OLD_DRIFT_COLUMNS + NEW_COLUMNS + PERMUTATION_COLUMNS
    t = drift.drift_table(HAND, min_tokens=1)  # no halves given: new columns NaN, no note
    assert list(t.columns) == drift.DRIFT_COLUMNS and t[NEW_COLUMNS].isna().all().all() and t["note"].iloc[0] == ""
    assert t["p_permutation"].isna().all() and (t["permutations"] == 0).all()


# --- the permutation test ---------------------------------------------------------------------------


def test_permutation_exact_by_hand():
    # 2020: paragraphs "a", "a"; 2021: "b", "b". Units: 4 paragraphs (one document a year), 2 + 2:
    # C(4, 2) = 6 splits; the observed split and its mirror give disjoint sides (distance 1), the other
    # 4 splits give {a, b} vs {a, b} (distance 0) -> p = 2/6 exactly, and 2/6 is also the smallest p.
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, w in ((2020, "a"), (2021, "b")) for p in range(2)])
    t = drift.permutation_test(paragraph_matrix(tok), year_matrix(tok, "en", 1), permutations=999)
    r = t.iloc[0]
    assert (r["permutation_unit"], r["units_from"], r["units_to"], r["permutations"]) == ("paragraph", 2, 2, 6)
    assert r["p_permutation"] == pytest.approx(2 / 6) and r["p_min"] == pytest.approx(2 / 6)


def test_permutation_documents_as_units_and_random_splits():
    # three documents a year: documents are permuted; 5 + 5 paragraphs of different words per year
    rows = [(f"d{y}{k}", y, "en", p, w) for y, w in ((2020, "a b"), (2021, "c d")) for k in range(3) for p in range(2)]
    tok = tokens_table(rows)
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    r = drift.permutation_test(paras, years, permutations=999, min_documents=3).iloc[0]
    # C(6, 3) = 20 splits, two of them (observed and mirror) at distance 1: p = 0.1 = p_min
    assert (r["permutation_unit"], r["units_from"], r["permutations"]) == ("document", 3, 20)
    assert r["p_permutation"] == pytest.approx(0.1) and r["p_min"] == pytest.approx(0.1)
    # fewer permutations than splits: drawn at random, p = (1 + #{T >= T_obs}) / (1 + R), deterministic
    r2 = drift.permutation_test(paras, years, permutations=19, min_documents=4)  # paragraphs: C(12, 6) = 924
    assert r2["permutation_unit"].iloc[0] == "paragraph" and r2["permutations"].iloc[0] == 19
    assert r2["p_permutation"].iloc[0] == pytest.approx(1 / 20) and r2["p_min"].iloc[0] == pytest.approx(1 / 20)
    pd.testing.assert_frame_equal(r2, drift.permutation_test(paras, years, permutations=19, min_documents=4))


def test_permutation_observed_distance_is_the_tables():
    # T of the observed split (fixed idf) is the step's cosine_distance: a split at least as far apart counts
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, ws in ((2020, ["a b", "b c", "c", "a"]),
                                                               (2021, ["a c", "d", "c d", "b d"]))
                        for p, w in enumerate(ws)])
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    m = drift._unigrams(years, "year")
    _, tr = drift.tfidf_vectors(m)
    X = m.X.toarray().astype(float)
    d = drift._dense_distances(X[:1], X[1:], tr.idf_, False)
    assert d[0] == pytest.approx(drift.drift_table(years, 0)["cosine_distance"].iloc[0], abs=1e-12)
    r = drift.permutation_test(paras, years).iloc[0]
    assert r["permutations"] == 70 and 0 < r["p_permutation"] <= 1


def test_permutation_calibrated_on_the_calibration_corpus():
    """Null (nothing changes between years, words cluster by document): documents permuted, about 5%
    of steps at p <= 0.05; a planted drift (every theme x10 from 2003) is found. Paragraphs permuted
    with one document a year reject almost always: that test contrasts two documents, not years."""
    from textdrift.synth import CalibrationDesign, calibration_corpus
    from textdrift.vectorize import count_matrix

    def p_values(seed, docs, effects=None):
        c = calibration_corpus(CalibrationDesign(years=(2001, 2002, 2003, 2004), docs_per_year=docs),
                               theme_effects=effects, seed=seed)
        kept = c.tokens[c.tokens["keep"]]
        t = drift.permutation_test(count_matrix(kept, by=["year", "doc_id", "para"], ngram_max=1),
                                   year_matrix(c.tokens, "en", 1), permutations=199)
        return t["p_permutation"].to_numpy(), t["permutation_unit"].iloc[0]

    null = np.concatenate([p_values(s, 6)[0] for s in range(12)])  # 36 null steps
    assert p_values(0, 6)[1] == "document"
    assert np.mean(null <= 0.05) <= 0.15 and 0.2 < np.median(null) < 0.8
    planted = {f"t{i:02d}": (2003, 10.0) for i in range(1, 13)}
    found = [p_values(100 + s, 6, planted)[0][1] for s in range(6)]  # the step 2002 -> 2003
    assert np.mean(np.asarray(found) <= 0.05) >= 0.8
    one, unit = p_values(0, 1)
    assert unit == "paragraph" and np.mean(one <= 0.05) >= 0.5


def test_halves_identical_paragraphs_give_zero_excess_and_p_one():
    # both years: five identical paragraphs "a b b c" -> every half (2 or 3 paragraphs) is proportional to
    # every other -> all cross and within distances 0 -> halves 0, excess 0, every round a tie -> p = 1
    tok = tokens_table([(f"d{y}", y, "en", p, "a b b c") for y in (2020, 2021) for p in range(5)])
    row = drift_with_halves(tok, rounds=30)[0].iloc[0]
    np.testing.assert_allclose(row[["halves_cosine", "halves_jsd", "excess_cosine", "excess_jsd"]].astype(float),
                               0.0, atol=1e-12)
    assert row["p_cosine"] == 1.0 and row["note"] == ""


def test_halves_same_paragraphs_both_years_by_hand():
    # both years: paragraphs "a", "a", "b", "b" (idf equal for a and b: cosine of raw counts).
    # A half (2 paragraphs) is {a:2} or {b:2} ("separated", 1/3 of splits) or {a:1, b:1} ("mixed", 2/3).
    # within: 1 if separated, else 0 -> mean 1/3 per year.
    # cross A1 vs B1 (independent years): both separated & different: 1 (prob 2/36); one separated, one
    #   mixed: 1 - 1/sqrt2 = 0.2928932 (16/36); else 0 -> expectation 2/36 + 16/36 * 0.2928932 = 0.1857303.
    # So excess ~ 0.1857 - 0.3333 = -0.148 (< 0: complementary halves of one pool differ more than halves of
    # two copies of it). p = 1 exactly: w = 0 only when both halves are mixed, and then A1 = B1 (c = 0);
    # w = 1/2 when one is separated, and then c <= 0.293; w = 1 when both are, and c <= 1.
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y in (2020, 2021) for p, w in enumerate("aabb")])
    t, h = drift_with_halves(tok, rounds=2000)
    row = t.iloc[0]
    assert row["halves_cosine"] == pytest.approx(0.1857303, abs=0.03)  # sd of the mean ~ 0.006
    assert row["excess_cosine"] == pytest.approx(0.1857303 - 1 / 3, abs=0.04)
    assert row["p_cosine"] == 1.0 and h["rounds"].iloc[0] == 2000


def test_halves_disjoint_vocabularies_by_hand():
    # 2020: "a b", "a", "b", "a b"; 2021 the same with c, d: no shared term -> every cross-year half distance
    # is 1 (cosine and JSD). Within 2020 the 2+2 splits are {ab,ab}|{a,b}: (2,2) vs (1,1) -> 0, or
    # {ab,a}|{b,ab}: (2,1) vs (1,2) -> cos 4/5 -> 0.2 (2 of 3 partitions): every within distance < 1
    # (a half always holds both terms) -> p = 0; excess = 1 - mean within, in [0.8, 1] (expectation 0.8667).
    tok = tokens_table([("d", 2020, "en", p, w) for p, w in enumerate(["a b", "a", "b", "a b"])]
                       + [("e", 2021, "en", p, w) for p, w in enumerate(["c d", "c", "d", "c d"])])
    row = drift_with_halves(tok, rounds=300)[0].iloc[0]
    assert row["cosine_distance"] == pytest.approx(1.0) and row["halves_cosine"] == pytest.approx(1.0)
    assert row["halves_jsd"] == pytest.approx(1.0) and row["p_cosine"] == 0.0
    assert row["excess_cosine"] == pytest.approx(1 - (row["baseline_cosine_from"] + row["baseline_cosine_to"]) / 2)
    assert 0.8 <= row["excess_cosine"] <= 1.0 and row["excess_cosine"] == pytest.approx(0.8667, abs=0.05)
    assert row["excess_jsd"] > 0.5


def test_halves_deterministic_and_per_year_generators():
    words = ["a b", "b c", "c d", "a d", "e", "a a b", "d e", "b"]
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, k in ((2020, 0), (2021, 2), (2023, 3))
                        for p, w in enumerate(words[k:])])  # 8, 6 and 5 paragraphs
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    h = drift.cross_year_halves(paras, years, rounds=40, seed=5)
    assert h[["year_from", "year_to"]].values.tolist() == [[2020, 2021], [2021, 2023]]
    pd.testing.assert_frame_equal(h, drift.cross_year_halves(paras, years, rounds=40, seed=5))
    assert not h.equals(drift.cross_year_halves(paras, years, rounds=40, seed=6))
    # each year draws from its own generator: dropping 2023 leaves the halves of 2020 and 2021 unchanged, so the
    # 2020 -> 2021 JSD (raw counts, no idf) is the same; the cosine is not (idf is refitted on fewer years)
    two = tok[tok["year"] != 2023]
    h2 = drift.cross_year_halves(paragraph_matrix(two), year_matrix(two, "en", 1), rounds=40, seed=5)
    assert h2["halves_jsd"].iloc[0] == pytest.approx(h["halves_jsd"].iloc[0], abs=1e-12)


def test_excess_is_mean_round_difference():
    # the halves reuse the baseline's draws, so excess = mean over rounds of (cross - within of that round)
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, ws in ((2020, ["a b", "b c", "c", "a", "b b"]),
                                                               (2022, ["a c", "d", "c d", "a d"]))
                        for p, w in enumerate(ws)])
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    m = drift._unigrams(years, "year")
    _, tr = drift.tfidf_vectors(m)
    para = drift.on_vocabulary(paras.select(1), m.vocab)
    (_, (a1, a2)), (_, (b1, b2)) = (_year_halves(para, y, 25, 9, 4) for y in (2020, 2022))
    c = np.array(_half_distances(tr, a1, b1)[0])
    w = (np.array(_half_distances(tr, a1, a2)[0]) + np.array(_half_distances(tr, b1, b2)[0])) / 2
    row = drift_with_halves(tok, rounds=25, seed=9)[0].iloc[0]
    assert row["excess_cosine"] == pytest.approx(float(np.mean(c - w)))
    assert row["p_cosine"] == pytest.approx(float(np.mean(c <= w + 1e-12)))
    assert 0 < row["p_cosine"] < 1  # a mixed case: neither always nor never


def test_halves_too_few_paragraphs():
    tok = tokens_table([("d", 2020, "en", p, "a b") for p in range(4)]
                       + [("e", 2021, "en", p, "a c") for p in range(3)])
    t, h = drift_with_halves(tok, rounds=10)
    assert h["rounds"].iloc[0] == 0 and t[NEW_COLUMNS].isna().all().all()
    assert t["note"].iloc[0] == ("no split-half baseline for 2021: only 3 paragraph(s) with text; "
                                 "no cross-year halves (too few paragraphs)")


def test_align_reorders_columns():
    m = matrix([[1, 2]], ["b", "a"], [2020])
    a = drift.on_vocabulary(m, np.array(["a", "b", "z"], dtype=object))
    assert a.X.toarray().tolist() == [[2, 1, 0]]


# --- from the token table --------------------------------------------------------------------------

CORPUS = [
    ("en-2017", 2017, "en", 0, "digital economy cooperation"),
    ("en-2017", 2017, "en", 1, "digital silk road cooperation"),
    ("en-2022", 2022, "en", 0, "data security digital cooperation"),
    ("en-2023", 2023, "en", 0, "artificial intelligence governance"),
    ("en-2023", 2023, "en", 1, "data governance governance"),
    ("zh-2022", 2022, "zh", 0, "数字 经济 合作"),
]


def test_drift_reproducible_from_token_table():
    tok = tokens_table(CORPUS)
    t = drift.drift_table(year_matrix(tok, "en", ngram_max=3), min_tokens=1)  # bigrams and trigrams ignored
    # independent recomputation of the 2017 -> 2022 cells from the kept tokens
    counts = tok[tok["keep"] & (tok["lang"] == "en")].groupby(["year", "norm"]).size().unstack(fill_value=0)
    n = len(counts)
    idf = np.log((1 + n) / (1 + (counts > 0).sum())) + 1
    w = counts * idf
    v = w.div(np.sqrt((w**2).sum(axis=1)), axis=0)
    expected_cos = 1 - float(v.loc[2017] @ v.loc[2022])
    p, q = counts.loc[2017] / counts.loc[2017].sum(), counts.loc[2022] / counts.loc[2022].sum()
    mix = (p + q) / 2
    h = lambda d: -sum(x * math.log2(x) for x in d if x > 0)  # noqa: E731
    row = t.iloc[0]
    assert row["cosine_distance"] == pytest.approx(expected_cos)
    assert row["jsd"] == pytest.approx(h(mix) - (h(p) + h(q)) / 2)
    assert (row["tokens_from"], row["tokens_to"]) == (7, 4)


def test_shard_matrices_merge_to_the_whole_corpus_matrices(tmp_path):
    """count (one job per shard) + vectorize (merge) = the matrices of the whole token table."""
    tok = tokens_table(CORPUS + [("en-2017b", 2017, "en", 0, "silk road zeta cooperation")])
    shards = {0: ["en-2017", "zh-2022", "en-2023"], 1: ["en-2022", "en-2017b"], 2: []}
    for i, docs in shards.items():
        path = tmp_path / f"shard-{i}.parquet"
        tok[tok["doc_id"].isin(docs)].to_parquet(path)
        write_shard_matrices(path, {x: tmp_path / f"doc_{x}-{i}.npz" for x in ("en", "zh")},
                             {x: tmp_path / f"para_{x}-{i}.npz" for x in ("en", "zh")}, ngram_max=3)
    lang_paths = lambda name: {x: tmp_path / f"{name}_{x}.npz" for x in ("en", "zh")}  # noqa: E731
    merge_shard_matrices([tmp_path / f"doc_{x}-{i}.npz" for i in shards for x in ("zh", "en")],
                         lang_paths("year"), lang_paths("doc"))
    paras = merge_matrices([load_matrix(tmp_path / f"para_en-{i}.npz") for i in shards], ["year", "doc_id", "para"])
    for got, want in [(load_matrix(lang_paths("year")["en"]), year_matrix(tok, "en", 3)),
                      (load_matrix(lang_paths("doc")["en"]), doc_matrix(tok, "en", 3)),
                      (load_matrix(lang_paths("year")["zh"]), year_matrix(tok, "zh", 3)),
                      (paras, para_matrix(tok, "en"))]:
        assert got.vocab.tolist() == want.vocab.tolist()
        assert (got.X != want.X).nnz == 0 and got.X.dtype == want.X.dtype
        pd.testing.assert_frame_equal(got.rows, want.rows)
    y = load_matrix(lang_paths("year")["en"])
    assert y.rows["tokens"].tolist() == [3 + 4 + 4, 4, 6]  # 2017 pools two documents from two shards
    assert y.X[0, list(y.vocab).index("silk road")] == 2 and "zeta" in set(y.vocab)
    assert len(merge_matrices([], ["year"]).rows) == 0


def test_run_drift_writes_all_tables(tmp_path, caplog):
    shard = tmp_path / "shard-0.parquet"
    tokens_table(CORPUS).to_parquet(shard)
    langs = ("en", "zh", "fr")
    write_shard_matrices(shard, {x: tmp_path / f"doc_{x}-0.npz" for x in langs},
                         {x: tmp_path / f"para_{x}.npz" for x in langs}, ngram_max=3)
    merge_shard_matrices([tmp_path / f"doc_{x}-0.npz" for x in langs], {x: tmp_path / f"year_{x}.npz" for x in langs},
                         {x: tmp_path / f"doc_{x}.npz" for x in langs})
    out = {name: tmp_path / f"{name}.csv" for name in drift.TABLE_COLUMNS}
    with caplog.at_level(logging.INFO, logger="textdrift"):
        drift.write_drift(drift.DriftFiles([tmp_path / f"year_{x}.npz" for x in ("en", "zh", "fr")],
                                           [tmp_path / f"para_{x}.npz" for x in ("en", "zh", "fr")], out),
                          ["en", "zh", "fr"],
                          drift.DriftSettings(min_tokens=5, top_n=3, baseline_rounds=20, baseline_min_paragraphs=2))
    tables = {name: read_csv(path) for name, path in out.items()}
    for name, df in tables.items():
        assert list(df.columns) == drift.TABLE_COLUMNS[name]
    d = tables["drift"]
    assert d[["lang", "year_from", "year_to", "gap"]].values.tolist() == [["en", 2017, 2022, 5], ["en", 2022, 2023, 1]]
    assert d["low_data"].tolist() == [True, True]  # 2022 (in both pairs) has 4 kept tokens (< 5); 2017 7, 2023 6
    assert "only one year of zh text: nothing to compare" in caplog.text and "no fr text" in caplog.text
    assert set(tables["similarity"]["lang"]) == {"en", "zh"} and len(tables["similarity"]) == 9 + 1
    assert tables["baseline"][["lang", "year", "rounds"]].values.tolist() == [
        ["en", 2017, 20], ["en", 2022, 0], ["en", 2023, 20], ["zh", 2022, 0]]
    assert d["note"].iloc[1] == ("low data: 2022 has 4 tokens (< 5); "
                                 "no split-half baseline for 2022: only 1 paragraph(s) with text; "
                                 "no cross-year halves (too few paragraphs)")
    assert d["note"].iloc[0].endswith("no split-half baseline for 2022: only 1 paragraph(s) with text; "
                                      "no cross-year halves (too few paragraphs)")
    assert d[["halves_cosine", "halves_jsd", "excess_cosine", "excess_jsd", "p_cosine"]].isna().all().all()
    assert (tables["top_terms"].groupby(["lang", "year"]).size() <= 3).all()


def test_group_drift():
    tok = tokens_table(CORPUS)
    res = drift.group_drift(tok[tok["doc_id"] == "en-2017"], tok[tok["doc_id"] == "en-2022"],
                               labels=("early", "late"), min_tokens=1)
    row = res["drift"].iloc[0]
    assert (row["group_from"], row["group_to"]) == ("early", "late")
    # the same two pooled documents as the 2017 -> 2022 year pair when only those two years exist
    pair = drift.drift_table(year_matrix(tok[tok["year"].isin([2017, 2022]) & (tok["lang"] == "en")], "en", 1),
                             min_tokens=1).iloc[0]
    assert row["cosine_distance"] == pytest.approx(pair["cosine_distance"]) and row["jsd"] == pytest.approx(pair["jsd"])
    assert set(res["top_terms"]["group"]) == {"early", "late"}
    assert set(res["term_shifts"]["group_from"]) == {"early"} and set(res["term_shifts"]["group_to"]) == {"late"}
    assert (row["tokens_from"], row["tokens_to"], bool(row["low_data"])) == (7, 4, False)
    with pytest.raises(ValueError, match="one language"):
        drift.group_drift(tok[tok["lang"] == "en"], tok[tok["lang"] == "zh"])
    with pytest.raises(ValueError, match="no kept tokens"):
        drift.group_drift(tok[tok["doc_id"] == "en-2017"], tok[tok["doc_id"] == "en-2017"].assign(keep=False))


def test_shared_rounds_and_rowwise_distances_match_the_plain_ones():
    # write_drift draws the rounds once for both tables; the per-row distances equal jsd()/cosine_similarity()
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, ws in ((2020, ["a b", "b c", "c", "a", "b b"]),
                                                               (2022, ["a c", "d", "c d", "a d", "e"]))
                        for p, w in enumerate(ws)])
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    split = drift._split_rounds(paras, years, 30, 3, 4, {})
    pd.testing.assert_frame_equal(drift.split_half_baseline(paras, years, 30, 3, 4, _rounds=split),
                                  drift.split_half_baseline(paras, years, 30, 3, 4))
    pd.testing.assert_frame_equal(drift.cross_year_halves(paras, years, 30, 3, 4, _rounds=split),
                                  drift.cross_year_halves(paras, years, 30, 3, 4))
    m, tr, per_year, cross = split
    para = drift.on_vocabulary(paras.select(1), m.vocab)
    (_, (a1, a2)), (_, (b1, _)) = (_year_halves(para, y, 30, 3, 4) for y in (2020, 2022))
    cos, div = _half_distances(tr, a1, b1)
    wa, wb = tr.transform(a1.astype(float)), tr.transform(b1.astype(float))
    assert cos == [1.0 - stats.cosine_similarity(wa[r], wb[r]) for r in range(30)]
    assert div == [stats.jsd(a1[r], b1[r]) for r in range(30)]
    assert _rowwise_jsd(sp.csr_matrix([[0, 0], [1, 0]]), sp.csr_matrix([[1, 0], [0, 3]]))[1] == 1.0
    assert math.isnan(_rowwise_jsd(sp.csr_matrix([[0, 0]]), sp.csr_matrix([[1, 0]]))[0])


def test_dense_rounds_equal_the_sparse_reference_bit_for_bit():
    # _split_rounds works on dense halves restricted to each year's columns; its distances must equal those
    # of the sparse reference (_year_halves + _half_distances) exactly, same draws, same floats
    rng = np.random.default_rng(0)
    vocab = [f"w{i:03d}" for i in range(60)]
    paragraphs = []
    for y, n_par, words in ((2018, 9, vocab[:40]), (2019, 14, vocab[10:55]), (2021, 3, vocab[:20]),
                            (2022, 11, vocab[5:60]), (2023, 8, vocab[20:50])):
        for p in range(n_par):
            paragraphs.append((f"d{y}", y, "en", p, " ".join(rng.choice(words, size=rng.integers(1, 30)))))
    tok = tokens_table(paragraphs)
    paras, years = paragraph_matrix(tok), year_matrix(tok, "en", 1)
    for tfidf in ({}, {"norm": "l1", "sublinear_tf": True}, {"norm": None, "use_idf": False}):
        m, tr, per_year, cross = drift._split_rounds(paras, years, 50, 7, 4, tfidf)
        para = drift.on_vocabulary(paras.select(1), m.vocab)
        ref = {y: _year_halves(para, y, 50, 7, 4) for y in m.rows["year"]}
        for y, (k, halves) in ref.items():
            assert per_year[y][:2] == (k, halves is not None)
            if halves is not None:
                cos, div = _half_distances(tr, *halves)
                np.testing.assert_array_equal(per_year[y][2], cos)
                np.testing.assert_array_equal(per_year[y][3], div)
        assert sorted(cross) == [(2018, 2019), (2022, 2023)]  # 2021 has 3 paragraphs (< 4)
        for a, b in cross:
            cos, div = _half_distances(tr, ref[a][1][0], ref[b][1][0])
            np.testing.assert_array_equal(cross[a, b][0], cos)
            np.testing.assert_array_equal(cross[a, b][1], div)
    # the batched draws equal one permutation per round
    r1, r2 = np.random.default_rng([7, 2019]), np.random.default_rng([7, 2019])
    np.testing.assert_array_equal(drift._draw_first_halves(13, 20, r1),
                                  np.stack([r2.permutation(13)[:6] for _ in range(20)]))
    # JSD on dense rows with empty rows (NaN) and disjoint rows (1)
    A, B = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 3.0], [1.0, 5.0]])
    assert drift._dense_rowwise_jsd(A, B)[1:] == _rowwise_jsd(sp.csr_matrix(A), sp.csr_matrix(B))[1:]
    assert math.isnan(drift._dense_rowwise_jsd(A, B)[0]) and drift._dense_rowwise_jsd(A, B)[1] == 1.0


def test_permutation_gram_path_equals_the_summed_counts():
    # linear tf: the Gram-matrix distances equal those of the summed counts, split by split
    rng = np.random.default_rng(0)
    U = sp.csr_matrix(rng.poisson(0.7, size=(9, 30)).astype(float))
    idf = rng.uniform(1, 3, 30)
    total = np.asarray(U.sum(axis=0)).ravel()
    splits, _ = drift._splits(9, 4, 999, rng)
    gram, _ = drift._gram_distances(U, idf, total, 1000)
    A = splits.astype(float) @ U.toarray()
    np.testing.assert_allclose(gram(splits), drift._dense_distances(A, total - A, idf, False), atol=1e-12)
    # sublinear tf takes the other path and still gives a p-value
    tok = tokens_table([(f"d{y}", y, "en", p, w) for y, ws in ((2020, ["a b b", "b c", "c", "a"]),
                                                               (2021, ["a c", "d d", "c d", "b d"]))
                        for p, w in enumerate(ws)])
    r = drift.permutation_test(paragraph_matrix(tok), year_matrix(tok, "en", 1), sublinear_tf=True).iloc[0]
    assert r["permutations"] == 70 and 0 < r["p_permutation"] <= 1
