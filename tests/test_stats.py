"""textdrift.stats: the quantiles computed on scipy.special give scipy.stats' bits."""

import numpy as np
import pytest
from scipy import stats as sps

from textdrift import stats


@pytest.mark.parametrize("conf", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
def test_quantiles_equal_scipy_stats_bit_for_bit(conf):
    k = np.concatenate([np.arange(0, 200), np.geomspace(200, 1e7, 60).round(), [0.5, 2.5]])
    low, high = stats.poisson_ci(k, conf)
    alpha = 1 - conf
    ref_low = np.where(k > 0, sps.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    ref_high = sps.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    assert np.array_equal(low, ref_low) and np.array_equal(high, ref_high)
    df = np.concatenate([np.arange(1, 300), np.geomspace(300, 1e9, 40), [0.5, 1.5, np.inf]])
    assert np.array_equal(stats._t_quantile(conf, df), sps.t.ppf(1 - (1 - conf) / 2, df))
    assert stats._t_quantile(conf, 7) == sps.t.ppf(1 - (1 - conf) / 2, 7.0)
    assert stats.normal_quantile(conf) == float(sps.norm.ppf(1 - (1 - conf) / 2))


def test_p_values_equal_scipy_stats_and_by_hand():
    z = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    got, ref = stats.p_values(z), 2 * sps.norm.sf(np.abs(z))
    assert np.array_equal(got, ref, equal_nan=True)
    assert stats.p_values([1.959963984540054])[0] == pytest.approx(0.05, rel=1e-12)
    assert stats.p_values(0.0) == 1.0


def test_poisson_ci_by_hand():
    low, high = stats.poisson_ci([0, 1, 10], 0.95)
    assert low == pytest.approx([0.0, 0.0253, 4.795], abs=1e-3)
    assert high == pytest.approx([3.689, 5.572, 18.39], abs=1e-2)
