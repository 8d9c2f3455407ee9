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
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack.tl._digest import (
    Digest,
    bulk_digest,
    cell_digest,
    check_single_cell,
    first_appearance,
)
from tcrtrack.tl._spec import ClonotypeSpec

_META_QC = s.ATTRS_QC.encode()
_META_UNIT = s.ATTRS_UNIT.encode()
_AA_PATTERN = r"^[ACDEFGHIKLMNPQRSTVWY]+$"
_ROW = "__row"


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


def _false(df: pl.DataFrame, column: str) -> pl.Expr:
    """True where a boolean column is explicitly False (NA is not False; absent: never)."""
    if column not in df.columns:
        return pl.lit(False)
    return pl.col(column).not_().fill_null(False)


def _well_formed(table: pa.Table, sequence: str) -> np.ndarray:
    """Rows whose junction is missing or well formed (``pp.filter_contigs``'s rule), row by
    row with the Arrow-buffer checks (no hashing)."""
    from tcrtrack._translate import is_codon_sequence, translate

    aa = table.column(s.JUNCTION_AA)
    if sequence == "aa":
        hit = pc.match_substring_regex(aa, _AA_PATTERN)
        return np.asarray(pc.fill_null(pc.or_kleene(pc.is_null(aa), hit), True), dtype=bool)
    nt = table.column(s.JUNCTION)
    whole = is_codon_sequence(nt)  # True where missing
    present = np.asarray(pc.is_valid(nt), dtype=bool)
    expected = translate(nt)
    got = pc.ascii_upper(aa)
    same = pc.and_(pc.equal(expected, got), pc.greater(pc.binary_length(got), 0))
    same = np.asarray(pc.fill_null(same, False), dtype=bool)
    aa_missing = np.asarray(pc.is_null(aa), dtype=bool)
    return ~present | (whole & (aa_missing | same))


def _filter_reasons(
    df: pl.DataFrame, table: pa.Table, spec: ClonotypeSpec
) -> list[tuple[str, pl.Expr | np.ndarray]]:
    seq = spec.sequence_column
    return [
        (_qc.NOT_A_CELL, _false(df, s.IS_CELL)),
        (_qc.LOW_CONFIDENCE, _false(df, s.HIGH_CONFIDENCE)),
        (_qc.MULTI_LOCUS_CONTIG, (pl.col(s.LOCUS) == s.MULTI_LOCUS).fill_null(False)),
        (_qc.NON_PRODUCTIVE, pl.col(s.PRODUCTIVE).fill_null(False).not_()),
        (_qc.MISSING_JUNCTION, pl.col(seq).is_null()),
        (_qc.MALFORMED_JUNCTION, ~_well_formed(table, spec.sequence)),
    ]


def _first_rows(df: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """For each row, the index of the first row with the same values of ``columns``."""
    first = df.select(columns).with_row_index("__i").select(pl.col("__i").min().over(columns))
    return first.to_series().to_numpy().astype(np.int64)


def _cell_first(column: pl.Series) -> np.ndarray:
    """For each row, the first row of its barcode in the file (a hash unless the file is
    sorted by barcode, as Cell Ranger writes it: then runs of equal barcodes suffice)."""
    n = len(column)
    if n and column.null_count() == 0:
        new = (column != column.shift(1)).fill_null(True).to_numpy()
        ascending = (column.shift(1) <= column).fill_null(True).all()
        if ascending:
            starts = np.flatnonzero(new)
            return starts[np.cumsum(new) - 1]
    return _first_rows(pl.DataFrame({"c": column}), ["c"])


def _strings(df: pl.DataFrame, column: str) -> pa.Array:
    array = df.get_column(column).to_arrow(compat_level=pl.CompatLevel.oldest())
    return array.cast(pa.large_string())


def digest_arrow(table: pa.Table, sample: str, spec: ClonotypeSpec, *, filter: bool) -> Digest:
    """Reduce one sample's finished Arrow contig table to a :class:`Digest`, as
    :func:`tcrtrack.tl._digest.digest` does for its DataFrame."""
    seq = spec.sequence_column
    present_cols = [c for c in spec.columns if c != s.SAMPLE and c in table.column_names]
    table = table.select(present_cols).replace_schema_metadata(None)
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(
        pl.col(c).cast(pl.String) for c in (s.LOCUS, *spec.gene_columns) if c in df.columns
    )
    n = df.height
    entries: list[_qc.QCEntry] = []
    cell_first_all = _cell_first(df.get_column(s.CELL_ID))

    if filter:
        reasons = _filter_reasons(df, table, spec)
        masks = [pl.lit(pl.Series(m)) if isinstance(m, np.ndarray) else m for _, m in reasons]
        first_hit: Any = pl.when(masks[0]).then(pl.lit(0, pl.Int8))
        for k, mask in enumerate(masks[1:], start=1):  # the first reason that holds counts
            first_hit = first_hit.when(mask).then(pl.lit(k, pl.Int8))
        reason = df.select(first_hit.otherwise(pl.lit(-1, pl.Int8))).to_series().to_numpy()
        per_reason = np.bincount(reason.astype(np.int64) + 1, minlength=len(reasons) + 1)
        entries.extend(
            _qc.QCEntry(sample, "filter", "dropped", name, int(per_reason[k + 1]), "contigs")
            for k, (name, _) in enumerate(reasons)
        )
        kept_mask = reason < 0
        rows = np.flatnonzero(kept_mask)
    else:
        rows = np.arange(n)
    del table

    indexed = df.with_row_index(_ROW)
    kept = indexed.filter(pl.Series(kept_mask)) if filter else indexed
    cell_valid = kept.get_column(s.CELL_ID).is_not_null().to_numpy()
    single_cell = check_single_cell(sample, cell_valid, spec)

    loci = list(spec.loci)
    locus_all = (
        kept.select(
            pl.col(s.LOCUS).replace_strict(
                loci, list(range(len(loci))), default=-1, return_dtype=pl.Int64
            )
        )
        .to_series()
        .to_numpy()
    )
    in_locus = locus_all >= 0
    entries.append(
        _qc.QCEntry(
            sample, "clonotypes", "dropped", _qc.OTHER_LOCUS, int((~in_locus).sum()), "contigs"
        )
    )
    sub = kept.filter(pl.Series(in_locus))
    locus = locus_all[in_locus]
    m = sub.height

    # sequence codes by first appearance (NA: -1) and the distinct sequences
    seq_null = sub.get_column(seq).is_null().to_numpy()
    seq_first = _first_rows(sub, [seq])
    seq_codes = np.full(m, -1, dtype=np.int64)
    seq_codes[~seq_null], seq_rows = first_appearance(seq_first[~seq_null], max(m, 1))
    seq_dict = _strings(sub, seq).take(pa.array(seq_rows)) if m else pa.array([], pa.large_string())
    if spec.gene_columns or seq_null.any():
        chain, chain_rows = first_appearance(_first_rows(sub, [seq, *spec.gene_columns]), max(m, 1))
    else:
        chain, chain_rows = seq_codes, seq_rows
    key_cols = [seq, *spec.gene_columns]
    if spec.sequence == "nt":
        key_cols.insert(1, s.JUNCTION_AA)
    firsts = sub[chain_rows] if m else sub.head(0)
    keys = pa.table({c: _strings(firsts, c) for c in key_cols})

    if not len(rows):
        return Digest(sample, tuple(entries), keys, chain, locus)
    if not single_cell:
        if s.DUPLICATE_COUNT in sub.columns:
            weight = sub.get_column(s.DUPLICATE_COUNT).cast(pl.Int64).fill_null(-1).to_numpy()
        else:
            weight = np.ones(m, dtype=np.int64)
        return bulk_digest(sample, entries, keys, chain, locus, np.asarray(weight, np.int64))

    kept_rows = kept.get_column(_ROW).to_numpy()
    seen = np.zeros(n, dtype=bool)
    seen[cell_first_all[kept_rows]] = True
    n_cells_before = int(seen.sum())
    # cells numbered in the order of their first row in the file (as the pandas digest's
    # barcode dictionary numbers them)
    sub_first = cell_first_all[sub.get_column(_ROW).to_numpy()]
    used = np.zeros(n, dtype=bool)
    used[sub_first] = True
    first_rows = np.flatnonzero(used)
    code_of = np.cumsum(used) - 1
    cell = code_of[sub_first].astype(np.int64)
    barcodes = _strings(df, s.CELL_ID).take(pa.array(first_rows))

    def counts(column: str) -> np.ndarray:
        if column not in sub.columns:
            return np.zeros(m, dtype=np.int64)
        return np.asarray(sub.get_column(column).cast(pl.Int64).fill_null(-1).to_numpy(), np.int64)

    return cell_digest(
        sample,
        entries,
        keys,
        spec,
        chain=chain,
        locus=locus,
        cell=cell,
        barcodes=barcodes,
        umis=counts(s.UMI_COUNT),
        reads=counts(s.CONSENSUS_COUNT),
        seq_codes=seq_codes,
        seq_dict=seq_dict,
        n_cells_before=n_cells_before,
    )
