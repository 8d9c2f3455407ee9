"""Overlap indices and exact intersections against naive loops on random count tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tcrtrack as tt
from stats_helpers import bulk_counts, cell_counts
from tcrtrack.tl._overlap import OVERLAP_METRICS


def naive_index(a: list[int], b: list[int], metric: str) -> float:
    """One pair, by the textbook formulas, in plain Python over unique clonotypes."""
    sa = {i for i, x in enumerate(a) if x > 0}
    sb = {i for i, x in enumerate(b) if x > 0}
    if not sa or not sb:
        return math.nan
    inter = len(sa & sb)
    if metric == "jaccard":
        return inter / len(sa | sb)
    if metric == "overlap":
        return inter / min(len(sa), len(sb))
    if metric == "sorensen":
        return 2 * inter / (len(sa) + len(sb))
    A, B = sum(a), sum(b)
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if metric == "cosine":
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))
    da = sum(x * x for x in a) / A**2
    db = sum(y * y for y in b) / B**2
    return 2 * dot / ((da + db) * A * B)


tables = arrays(
    np.int64,
    st.tuples(st.integers(2, 5), st.integers(1, 25)),
    elements=st.one_of(st.just(0), st.integers(0, 50)),
)


@settings(max_examples=120, deadline=None)
@given(matrix=tables, metric=st.sampled_from(OVERLAP_METRICS))
def test_overlap_equals_naive_loop(matrix, metric):
    counts = bulk_counts(matrix)
    result = tt.tl.overlap(counts, metric=metric)
    n = matrix.shape[0]
    for i, j in itertools.product(range(n), range(n)):
        expected = naive_index(matrix[i].tolist(), matrix[j].tolist(), metric)
        got = result.iloc[i, j]
        if math.isnan(expected):
            assert np.isnan(got)
        elif i == j:
            assert got == 1.0
        else:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    values = result.to_numpy()
    assert np.array_equal(values, values.T, equal_nan=True)
    finite = values[np.isfinite(values)]
    assert ((finite >= 0) & (finite <= 1)).all()


def test_set_indices_use_unique_clonotypes_not_rows():
    # a peer defect: dividing by rows (cells) instead of unique clonotypes. Here sample a has
    # 10 cells in 2 clonotypes, b 3 cells in 3 clonotypes; 1 clonotype in common.
    counts = bulk_counts([[9, 1, 0, 0], [0, 1, 1, 1]], samples=["a", "b"])
    assert tt.tl.overlap(counts, metric="jaccard").loc["a", "b"] == pytest.approx(1 / 4)
    assert tt.tl.overlap(counts, metric="overlap").loc["a", "b"] == pytest.approx(1 / 2)
    assert tt.tl.overlap(counts, metric="sorensen").loc["a", "b"] == pytest.approx(2 / 5)


def test_cosine_is_on_counts_not_presence():
    counts = bulk_counts([[9, 1, 0], [1, 9, 0]], samples=["a", "b"])
    cosine = tt.tl.overlap(counts, metric="cosine").loc["a", "b"]
    assert cosine == pytest.approx(18 / 82)
    presence_cosine = 2 / math.sqrt(2 * 2)  # = 1: what a presence-based "cosine" would say
    assert cosine < presence_cosine


def test_morisita_horn_identical_distributions_is_one():
    counts = bulk_counts([[10, 20, 30], [1, 2, 3]], samples=["a", "b"])
    assert tt.tl.overlap(counts, metric="morisita_horn").loc["a", "b"] == pytest.approx(1.0)


def test_overlap_of_samples_subset_and_metric_attr():
    counts = bulk_counts([[1, 0], [1, 1], [0, 1]], samples=["a", "b", "c"])
    m = tt.tl.overlap(counts, samples=["c", "a"])
    assert list(m.index) == ["c", "a"] and m.attrs["metric"] == "jaccard"
    assert m.loc["c", "a"] == 0.0


def test_overlap_unknown_metric():
    counts = bulk_counts([[1], [1]])
    with pytest.raises(ValueError, match="unknown overlap metric 'dice'; choose one of jaccard"):
        tt.tl.overlap(counts, metric="dice")  # type: ignore[arg-type]


def naive_intersections(matrix: np.ndarray, names: list[str]) -> dict[tuple[bool, ...], int]:
    tally: dict[tuple[bool, ...], int] = {}
    for j in range(matrix.shape[1]):
        key = tuple(bool(matrix[i, j] > 0) for i in range(matrix.shape[0]))
        if any(key):
            tally[key] = tally.get(key, 0) + 1
    return tally


@settings(max_examples=80, deadline=None)
@given(
    matrix=arrays(
        np.int64, st.tuples(st.integers(1, 7), st.integers(1, 40)), elements=st.integers(0, 3)
    )
)
def test_intersections_equal_naive_sets(matrix):
    names = [f"s{i}" for i in range(matrix.shape[0])]
    table = tt.tl.intersections(bulk_counts(matrix, samples=names))
    got = {
        tuple(bool(x) for x in row[names]): int(row["n_clonotypes"]) for _, row in table.iterrows()
    }
    assert got == naive_intersections(matrix, names)
    assert (table["degree"] == table[names].sum(axis=1)).all()
    assert table["n_clonotypes"].is_monotonic_decreasing
    # a sample's combinations add up to its clonotype count
    for i, name in enumerate(names):
        assert table.loc[table[name], "n_clonotypes"].sum() == int((matrix[i] > 0).sum())


def test_intersections_include_empty_matches_venn_regions():
    counts = bulk_counts(
        [[1, 1, 0, 0, 2], [0, 1, 1, 0, 1], [0, 0, 0, 4, 1]], samples=["a", "b", "c"]
    )
    table = tt.tl.intersections(counts, include_empty=True)
    assert len(table) == 7
    venn = tt.tl.venn_regions(counts, ["a", "b", "c"])
    for key, n in venn.regions.items():
        sel = (table[["a", "b", "c"]] == list(key)).all(axis=1)
        assert int(table.loc[sel, "n_clonotypes"].iloc[0]) == n


def test_intersections_on_single_cell_multichain_all():
    counts = cell_counts([("a", "x", 0), ("a", "x", 1), ("b", "y", 1)], ["a", "b"], 2)
    table = tt.tl.intersections(counts)
    assert table[["a", "b", "n_clonotypes"]].values.tolist() == [[True, False, 1], [True, True, 1]]


def test_real_data_overlap_is_symmetric(data_dir):
    d = data_dir / "sharing"
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(d / f"{x}.csv.gz", sample=x) for x in ("lt6", "lb6", "ln6")])
    )
    dense = counts.dense()
    for metric in OVERLAP_METRICS:
        m = tt.tl.overlap(counts, metric=metric)
        assert np.allclose(m.to_numpy(), m.to_numpy().T)
        assert m.loc["lt6", "ln6"] == pytest.approx(
            naive_index(dense[0].tolist(), dense[2].tolist(), metric)
        )
    assert isinstance(m, pd.DataFrame)
