"""Reader of generic clone tables: immunarch tables and other comma- or tab-separated clone
exports whose columns are recognised by name.

A bulk contig table: one row per clonotype, ``cell_id`` NA, the clone size in
``duplicate_count`` (``templates`` unless declared otherwise, as an AIRR ``duplicate_count``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._arrow import to_numpy
from tcrtrack._translate import translate
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._bulk import BulkUnit, _locus, clone_columns
from tcrtrack.io._registry import CLONE_TABLE_REQUIRED, CLONE_TABLE_SYNONYMS, clone_table_roles

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["parse_clone_table", "read_clone_table"]

#: Gene placeholders written for a segment without a call.
_GENE_NULLS: Final = (".", "", "unknown", "unresolved", "none")
_WHAT: Final = "a clone table"


def read_clone_table(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pd.DataFrame:
    r"""Read a clone table whose columns are recognised by name into a bulk contig table.

    For immunarch tables (``Clones``, ``Proportion``, ``CDR3.nt``, ``CDR3.aa``, ``V.name``,
    ``D.name``, ``J.name``...) and other comma- or tab-separated clone exports (tcR, QIAGEN
    CLC, tcrdist3 names...): each column's role is found from a set of names compared without
    case (:data:`tcrtrack.io._registry.CLONE_TABLE_SYNONYMS`, listed in docs/io.md). A
    nucleotide CDR3 and a count column are required; the amino-acid CDR3, the V, D and J
    genes and the locus are optional; other columns (``Proportion``...) are ignored.

    The nucleotide column must hold the **junction**, from the conserved Cys codon to the
    Phe/Trp codon inclusive (what every format the names come from writes there, and the
    clonotype key of every other reader); it is used as is, upper-cased. A file whose
    amino-acid CDR3s mostly do not start with ``C`` holds the IMGT CDR3 without those codons
    and is refused. Without an amino-acid column, ``junction_aa`` is the junction's
    translation. A clonotype is productive when the amino-acid CDR3 has no stop (``*``) and
    no out-of-frame mark (``_``, ``?``, ``~``) and the junction is three times as long.
    Genes: as written, tied hits included, ``.``/``unresolved`` read as missing; the locus
    from the gene names, else the locus column, else ``TRB``.

    The clone size (``duplicate_count``) is the count column. Its **unit** is not in the
    file: as for an AIRR ``duplicate_count``, tcrtrack takes ``templates`` unless ``unit=``
    (``--unit FILE=UNIT`` on the command line, the ``unit`` column of a sample sheet)
    declares what the file counts.

    Parameters
    ----------
    path
        The table, comma- or tab-separated, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); the recognised
        columns are all read.
    unit
        The unit of the counts (default ``templates``).

    Returns
    -------
    The contig table, one row per clonotype, ``cell_id`` NA.

    Raises
    ------
    tcrtrack.errors.FormatError
        No junction or no count column, two columns of one role (the message names both), a
        count that is not a whole number of 0 or more (the message names the line), CDR3s
        without the conserved codons.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sample.tsv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("Clones\tProportion\tCDR3.nt\tCDR3.aa\tV.name\tD.name\tJ.name\n"
    ...                  "120\t0.9\tTGTGCCAGCAGTTTC\tCASSF\tTRBV9\t\tTRBJ2-7\n"
    ...                  "7\t0.1\tTGTGCCAGCAGTTC\tCAS_F\tTRBV2\tTRBD1\tTRBJ1-1\n")
    >>> contigs = tt.io.read(path)
    >>> contigs[["junction_aa", "productive", "duplicate_count", "v_call", "locus"]]
      junction_aa  productive  duplicate_count v_call locus
    0       CASSF        True              120  TRBV9   TRB
    1       CAS_F       False                7  TRBV2   TRB
    >>> contigs.attrs[tt.schema.ATTRS_UNIT]
    'templates'
    """
    return _files.frame_of(parse_clone_table(path, sample=sample, columns=columns, unit=unit))


def parse_clone_table(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pa.Table:
    """:func:`read_clone_table` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`),
    which the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    roles = _roles(p, header)
    wanted = list(roles.values())
    count = roles["count"]
    types = {c: pa.string() for c in wanted} | {count: pa.float64()}
    table = _files.read_table(
        p, delimiter=delimiter, columns=wanted, types=types, what=_WHAT, header=header
    )
    _files.nonempty(p, table)
    # white space around a junction or gene would make the row out of frame: removed first,
    # and counted (whitespace_stripped)
    table, stripped = _files.strip_whitespace(table, [c for c in wanted if c != count])
    name = sample if sample is not None else _files.sample_name(p)
    junction = pc.utf8_upper(table.column(roles["junction"]))
    if "junction_aa" in roles:
        aa = pc.utf8_upper(table.column(roles["junction_aa"]))
    else:
        aa = translate(junction).cast(pa.string())
    genes = {
        t: roles[r] for r, t in (("v", s.V_CALL), ("d", s.D_CALL), ("j", s.J_CALL)) if r in roles
    }
    out = clone_columns(
        p, table, count=count, junction=junction, aa=aa, genes=genes, gene_nulls=_GENE_NULLS
    )
    _check_junction(p, roles, aa, out[s.PRODUCTIVE])
    locus = table.column(roles["locus"]) if "locus" in roles else None
    out[s.LOCUS] = _locus(out, locus)
    return _files.finish_arrow(
        pa.table(out), name, source=str(p), unit=unit or s.UNIT_TEMPLATES, stripped=stripped
    )


def _roles(path: Path, header: Sequence[str]) -> dict[str, str]:
    """The column of each role present; a :class:`FormatError` for a missing required role or
    for two columns of one role."""
    found = clone_table_roles(header)
    for role, names in found.items():
        if len(names) > 1:
            msg = (
                f"{path}: columns {', '.join(map(repr, names))} are all read as the {role} of "
                f"{_WHAT} and tcrtrack cannot tell which to use; remove or rename all but one "
                "of them"
            )
            raise FormatError(msg)
    missing = [role for role in CLONE_TABLE_REQUIRED if role not in found]
    if missing:
        wanted = "; ".join(f"{role}: {', '.join(CLONE_TABLE_SYNONYMS[role])}" for role in missing)
        shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
        msg = (
            f"{path}: {_WHAT} needs a column of each of these roles, under one of these names "
            f"(any case): {wanted}; columns seen: {shown}; rename the column(s)"
        )
        raise FormatError(msg)
    return {role: names[0] for role, names in found.items()}


def _check_junction(
    path: Path,
    roles: dict[str, str],
    aa: pa.ChunkedArray | pa.Array,
    productive: pa.ChunkedArray | pa.Array,
) -> None:
    """Refuse CDR3s without the conserved Cys codon (the IMGT CDR3, not the junction): they
    would never match the junctions of another file."""
    kept = pc.filter(aa, productive)
    if len(kept) == 0:
        return
    starts = to_numpy(pc.starts_with(kept, "C"), fill=False)
    if starts.mean() < 0.5:
        msg = (
            f"{path}: column {roles['junction']!r}: {int((~starts).sum()):,} of {len(kept):,} "
            "productive CDR3s do not start with the conserved Cys (C): the column holds the "
            "CDR3 without its first and last codons; tcrtrack compares junctions (Cys to "
            "Phe/Trp inclusive): export the junction, or add the two codons"
        )
        raise FormatError(msg)
