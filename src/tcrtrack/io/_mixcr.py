"""Reader of MiXCR clone exports (v2, v3, v4).

A bulk contig table: one row per clone, ``cell_id`` NA, the clone size in ``duplicate_count``
(``reads``, or ``umis`` when the export has UMI counts).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._translate import in_frame_of
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._bulk import BulkUnit, _locus, _to_int
from tcrtrack.io._genes import convert_genes
from tcrtrack.io._registry import MIXCR_SIGNATURE

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_mixcr"]


def _canonical(column: str) -> str:
    """``N. Seq. CDR3`` and ``nSeqCDR3`` both become ``nseqcdr3``."""
    return "".join(ch for ch in column.lower() if ch.isalnum())


_MIXCR_SHORT: Final = {
    _canonical(c): c
    for c in (
        "cloneId",
        "cloneCount",
        "readCount",
        "uniqueMoleculeCount",
        "nSeqCDR3",
        "aaSeqCDR3",
        *(
            f"{kind}{seg}{suffix}"
            for seg in "VDJC"
            for kind, suffix in (
                ("all", "HitsWithScore"),
                ("all", "Hits"),
                ("best", "Hit"),
                ("best", "Gene"),
            )
        ),
    )
}


def read_mixcr(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pd.DataFrame:
    r"""Read a MiXCR clone export (``exportClones``, MiXCR v2, v3 or v4) into a bulk contig table.

    ``nSeqCDR3`` is MiXCR's CDR3, from the conserved Cys to the Phe/Trp codon inclusive: the
    AIRR junction, used as is. ``aaSeqCDR3`` is ``junction_aa``. A clone is productive when
    its ``aaSeqCDR3`` has no stop (``*``) and no frame shift (``_``). Genes come from
    ``allVHitsWithScore``, ``allVHits``, ``bestVHit`` or ``bestVGene``: every hit MiXCR lists
    (those within its score threshold of the best), in MiXCR's order, without scores and
    without MiXCR's ``*00`` allele (``TRBV12-4*00(1234),TRBV12-3*00(1220)`` →
    ``TRBV12-4,TRBV12-3``). Clonotype keys compare such tied calls as sets, so the order in
    which a run lists the hits does not matter (:mod:`tcrtrack._genes`). The locus comes from
    the gene names.

    The clone size is ``uniqueMoleculeCount`` when it has values (unit ``umis``, MiXCR v4
    with UMIs), else ``readCount`` (v4) or ``cloneCount`` (v2, v3) in ``reads``.

    Parameters
    ----------
    path
        The TSV export, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); the columns
        tcrtrack uses are all read.
    unit
        Declare the unit of the counts instead of detecting it.

    Raises
    ------
    tcrtrack.errors.FormatError
        A required column is missing or a value cannot be parsed.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "clones.txt")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("cloneId\tcloneCount\tnSeqCDR3\taaSeqCDR3\tallVHitsWithScore\n"
    ...                  "0\t120\tTGTGCCAGCAGTTTC\tCASSF\tTRBV6-3*00(1200),TRBV6-2*00(1200)\n"
    ...                  "1\t7\tTGTGCCAGCAGTTC\tCAS_F\tTRBV2*00(900)\n")
    >>> contigs = tt.io.read(path)
    >>> contigs[["junction_aa", "productive", "duplicate_count", "v_call", "locus"]]
      junction_aa  productive  duplicate_count           v_call locus
    0       CASSF        True              120  TRBV6-3,TRBV6-2   TRB
    1       CAS_F       False                7            TRBV2   TRB
    """
    return _files.frame_of(parse_mixcr(path, sample=sample, columns=columns, unit=unit))


def parse_mixcr(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pa.Table:
    """:func:`read_mixcr` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`), which
    the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, raw_header = _files.sniff(p)
    # MiXCR writes "N. Seq. CDR3" by default before v3 and "nSeqCDR3" with -s / from v3 on
    actual: dict[str, str] = {}
    for column in raw_header:
        short = _MIXCR_SHORT.get(_canonical(column), column)
        actual.setdefault(short, column)
    header = list(actual)
    count_cols = [c for c in ("uniqueMoleculeCount", "readCount", "cloneCount") if c in header]
    _files.require_columns(p, header, MIXCR_SIGNATURE, "a MiXCR clone export")
    if not count_cols:
        msg = (
            f"{p}: a MiXCR clone export needs a count column (cloneCount, readCount or "
            f"uniqueMoleculeCount); columns seen: {', '.join(header[:20])}"
        )
        raise FormatError(msg)
    genes = {
        seg: next(
            (
                c
                for c in (
                    f"all{seg}HitsWithScore",
                    f"all{seg}Hits",
                    f"best{seg}Hit",
                    f"best{seg}Gene",
                )
                if c in header
            ),
            None,
        )
        for seg in ("V", "D", "J", "C")
    }
    wanted = [*MIXCR_SIGNATURE, *count_cols, *(c for c in genes.values() if c)]
    if "cloneId" in header:
        wanted.append("cloneId")
    types = {actual[c]: pa.string() for c in wanted} | {actual[c]: pa.float64() for c in count_cols}
    table = _files.read_table(
        p,
        delimiter=delimiter,
        columns=[actual[c] for c in wanted],
        types=types,
        what="a MiXCR clone export",
    )
    table = table.rename_columns(wanted)
    _files.nonempty(p, table)
    # white space around a junction or gene (a spreadsheet round trip) would make the row
    # out of frame: removed before the rules, and counted (whitespace_stripped)
    table, stripped = _files.strip_whitespace(table, [c for c in wanted if c not in count_cols])
    name = sample if sample is not None else _files.sample_name(p)
    n = table.num_rows
    col = table.column
    if "uniqueMoleculeCount" in count_cols and col("uniqueMoleculeCount").null_count < n:
        source, detected = "uniqueMoleculeCount", s.UNIT_UMIS
    else:
        source = next(c for c in ("readCount", "cloneCount") if c in count_cols)
        detected = s.UNIT_READS
    junction = pc.utf8_upper(col("nSeqCDR3"))
    aa = pc.utf8_upper(col("aaSeqCDR3"))
    in_frame = in_frame_of(junction, aa)
    productive = pc.and_(pc.invert(pc.match_substring_regex(aa, r"[*_]")), in_frame)
    out: dict[str, pa.Array | pa.ChunkedArray] = {
        s.CELL_ID: pa.nulls(n, pa.string()),
        s.JUNCTION: junction,
        s.JUNCTION_AA: aa,
        s.PRODUCTIVE: productive,
        s.DUPLICATE_COUNT: _to_int(p, source, col(source)),
    }
    if "cloneId" in table.column_names:
        out[s.SEQUENCE_ID] = col("cloneId")
    for seg, target in (("V", s.V_CALL), ("D", s.D_CALL), ("J", s.J_CALL), ("C", s.C_CALL)):
        gene_column = genes[seg]
        if gene_column is None:
            if target != s.C_CALL:
                out[target] = pa.nulls(n, pa.string())
            continue
        out[target], _ = convert_genes(col(gene_column), "mixcr")
    out[s.LOCUS] = _locus(out, None)
    return _files.finish_arrow(
        pa.table(out), name, source=str(p), unit=unit or detected, stripped=stripped
    )
