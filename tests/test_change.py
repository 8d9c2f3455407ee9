"""Calibrated change tests: the beta-binomial test equals scipy, its dispersion estimate
recovers the truth, and on null pairs it calls no more than the FDR allows (real 10x cells
split in halves; simulated two-step read sampling), where Fisher's test on reads calls many;
on simulated expansions with known truth its power is measured."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import tcrtrack as tt
from stats_helpers import bulk_counts, cell_counts, expanded_repertoire, repertoire, two_step_reads
from tcrtrack.errors import TcrtrackWarning
from tcrtrack.tl._change import betabinomial_two_sided, estimate_dispersion

LT6 = Path(__file__).parent / "data" / "sharing" / "lt6.csv.gz"


def scipy_betabinomial(a, b, na, nb, phi):
    """The test written plainly, one clone at a time: scipy's pmf summed over each tail
    (scipy's ``betabinom.sf`` is ``1 - cdf``, which loses the small upper tails)."""
    out = []
    for x, y, n, m in zip(a, b, na, nb, strict=True):
        k = x + y
        if k == 0 or n == 0 or m == 0:
            out.append(1.0)
            continue
        pi = n / (n + m)
        if phi == 1:
            dist = stats.binom(k, pi)
        else:
            nu = k / (phi - 1)
            dist = stats.betabinom(k, pi * nu, (1 - pi) * nu)
        low = dist.pmf(np.arange(0, x + 1)).sum()
        high = dist.pmf(np.arange(x, k + 1)).sum()
        out.append(min(1.0, 2 * min(low, high)))
        if out[-1] > 1e-4:  # and scipy's cdf/sf agree where they are accurate
            cdf_sf = min(1.0, 2 * min(dist.cdf(x), dist.sf(x - 1)))
            assert out[-1] == pytest.approx(cdf_sf, rel=1e-4)
    return np.array(out)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_betabinomial_equals_scipy_on_random_tables(data):
    n = data.draw(st.integers(1, 25))
    na = np.array(data.draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n)))
    nb = np.array(data.draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n)))
    a = np.array([data.draw(st.integers(0, min(int(x), 400))) for x in na])
    b = np.array([data.draw(st.integers(0, min(int(x), 400))) for x in nb])
    phi = data.draw(st.sampled_from([1.0, 1.5, 4.0, 30.0, 500.0]))
    np.testing.assert_allclose(
        betabinomial_two_sided(a, b, na, nb, dispersion=phi),
        scipy_betabinomial(a, b, na, nb, phi),
        rtol=1e-7,
        atol=1e-12,
    )


def test_betabinomial_large_clones_in_chunks_equal_scipy(monkeypatch):
    import tcrtrack.tl._change as change

    monkeypatch.setattr(change, "_CHUNK", 5000)  # force many chunks
    rng = np.random.default_rng(2)
    a = rng.integers(0, 20_000, 12)
    b = rng.integers(0, 20_000, 12)
    na, nb = 400_000, 300_000
    np.testing.assert_allclose(
        betabinomial_two_sided(a, b, na, nb, dispersion=20.0),
        scipy_betabinomial(a, b, [na] * 12, [nb] * 12, 20.0),
        rtol=1e-6,
        atol=1e-300,
    )


@pytest.mark.parametrize("phi", [1.0, 8.0, 25.0])
def test_dispersion_estimate_recovers_the_simulated_one(phi):
    rng = np.random.default_rng(11)
    k = rng.integers(2, 2000, 4000)
    pi = 0.4
    if phi == 1.0:
        a = rng.binomial(k, pi)
    else:
        nu = k / (phi - 1)
        a = stats.betabinom.rvs(k, pi * nu, (1 - pi) * nu, random_state=rng)
    total_a, total_b = 400_000, 600_000  # pi = 0.4
    estimate = estimate_dispersion(a, k - a, total_a, total_b)
    assert estimate == pytest.approx(phi, rel=0.12)


def test_dispersion_estimate_is_robust_to_expanded_clones():
    rng = np.random.default_rng(12)
    k = rng.integers(20, 2000, 3000)
    nu = k / (10.0 - 1)
    a = stats.betabinom.rvs(k, 0.5 * nu, 0.5 * nu, random_state=rng)
    a[:150] = k[:150] // 10  # 5% of the clones change 9-fold
    estimate = estimate_dispersion(a, k - a, 10**6, 10**6)
    assert 9.0 < estimate < 12.0


def test_default_test_follows_the_unit_and_fisher_on_reads_warns():
    matrix = [[50, 30, 20, 5], [10, 30, 60, 40]]
    for unit, expected in (("cells", "fisher"), ("templates", "fisher"), ("reads", "betabinomial"),
                           ("umis", "betabinomial")):  # fmt: skip
        counts = bulk_counts(matrix, samples=["r", "s"], unit=unit)
        assert tt.tl.track(counts).test == expected
    reads = bulk_counts(matrix, samples=["r", "s"], unit="reads")
    with pytest.warns(TcrtrackWarning, match="Fisher's test on reads: its p-values are not"):
        result = tt.tl.track(reads, test="fisher")
    assert np.isnan(result.dispersion["s"])
    given = tt.tl.track(reads, dispersion=3.0)
    assert given.dispersion["s"] == 3.0
    np.testing.assert_allclose(
        given.tests["pvalue"],
        scipy_betabinomial([50, 30, 20, 5], [10, 30, 60, 40], [105] * 4, [140] * 4, 3.0),
    )
    with pytest.raises(ValueError, match="dispersion must be a number >= 1"):
        tt.tl.track(reads, dispersion=0.5)


def _split_halves(cells, rng):
    """The cells of one sample assigned at random to two halves (equal sizes)."""
    ids = cells["cell_id"].unique()
    half = set(rng.permutation(ids)[: len(ids) // 2])
    return [
        ("h1" if cid in half else "h2", str(cid), int(clone))
        for cid, clone in zip(cells["cell_id"], cells["clonotype"], strict=True)
    ]


def test_null_split_of_real_10x_cells_calls_no_clone():
    """(a) A real 10x tumour sample (6,775 cells, clones up to 212 cells) split at random
    into two halves, 20 times: at FDR 0.05 no clone may be called changed in more splits
    than the FDR allows (under a complete null, BH keeps P(any call) <= 0.05: at most 1
    split of 20 expected; 3 or fewer accepted, P(>= 4) = 0.016)."""
    whole = tt.tl.clonotypes(tt.io.read(LT6, sample="lt6"))
    cells = whole.cells
    rng = np.random.default_rng(0)
    splits_with_calls = {"fisher": 0, "betabinomial": 0}
    n_tested = 0
    for _ in range(20):
        counts = cell_counts(_split_halves(cells, rng), ["h1", "h2"], whole.n_clonotypes)
        for test in splits_with_calls:
            result = tt.tl.track(counts, test=test)
            tested = result.tests[result.tests["presence"] != "absent"]
            n_tested = len(tested)
            calls = tested["change"].isin(["expanded", "contracted"]).sum()
            splits_with_calls[test] += int(calls > 0)
            # the counts are a partition of the sample's cells
            assert result.sizes.sum(axis=1).sum() == whole.dense().sum()
    assert n_tested == whole.n_clonotypes == 3500
    assert splits_with_calls["fisher"] <= 3
    assert splits_with_calls["betabinomial"] <= 3


def test_null_two_step_reads_default_calibrated_fisher_not():
    """(b) One simulated repertoire sampled twice in two steps (20,000 cells, then negative
    binomial reads per cell, mean 12 and 8, shape 2): the default test (beta-binomial)
    calls at most 5% of the tested clones at FDR 0.05; Fisher's test calls many."""
    rng = np.random.default_rng(1)
    for _ in range(3):
        freq = repertoire(rng)
        a = two_step_reads(rng, freq, n_cells=20_000, mean_reads=12, shape=2.0)
        b = two_step_reads(rng, freq, n_cells=20_000, mean_reads=8, shape=2.0)
        counts = bulk_counts(np.vstack([a, b]), samples=["r", "s"], unit="reads")
        default = tt.tl.track(counts)
        assert default.test == "betabinomial"
        tested = default.tests[default.tests["presence"] != "absent"]
        called = tested["change"].isin(["expanded", "contracted"]).mean()
        assert called <= 0.05
        # raw p-values close to uniform: about 5% below 0.05
        assert 0.02 <= (tested["pvalue"] < 0.05).mean() <= 0.08
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TcrtrackWarning)
            fisher = tt.tl.track(counts, test="fisher").tests
        fisher = fisher[fisher["presence"] != "absent"]
        assert fisher["change"].isin(["expanded", "contracted"]).mean() > 0.3


def test_power_on_simulated_expansions_with_known_truth():
    """(c) 50 clones of 10-30 cells (of 20,000) grow 4-fold, each paid for by a larger
    clone, every other clone unchanged; reads as in (b). The beta-binomial test finds most
    expansions, with a false-discovery proportion near the FDR; Fisher's finds them all,
    buried in false calls."""
    rng = np.random.default_rng(3)
    powers, fdps = [], []
    for _ in range(3):
        freq = repertoire(rng)
        new, ratio = expanded_repertoire(rng, freq, n_changed=50, fold=4.0, min_freq=10 / 20_000)
        a = two_step_reads(rng, freq, n_cells=20_000, mean_reads=12, shape=2.0)
        b = two_step_reads(rng, new, n_cells=20_000, mean_reads=12, shape=2.0)
        counts = bulk_counts(np.vstack([a, b]), samples=["r", "s"], unit="reads")
        tests = tt.tl.track(counts).tests
        index = tests["clonotype"].str[1:].astype(int).to_numpy()
        truth = ratio[index]
        expanded = (tests["change"] == "expanded").to_numpy()
        called = tests["change"].isin(["expanded", "contracted"]).to_numpy()
        powers.append((expanded & (truth == 4.0)).sum() / (ratio == 4.0).sum())
        fdps.append((called & (truth == 1.0)).sum() / max(called.sum(), 1))
    assert np.mean(powers) >= 0.6
    assert np.mean(fdps) <= 0.1
