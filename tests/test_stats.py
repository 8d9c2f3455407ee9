"""Intervals on sharing fractions: equal to scipy, to a naive bootstrap, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import tcrtrack as tt
from stats_helpers import cell_counts, cells_from_sizes
from tcrtrack.tl._stats import binomial_interval, bootstrap_fraction, percentile_interval


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 3000), frac=st.floats(0, 1), ci=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
@pytest.mark.parametrize(
    ("method", "scipy_method"), [("clopper-pearson", "exact"), ("wilson", "wilson")]
)
def test_binomial_interval_equals_scipy(method, scipy_method, n, frac, ci):
    k = round(frac * n)
    low, high = binomial_interval(k, n, ci=ci, method=method)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=ci, method=scipy_method)
    assert float(low) == pytest.approx(ref.low, abs=1e-9)
    assert float(high) == pytest.approx(ref.high, abs=1e-9)


def test_binomial_interval_is_vectorised_and_nan_for_empty():
    low, high = binomial_interval(np.array([0, 5, 0]), np.array([10, 5, 0]))
    assert low[0] == 0 and high[1] == 1
    assert np.isnan(low[2]) and np.isnan(high[2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ci": 1.0}, "ci must be a confidence level between 0 and 1"),
        ({"ci": 0}, "ci must be a confidence level"),
        ({"method": "wald"}, "method must be one of clopper-pearson, wilson, got 'wald'"),
    ],
)
def test_binomial_interval_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binomial_interval(1, 10, **kwargs)


def _lb_counts():
    # reference r, sample s; clone sizes chosen by hand
    return cells_from_sizes({"r": [5, 3, 2, 1, 1, 0, 0], "s": [0, 4, 1, 0, 6, 2, 1]})


def test_sharing_intervals_columns_follow_each_fraction():
    table = tt.tl.sharing(_lb_counts(), reference="r").table
    cols = list(table.columns)
    for frac in (
        "frac_clonotypes_shared",
        "frac_cells_shared",
        "frac_reference_clonotypes_detected",
        "frac_reference_cells_detected",
    ):
        i = cols.index(frac)
        assert cols[i + 1 : i + 3] == [f"{frac}_low", f"{frac}_high"]
    none = tt.tl.sharing(_lb_counts(), reference="r", ci=None).table
    assert not any(c.endswith(("_low", "_high")) for c in none.columns)
    pd.testing.assert_frame_equal(none, table[none.columns])


def test_clonotype_fraction_intervals_equal_scipy_exact():
    row = tt.tl.sharing(_lb_counts(), reference="r", ci=0.9).table.loc["s"]
    # s has clones 1,2,4,5,6 (5 clonotypes); r has 0..4 (5); shared 1,2,4 (3)
    assert (row.n_clonotypes, row.n_reference_clonotypes, row.n_shared) == (5, 5, 3)
    ref = stats.binomtest(3, 5).proportion_ci(confidence_level=0.9, method="exact")
    assert row.frac_clonotypes_shared_low == pytest.approx(ref.low)
    assert row.frac_clonotypes_shared_high == pytest.approx(ref.high)
    assert row.frac_reference_clonotypes_detected_high == pytest.approx(ref.high)
    wilson = tt.tl.sharing(_lb_counts(), reference="r", method="wilson").table.loc["s"]
    ref_w = stats.binomtest(3, 5).proportion_ci(method="wilson")
    assert wilson.frac_clonotypes_shared_low == pytest.approx(ref_w.low)


def _naive_bootstrap(cells_in_shared: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Resample the cells with replacement in a Python loop; recount the shared cells."""
    rng = np.random.default_rng(seed)
    n = len(cells_in_shared)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, n, n)
        values.append(cells_in_shared[pick].mean())
    return np.array(values)


def test_cell_fraction_bootstrap_matches_a_naive_cell_loop():
    counts = _lb_counts()
    table = tt.tl.sharing(counts, reference="r", n_boot=4000, seed=3).table.loc["s"]
    # s's cells: clone sizes [0,4,1,0,6,2,1]; shared clones 1,2,4 -> 11 of 14 cells shared
    flags = np.array([1] * 4 + [1] * 1 + [1] * 6 + [0] * 2 + [0] * 1, dtype=float)
    assert table.n_cells_shared == 11 and table.n_cells == 14
    naive = _naive_bootstrap(flags, 4000, seed=11)
    low, high = np.quantile(naive, [0.025, 0.975])
    # a discrete statistic (k/14): the bounds agree to one cell
    assert abs(table.frac_cells_shared_low - low) <= 1 / 14 + 1e-9
    assert abs(table.frac_cells_shared_high - high) <= 1 / 14 + 1e-9
    # the reference side: r's cells in clones 1, 2, 4 -> 3 + 2 + 1 = 6 of 12
    assert table.n_reference_cells_detected == 6 and table.n_reference_cells == 12


def test_bootstrap_distribution_equals_naive_resampling_on_large_sample():
    rng = np.random.default_rng(0)
    flags = (rng.random(3000) < 0.3).astype(float)
    k, n = int(flags.sum()), len(flags)
    low, high = bootstrap_fraction(
        np.array([k]), np.array([n]), ci=0.9, n_boot=20000, rng=np.random.default_rng(1)
    )
    naive = _naive_bootstrap(flags, 3000, seed=2)
    n_low, n_high = np.quantile(naive, [0.05, 0.95])
    assert low[0] == pytest.approx(n_low, abs=0.003)
    assert high[0] == pytest.approx(n_high, abs=0.003)


def test_intervals_are_deterministic_by_seed_and_contain_the_estimate():
    counts = _lb_counts()
    a = tt.tl.sharing(counts, reference="r", seed=7).table
    b = tt.tl.sharing(counts, reference="r", seed=7).table
    pd.testing.assert_frame_equal(a, b)
    for frac in (
        "frac_clonotypes_shared",
        "frac_cells_shared",
        "frac_reference_clonotypes_detected",
        "frac_reference_cells_detected",
    ):
        row = a.loc["s"]
        assert row[f"{frac}_low"] <= row[frac] <= row[f"{frac}_high"]


def test_multichain_all_cell_counted_once_in_bootstrap_denominator():
    # cell x is in clonotypes 0 and 1; only clone 0 is in the reference
    counts = cell_counts(
        [("r", "a", 0), ("r", "b", 2), ("s", "x", 0), ("s", "x", 1), ("s", "y", 1)],
        ["r", "s"],
        3,
    )
    row = tt.tl.sharing(counts, reference="r").table.loc["s"]
    assert (row.n_cells, row.n_cells_shared) == (2, 1)
    assert 0 <= row.frac_cells_shared_low <= 0.5 <= row.frac_cells_shared_high <= 1


def test_nothing_shared_gives_zero_lower_bounds():
    counts = cells_from_sizes({"r": [2, 0], "s": [0, 3]})
    row = tt.tl.sharing(counts, reference="r").table.loc["s"]
    assert row.frac_clonotypes_shared == 0
    assert row.frac_clonotypes_shared_low == 0
    # 0 of 3 cells: the exact interval, not the bootstrap's zero-width [0, 0]
    assert row.frac_cells_shared_low == 0
    cells_high = stats.binomtest(0, 3).proportion_ci(method="exact").high
    assert row.frac_cells_shared_high == pytest.approx(cells_high)
    exact_high = stats.binomtest(0, 1).proportion_ci(method="exact").high
    assert row.frac_clonotypes_shared_high == pytest.approx(exact_high)


def test_percentile_interval_matches_numpy():
    values = np.arange(101, dtype=float)
    low, high = percentile_interval(values, ci=0.9)
    assert float(low) == pytest.approx(5.0) and float(high) == pytest.approx(95.0)
    assert float(low) == np.quantile(values, 0.05)


def test_bad_n_boot():
    with pytest.raises(ValueError, match="n_boot must be a positive number"):
        tt.tl.sharing(_lb_counts(), reference="r", n_boot=0)
