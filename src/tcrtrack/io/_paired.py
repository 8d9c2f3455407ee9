"""Reader of one-row-per-cell paired-chain tables (``TCRA_cdr3nt``, ``TCRB_cdr3nt``, ...)."""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._arrow import from_numpy, scalar, to_numpy
from tcrtrack.errors import FormatError
from tcrtrack.io import _files

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["parse_paired", "read_paired"]

#: Column naming the cell, first present wins.
CELL_COLUMNS: Final = ("barcode", "cell_id", "cell", "cell_barcode")
#: Per-chain field suffix -> contig-table column.
CHAIN_FIELDS: Final = {
    "cdr3nt": s.JUNCTION,
    "cdr3aa": s.JUNCTION_AA,
    "vgene": s.V_CALL,
    "dgene": s.D_CALL,
    "jgene": s.J_CALL,
    "cgene": s.C_CALL,
}
_CHAIN_COLUMN: Final = re.compile(r"^(?:TCR|TR)(?P<locus>[ABGD])_(?P<field>[a-z0-9]+)$")


def read_paired(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    r"""Read a table with one row per cell and one column group per chain into a contig table.

    Columns are ``<chain>_<field>``, chain ``TCRA``/``TCRB`` (or ``TRA``/``TRB``, ``TCRG``,
    ``TCRD``) and field ``cdr3nt`` (the junction, conserved codons included), ``cdr3aa``,
    ``vgene``, ``dgene``, ``jgene``, ``cgene``; the cell is named by ``barcode`` (or
    ``cell_id``). The table is melted: each cell gives one contig per chain that has any value,
    ``productive`` True (such tables list only productive chains), ``is_cell`` True.

    The QC ledger's ``read`` entry counts the contigs made (two per cell when both chains are
    present).

    Parameters
    ----------
    path
        CSV or TSV file, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); every chain
        column is read (the table is melted from them).

    Raises
    ------
    tcrtrack.errors.FormatError
        No cell column, no chain columns, or a cell listed twice.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cells.csv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("barcode,TCRA_cdr3aa,TCRA_cdr3nt,TCRB_cdr3aa,TCRB_cdr3nt\n"
    ...                  "c1,CAF,TGTGCCTTC,CASSF,TGTGCCAGCAGTTTC\n")
    >>> tt.io.read(path)[["cell_id", "locus", "junction", "productive"]]
      cell_id locus         junction  productive
    0      c1   TRA        TGTGCCTTC        True
    1      c1   TRB  TGTGCCAGCAGTTTC        True
    """
    return _files.frame_of(parse_paired(path, sample=sample, columns=columns))


def parse_paired(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pa.Table:
    """:func:`read_paired` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`),
    which the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    cell_col = next((c for c in CELL_COLUMNS if c in header), None)
    chains: dict[str, dict[str, str]] = {}
    for column in header:
        m = _CHAIN_COLUMN.match(column)
        if m and m["field"] in CHAIN_FIELDS:
            chains.setdefault(f"TR{m['locus']}", {})[CHAIN_FIELDS[m["field"]]] = column
    if cell_col is None or not chains:
        msg = (
            f"{p}: not a paired-chain table: expected a cell column ({', '.join(CELL_COLUMNS)}) "
            "and columns like TCRA_cdr3aa, TCRB_cdr3nt; columns seen: " + ", ".join(header[:20])
        )
        raise FormatError(msg)
    wanted = [cell_col, *(c for fields in chains.values() for c in fields.values())]
    table = _files.read_table(
        p,
        delimiter=delimiter,
        columns=wanted,
        types={c: pa.string() for c in wanted},
        what="a paired-chain table",
    )
    _files.nonempty(p, table)
    cells = table.column(cell_col)
    duplicated = pc.value_counts(cells)
    dup = np.flatnonzero(to_numpy(duplicated.field("counts")) > 1)
    if len(dup):
        value = duplicated.field("values")[int(dup[0])].as_py()
        msg = (
            f"{p}: cell {value!r} has more than one row; a paired table has one row per cell "
            "(merge the rows or read the contig table instead)"
        )
        raise FormatError(msg)
    parts = []
    chain_columns = [s.JUNCTION, s.JUNCTION_AA, s.V_CALL, s.D_CALL, s.J_CALL, s.C_CALL]
    present_columns = [c for c in chain_columns if any(c in f for f in chains.values())]
    for locus, fields in chains.items():
        arrays = {
            c: (
                pc.utf8_trim_whitespace(table.column(fields[c]))
                if c in fields
                else pa.nulls(table.num_rows, pa.string())
            )
            for c in present_columns
        }
        has_any = np.zeros(table.num_rows, dtype=bool)
        for c in fields:
            has_any |= to_numpy(pc.is_valid(arrays[c]))
        rows = from_numpy(np.flatnonzero(has_any))
        part = {s.CELL_ID: pc.take(cells, rows)}
        part |= {c: pc.take(a, rows) for c, a in arrays.items()}
        part[s.LOCUS] = pa.repeat(scalar(locus, pa.string()), len(rows))
        parts.append(pa.table(part))
    out = pa.concat_tables(parts)
    for c in (s.JUNCTION, s.JUNCTION_AA):
        if c in out.column_names:
            out = out.set_column(out.column_names.index(c), c, pc.utf8_upper(out.column(c)))
    # contigs of one cell next to each other, cells in file order
    order = np.lexsort(
        (np.repeat(np.arange(len(parts)), [p_.num_rows for p_ in parts]), _row_numbers(parts))
    )
    out = out.take(from_numpy(order))
    n = out.num_rows
    out = out.append_column(s.PRODUCTIVE, from_numpy(np.ones(n, dtype=bool)))
    out = out.append_column(s.IS_CELL, from_numpy(np.ones(n, dtype=bool)))
    name = sample if sample is not None else _files.sample_name(p)
    return _files.finish_arrow(out, name, source=str(p))


def _row_numbers(parts: list[pa.Table]) -> np.ndarray:
    """Position of each melted row's cell in the file (parts keep file order)."""
    # every part holds a subset of the file's rows in order; rank by cell order of appearance
    cells = pa.concat_arrays([p.column(s.CELL_ID).combine_chunks() for p in parts])
    codes = pc.dictionary_encode(cells).indices
    return to_numpy(codes, fill=-1).astype(np.int64)
