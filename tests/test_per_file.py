"""Clonotypes from one table per file: the same result as the joined table, one file at a time.

``tt.tl.clonotypes`` reduces each sample to integer codes on its own and joins the digests;
``tt.io.read_each`` reads the next file while the current one is digested. These tests check
that a list or generator of tables gives exactly the result of :func:`tt.pp.concat` of the
same tables, that a table is released before the next is requested, and that the
dictionary-based junction checks equal the row-by-row ones.
"""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

import tcrtrack as tt
from naive import naive_translate, naive_well_formed
from tcrtrack._arrow import encode, strings
from tcrtrack._contigs import filter_masks
from tcrtrack.errors import FormatError, SchemaError
from tcrtrack.tl._clonotypes import _csr

DATA = Path(__file__).parent / "data"
FILES = {
    "lt6": DATA / "sharing" / "lt6.csv.gz",
    "lb6": DATA / "sharing" / "lb6.csv.gz",
    "ln6": DATA / "sharing" / "ln6.csv.gz",
}
SPECS = [
    tt.tl.ClonotypeSpec(),
    tt.tl.ClonotypeSpec(locus="TRA", sequence="aa", multichain="all"),
    tt.tl.ClonotypeSpec(genes="vj", multichain="drop"),
    tt.tl.ClonotypeSpec(locus="TRA+TRB"),
]


def assert_same(a: tt.tl.CloneCounts, b: tt.tl.CloneCounts) -> None:
    assert a.samples == b.samples
    assert (a.matrix != b.matrix).nnz == 0
    pd.testing.assert_frame_equal(a.clonotypes, b.clonotypes)
    assert (a.cells is None) == (b.cells is None)
    if a.cells is not None:
        pd.testing.assert_frame_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(a.qc.summary(), b.qc.summary())
    assert a.totals().tolist() == b.totals().tolist()


@pytest.fixture(scope="module")
def tables() -> list[pd.DataFrame]:
    return [tt.io.read(path, sample=name) for name, path in FILES.items()]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_tables_one_by_one_equal_the_joined_table(tables, spec):
    joined = tt.tl.clonotypes(tt.pp.concat(tables), spec)
    assert_same(tt.tl.clonotypes(tables, spec), joined)
    assert_same(tt.tl.clonotypes(iter(tables), spec), joined)


def test_interleaved_samples_equal_contiguous_ones(tables):
    joined = tt.pp.concat(tables[:2])
    shuffled = joined.iloc[np.random.default_rng(0).permutation(len(joined))]
    shuffled = shuffled.sort_values("cell_id", kind="stable").reset_index(drop=True)
    shuffled.attrs = joined.attrs
    a = tt.tl.clonotypes(joined)
    b = tt.tl.clonotypes(shuffled)
    assert a.samples == b.samples
    for name in a.samples:
        row_a = a.matrix[[a.index(name)]].toarray()[0]
        row_b = b.matrix[[b.index(name)]].toarray()[0]
        ca = dict(zip(a.clonotypes["clonotype"], row_a, strict=True))
        cb = dict(zip(b.clonotypes["clonotype"], row_b, strict=True))
        assert {k: v for k, v in ca.items() if v} == {k: v for k, v in cb.items() if v}
    pd.testing.assert_frame_equal(a.qc.summary(), b.qc.summary())


def test_a_table_is_released_before_the_next_is_read():
    released: list[bool] = []
    previous: list[weakref.ref] = []

    def gen():
        for name, path in FILES.items():
            gc.collect()
            released.extend(ref() is None for ref in previous)
            table = tt.io.read(path, sample=name)
            previous.append(weakref.ref(table))
            yield table
            del table

    counts = tt.tl.clonotypes(gen())
    assert counts.samples == tuple(FILES)
    assert released == [True, True, True]  # lt6 before lb6; lt6 and lb6 before ln6


def test_read_each_with_and_without_read_ahead():
    paths = list(FILES.values())
    a = tt.tl.clonotypes(tt.io.read_each(paths, samples=list(FILES)))
    b = tt.tl.clonotypes(tt.io.read_each(paths, samples=list(FILES), read_ahead=False))
    assert_same(a, b)
    assert a.samples == tuple(FILES)
    default_names = [t["sample"].iloc[0] for t in tt.io.read_each(paths[:2])]
    assert default_names == ["lt6", "lb6"]


def test_read_each_reads_a_large_file_only_after_the_one_before(monkeypatch):
    # above the read-ahead limit, the next file is parsed only once the caller is done with
    # the current table (one large file in memory at a time), with the same tables
    from tcrtrack.io import _each

    paths = list(FILES.values())
    calls: list[str] = []
    reader = _each.read

    def recording(path, **kwargs):
        calls.append(str(path))
        return reader(path, **kwargs)

    monkeypatch.setattr(_each, "read", recording)
    monkeypatch.setattr(_each, "READ_AHEAD_LIMIT", 0)
    tables = iter(tt.io.read_each(paths, samples=list(FILES)))
    first = next(tables)
    assert calls == [str(paths[0])]
    del first
    second = next(tables)
    assert calls == [str(paths[0]), str(paths[1])]
    assert second["sample"].iloc[0] == list(FILES)[1]
    del second
    assert len(list(tables)) == len(paths) - 2
    limited = tt.tl.clonotypes(tt.io.read_each(paths, samples=list(FILES)))
    monkeypatch.setattr(_each, "READ_AHEAD_LIMIT", 1 << 40)
    assert_same(limited, tt.tl.clonotypes(tt.io.read_each(paths, samples=list(FILES))))


def test_read_each_reports_the_bad_file(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    with pytest.raises(FormatError, match=re.escape(str(bad))):
        tt.tl.clonotypes(tt.io.read_each([FILES["lt6"], bad]))
    with pytest.raises(ValueError, match="2 file"):
        list(tt.io.read_each([FILES["lt6"], bad], samples=["a"]))


def test_tables_must_have_distinct_samples_and_may_differ_in_unit(tables):
    with pytest.raises(SchemaError, match="occurs in tables 0 and 1"):
        tt.tl.clonotypes([tables[0], tables[0]])
    bulk = tt.io.read(DATA / "bulk" / "TRB_Unsorted_0.tsv", sample="bulk")
    both = tt.tl.clonotypes([tables[0], bulk])
    assert both.units == ("cells", "templates") and both.single_cell == (True, False)
    for alone in (tt.tl.clonotypes(tables[0]), tt.tl.clonotypes(bulk)):
        name = alone.samples[0]
        assert both.totals()[name] == alone.totals()[name]
        assert both.n_clonotypes_per_sample()[name] == alone.n_clonotypes_per_sample()[name]
    with pytest.raises(ValueError, match="at least one"):
        tt.tl.clonotypes([])
    empty = pd.DataFrame({c: pd.Series([], dtype="string") for c in tables[0].columns})
    with pytest.raises(SchemaError, match="no rows"):
        tt.tl.clonotypes(empty)


def test_a_sample_mixing_cells_and_bulk_rows_is_rejected(tables):
    mixed = tables[0].copy()
    mixed.loc[mixed.index[:3], "cell_id"] = pd.NA
    with pytest.raises(SchemaError, match=r"sample 'lt6': \d+ contig\(s\) have no cell_id"):
        tt.tl.clonotypes(mixed)


# -- the junction checks once per distinct sequence equal the checks row by row --------------

nt_values = st.one_of(
    st.none(),
    st.lists(
        st.sampled_from(["TGT", "GCC", "AGC", "TTC", "TGA", "NNN", "tgt", "TG", "A"]), max_size=4
    ).map("".join),
)
aa_values = st.one_of(st.none(), st.text(alphabet="CASFWXQ*csaf", max_size=4))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(nt_values, aa_values, st.booleans()), max_size=25))
def test_junction_masks_equal_the_rules_row_by_row(rows):
    nt = [r[0] for r in rows]
    # half the rows get the junction's exact translation, so matches are common
    exact = [naive_translate(n) if n is not None else None for n in nt]
    aa = [e if keep and e else a for (_, a, keep), e in zip(rows, exact, strict=True)]
    contigs = pd.DataFrame(
        {
            "sample": pd.Categorical(["s"] * len(rows)),
            "cell_id": pd.array([f"c{i}" for i in range(len(rows))], "string[pyarrow]"),
            "locus": pd.Categorical(["TRB"] * len(rows)),
            "junction": pd.array(nt, "string[pyarrow]"),
            "junction_aa": pd.array(aa, "string[pyarrow]"),
            "productive": pd.array([True] * len(rows), "boolean"),
        }
    )
    for sequence, column in (("nt", "junction"), ("aa", "junction_aa")):
        values = nt if sequence == "nt" else aa
        missing = [v is None for v in values]
        malformed = [
            v is not None and not naive_well_formed(n, a, sequence)
            for v, n, a in zip(values, nt, aa, strict=True)
        ]
        codes, dictionary = encode(strings(contigs[column]))
        for encoded in (None, (codes, dictionary)):
            masks = dict(filter_masks(contigs, sequence=sequence, encoded=encoded))  # type: ignore[arg-type]
            assert masks["missing_junction"].tolist() == missing, sequence
            assert masks["malformed_junction"].tolist() == malformed, sequence


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 6)), max_size=40),
    st.booleans(),
)
def test_counts_matrix_equals_scipy_coo(obs, grouped):
    if grouped:
        obs = sorted(obs, key=lambda o: o[0])
    sample = np.array([o[0] for o in obs], dtype=np.int64)
    clone = np.array([o[1] for o in obs], dtype=np.int64)
    got = _csr(sample, clone, 4, 7)
    expected = sparse.coo_array((np.ones(len(obs), np.int64), (sample, clone)), shape=(4, 7))
    assert got.shape == (4, 7)
    assert np.array_equal(got.toarray(), expected.toarray())
    assert got.has_canonical_format


def test_single_cell_and_bulk_samples_each_keep_their_counts(tables):
    # lb6 without its cell ids is a bulk sample (a row per contig, weighted by its count)
    bulk = tables[1].copy()
    bulk["cell_id"] = pd.array([None] * len(bulk), dtype="string[pyarrow]")
    both = tt.tl.clonotypes([tables[0], bulk])
    assert both.single_cell == (True, False)
    assert set(both.cells["sample"].astype(str)) == {"lt6"}
    for alone in (tt.tl.clonotypes(tables[0]), tt.tl.clonotypes(bulk)):
        name = alone.samples[0]
        mine = both.select([name])
        assert mine.totals()[name] == alone.totals()[name]
        assert dict(zip(mine.clonotypes["clonotype"], mine.dense()[0], strict=True)) == dict(
            zip(alone.clonotypes["clonotype"], alone.dense()[0], strict=True)
        )


def test_rows_without_a_sample_name_are_rejected(tables):
    table = tables[0].copy()
    table["sample"] = table["sample"].astype("string")
    table.loc[table.index[5], "sample"] = pd.NA
    with pytest.raises(SchemaError, match=r"1 contig\(s\) have no sample name \(first: row 5\)"):
        tt.tl.clonotypes(table)
