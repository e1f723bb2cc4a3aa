"""The codebook path's shortcuts give the bytes and bits of what they replace: ``theme_kwic.csv``
written by Arrow's kernels (textdrift.io.csv_rows) is pandas' ``to_csv``, byte for byte, on
adversarial strings; the Clopper-Pearson interval without scipy.stats (textdrift.stats.clopper_pearson)
is statsmodels' ``proportion_confint(method="beta")``, bit for bit."""

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from textdrift import stats
from textdrift.io import csv_rows, frame_csv_rows, write_csv, write_csv_batches, write_csv_tables

#: pieces of the adversarial strings: the CSV specials, other whitespace, quotes and commas of CJK
#: text, what a reader could take for a missing value, a character outside the BMP
PIECES = ['a', ' ', ',', '"', '\n', '\r', '\r\n', '\t', ';', "'", '\\', '中国', '“', '”', '，', '\u3000', '\u2028',
          '\ufeff', '', 'NA', 'nan', 'None', 'é', '\U0001F600', '""', ',,']


def _strings(rng: random.Random, n: int, nulls: bool = True) -> list:
    return [None if nulls and rng.random() < 0.1 else "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
            for _ in range(n)]


def _table(seed: int, n: int = 3000) -> pa.Table:
    rng = random.Random(seed)
    return pa.table({
        "doc_id": pa.array(_strings(rng, n), pa.string()),
        "year": pa.array([rng.randint(-5, 3000) for _ in range(n)], pa.int64()),
        "lang": pa.array(_strings(rng, n), pa.large_string()),
        "para": pa.array([rng.randint(0, 2**31 - 1) for _ in range(n)], pa.int32()),
        "left": pa.array(_strings(rng, n, nulls=False), pa.string()),
        "match": pa.array([rng.choice(["", "x", '"', ","]) for _ in range(n)], pa.string()),
    })


def _pandas_bytes(table: pa.Table) -> bytes:
    return table.to_pandas().to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_csv_rows_equal_pandas_byte_for_byte(seed):
    t = _table(seed)
    assert b"".join(bytes(b) for b in csv_rows(t)) == _pandas_bytes(t)
    # several chunks, a slice with an offset, an empty table
    chunked = pa.concat_tables([t.slice(0, 17), t.slice(17, 1000), t.slice(1017)]).slice(5, 2000)
    assert chunked.column(0).num_chunks > 1
    assert b"".join(bytes(b) for b in csv_rows(chunked)) == _pandas_bytes(chunked)
    assert csv_rows(t.slice(0, 0)) == []



def _floats(rng: random.Random, n: int) -> np.ndarray:
    """Doubles pandas could write in any form: NaN, infinities, signed zeros, subnormals, integral
    values around 1e15-1e17 (repr's switch to an exponent), tiny and huge, random bits."""
    special = [np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-5, 1e-4, 1e-7, 1e15, 1e16,
               1e17, 123456789012345678.0, 9007199254740993.0, 0.1, 1.0, 45.0, 79752.0, 1e22, 1e300, -1.5]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            out.append(rng.choice(special))
        elif r < 0.6:
            out.append(np.frombuffer(rng.getrandbits(64).to_bytes(8, "little"), dtype=np.float64)[0])
        elif r < 0.8:
            out.append(float(rng.randint(-10**18, 10**18)) * 10.0 ** rng.randint(-30, 30))
        else:
            out.append(rng.random() * 10 ** rng.randint(-8, 8))
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("seed", [0, 1])
def test_frame_csv_rows_equal_pandas_byte_for_byte(seed, tmp_path):
    """A DataFrame's float64 columns written by ``repr`` and Arrow (textdrift.io.frame_csv_rows) are
    pandas' ``to_csv``, byte for byte; so is write_csv_batches' file; columns it does not write
    (float32, booleans, an object column of mixed values, nullable integers) are declined."""
    rng = random.Random(seed)
    n = 4000
    df = pd.DataFrame({"a": _floats(rng, n), "s": _strings(rng, n), "i": np.array([rng.randint(-2**62, 2**62) for _ in
                                                                                   range(n)], dtype=np.int64),
                       "b": _floats(rng, n), "t": pd.array(_strings(rng, n), dtype="str"),
                       "none": [None] * n})
    want = df.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
    assert b"".join(bytes(b) for b in frame_csv_rows(df)) == want
    write_csv_batches([df.iloc[:1000], df.iloc[1000:]], tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    for bad in (pd.DataFrame({"x": np.float32([1.1]), "y": ["a"]}), pd.DataFrame({"x": [True], "y": ["a"]}),
                pd.DataFrame({"x": pd.array([1, None], dtype="Int64"), "y": ["a", "b"]}),
                pd.DataFrame({"x": np.array([1, "a"], dtype=object), "y": ["a", "b"]})):
        assert frame_csv_rows(bad) is None

def test_csv_rows_declines_what_it_does_not_write_like_pandas():
    assert csv_rows(pa.table({"x": ["a"]})) is None  # one column: an empty string is written ""
    assert csv_rows(pa.table({"x": [1.5], "y": ["a"]})) is None  # floats: pandas' repr
    assert csv_rows(pa.table({"x": pa.array([1, None], pa.int64()), "y": ["a", "b"]})) is None  # ints with NA: floats
    assert csv_rows(pa.table({"x": [True], "y": ["a"]})) is None


def test_write_csv_tables_equals_write_csv(tmp_path):
    tables = [_table(3, 500), _table(4, 0), pa.table({"doc_id": ["d"], "year": [1.5], "lang": ["x"], "para": [1],
                                                      "left": ["l"], "match": ["m"]})]  # the last through pandas
    write_csv_tables(tables, tmp_path / "a.csv", list(tables[0].column_names))
    write_csv(pd.concat([t.to_pandas() for t in tables[:2]], ignore_index=True), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes() + _pandas_bytes(tables[2])
    write_csv_tables([], tmp_path / "h.csv", ["a", "b"])
    assert (tmp_path / "h.csv").read_bytes() == b"a,b\n"
    with pytest.raises(ValueError, match="header"):
        write_csv_tables([tables[0]], tmp_path / "c.csv", ["year", "doc_id"])


@pytest.mark.parametrize("alpha", [0.001, 0.01, 0.05, 0.1, 0.2, 0.5])
def test_clopper_pearson_equals_statsmodels_bit_for_bit(alpha):
    from statsmodels.stats.proportion import proportion_confint

    n = np.arange(1, 160)
    N, K = np.meshgrid(n, np.arange(0, 160), indexing="ij")
    K = np.minimum(K, N).ravel().astype(float)
    N = N.ravel().astype(float)
    large = np.array([0, 1, 5, 1000, 99_999, 123_456, 7e6, 1e7])
    for count, nobs in ((K, N), (K / 1.7, N / 1.7), (K / 3.3, N), (large, np.full(len(large), 1e7)),
                        (np.array([0.0, 3.0, np.nan]), np.array([0.0, 0.0, 5.0]))):
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = proportion_confint(count, nobs, alpha=alpha, method="beta")
        got = stats.clopper_pearson(count, nobs, alpha)
        for r, g in zip(ref, got):
            r = np.asarray(r, dtype=float)
            assert g.shape == r.shape and np.array_equal(g.view(np.int64), r.view(np.int64))
    assert stats.clopper_pearson(2, 5, 0.05) == pytest.approx((0.0527, 0.8534), abs=1e-4)


@pytest.mark.parametrize("p", [0.5, 0.3, 0.77])
def test_binom_test_equals_scipy_bit_for_bit(p):
    from scipy.stats import binomtest

    rng = random.Random(int(p * 100))
    cases = [(k, n) for n in range(1, 60) for k in range(n + 1)]
    cases += [(k, n) for n in (200, 1001, 4097) for k in [0, n, n // 2, *rng.sample(range(n + 1), 15)]]
    got = np.array([stats.binom_test(k, n, p) for k, n in cases])
    ref = np.array([binomtest(k, n, p).pvalue for k, n in cases], dtype=float)
    assert np.array_equal(got.view(np.int64), ref.view(np.int64))
    with pytest.raises(ValueError):
        stats.binom_test(3, 2)


def test_conditional_p_equals_statsmodels():
    from statsmodels.stats.rates import test_poisson_2indep

    from textdrift.crosslingual import _conditional_p

    for x, y in [(0, 1), (1, 0), (3, 3), (7, 2), (2, 30), (40, 55), (120, 80)]:
        assert _conditional_p(x, y) == float(test_poisson_2indep(x, 1, y, 1, value=1, method="exact-cond").pvalue)


def test_q_values_equal_scipy_bit_for_bit():
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 100, 1000):
        for _ in range(10):
            p = rng.random(size)
            p[rng.random(size) < 0.3] = rng.choice([0.0, 1.0, 0.5, 0.01])  # ties and the ends
            p = np.round(p, int(rng.integers(1, 6)))
            ref = np.asarray(false_discovery_control(p, method="bh"), dtype=float)
            assert np.array_equal(stats.q_values(p).view(np.int64), ref.view(np.int64))
    assert len(stats.q_values([])) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.q_values([0.2, np.nan])


def test_poisson_ratio_ci_equals_scipy_stats():
    from scipy.stats import beta

    for c0, c1, t0, t1 in [(0, 3, 10.0, 20.0), (3, 0, 5.0, 5.0), (4, 9, 1000.0, 1700.0), (120, 80, 3.0, 7.0)]:
        n, alpha = c0 + c1, 1 - 0.95
        pl = beta.ppf(alpha / 2, c1, n - c1 + 1) if c1 > 0 else 0.0
        pu = beta.ppf(1 - alpha / 2, c1 + 1, n - c1) if c1 < n else 1.0
        scale = t0 / t1
        ref = (pl / (1 - pl) * scale, pu / (1 - pu) * scale if pu < 1 else np.inf)
        assert stats.poisson_ratio_ci(c0, c1, t0, t1, 0.95) == ref


def test_spearman_rho_equals_scipy_bit_for_bit():
    import warnings

    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    cases = [([], []), ([1], [2]), ([1, 2], [2, 1]), ([3, 3, 3], [1, 2, 3]), ([1, 2, 3], [0, 0, 0]),
             ([1, np.nan, 3], [1, 2, 3]), ([np.nan, np.nan], [1, 2]), ([1, 2, np.inf], [3, 1, 2]),
             ([0, 5, 5, 2], [1, 1, 1, 2])]
    for n in (2, 3, 4, 7, 16, 60, 400):
        for kind in [0, 1, 2, 3] * 3:
            if kind == 0:  # counts with many ties (what crosslingual's rank_rho gets)
                x, y = rng.integers(0, 4, n), rng.integers(0, 4, n)
            elif kind == 1:  # floats, no ties
                x, y = rng.random(n), rng.random(n)
            elif kind == 2:  # large counts, some zero
                x, y = rng.poisson(40, n) * (rng.random(n) < 0.7), rng.poisson(30, n).astype(float)
            else:  # NaN or a constant side now and then
                x, y = rng.integers(0, 3, n).astype(float), rng.integers(0, 3, n).astype(float)
                if rng.random() < 0.5:
                    x[rng.integers(n)] = np.nan
            cases.append((x, y))
    for x, y in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = np.float64(spearmanr(np.asarray(x, float), np.asarray(y, float)).statistic)
        got = np.float64(stats.spearman_rho(np.asarray(x, float), np.asarray(y, float)))
        assert got.view(np.int64) == ref.view(np.int64) or (np.isnan(got) and np.isnan(ref)), (x, y, got, ref)
        got_int = np.float64(stats.spearman_rho(np.asarray(x), np.asarray(y)))  # integer input too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_int = np.float64(spearmanr(np.asarray(x), np.asarray(y)).statistic)
        assert got_int.view(np.int64) == ref_int.view(np.int64) or (np.isnan(got_int) and np.isnan(ref_int))
