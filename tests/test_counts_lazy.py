"""The CloneCounts of ``tt.tl.clonotypes`` keeps arrays inside and builds its pandas and scipy
attributes on first access (so ``tcrtrack share`` imports neither): every attribute and method
must answer as a CloneCounts built from those pandas and scipy objects does."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.tl import ClonotypeSpec
from tcrtrack.tl._counts import CloneCounts

DATA = Path(__file__).parent / "data"
SHARING = [DATA / "sharing" / f"{x}.csv.gz" for x in ("lt6", "lb6", "ln6")]

SPECS = [
    ClonotypeSpec(),
    ClonotypeSpec(sequence="aa", genes="vj"),
    ClonotypeSpec(multichain="all"),
    ClonotypeSpec(multichain="drop"),
    ClonotypeSpec(locus="TRA+TRB"),
]


def _eager(counts: CloneCounts) -> CloneCounts:
    """The same counts as a plain CloneCounts of its pandas and scipy attributes."""
    return CloneCounts(
        matrix=counts.matrix,
        samples=counts.samples,
        clonotypes=counts.clonotypes,
        spec=counts.spec,
        unit=counts.unit,
        qc=counts.qc,
        cells=counts.cells,
        n_cells=counts.n_cells,
    )


@pytest.fixture(scope="module")
def bulk():
    path = DATA / "stats" / "TRB_Unsorted_83.tsv.gz"
    tables = [tt.io.read(path, sample="a"), tt.io.read(DATA / "stats" / "TRB_Unsorted_369.tsv.gz")]
    return tt.tl.clonotypes(tt.pp.concat(tables))


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_digested_counts_answer_as_their_pandas_twin(spec):
    lazy = tt.tl.clonotypes(tt.io.read_each(SHARING), spec)
    assert type(lazy) is CloneCounts and lazy._arrays is not None
    eager = _eager(lazy)
    np.testing.assert_array_equal(lazy.dense(), np.asarray(eager.matrix.toarray()))
    assert lazy.n_clonotypes == eager.n_clonotypes == lazy.matrix.shape[1]
    assert eager._arrays is None
    pd.testing.assert_series_equal(lazy.totals(), eager.totals())
    pd.testing.assert_series_equal(lazy.n_clonotypes_per_sample(), eager.n_clonotypes_per_sample())
    for name in lazy.samples:
        assert lazy.n_clonotypes_of(name) == eager.n_clonotypes_of(name)
        assert lazy.total_of(name) == eager.total_of(name)
    rng = np.random.default_rng(0)
    for _ in range(5):
        mask = rng.random(lazy.n_clonotypes) < 0.3
        for name in lazy.samples:
            assert lazy.count_in(name, mask) == eager.count_in(name, mask)
    for ref in lazy.samples:
        a = tt.tl.sharing(lazy, reference=ref)
        b = tt.tl.sharing(eager, reference=ref)
        pd.testing.assert_frame_equal(a.table, b.table)


def test_attributes_are_built_once_and_the_object_stays_frozen():
    counts = tt.tl.clonotypes(tt.io.read_each(SHARING[:2]))
    assert counts.matrix is counts.matrix
    assert counts.clonotypes is counts.clonotypes
    assert counts.cells is counts.cells
    assert list(counts.cells.columns) == ["sample", "cell_id", "clonotype"]
    with pytest.raises(AttributeError):
        counts.unit = "reads"  # type: ignore[misc]


def test_digested_counts_pickle(bulk):
    for counts in (tt.tl.clonotypes(tt.io.read_each(SHARING[:2])), bulk):
        again = pickle.loads(pickle.dumps(counts))
        np.testing.assert_array_equal(again.dense(), counts.dense())
        pd.testing.assert_frame_equal(again.clonotypes, counts.clonotypes)


def test_bulk_digested_counts_answer_as_their_pandas_twin(bulk):
    assert bulk._arrays is not None and bulk.cells is None
    eager = _eager(bulk)
    np.testing.assert_array_equal(bulk.dense(), np.asarray(eager.matrix.toarray()))
    pd.testing.assert_series_equal(bulk.totals(), eager.totals())
    mask = np.random.default_rng(1).random(bulk.n_clonotypes) < 0.5
    for name in bulk.samples:
        assert bulk.count_in(name, mask) == eager.count_in(name, mask)
