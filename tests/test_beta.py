"""The Beta quantile behind the Clopper–Pearson interval (``tcrtrack.tl._beta``), against
scipy's ``betaincinv`` as the oracle: tcrtrack computes it itself so that ``tcrtrack share``
need not import scipy (docs/design.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from tcrtrack.tl._beta import beta_quantile, clopper_pearson, log_regularized_beta
from tcrtrack.tl._stats import binomial_interval

LEVELS = (0.1, 0.5, 0.68, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)
SIZES = (*range(1, 41), 50, 99, 100, 101, 255, 256, 1000, 3721, 6560, 10_000, 65_537)


def _grid():
    for n in SIZES:
        ks = {0, 1, 2, 3, n // 7, n // 3, n // 2, n - 3, n - 2, n - 1, n}
        for k in sorted(k for k in ks if 0 <= k <= n):
            yield k, n


def _scipy_interval(k: int, n: int, ci: float) -> tuple[float, float]:
    alpha = 1 - ci
    low = special.betaincinv(k, n - k + 1, alpha / 2) if k > 0 else 0.0
    high = special.betaincinv(k + 1, n - k, 1 - alpha / 2) if k < n else 1.0
    return float(low), float(high)


@pytest.mark.parametrize("ci", LEVELS)
def test_clopper_pearson_equals_scipy_on_a_dense_grid(ci):
    """Every (k, n) of the grid, 0/n and n/n included: within 1e-12 of scipy (the command's
    tables print 2 decimals, its JSON 10)."""
    worst = 0.0
    for k, n in _grid():
        got = clopper_pearson(k, n, ci)
        expected = _scipy_interval(k, n, ci)
        for g, e in zip(got, expected, strict=True):
            assert 0.0 <= g <= 1.0
            worst = max(worst, abs(g - e))
            assert abs(g - e) <= 1e-12, (k, n, ci, g, e)
            if e > 1e-300:
                assert abs(g - e) / e <= 1e-9, (k, n, ci, g, e)
    assert worst <= 1e-12


@pytest.mark.parametrize("n", [200_000, 1_000_000])
def test_clopper_pearson_equals_scipy_for_a_million_clonotypes(n):
    for k in (0, 1, 2, 17, n // 1000, n // 5, n // 2, n - 1, n):
        for ci in (0.9, 0.95, 0.99):
            got = clopper_pearson(k, n, ci)
            expected = _scipy_interval(k, n, ci)
            assert max(abs(g - e) for g, e in zip(got, expected, strict=True)) <= 1e-10


def test_edges_are_exact_and_the_interval_brackets_the_fraction():
    assert clopper_pearson(0, 10, 0.95)[0] == 0.0
    assert clopper_pearson(10, 10, 0.95)[1] == 1.0
    # k = 0: the upper bound solves (1 - x)^n = alpha / 2
    assert clopper_pearson(0, 10, 0.95)[1] == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-15)
    # k = n: the lower bound solves x^n = alpha / 2
    assert clopper_pearson(10, 10, 0.95)[0] == pytest.approx(0.025 ** (1 / 10), abs=1e-15)
    for k, n in _grid():
        low, high = clopper_pearson(k, n, 0.95)
        assert low <= k / n <= high


@settings(max_examples=300, deadline=None)
@given(
    st.floats(0.05, 5000, allow_nan=False),
    st.floats(0.05, 5000, allow_nan=False),
    st.floats(1e-12, 1 - 1e-12),
)
def test_beta_quantile_equals_betaincinv_for_any_shape(a, b, p):
    got = beta_quantile(a, b, p)
    expected = float(special.betaincinv(a, b, p))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.1, 2000, allow_nan=False),
    st.floats(0.1, 2000, allow_nan=False),
    st.floats(1e-6, 1 - 1e-6),
)
def test_regularized_beta_equals_betainc(a, b, x):
    expected = float(special.betainc(a, b, x))
    got = math.exp(log_regularized_beta(a, b, x))
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-300)


def test_binomial_interval_is_scipys_exact_binomial_interval():
    k = np.array([0, 3, 95, 640, 6560])
    n = np.array([10, 3, 3721, 6560, 6560])
    low, high = binomial_interval(k, n, ci=0.95)
    for i in range(len(k)):
        expected = stats.binomtest(int(k[i]), int(n[i])).proportion_ci(0.95, method="exact")
        assert low[i] == pytest.approx(expected.low, abs=1e-12)
        assert high[i] == pytest.approx(expected.high, abs=1e-12)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="a > 0, b > 0 and 0 <= p <= 1"):
        beta_quantile(0.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="a > 0, b > 0 and 0 <= p <= 1"):
        beta_quantile(1.0, 1.0, 1.5)


def test_vectorised_intervals_equal_the_previous_loop_within_1e_12():
    """``binomial_interval`` computes every Clopper–Pearson interval of an array at once
    (numpy), where it looped in Python over the scalar function before: its bounds equal the
    ones the loop gave (tests/data/stats/clopper_pearson_previous.tsv.gz, written by the loop
    at commit 2cda9ea: 2,404 intervals, n from 1 to 10^6, 0/n and n/n included) within 1e-12."""
    import gzip
    from pathlib import Path

    path = Path(__file__).parent / "data" / "stats" / "clopper_pearson_previous.tsv.gz"
    rows = [line.split("\t") for line in gzip.decompress(path.read_bytes()).decode().split("\n")]
    header = rows[0]
    rows = [r for r in rows[1:] if len(r) == len(header)]
    assert len(rows) == 2404
    table = {c: np.array([float(r[i]) for r in rows]) for i, c in enumerate(header)}
    for ci in np.unique(table["ci"]):
        at = table["ci"] == ci
        k, n = table["k"][at].astype(np.int64), table["n"][at].astype(np.int64)
        low, high = binomial_interval(k, n, ci=float(ci))
        assert np.abs(low - table["low"][at]).max() <= 1e-12
        assert np.abs(high - table["high"][at]).max() <= 1e-12
        # the scalar function is the same computation on one element
        i = int(np.argmax(n))
        scalar = clopper_pearson(int(k[i]), int(n[i]), float(ci))
        assert scalar == (float(low[i]), float(high[i]))


def test_binomial_interval_keeps_its_shape_and_nan_for_no_trials():
    k = np.array([[0, 3], [5, 0]])
    n = np.array([[10, 10], [5, 0]])
    low, high = binomial_interval(k, n)
    assert low.shape == high.shape == (2, 2)
    assert low[0, 0] == 0.0 and high[1, 0] == 1.0
    assert np.isnan(low[1, 1]) and np.isnan(high[1, 1])
    assert binomial_interval(3, 10)[0].shape == ()
