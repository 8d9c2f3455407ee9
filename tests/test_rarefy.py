"""Rarefaction: exact depths, determinism, multichain cells kept whole, and coverage of the
interval in a simulation with known ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from stats_helpers import bulk_counts, cell_counts, cells_from_sizes
from tcrtrack.tl._stats import FRACTIONS, units_of


def test_subsample_has_exact_depth_and_never_exceeds_clone_sizes():
    counts = bulk_counts([[50, 30, 20, 0], [5, 0, 7, 100]], samples=["r", "s"])
    units = units_of(counts, "s")
    w = units.subsample(40, 5000, np.random.default_rng(0))
    assert (w.sum(axis=1) == 40).all()
    assert (w <= units.weights).all()
    # multivariate hypergeometric mean: depth * size / total
    np.testing.assert_allclose(w.mean(axis=0), 40 * units.weights / 112, rtol=0.05)
    cells = cells_from_sizes({"r": [3, 2], "s": [4, 6]})
    w = units_of(cells, "s").subsample(5, 200, np.random.default_rng(1))
    assert set(np.unique(w)) == {0, 1} and (w.sum(axis=1) == 5).all()


def test_rarefy_default_depth_is_smallest_sample_and_full_depth_equals_sharing():
    counts = cells_from_sizes({"r": [5, 3, 1, 0, 0], "a": [1, 0, 2, 4, 0], "b": [2, 2, 2, 2, 9]})
    result = tt.tl.rarefy(counts, reference="r", n=30, seed=4)
    assert result.depth == 7 and (result.table["depth"] == 7).all()
    plain = tt.tl.sharing(counts, reference="r", ci=None).table
    # a has exactly 7 cells: every subsample is the whole sample, the range has width 0
    for frac in FRACTIONS:
        assert result.table.loc["a", frac] == pytest.approx(float(plain.loc["a", frac]))
        assert result.table.loc["a", f"{frac}_low"] == result.table.loc["a", f"{frac}_high"]
    reps = result.replicates
    assert len(reps) == 60 and set(reps["sample"]) == {"a", "b"}
    mean = reps[reps["sample"] == "b"]["frac_cells_shared"].mean()
    assert result.table.loc["b", "frac_cells_shared"] == pytest.approx(mean)


def test_rarefy_is_deterministic_by_seed():
    counts = cells_from_sizes({"r": [5, 3, 1, 0], "a": [3, 3, 3, 3], "b": [1, 5, 0, 9]})
    a = tt.tl.rarefy(counts, reference="r", depth=6, seed=9)
    b = tt.tl.rarefy(counts, reference="r", depth=6, seed=9)
    c = tt.tl.rarefy(counts, reference="r", depth=6, seed=10)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert not a.replicates.equals(c.replicates)


def test_rarefy_matches_a_naive_subsampling_loop_in_distribution():
    sizes = {"r": [20, 10, 5, 0, 0, 3], "s": [10, 0, 4, 30, 6, 2]}
    counts = cells_from_sizes(sizes)
    result = tt.tl.rarefy(counts, reference="r", depth=12, n=3000, seed=0)
    # naive: a list of the sample's cells by clone, subsample with rng.choice, count sets
    cells = np.repeat(np.arange(6), sizes["s"])
    ref = {i for i, x in enumerate(sizes["r"]) if x}
    rng = np.random.default_rng(123)
    frac_clono, frac_cells = [], []
    for _ in range(3000):
        pick = rng.choice(cells, 12, replace=False)
        clones = set(pick.tolist())
        frac_clono.append(len(clones & ref) / len(clones))
        frac_cells.append(np.isin(pick, list(ref)).mean())
    row = result.table.loc["s"]
    assert row["frac_clonotypes_shared"] == pytest.approx(np.mean(frac_clono), abs=0.01)
    assert row["frac_cells_shared"] == pytest.approx(np.mean(frac_cells), abs=0.01)
    assert row["frac_cells_shared_low"] == pytest.approx(np.quantile(frac_cells, 0.025), abs=0.09)


def test_multichain_all_cell_is_kept_or_dropped_whole():
    # cell x is in clonotypes 0 and 1; depth 1 keeps either x (2 clonotypes) or y (1)
    counts = cell_counts(
        [("r", "a", 0), ("s", "x", 0), ("s", "x", 1), ("s", "y", 2)], ["r", "s"], 3
    )
    result = tt.tl.rarefy(counts, reference="r", depth=1, n=400, seed=2)
    reps = result.replicates
    assert set(reps["n_clonotypes"]) == {1, 2}
    # x kept: clonotypes {0, 1}, 1 shared -> 0.5; y kept: {2} -> 0
    assert set(reps["frac_clonotypes_shared"]) == {0.0, 0.5}
    assert set(reps["frac_cells_shared"]) == {0.0, 1.0}


def test_rarefy_reference_too():
    counts = cells_from_sizes({"r": [50, 50], "s": [5, 5]})
    result = tt.tl.rarefy(counts, reference="r", rarefy_reference=True, n=50, seed=0)
    assert result.depth == 10
    # reference subsampled to 10 of 100 cells: its clones are always both found in s
    assert (result.replicates["frac_reference_cells_detected"] == 1.0).all()


def test_rarefy_errors():
    counts = cells_from_sizes({"r": [5, 3], "s": [1, 2]})
    with pytest.raises(ValueError, match="sample 's' has 3 cells, fewer than depth=4; choose"):
        tt.tl.rarefy(counts, reference="r", depth=4)
    with pytest.raises(ValueError, match="n must be a positive number of subsamples"):
        tt.tl.rarefy(counts, reference="r", n=0)


def test_sharing_curve_reaches_each_sample_size():
    counts = cells_from_sizes({"r": [5, 3, 1, 0], "a": [3, 3, 3, 3], "b": [1, 5, 0, 2]})
    curve = tt.tl.sharing_curve(counts, reference="r", n_depths=4, n=10)
    table = curve.table
    assert table.groupby("sample")["depth"].max().to_dict() == {"a": 12, "b": 8}
    assert (table["depth"] <= table["sample"].map({"a": 12, "b": 8})).all()
    low, mid, high = (table[f"frac_cells_shared{x}"] for x in ("_low", "", "_high"))
    assert ((low <= mid + 1e-12) & (mid <= high + 1e-12)).all()


def test_interval_covers_truth_at_nominal_rate_in_simulation():
    """Ground truth known: a population of 300 clones (Zipf-like sizes) and a reference holding
    a fixed half of them. Each of 200 simulations draws a 2,000-cell sample, rarefies it to
    150 cells (100 subsamples) and checks whether the 95% range holds the sharing of a new,
    independent 150-cell sample of the population (the value a sample of that depth has).
    The coverage must be 95% within binomial slack (±3.5 standard errors; measured 0.925 for
    both fractions: the range reflects subsampling only, so it under-covers slightly as
    depth/size grows, see docs/statistics.md), and the mean of the rarefied estimates must
    equal the true expected sharing at that depth."""
    rng = np.random.default_rng(2024)
    k = 300
    freq = 1 / np.arange(1, k + 1) ** 1.1
    freq /= freq.sum()
    in_ref = rng.random(k) < 0.5
    ref_sizes = np.where(in_ref, 1, 0)
    depth, n_sims = 150, 200

    def truth(draw: np.ndarray) -> tuple[float, float]:
        present = draw > 0
        return (present & in_ref).sum() / present.sum(), draw[in_ref].sum() / draw.sum()

    covered = np.zeros(2)
    means, truths = [], []
    for _ in range(n_sims):
        sample = rng.multinomial(2000, freq)
        counts = cells_from_sizes({"r": ref_sizes.tolist(), "s": sample.tolist()})
        result = tt.tl.rarefy(
            counts, reference="r", depth=depth, n=100, seed=int(rng.integers(1 << 31))
        )
        row = result.table.loc["s"]
        t = truth(rng.multinomial(depth, freq))
        truths.append(t)
        means.append((row["frac_clonotypes_shared"], row["frac_cells_shared"]))
        for i, frac in enumerate(("frac_clonotypes_shared", "frac_cells_shared")):
            covered[i] += row[f"{frac}_low"] <= t[i] <= row[f"{frac}_high"]
    coverage = covered / n_sims
    se = np.sqrt(0.95 * 0.05 / n_sims)
    assert ((coverage >= 0.95 - 3.5 * se) & (coverage <= 0.95 + 3.5 * se)).all(), coverage
    # unbiased: mean rarefied estimate vs the expected sharing at depth 150 (Monte Carlo)
    expected = np.mean([truth(rng.multinomial(depth, freq)) for _ in range(4000)], axis=0)
    np.testing.assert_allclose(np.mean(means, axis=0), expected, atol=0.01)


def test_rarefaction_results_render_as_html():
    counts = cells_from_sizes({"r": [5, 3, 1, 0], "a": [3, 3, 3, 3]})
    r = tt.tl.rarefy(counts, reference="r", depth=6, n=5)
    assert "rarefied</b> to 6 per sample (5 subsamples, seed 0; interval 95%)" in r._repr_html_()
    curve = tt.tl.sharing_curve(counts, reference="r", depths=[3, 6], n=5)
    assert "<b>Sharing curve</b> against r" in curve._repr_html_()
    assert curve.to_frame()["depth"].tolist() == [3, 6]
