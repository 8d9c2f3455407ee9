"""The polars engine of ``tt.tl.clonotypes``: one file's Arrow contig table to a :class:`Digest`.

A reader that parses straight to Arrow (the Cell Ranger reader, through
:meth:`tcrtrack.io.ContigFiles.parsed`) hands its table here without building a pandas
DataFrame. The filter's drop reasons, the QC ledger counts, the loci, the chain keys and the
cells are polars expressions over the whole file (multi-threaded hashing); the junction checks
are the vectorised Arrow-buffer rules of :mod:`tcrtrack._translate`; the primary chain and the
``multichain`` rule are the numpy code the pandas digest uses (:func:`cell_digest`). The result
equals :func:`tcrtrack.tl._digest.digest` of the same rows as a DataFrame
(``tests/test_engine.py`` checks it on every file and clonotype definition).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _genes, _qc
from tcrtrack import schema as s
from tcrtrack._arrow import (
    encode,
    scalar,
    string_array,
    take_chunked,
    take_strings,
    to_numpy,
)
from tcrtrack._contigs import well_formed
from tcrtrack._memory import LARGE_ROWS, release_memory
from tcrtrack.tl._chains import (
    Digest,
    bulk_digest,
    cell_digest,
    chain_codes,
    check_single_cell,
    encode_at,
    key_columns,
)
from tcrtrack.tl._spec import ClonotypeSpec

_META_QC = s.ATTRS_QC.encode()
_META_UNIT = s.ATTRS_UNIT.encode()


def is_parsed(table: object) -> bool:
    """Whether ``table`` is an Arrow contig table a reader finished for the engine."""
    return isinstance(table, pa.Table) and _META_QC in (table.schema.metadata or {})


def ledger_and_unit(table: pa.Table) -> tuple[_qc.QCLedger, str]:
    """The QC ledger and clone-size unit a reader stored in the table's schema metadata."""
    meta = table.schema.metadata or {}
    records = json.loads(meta[_META_QC])
    return _qc.QCLedger(tuple(_qc.QCEntry(**r) for r in records)), meta[_META_UNIT].decode()


def is_filtered(ledger: _qc.QCLedger) -> bool:
    stages = {(e.sample, e.stage) for e in ledger.entries}
    samples = {e.sample for e in ledger.entries}
    return bool(samples) and all((x, "filter") in stages for x in samples)


def _first_rows(barcodes: pa.ChunkedArray) -> np.ndarray:
    """For each row, the index of the first row with the same barcode (a polars hash)."""
    import polars as pl

    df = pl.DataFrame({"c": pl.Series(barcodes)})
    first = df.with_row_index("__i").select(pl.col("__i").min().over("c"))
    return first.to_series().to_numpy().astype(np.int64)


def _cell_first(barcodes: pa.ChunkedArray) -> np.ndarray:
    """For each row, the first row of its barcode in the file: runs of equal barcodes when the
    file is sorted by barcode, as Cell Ranger writes it (two comparisons of neighbours, no
    copy of the column), or when no barcode starts two runs (the paired and clonotypes.csv
    readers write each cell's rows together: an Arrow count of the runs' barcodes), else a
    polars hash of the barcodes."""
    n = len(barcodes)
    if barcodes.null_count == n:  # bulk: no barcodes (and their one NA group starts at row 0)
        return np.zeros(n, dtype=np.int64)
    if n and barcodes.null_count == 0:
        before, after = barcodes.slice(0, n - 1), barcodes.slice(1)
        new = np.ones(n, dtype=bool)
        new[1:] = to_numpy(pc.not_equal(before, after))
        starts = np.flatnonzero(new)
        if pc.all(pc.less_equal(before, after)).as_py() is not False or (
            pc.count_distinct(take_chunked(barcodes, starts)).as_py() == len(starts)
        ):
            return starts[np.cumsum(new) - 1]
    return _first_rows(barcodes)


def _explicitly_false(table: pa.Table, column: str) -> np.ndarray:
    """True where a boolean column is explicitly False (NA is not False; absent: never)."""
    if column not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return to_numpy(pc.invert(table.column(column)), fill=False)


def _filter_masks(
    table: pa.Table, spec: ClonotypeSpec, codes: np.ndarray, dictionary: pa.Array
) -> list[tuple[str, np.ndarray]]:
    """The filter's (reason, drop mask) pairs in the order they apply (``pp.filter_contigs``'s
    rules); the junction checks run once per distinct junction (``codes``, ``dictionary``: the
    dictionary encoding of the clonotype's sequence column)."""
    locus = table.column(s.LOCUS)
    aa = table.column(s.JUNCTION_AA) if spec.sequence == "nt" else None
    return [
        (_qc.NOT_A_CELL, _explicitly_false(table, s.IS_CELL)),
        (_qc.LOW_CONFIDENCE, _explicitly_false(table, s.HIGH_CONFIDENCE)),
        (_qc.MULTI_LOCUS_CONTIG, _equals(locus, s.MULTI_LOCUS)),
        (_qc.NON_PRODUCTIVE, ~to_numpy(table.column(s.PRODUCTIVE), fill=False)),
        (_qc.MISSING_JUNCTION, codes < 0),
        (_qc.MALFORMED_JUNCTION, ~well_formed(aa, spec.sequence, codes, dictionary)),
    ]


def _equals(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """True where a string column equals ``value`` (NA: False)."""
    if pa.types.is_null(column.type):
        return np.zeros(len(column), dtype=bool)
    return to_numpy(pc.equal(column, scalar(value, pa.string())), fill=False)


def _first_hit(masks: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """For each row, the index of the first reason whose mask holds (-1: none)."""
    reason = np.full(n, -1, dtype=np.int8)
    for k in range(len(masks) - 1, -1, -1):  # the first reason that holds wins
        reason[masks[k][1]] = k
    return reason


def _counts_at(table: pa.Table, column: str, rows: np.ndarray, na: int) -> np.ndarray:
    """A count column at ascending ``rows`` as int64, NA as ``na`` (0 when absent)."""
    if column not in table.column_names:
        return np.zeros(len(rows), dtype=np.int64)
    values = to_numpy(table.column(column).cast(pa.int64()), fill=na)
    return values[rows].astype(np.int64, copy=False)


def _locus_codes(locus: pa.ChunkedArray, loci: tuple[str, ...]) -> np.ndarray:
    """Index of each row's locus in ``loci``; -1 for other loci and NA."""
    if pa.types.is_null(locus.type):
        return np.full(len(locus), -1, dtype=np.int64)
    found = pc.index_in(locus, value_set=string_array(loci))
    return to_numpy(found, fill=-1).astype(np.int64)


def _take(column: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``column`` at ascending ``rows`` (no copy when ``rows`` is every row)."""
    return column if len(rows) == len(column) else take_chunked(column, rows)


def _filter_rows(
    table: pa.Table, spec: ClonotypeSpec, sample: str, *, filter: bool
) -> tuple[np.ndarray, list[_qc.QCEntry], tuple[np.ndarray, pa.Array], np.ndarray]:
    """The rows the filter keeps, its ledger entries, the dictionary encoding of the
    clonotype's sequence column (codes -1 for NA) and each row's first row of its barcode
    (:func:`_cell_first`, in a second thread meanwhile)."""
    n = table.num_rows
    entries: list[_qc.QCEntry] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        cell_job = pool.submit(_cell_first, table.column(s.CELL_ID))
        codes_all, dict_all = encode(table.column(spec.sequence_column))  # -1: NA
        if n >= LARGE_ROWS:  # the encoding's hash table (~120 MB at 1M cells)
            release_memory(trim=False)
        if filter:
            masks = _filter_masks(table, spec, codes_all, dict_all)
            reason = _first_hit(masks, n)
            per_reason = np.bincount(reason.astype(np.int64) + 1, minlength=len(masks) + 1)
            entries.extend(
                _qc.QCEntry(sample, "filter", "dropped", name, int(per_reason[k + 1]), "contigs")
                for k, (name, _) in enumerate(masks)
            )
            del masks
            rows = np.flatnonzero(reason < 0)
            del reason
        else:
            rows = np.arange(n)
        cell_first_all = cell_job.result()  # each row's first row of its barcode
    return rows, entries, (codes_all, dict_all), cell_first_all


def _in_loci(
    table: pa.Table, rows: np.ndarray, spec: ClonotypeSpec, sample: str
) -> tuple[np.ndarray, np.ndarray, _qc.QCEntry]:
    """The ``rows`` of the clonotype's loci, each one's locus (index into ``spec.loci``), and
    the ledger entry of the rows of other loci."""
    locus = _locus_codes(table.column(s.LOCUS), spec.loci)[rows]  # no copy of the strings
    in_locus = locus >= 0
    n_other = int((~in_locus).sum())
    entry = _qc.QCEntry(sample, "clonotypes", "dropped", _qc.OTHER_LOCUS, n_other, "contigs")
    return rows[in_locus], locus[in_locus], entry


def _chain_keys(
    table: pa.Table,
    spec: ClonotypeSpec,
    rows: np.ndarray,
    seq_codes: np.ndarray,
    sample: str,
    counted: _qc.Counted,
) -> tuple[np.ndarray, pa.Table, list[_qc.QCEntry]]:
    """Each row's chain key (numbered by first appearance), the table of distinct keys (from
    each key's first row, genes in their compared form) and the ledger entries of the genes
    :mod:`tcrtrack._genes` changed."""
    genes, changed = _genes.key_gene_codes(
        [_take(table.column(c), rows) for c in spec.gene_columns],
        alleles=spec.alleles,
        sample=sample,
        counted=counted,
    )
    chain = chain_codes(seq_codes, [(codes, len(names)) for codes, names in genes])
    first_row = np.full(int(chain.max()) + 1 if len(chain) else 0, -1, dtype=np.int64)
    first_row[chain[::-1]] = np.arange(len(chain))[::-1]
    key_rows = rows[first_row]
    compared = dict(zip(spec.gene_columns, genes, strict=True))  # the keys' genes: their rows'
    keys = pa.table(
        {
            c: (
                take_strings(compared[c][1], compared[c][0][first_row])
                if c in compared
                else _take(table.column(c), key_rows)
            ).cast(pa.large_string())
            for c in key_columns(spec)
        }
    )
    return chain, keys, changed


def _weights(table: pa.Table, rows: np.ndarray) -> np.ndarray:
    """A bulk sample's clone size of each row: ``duplicate_count`` (1 without the column)."""
    if s.DUPLICATE_COUNT in table.column_names:
        return _counts_at(table, s.DUPLICATE_COUNT, rows, na=0)
    return np.ones(len(rows), dtype=np.int64)


def _cells(
    table: pa.Table, cell_first_all: np.ndarray, kept_rows: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, pa.Array, int]:
    """Each row's cell (numbered in the order of its first row in the file, as the pandas
    digest's barcode dictionary numbers them), the barcodes the numbers index, and the
    distinct cells the filter left (``kept_rows``, all loci)."""
    n = table.num_rows
    seen = np.zeros(n, dtype=bool)
    seen[cell_first_all[kept_rows]] = True
    n_cells_before = int(seen.sum())
    del seen
    sub_first = cell_first_all[rows]
    used = np.zeros(n, dtype=bool)
    used[sub_first] = True
    first_rows = np.flatnonzero(used)
    cell = (np.cumsum(used) - 1)[sub_first].astype(np.int64)
    del used, sub_first
    barcodes = _take(table.column(s.CELL_ID), first_rows).combine_chunks()
    return cell, barcodes, n_cells_before


def digest_arrow(table: pa.Table, sample: str, spec: ClonotypeSpec, *, filter: bool) -> Digest:
    """Reduce one sample's finished Arrow contig table to a :class:`Digest`, as
    :func:`tcrtrack.tl._digest.digest` does for its DataFrame.

    The clonotype's sequence column is dictionary-encoded once (its codes number the
    sequences, and the junction checks run on its dictionary: once per distinct junction);
    the barcodes are numbered by their runs (Cell Ranger writes a file sorted by barcode) or
    hashed, with polars, in a second thread meanwhile. Only integer codes, the distinct keys
    and the barcodes of the kept cells outlive the call.
    """
    kept_rows, entries, encoded, cell_first_all = _filter_rows(table, spec, sample, filter=filter)
    cell_valid = to_numpy(pc.is_valid(table.column(s.CELL_ID)))[kept_rows]
    single_cell = check_single_cell(sample, cell_valid, spec)
    rows, locus, other_locus = _in_loci(table, kept_rows, spec, sample)
    entries.append(other_locus)
    seq_codes, seq_dict = encode_at(encoded, rows)
    del encoded
    counted: _qc.Counted = "contigs" if single_cell else "rows"
    chain, keys, changed = _chain_keys(table, spec, rows, seq_codes, sample, counted)
    entries.extend(changed)
    if not len(kept_rows):
        return Digest(sample, tuple(entries), keys, chain, locus)
    if not single_cell:
        return bulk_digest(sample, entries, keys, chain, locus, _weights(table, rows))
    cell, barcodes, n_cells_before = _cells(table, cell_first_all, kept_rows, rows)
    del cell_first_all
    return cell_digest(
        sample,
        entries,
        keys,
        spec,
        chain=chain,
        locus=locus,
        cell=cell,
        barcodes=barcodes,
        umis=_counts_at(table, s.UMI_COUNT, rows, na=-1),
        reads=_counts_at(table, s.CONSENSUS_COUNT, rows, na=-1),
        seq_codes=seq_codes,
        seq_dict=seq_dict,
        n_cells_before=n_cells_before,
    )
