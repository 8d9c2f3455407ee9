"""Clone tracking: vectorised Fisher equals scipy, BH equals scipy and a naive loop, classes."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import tcrtrack as tt
from stats_helpers import bulk_counts, cells_from_sizes
from tcrtrack.tl._track import fisher_two_sided


def scipy_fisher(a, b, na, nb):
    return np.array(
        [
            stats.fisher_exact([[x, n - x], [y, m - y]]).pvalue
            for x, y, n, m in zip(a, b, na, nb, strict=True)
        ]
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fisher_equals_scipy_on_random_tables(data):
    n = data.draw(st.integers(1, 40))
    na = np.array(data.draw(st.lists(st.integers(0, 400), min_size=n, max_size=n)))
    nb = np.array(data.draw(st.lists(st.integers(0, 400), min_size=n, max_size=n)))
    a = np.array([data.draw(st.integers(0, int(x))) for x in na])
    b = np.array([data.draw(st.integers(0, int(x))) for x in nb])
    np.testing.assert_allclose(
        fisher_two_sided(a, b, na, nb), scipy_fisher(a, b, na, nb), rtol=1e-9, atol=1e-300
    )


def test_fisher_large_supports_use_tails_and_equal_scipy():
    rng = np.random.default_rng(5)
    na, nb = 200_000, 150_000
    a = rng.integers(0, 6000, 60)
    b = rng.integers(0, 6000, 60)
    a[:5] = [3000, 0, 5000, 1, 2500]
    b[:5] = [3000, 4000, 0, 1, 1875]  # includes an exact proportional table (p = 1)
    np.testing.assert_allclose(
        fisher_two_sided(a, b, na, nb), scipy_fisher(a, b, [na] * 60, [nb] * 60), rtol=1e-8
    )


def read_bmt(path) -> pd.Series:
    raw = pd.read_csv(
        path, sep="\t", usecols=["aminoAcid", "count (templates/reads)", "sequenceStatus"]
    )
    raw = raw[raw["sequenceStatus"] == "In"]
    return raw.groupby("aminoAcid")["count (templates/reads)"].sum()


@pytest.fixture(scope="module")
def bmt(data_dir=None):
    from pathlib import Path

    d = Path(__file__).parent / "data" / "stats"
    day82 = read_bmt(d / "TRB_Unsorted_83.tsv.gz")
    day369 = read_bmt(d / "TRB_Unsorted_369.tsv.gz")
    labels = day82.index.union(day369.index)
    matrix = np.vstack(
        [
            day82.reindex(labels, fill_value=0).to_numpy(),
            day369.reindex(labels, fill_value=0).to_numpy(),
        ]
    )
    return bulk_counts(matrix, samples=["d82", "d369"], labels=list(labels))


def test_track_on_real_bulk_series_equals_scipy_and_bh(bmt):
    start = time.perf_counter()
    result = tt.tl.track(bmt)
    elapsed = time.perf_counter() - start
    tests = result.tests
    assert len(tests) == bmt.n_clonotypes > 1500
    expected_p = scipy_fisher(
        tests["count_reference"], tests["count"], tests["total_reference"], tests["total"]
    )
    np.testing.assert_allclose(tests["pvalue"], expected_p, rtol=1e-8, atol=1e-300)
    np.testing.assert_allclose(
        tests["qvalue"], stats.false_discovery_control(expected_p, method="bh")
    )
    # naive Benjamini–Hochberg: q_(i) = min_{j >= i} p_(j) m / j
    p = np.sort(expected_p)
    m = len(p)
    naive = [min(1.0, min(p[j] * m / (j + 1) for j in range(i, m))) for i in range(0, m, 97)]
    q_sorted = np.sort(tests["qvalue"].to_numpy())
    np.testing.assert_allclose(q_sorted[::97], naive, rtol=1e-8)
    assert elapsed < 5
    totals = bmt.totals()
    row = tests.iloc[0]
    assert row["log2fc"] == pytest.approx(
        np.log2((row["count"] + 0.5) / totals["d369"])
        - np.log2((row["count_reference"] + 0.5) / totals["d82"])
    )


def test_classes_by_hand():
    # reference r (1000 cells), sample s (1000 cells)
    sizes = {
        "r": [400, 5, 300, 0, 10, 1, 284],
        "s": [400, 300, 5, 50, 0, 1, 244],
    }
    result = tt.tl.track(cells_from_sizes(sizes))
    presence = result.wide("presence")["s"]
    change = result.wide("change")["s"]
    assert (presence["C0"], change["C0"]) == ("shared", "not significant")  # same size
    assert (presence["C1"], change["C1"]) == ("shared", "expanded")  # 5 -> 300
    assert (presence["C2"], change["C2"]) == ("shared", "contracted")  # 300 -> 5
    assert (presence["C3"], change["C3"]) == ("new", "expanded")  # 0 -> 50: new and expanded
    assert (presence["C4"], change["C4"]) == ("lost", "contracted")  # 10 -> 0
    assert (presence["C5"], change["C5"]) == ("shared", "not significant")  # 1 + 1
    # class: the change where significant, else the presence
    cls = result.classes()["s"]
    assert [cls[f"C{i}"] for i in range(6)] == [
        "shared",
        "expanded",
        "contracted",
        "expanded",
        "contracted",
        "shared",
    ]
    assert list(result.sizes.index[:3]) == ["C0", "C2", "C6"]  # ordered by reference size


@pytest.mark.parametrize("depths", [(10, 10), (10_000, 10), (10, 10_000), (100_000, 3)])
def test_one_plus_one_is_never_expanded_or_contracted(depths):
    n_r, n_s = depths
    # clone C0 has 1 cell in each sample; the rest fills the samples
    sizes = {"r": [1, n_r - 1, 0], "s": [1, 0, n_s - 1]}
    result = tt.tl.track(cells_from_sizes(sizes), alpha=0.5)
    row = result.tests.set_index("clonotype").loc["C0"]
    assert (row["presence"], row["change"]) == ("shared", "not significant")
    if n_r > 100 * n_s:
        assert row["qvalue"] < 0.5  # significant, yet a single cell is no evidence


def test_top_clonotypes_and_to_frame():
    counts = bulk_counts(
        [[5, 3, 9, 0], [1, 3, 0, 7], [0, 2, 1, 1]],
        samples=["r", "a", "b"],
        labels=["w", "x", "y", "z"],
    )
    result = tt.tl.track(counts, top=2)
    assert list(result.sizes.index) == ["y", "w"]
    assert result.sizes.loc["y"].tolist() == [9, 0, 1]
    np.testing.assert_allclose(result.frequencies.loc["w"], [5 / 17, 1 / 11, 0 / 4])
    frame = result.to_frame()
    assert {
        "count_r",
        "freq_a",
        "presence_a",
        "change_a",
        "pvalue_b",
        "qvalue_b",
        "log2fc_b",
    } <= set(frame.columns)
    chosen = tt.tl.track(counts, clonotypes=["z"])
    assert chosen.tests["presence"].tolist() == ["new", "new"]
    # q-values are adjusted across all clones also when fewer are shown
    full = tt.tl.track(counts).tests.set_index(["clonotype", "sample"])["qvalue"]
    shown = result.tests.set_index(["clonotype", "sample"])["qvalue"]
    pd.testing.assert_series_equal(shown, full.loc[shown.index])


def test_track_errors():
    counts = bulk_counts([[1, 2], [3, 4]], samples=["r", "s"], labels=["x", "y"])
    with pytest.raises(KeyError, match="clonotype\\(s\\) not found in samples r, s: 'q'"):
        tt.tl.track(counts, clonotypes=["q"])
    with pytest.raises(
        ValueError, match="unknown test 'wilcoxon'; choose one of 'fisher', 'betabinomial'"
    ):
        tt.tl.track(counts, test="wilcoxon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="track needs a sample besides the reference 'r'"):
        tt.tl.track(counts, samples=["r"])
    with pytest.raises(KeyError, match="unknown sample 'x'"):
        tt.tl.track(counts, reference="x")


def test_track_html_repr_counts_classes():
    result = tt.tl.track(cells_from_sizes({"r": [400, 5, 300, 0], "s": [400, 300, 5, 50]}))
    html = result._repr_html_()
    assert "<b>Track</b>: 4 clonotypes over r, s" in html
    assert "expanded" in html and "new" in html


def test_amino_acids_beside_the_key_single_and_paired():
    a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    table = tt.pp.concat([a, b])
    single = tt.tl.track(tt.tl.clonotypes(table), top=5)
    assert list(single.amino_acids().index) == list(single.sizes.index)
    assert single.amino_acids().tolist() == single.clonotypes["junction_aa"].tolist()
    spec = tt.tl.ClonotypeSpec(locus="TRA+TRB")
    paired = tt.tl.track(tt.tl.clonotypes(table, spec=spec), top=5)
    expected = [
        f"{x}+{y}"
        for x, y in zip(
            paired.clonotypes["TRA_junction_aa"], paired.clonotypes["TRB_junction_aa"], strict=True
        )
    ]
    assert paired.amino_acids().tolist() == expected
    # the key is the nucleotide pair, never the amino acids
    assert all(
        "+" in key and key != aa for key, aa in zip(paired.sizes.index, expected, strict=True)
    )
