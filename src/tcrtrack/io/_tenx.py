"""Reader of Cell Ranger VDJ contig annotation tables."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

import pyarrow as pa

from tcrtrack import schema as s
from tcrtrack.io import _files

if TYPE_CHECKING:
    import pandas as pd

#: Cell Ranger column -> contig-table column.
TENX_COLUMNS: Final = {
    "barcode": s.CELL_ID,
    "contig_id": s.SEQUENCE_ID,
    "chain": s.LOCUS,
    "v_gene": s.V_CALL,
    "d_gene": s.D_CALL,
    "j_gene": s.J_CALL,
    "c_gene": s.C_CALL,
    "cdr3": s.JUNCTION_AA,
    "cdr3_nt": s.JUNCTION,
    "productive": s.PRODUCTIVE,
    "is_cell": s.IS_CELL,
    "high_confidence": s.HIGH_CONFIDENCE,
    "full_length": s.FULL_LENGTH,
    "umis": s.UMI_COUNT,
    "reads": s.CONSENSUS_COUNT,
    "raw_clonotype_id": s.CLONE_ID,
}
#: Columns without which a file is not a Cell Ranger contig table.
TENX_REQUIRED: Final = ("barcode", "chain", "productive", "cdr3")

_TYPES: Final = {
    "productive": pa.bool_(),
    "is_cell": pa.bool_(),
    "high_confidence": pa.bool_(),
    "full_length": pa.bool_(),
    "umis": pa.int64(),
    "reads": pa.int64(),
}


def read_10x(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read a Cell Ranger VDJ contig table into a contig table.

    Reads ``filtered_contig_annotations.csv`` and ``all_contig_annotations.csv`` of every
    Cell Ranger layout (v2–v9: booleans written ``True``/``TRUE``/``true``, NA written ``None``
    or left empty, ``Multi`` chains, the v6+ layout with ``fwr*``/``cdr*`` columns, old files
    without ``cdr3_nt``), plain or gzip-compressed, and Cell Ranger's
    ``airr_rearrangement.tsv`` (passed on to :func:`tcrtrack.io.read_airr`).

    Every row is kept: ``is_cell``, ``high_confidence`` and ``productive`` are columns, and
    :func:`tcrtrack.pp.filter_contigs` drops rows by them, counting each reason. The QC ledger
    of the result records the rows read.

    Parameters
    ----------
    path
        The contig table.
    sample
        Sample name; default: the file name without extensions.
    columns
        Contig-table columns to read (default: all); the other columns are not parsed, which
        saves time and memory, and missing required columns are NA.

    Returns
    -------
    The contig table (see :mod:`tcrtrack.schema`), with ``cdr3_nt`` as ``junction``,
    ``cdr3`` as ``junction_aa``, ``barcode`` as ``cell_id``, ``chain`` as ``locus``,
    ``umis`` as ``umi_count`` and ``reads`` as ``consensus_count``.

    Raises
    ------
    tcrtrack.errors.InputError
        The file is missing, a directory, unreadable or truncated.
    tcrtrack.errors.FormatError
        The file is empty, binary, not a Cell Ranger table or has unparseable values.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> contigs[["cell_id", "locus", "junction_aa", "productive"]].head(2)
                  cell_id locus          junction_aa  productive
    0  AAACCTGAGAGTGAGA-1   TRB  CASSQLGRTKDSKNYGYTF        True
    1  AAACCTGAGAGTGAGA-1   TRA        CAARREYGNKLVF        True
    """
    import pandas as pd

    parsed = parse_10x(path, sample=sample, columns=columns)
    return parsed if isinstance(parsed, pd.DataFrame) else _files.frame_of(parsed)


def parse_10x(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
) -> pa.Table | pd.DataFrame:
    """:func:`read_10x` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`); a
    DataFrame when the file is Cell Ranger's AIRR file (read by :func:`read_airr`)."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    if "sequence_id" in header and "barcode" not in header:
        from tcrtrack.io._airr import parse_airr

        return parse_airr(p, sample=sample, columns=columns)
    _files.require_columns(p, header, TENX_REQUIRED, "a Cell Ranger contig table")
    wanted = [
        c for c in TENX_COLUMNS if c in header and (columns is None or TENX_COLUMNS[c] in columns)
    ]
    types = {c: _TYPES.get(c, pa.string()) for c in wanted}
    table = _files.read_table(
        p,
        delimiter=delimiter,
        columns=wanted,
        types=types,
        what="a Cell Ranger contig table",
        header=header,
    )
    _files.nonempty(p, table)
    table = table.rename_columns([TENX_COLUMNS[c] for c in table.column_names])
    name = sample if sample is not None else _files.sample_name(p)
    return _files.finish_arrow(table, name, source=str(p))
