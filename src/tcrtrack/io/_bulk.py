"""Reader of Adaptive immunoSEQ (v2, v3) exports, and helpers shared by the bulk readers.

A bulk contig table has one row per sequence, ``cell_id`` NA and the clone size in
``duplicate_count``, counted in the unit recorded in ``df.attrs[schema.ATTRS_UNIT]``
(``templates``, ``reads`` or ``umis``). Cells are never invented.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import fill_null, from_numpy, scalar, string_array, to_numpy
from tcrtrack._translate import buffers, in_frame_of, translate_codons
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._files import BulkUnit
from tcrtrack.io._genes import convert_genes
from tcrtrack.io._registry import IMMUNOSEQ_V2_SIGNATURE, IMMUNOSEQ_V3_SIGNATURE

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_immunoseq"]


_GENE_NULLS: Final = ("no data", "unknown", "")

# immunoSEQ field names per export version: role -> candidates, first present wins.
_IMMUNOSEQ_FIELDS: Final = {
    "v2": {
        "read": ("nucleotide",),
        "aa": ("aminoAcid",),
        "v_index": ("vIndex",),
        "cdr3_length": ("cdr3Length",),
        "status": ("sequenceStatus",),
        "v": ("vMaxResolved", "vGeneName", "vFamilyName"),
        "v_ties": ("vGeneNameTies",),
        "d": ("dMaxResolved", "dGeneName", "dFamilyName"),
        "d_ties": ("dGeneNameTies",),
        "j": ("jMaxResolved", "jGeneName", "jFamilyName"),
        "j_ties": ("jGeneNameTies",),
        "genomes": ("estimatedNumberGenomes",),
        "locus": (),
    },
    "v3": {
        "read": ("rearrangement",),
        "aa": ("amino_acid",),
        "v_index": ("v_index",),
        "cdr3_length": ("cdr3_length",),
        "status": ("frame_type",),
        "v": ("v_resolved", "v_gene", "v_family"),
        "v_ties": ("v_gene_ties",),
        "d": ("d_resolved", "d_gene", "d_family"),
        "d_ties": ("d_gene_ties",),
        "j": ("j_resolved", "j_gene", "j_family"),
        "j_ties": ("j_gene_ties",),
        "genomes": (),
        "locus": ("locus",),
    },
}


def read_immunoseq(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pd.DataFrame:
    r"""Read an Adaptive immunoSEQ export (Analyzer v2 or v3 layout) into a bulk contig table.

    The ``nucleotide`` (v2) or ``rearrangement`` (v3) column is a read of fixed length (87 nt
    for TCRβ) that contains the CDR3 junction, not the junction itself. The junction is cut
    out of it so that the same clone matches a 10x ``cdr3_nt`` or an AIRR ``junction``:

    * it starts at the V index (``vIndex`` / ``v_index``, 0-based: the first base of the
      conserved Cys codon);
    * for in-frame and stop rows its length is ``3 × len(aminoAcid)``, and the cut is kept
      only if it translates to ``aminoAcid`` (checked row by row, vectorised). The reported
      ``cdr3Length`` is not trusted: some exports count 3 nucleotides more than the junction;
    * for out-of-frame rows (``aminoAcid`` empty) its length is ``cdr3Length − offset``,
      where ``offset`` is the file's most common ``cdr3Length − 3 × len(aminoAcid)`` over the
      rows that passed the translation check (0 or 3 in practice).

    A row whose junction runs past the end of the read or does not translate to its
    ``aminoAcid`` gets an NA junction (it can still be used with ``sequence="aa"``). Both
    outcomes are counted in the QC ledger as ``changed`` entries: ``junction_cut_from_read``
    and ``junction_not_in_read``.

    ``productive`` is ``sequenceStatus == "In"`` (v2) or ``frame_type == "In"`` (v3): out-of-
    frame and stop-codon rows are kept as non-productive, so :func:`tcrtrack.pp.filter_contigs`
    counts them. Gene names are converted to IMGT (``TCRBV05-04*01`` → ``TRBV5-4*01``,
    :func:`tcrtrack.io._genes.adaptive_to_imgt`), names with no IMGT form kept; the locus is
    taken from the gene names (``TRB`` for ``TCRB...``), rows without any gene getting the
    file's most common locus.

    The clone size (``duplicate_count``) is ``count (templates/reads)`` (v2) or ``templates``,
    else ``reads`` (v3). Its unit is ``templates`` when the export says so (v3 ``templates``
    with values, v2 ``estimatedNumberGenomes`` with values) and ``reads`` otherwise. An export
    without any count column counts each row once (ledger entry ``count_missing``).

    Parameters
    ----------
    path
        The TSV export, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); the few
        columns an export has are all read.
    unit
        Declare the unit of the counts instead of detecting it.

    Returns
    -------
    The contig table, one row per sequence, ``cell_id`` NA.

    Raises
    ------
    tcrtrack.errors.FormatError
        A required column is missing or a value cannot be parsed.

    Examples
    --------
    A v3 export with one in-frame and one out-of-frame row (the read is shortened here):

    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sample1.tsv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write(
    ...         "rearrangement\tamino_acid\tframe_type\ttemplates\tcdr3_length\tv_index\t"
    ...         "v_resolved\tj_resolved\n"
    ...         "ACATCTATGTACCTCTGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTCGGGCCA\tCASSPVSNEQFF\tIn"
    ...         "\t822\t36\t15\tTCRBV28-01*01\tTCRBJ02-01*01\n"
    ...         "ACATCTATGTACCTCTGTGCCAGCAGCCCGTGAGCAATGAGCAGTTCTTCGGGCCA\tna\tOut"
    ...         "\t5\t35\t15\tTCRBV28-01*01\tunresolved\n")
    >>> contigs = tt.io.read(path)
    >>> contigs[["junction", "productive", "duplicate_count", "v_call"]]
                                   junction  productive  duplicate_count     v_call
    0  TGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC        True              822  TRBV28*01
    1   TGTGCCAGCAGCCCGTGAGCAATGAGCAGTTCTTC       False                5  TRBV28*01
    >>> contigs.attrs[tt.schema.ATTRS_UNIT]
    'templates'
    """
    return _files.frame_of(parse_immunoseq(path, sample=sample, columns=columns, unit=unit))


def parse_immunoseq(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    unit: BulkUnit | None = None,
) -> pa.Table:
    """:func:`read_immunoseq` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`),
    which the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    delimiter, header = _files.sniff(p)
    version = _immunoseq_version(p, header)
    fields = {
        role: next((c for c in cands if c in header), None)
        for role, cands in _IMMUNOSEQ_FIELDS[version].items()
    }
    counts = _count_columns(header, version)
    table = _parse_immunoseq(p, delimiter, fields, counts)
    # white space around the read, the amino acids or a gene call is removed first (a leading
    # space would shift the junction's cut), and counted (whitespace_stripped)
    table, stripped = _files.strip_whitespace(
        table, [c for r, c in fields.items() if c is not None and r in _STRIPPED_ROLES]
    )
    name = sample if sample is not None else _files.sample_name(p)
    n = table.num_rows

    def changed(reason: str, rows: int) -> _qc.QCEntry:
        return _qc.QCEntry(name, "read", "changed", reason, rows, "rows", str(p))

    changes: list[_qc.QCEntry] = []
    count, detected = _clone_size(table, version, fields, counts)
    if not counts:
        changes.append(changed(_qc.COUNT_MISSING, n))
    # out-of-frame rows have an empty amino-acid sequence (v2) or "na" (v3)
    aa = pc.utf8_upper(_null_placeholders(table.column(fields["aa"]), (*_GENE_NULLS, "na")))
    junction, n_cut, n_failed = _junction_of(table, fields, aa)
    changes.append(changed(_qc.JUNCTION_CUT_FROM_READ, n_cut))
    changes.append(changed(_qc.JUNCTION_NOT_IN_READ, n_failed))
    out: dict[str, pa.Array | pa.ChunkedArray] = {
        s.CELL_ID: pa.nulls(n, pa.string()),
        s.JUNCTION: junction,
        s.JUNCTION_AA: aa,
        s.PRODUCTIVE: _productive(table, fields, aa),
        s.DUPLICATE_COUNT: _to_int(p, counts[0] if counts else "count", count),
    }
    genes, n_from_ties, n_renamed = _immunoseq_genes(table, fields)
    out |= genes
    changes.append(changed(_qc.GENE_FROM_TIES, n_from_ties))
    changes.append(changed(_qc.GENE_RENAMED, n_renamed))
    locus_column = table.column(fields["locus"]) if fields["locus"] else None
    out[s.LOCUS] = _locus(out, locus_column)
    counted = unit or detected
    return _files.finish_arrow(
        pa.table(out), name, source=str(p), unit=counted, stripped=stripped, changes=changes
    )


#: The roles whose values lose surrounding white space (sequences, status, genes, locus).
_STRIPPED_ROLES: Final = frozenset(
    {"read", "aa", "status", "v", "v_ties", "d", "d_ties", "j", "j_ties", "locus"}
)

#: The immunoSEQ column of each role (``read``, ``aa``, ``v``...), None where absent.
Fields = dict[str, str | None]


def _immunoseq_version(path: Path, header: Sequence[str]) -> Literal["v2", "v3"]:
    """``v2`` or ``v3`` from the identifying columns; else a :class:`FormatError`."""
    if set(IMMUNOSEQ_V2_SIGNATURE) <= set(header):
        return "v2"
    if set(IMMUNOSEQ_V3_SIGNATURE) <= set(header):
        return "v3"
    msg = (
        f"{path}: not an immunoSEQ export: expected the columns "
        f"{', '.join(IMMUNOSEQ_V2_SIGNATURE)} (v2) or {', '.join(IMMUNOSEQ_V3_SIGNATURE)} "
        f"(v3); columns seen: {', '.join(header[:20])}"
    )
    raise FormatError(msg)


def _count_columns(header: Sequence[str], version: str) -> list[str]:
    """The count columns present: v2's first ``count ...`` column; v3's ``templates``, ``reads``."""
    if version == "v2":
        return [c for c in header if c.startswith("count")][:1]
    return [c for c in ("templates", "reads") if c in header]


def _parse_immunoseq(path: Path, delimiter: str, fields: Fields, counts: list[str]) -> pa.Table:
    """The columns of ``fields`` and ``counts`` (counts and genomes as numbers), parsed."""
    wanted = [c for c in fields.values() if c is not None] + counts
    types: dict[str, pa.DataType] = {c: pa.string() for c in wanted}
    for c in counts:
        types[c] = pa.float64()
    if fields["genomes"]:
        types[fields["genomes"]] = pa.float64()
    table = _files.read_table(
        path, delimiter=delimiter, columns=wanted, types=types, what="an immunoSEQ export"
    )
    _files.nonempty(path, table)
    return table


def _clone_size(
    table: pa.Table, version: str, fields: Fields, counts: list[str]
) -> tuple[pa.Array | pa.ChunkedArray, str]:
    """The clone-size column and its unit (see :func:`read_immunoseq`); each row once
    (``templates``) without a count column."""
    n = table.num_rows
    col = table.column
    if version == "v3" and "templates" in counts and col("templates").null_count < n:
        return col("templates"), s.UNIT_TEMPLATES
    if version == "v3" and "reads" in counts:
        return col("reads"), s.UNIT_READS
    if version == "v3" and counts:
        return col(counts[0]), s.UNIT_TEMPLATES
    if version == "v2" and counts:
        genomes = fields["genomes"]
        has_genomes = genomes is not None and col(genomes).null_count < n
        detected = s.UNIT_TEMPLATES if has_genomes or "templates)" in counts[0] else s.UNIT_READS
        if counts[0] == "count (reads)":
            detected = s.UNIT_READS
        return col(counts[0]), detected
    return from_numpy(np.ones(n)), s.UNIT_TEMPLATES


def _junction_of(
    table: pa.Table, fields: Fields, aa: pa.ChunkedArray | pa.Array
) -> tuple[pa.Array, int, int]:
    """The junctions cut out of the reads (:func:`cut_junction`): junctions, cut, failed."""
    read = pc.utf8_upper(table.column(fields["read"]))
    v_index = _int_or_null(table.column(fields["v_index"]))
    cdr3_length = (
        _int_or_null(table.column(fields["cdr3_length"]))
        if fields["cdr3_length"]
        else np.full(table.num_rows, -1, np.int64)
    )
    return cut_junction(read, aa, v_index, cdr3_length)


def _productive(
    table: pa.Table, fields: Fields, aa: pa.ChunkedArray | pa.Array
) -> pa.Array | pa.ChunkedArray:
    """In frame (``sequenceStatus``/``frame_type`` ``In``), else: no stop in ``aa``."""
    if fields["status"]:
        return pc.equal(pc.utf8_lower(table.column(fields["status"])), scalar("in", pa.string()))
    return pc.invert(fill_null(pc.match_substring(aa, "*"), True))


#: An Adaptive call that names no gene: ``unresolved`` or a family alone (``TCRBV20``).
_NO_GENE: Final = r"^(?:unresolved|TCR[ABGD][VDJC]\d+)$"


def _immunoseq_genes(
    table: pa.Table, fields: Fields
) -> tuple[dict[str, pa.Array | pa.ChunkedArray], int, int]:
    """V, D and J calls in IMGT names; the rows whose call came from the gene ties and the
    rows with a name converted.

    A call that names no gene (``unresolved``, missing, or a family alone) is replaced by the
    export's gene ties when it lists them (``vGeneNameTies``/``v_gene_ties``:
    ``TCRBV03-01,TCRBV03-02``): the tied set is what the clone is known to be, and it is how
    other exports of the same series may call it.
    """
    n = table.num_rows
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    renamed = np.zeros(n, dtype=bool)
    from_ties = np.zeros(n, dtype=bool)
    for role, target in (("v", s.V_CALL), ("d", s.D_CALL), ("j", s.J_CALL)):
        source = fields[role]
        if source is None:
            out[target] = pa.nulls(n, pa.string())
            continue
        genes = _null_placeholders(table.column(source))
        ties_column = fields[f"{role}_ties"]
        if ties_column is not None:
            ties = _null_placeholders(table.column(ties_column))
            no_gene = fill_null(pc.match_substring_regex(genes, _NO_GENE), True)
            use = _numpy_bool(pc.and_(no_gene, pc.is_valid(ties)))
            if use.any():
                genes = pc.if_else(from_numpy(use), ties, genes)
                from_ties |= use
        out[target], changed = convert_genes(genes, "adaptive")
        renamed |= changed
    return out, int(from_ties.sum()), int(renamed.sum())


def _numpy_bool(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as numpy, NA as False."""
    return to_numpy(array, fill=False)


def cut_junction(
    read: pa.ChunkedArray | pa.Array,
    aa: pa.ChunkedArray | pa.Array,
    v_index: np.ndarray,
    cdr3_length: np.ndarray,
) -> tuple[pa.Array, int, int]:
    """Cut each junction out of its read; return (junctions, rows cut, rows that failed).

    Rows with an amino-acid sequence are cut at ``[v_index, v_index + 3 × len(aa))`` and
    kept when the cut translates to ``aa``; the others at ``[v_index, v_index + cdr3_length
    − offset)``, ``offset`` being the most common ``cdr3_length − 3 × len(aa)`` among the
    verified rows. Rows whose cut is not inside the read, or does not translate, get NA.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> read = pa.array(["GGTGTGCCAGCAGTTTCTTTGG", "GGTGTGCCAGCAGTTTCTTTGG", "GGTGTGCCTTCG"])
    >>> aa = pa.array(["CASSF", None, "CAS"])
    >>> j, cut, failed = cut_junction(read, aa, np.array([2, 2, 2]), np.array([18, 18, 9]))
    >>> j.to_pylist(), cut, failed
    (['TGTGCCAGCAGTTTC', 'TGTGCCAGCAGTTTC', None], 2, 1)
    """
    n = len(read)
    offsets, data, valid = buffers(read)
    read_len = np.diff(offsets)
    aa_len = to_numpy(pc.utf8_length(aa), fill=0).astype(np.int64)
    has_aa = aa_len > 0
    start = np.asarray(v_index, dtype=np.int64)
    length = np.where(has_aa, 3 * aa_len, 0)
    inside = valid & (start >= 0) & (start + length <= read_len) & has_aa
    verified = _translates_in_place(offsets, data, start, inside, aa, aa_len)
    lengths = np.asarray(cdr3_length, dtype=np.int64)
    diff = (lengths - 3 * aa_len)[verified & (lengths >= 0)]
    offset = int(np.bincount(diff - diff.min()).argmax() + diff.min()) if len(diff) else 0
    other_len = lengths - offset
    other_ok = (
        valid
        & ~has_aa
        & (start >= 0)
        & (lengths >= 0)
        & (other_len > 0)
        & (start + other_len <= read_len)
    )
    use_len = np.where(verified, length, np.where(other_ok, other_len, 0))
    keep = verified | other_ok
    junction = _slice(read, np.where(keep, start, 0), use_len, keep)
    return junction, int(keep.sum()), int(n - keep.sum())


def _translates_in_place(
    offsets: np.ndarray,
    data: np.ndarray,
    start: np.ndarray,
    rows_mask: np.ndarray,
    aa: pa.ChunkedArray | pa.Array,
    aa_len: np.ndarray,
) -> np.ndarray:
    """True where the ``3 × len(aa)`` bases of the read from ``start`` translate to ``aa``.

    Codons are translated where they lie in the read's byte buffer: nothing is copied.
    """
    aa_off, aa_data, _ = buffers(aa)
    rows = np.flatnonzero(rows_mask)
    n_codons = aa_len[rows]
    translated = translate_codons(offsets[rows] + start[rows], n_codons, data)
    total = int(n_codons.sum())
    shift = np.repeat(aa_off[rows] - (np.cumsum(n_codons) - n_codons), n_codons)
    expected = aa_data[np.arange(total, dtype=np.int64) + shift]
    mismatches = np.bincount(
        np.repeat(np.arange(len(rows)), n_codons),
        weights=translated != expected,
        minlength=len(rows),
    )
    out = np.zeros(len(rows_mask), dtype=bool)
    out[rows] = mismatches == 0
    return out


def _slice(
    strings: pa.ChunkedArray | pa.Array, start: np.ndarray, length: np.ndarray, keep: np.ndarray
) -> pa.Array:
    """Substrings ``[start, start + length)`` of each string (ASCII), NA where not ``keep``."""
    offsets, data, _ = buffers(strings)
    length = np.where(keep, length, 0).astype(np.int64)
    out_offsets = np.concatenate([[0], np.cumsum(length)]).astype(np.int64)
    total = int(out_offsets[-1])
    pos = np.arange(total, dtype=np.int64) + np.repeat(
        offsets[:-1] + start - out_offsets[:-1], length
    )
    chars = data[pos] if total else np.zeros(0, np.uint8)
    validity = from_numpy(keep).buffers()[1] if not keep.all() else None
    out = pa.LargeStringArray.from_buffers(
        len(keep), pa.py_buffer(out_offsets), pa.py_buffer(chars.tobytes()), validity
    )
    return out.cast(pa.string())


#: Characters of an amino-acid CDR3 that mark a non-coding clonotype: stop (``*``) and the
#: out-of-frame marks of VDJtools/immunarch (``_``, ``?``) and MiTCR (``~``).
_NON_CODING: Final = r"[*_?~]"


def clone_columns(
    path: Path,
    table: pa.Table,
    *,
    count: str,
    junction: pa.ChunkedArray | pa.Array,
    aa: pa.ChunkedArray | pa.Array,
    genes: Mapping[str, str],
    gene_nulls: Sequence[str],
) -> dict[str, pa.Array | pa.ChunkedArray]:
    """The contig-table columns of a clone table that gives the junction and its amino acids
    (VDJtools, MiTCR, generic clone tables): ``productive`` when the amino acids have no stop
    or out-of-frame mark (``*``, ``_``, ``?``, ``~``) and the junction is three times as long;
    ``duplicate_count`` from ``count`` (whole numbers of 0 or more); the gene calls of
    ``genes`` (contig-table column -> the file's column) as written, tied hits kept, MiXCR
    scores removed, ``gene_nulls`` read as NA; the locus from the genes."""
    in_frame = in_frame_of(junction, aa)
    coding = pc.invert(pc.match_substring_regex(aa, _NON_CODING))
    out: dict[str, pa.Array | pa.ChunkedArray] = {
        s.CELL_ID: pa.nulls(table.num_rows, pa.string()),
        s.JUNCTION: junction,
        s.JUNCTION_AA: aa,
        s.PRODUCTIVE: fill_null(pc.and_(coding, in_frame), False),
        s.DUPLICATE_COUNT: _to_int(path, count, table.column(count)),
    }
    for target, source in genes.items():
        calls = _null_placeholders(table.column(source), gene_nulls)
        out[target], _ = convert_genes(calls, "mixcr")
    return out


def _int_or_null(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integers of a string column; -1 where missing or not a number."""
    text = pc.utf8_trim_whitespace(column)
    numeric = fill_null(pc.match_substring_regex(text, r"^-?\d+$"), False)
    text = pc.if_else(numeric, text, scalar("-1", text.type))
    return to_numpy(pc.cast(fill_null(text, "-1"), pa.int64()))


def _to_int(path: Path, name: str, column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Counts as integers; a fractional or negative count is a format error naming the line."""
    return _files.whole_counts(path, name, column)


def _null_placeholders(
    column: pa.ChunkedArray | pa.Array, placeholders: Sequence[str] = _GENE_NULLS
) -> pa.ChunkedArray | pa.Array:
    """Missing values written as words (``no data``, ``unknown``) become NA."""
    trimmed = pc.utf8_trim_whitespace(column)
    is_null = pc.is_in(pc.utf8_lower(trimmed), value_set=string_array(list(placeholders)))
    return pc.if_else(fill_null(is_null, True), scalar(None, pa.string()), trimmed)


def _locus(
    columns: dict[str, pa.Array | pa.ChunkedArray], locus_column: pa.ChunkedArray | None
) -> pa.Array:
    """Locus from the first three letters of the V, J, D or C gene; else the file's commonest."""
    n = len(columns[s.JUNCTION])
    out = pa.nulls(n, pa.string())
    for target in (s.C_CALL, s.D_CALL, s.J_CALL, s.V_CALL):
        if target in columns:
            prefix = pc.utf8_slice_codeunits(pc.utf8_upper(columns[target]), 0, 3)
            ok = fill_null(pc.is_in(prefix, value_set=string_array(list(s.LOCI))), False)
            out = pc.if_else(ok, prefix, out)
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks()
    if out.null_count == 0:
        return out
    counts = pc.value_counts(out.drop_null())
    if len(counts):
        values = counts.field("values").to_pylist()
        fill = values[int(np.argmax(to_numpy(counts.field("counts"))))]
    elif locus_column is not None and locus_column.null_count < len(locus_column):
        from tcrtrack.io._airr import LOCUS_ALIASES

        first = str(locus_column.drop_null()[0].as_py()).upper()
        fill = LOCUS_ALIASES.get(first, first)
    else:
        fill = "TRB"
    return fill_null(out, fill)
