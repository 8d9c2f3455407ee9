"""The store's bulk path (``tcrtrack.cohort._rows.bulk_rows``) gives what
``tt.tl.clonotypes`` gives (``counted_rows``): the same clonotypes in the same order, the same
counts, unit and QC ledger, on every bulk file of tests/data and examples/, with and without a
declared unit, for every ``multichain`` rule; and files with cell barcodes never take it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import tcrtrack as tt
from tcrtrack.cohort import _rows
from tcrtrack.errors import TcrtrackWarning

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data"
BULK = sorted(
    [
        *(DATA / "bulk").glob("*.t*"),
        *(DATA / "clonetables").glob("*.*sv.gz"),
        *(DATA / "formats").glob("*"),
        *(DATA / "stats").glob("TRB_*.tsv.gz"),
        *(DATA / "units").glob("*.tsv.gz"),
        DATA / "airr" / "immundata_tcrb_200.tsv",
        DATA / "airr" / "quirks.tsv",
        *(ROOT / "examples" / "data" / "bmt").glob("*.tsv.gz"),
    ]
)
CELLS = [DATA / "sharing" / "lb6.csv.gz", DATA / "formats" / "airr_minimal_cells_lb6.tsv.gz"]


def parsed(path: Path) -> object:
    fmt = tt.io.detect(path)
    parse = fmt.parse if fmt.parse is not None else fmt.reader
    return parse(path, sample="s1", columns=tt.tl.ClonotypeSpec(genes="vj").columns)


def both(path: Path, declared: str | None, multichain: str = "primary") -> tuple[object, ...]:
    spec = tt.tl.ClonotypeSpec(genes="vj", multichain=multichain)
    results = []
    for take in (_rows.bulk_rows, None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TcrtrackWarning)
            if take is None:
                got = _rows.counted_rows(parsed(path), spec, "s1", declared)
            else:
                got = take(parsed(path), spec, declared)
        results.append((got, [str(w.message) for w in caught]))
    return tuple(results)


def readable(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.suffix in (".md", ".py"):
            continue
        try:
            tt.io.detect(p)
        except tt.errors.TcrtrackError:
            continue
        out.append(p)
    return out


#: The files whose parse the bulk path takes (the others: see the test below).
BULK_TABLES = [p for p in readable(BULK) if _rows.is_bulk(parsed(p), None)]


@pytest.mark.parametrize("path", BULK_TABLES, ids=lambda p: p.name)
@pytest.mark.parametrize("declared", [None, "reads"])
def test_bulk_rows_equal_clonotypes(path: Path, declared: str | None) -> None:
    assert _rows.is_bulk(parsed(path), declared)
    (fast, fast_warned), (slow, slow_warned) = both(path, declared)
    assert fast.unit == slow.unit
    assert fast.qc == slow.qc
    assert fast_warned == slow_warned
    np.testing.assert_array_equal(fast.counts, slow.counts)
    assert fast.counts.dtype == slow.counts.dtype == np.int64
    assert list(fast.columns) == list(slow.columns) == list(_rows.KEY_COLUMNS)
    for c in _rows.KEY_COLUMNS:
        assert fast.columns[c].equals(slow.columns[c]), c
    assert (fast.counts > 0).all()  # (a file of other loci has none)


def test_bulk_rows_taken_by_most_bulk_files() -> None:
    files = readable(BULK)
    taken = [p.name for p in BULK_TABLES]
    assert len(taken) >= len(files) - 2, sorted({p.name for p in files} - set(taken))


@pytest.mark.parametrize("multichain", ["all", "drop"])
def test_bulk_rows_any_multichain_rule(multichain: str) -> None:
    path = ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz"
    (fast, _), (slow, _) = both(path, None, multichain)
    assert fast.qc == slow.qc
    np.testing.assert_array_equal(fast.counts, slow.counts)


@pytest.mark.parametrize("path", CELLS, ids=lambda p: p.name)
def test_cells_never_take_the_bulk_path(path: Path) -> None:
    assert not _rows.is_bulk(parsed(path), None)


def test_unknown_unit_is_left_to_clonotypes() -> None:
    path = ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz"
    assert not _rows.is_bulk(parsed(path), "litres")
    spec = tt.tl.ClonotypeSpec(genes="vj")
    with pytest.raises(tt.errors.ParameterError, match="unknown unit 'litres'"):
        _rows.counted_rows(parsed(path), spec, "s1", "litres")


def test_zero_counts_and_drops_as_clonotypes(tmp_path: Path) -> None:
    """Rows with a zero count, other loci, non-productive and malformed rows: dropped and
    counted alike; a clonotype seen on several rows sums them."""
    path = tmp_path / "bulk.tsv"
    path.write_text(
        "junction\tjunction_aa\tv_call\tj_call\tlocus\tproductive\tduplicate_count\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV2\tTRBJ1-1\tTRB\tT\t3\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV2\tTRBJ1-1\tTRB\tT\t4\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV3\tTRBJ1-1\tTRB\tT\t0\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV3\tTRBJ1-1\tTRA\tT\t5\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV4\tTRBJ1-1\tTRB\tF\t5\n"
        "TGTGCCAGCAGTTTTTT\tCASSFF\tTRBV5\tTRBJ1-1\tTRB\tT\t5\n"
        "TGTGCCAGCAGCCTGTTT\tCASSLF\tTRBV2\tTRBJ1-1\tTRB\tT\t1\n"
        "TGTGCCAGCAGTTTTTTT\tCASSFF\tTRBV2*01\tTRBJ1-1\tTRB\tT\t2\n"
    )
    (fast, fast_warned), (slow, slow_warned) = both(path, None)
    assert fast.qc == slow.qc and fast_warned == slow_warned
    assert fast.counts.tolist() == slow.counts.tolist() == [9, 1]
    assert fast.columns["junction_aa"].to_pylist() == ["CASSFF", "CASSLF"]


def test_bulk_clonotypes_refuses_what_it_cannot_take() -> None:
    cells = parsed(CELLS[0])
    with pytest.raises(tt.errors.SchemaError, match="has cell barcodes: use clonotypes"):
        tt.tl.bulk_clonotypes(cells)
    frame = tt.io.read(ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz")
    with pytest.raises(tt.errors.SchemaError, match="takes the Arrow table of a reader's parse"):
        tt.tl.bulk_clonotypes(frame)


def test_bulk_clonotypes_refuses_an_unknown_unit() -> None:
    """The unit is checked as clonotypes' units= checks it (it was taken as given)."""
    table = parsed(ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz")
    with pytest.raises(tt.errors.ParameterError, match=r"unknown unit 'litres'.*use one of"):
        tt.tl.bulk_clonotypes(table, unit="litres")
    assert tt.tl.bulk_clonotypes(table, unit="reads").unit == "reads"


@pytest.mark.parametrize("path", [*BULK_TABLES[:6], *CELLS], ids=lambda p: p.name)
def test_is_bulk_table_is_what_bulk_clonotypes_takes(path: Path) -> None:
    """The store's routing asks the engine's public predicate, and the predicate says
    exactly which tables ``bulk_clonotypes`` takes (it raises on the others)."""
    table = parsed(path)
    takes = tt.tl.is_bulk_table(table)
    assert takes == (path not in CELLS)
    assert _rows.is_bulk(table, None) == takes
    if takes:
        assert len(tt.tl.bulk_clonotypes(table).counts)
    else:
        with pytest.raises(tt.errors.SchemaError, match="cell barcodes: use clonotypes"):
            tt.tl.bulk_clonotypes(table)


def test_is_bulk_table_refuses_what_no_reader_finished() -> None:
    frame = tt.io.read(ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz")
    assert not tt.tl.is_bulk_table(frame) and not _rows.is_bulk(frame, None)
    table = parsed(ROOT / "examples" / "data" / "bmt" / "TRB_Unsorted_0.tsv.gz")
    assert not tt.tl.is_bulk_table(table.drop_columns(["cell_id"]))
    with pytest.raises(tt.errors.SchemaError, match="has no cell_id column"):
        tt.tl.bulk_clonotypes(table.drop_columns(["cell_id"]))
