"""Reader of VDJtools and MiTCR clonotype tables (``#count freq cdr3nt cdr3aa v d j``).

A bulk contig table: one row per clonotype, ``cell_id`` NA, the clone size in
``duplicate_count`` (reads unless declared otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._bulk import BulkUnit, _locus, clone_columns
from tcrtrack.io._registry import VDJTOOLS_SIGNATURE

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["parse_vdjtools", "read_vdjtools"]

#: The count column: VDJtools writes ``#count`` (its header is a comment line), MiTCR ``count``.
COUNT_COLUMNS: Final = ("#count", "count")
#: Gene placeholders VDJtools writes for a segment it could not assign.
_GENE_NULLS: Final = (".", "", "unknown")


def read_vdjtools(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pd.DataFrame:
    r"""Read a VDJtools or MiTCR clonotype table into a bulk contig table.

    The format of many published repertoire series: tab-separated, one row per clonotype,
    columns ``#count`` (VDJtools; ``count`` in MiTCR and older VDJtools files), ``freq``,
    ``cdr3nt``, ``cdr3aa``, ``v``, ``d``, ``j``, optionally ``VEnd``, ``DStart``, ``DEnd``,
    ``JStart`` and any further columns (ignored).

    ``cdr3nt`` is the CDR3 from the conserved Cys to the Phe/Trp codon inclusive: the AIRR
    junction, used as is (upper-cased). ``cdr3aa`` is ``junction_aa``. A clonotype is
    productive when ``cdr3aa`` has no stop (``*``) and no out-of-frame mark (``_``, ``?``,
    ``~``) and ``cdr3nt`` is three times as long. Genes: as written, tied hits included
    (``TRBV12-4,TRBV12-3``; clonotype keys compare them as a set, :mod:`tcrtrack._genes`),
    a MiXCR score or ``*00`` removed, ``.`` read as missing; the locus from the gene names
    (the file's commonest for rows without genes).

    The clone size (``duplicate_count``) is the count column. Its **unit is the file's**, which
    the table does not say: VDJtools tables converted from MiXCR, MiGEC or immunoSEQ count
    reads, UMIs or templates. tcrtrack assumes ``reads``; declare the unit with ``unit=``
    (``--unit`` on the command line, the ``unit`` column of a sample sheet) when the file
    counts otherwise. ``freq`` is not used (it is ``count`` divided by the total).

    Parameters
    ----------
    path
        The table, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); the seven
        columns are all read.
    unit
        The unit of the counts (default ``reads``).

    Returns
    -------
    The contig table, one row per clonotype, ``cell_id`` NA.

    Raises
    ------
    tcrtrack.errors.FormatError
        No count column, another required column missing, a count that is not a whole
        number of 0 or more (the message names the line).

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sample.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("#count\tfreq\tcdr3nt\tcdr3aa\tv\td\tj\n"
    ...                  "120\t0.9\tTGTGCCAGCAGTTTC\tCASSF\tTRBV9\t.\tTRBJ2-7\n"
    ...                  "7\t0.1\tTGTGCCAGCAGTTC\tCAS_F\tTRBV2,TRBV3-1\tTRBD1\tTRBJ1-1\n")
    >>> contigs = tt.io.read(path)
    >>> contigs[["junction_aa", "productive", "duplicate_count", "v_call", "d_call", "locus"]]
      junction_aa  productive  duplicate_count         v_call d_call locus
    0       CASSF        True              120          TRBV9    NaN   TRB
    1       CAS_F       False                7  TRBV2,TRBV3-1  TRBD1   TRB
    >>> contigs.attrs[tt.schema.ATTRS_UNIT]
    'reads'
    """
    return _files.frame_of(parse_vdjtools(path, sample=sample, columns=columns, unit=unit))


def parse_vdjtools(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pa.Table:
    """:func:`read_vdjtools` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`),
    which the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    count = next((c for c in COUNT_COLUMNS if c in header), None)
    if count is None:
        msg = (
            f"{p}: a VDJtools table needs a count column ('#count' or 'count'); columns seen: "
            f"{', '.join(header[:20])}; add the clone sizes as a 'count' column"
        )
        raise FormatError(msg)
    _files.require_columns(p, header, VDJTOOLS_SIGNATURE, "a VDJtools clonotype table")
    wanted = [count, "cdr3nt", "cdr3aa", "v", "d", "j"]
    types = {c: pa.string() for c in wanted} | {count: pa.float64()}
    table = _files.read_table(
        p,
        delimiter=delimiter,
        columns=wanted,
        types=types,
        what="a VDJtools clonotype table",
        header=header,
    )
    _files.nonempty(p, table)
    # white space around a junction or gene would make the row out of frame: removed first,
    # and counted (whitespace_stripped)
    table, stripped = _files.strip_whitespace(table, [c for c in wanted if c != count])
    name = sample if sample is not None else _files.sample_name(p)
    out = clone_columns(
        p,
        table,
        count=count,
        junction=pc.utf8_upper(table.column("cdr3nt")),
        aa=pc.utf8_upper(table.column("cdr3aa")),
        genes={s.V_CALL: "v", s.D_CALL: "d", s.J_CALL: "j"},
        gene_nulls=_GENE_NULLS,
    )
    out[s.LOCUS] = _locus(out, None)
    return _files.finish_arrow(
        pa.table(out), name, source=str(p), unit=unit or s.UNIT_READS, stripped=stripped
    )
