"""Reader and writer of AIRR Rearrangement TSV files."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import (
    fill_null,
    from_numpy,
    may_have_lower_case,
    scalar,
    string_array,
    to_numpy,
)
from tcrtrack._atomic import write_atomic
from tcrtrack.errors import FormatError, ParameterError
from tcrtrack.io import _files
from tcrtrack.io._files import BulkUnit

if TYPE_CHECKING:
    import pandas as pd

#: Fields the AIRR Rearrangement standard (v1.4) requires in every file.
AIRR_REQUIRED: Final = (
    "sequence_id",
    "sequence",
    "rev_comp",
    "productive",
    "v_call",
    "d_call",
    "j_call",
    "sequence_alignment",
    "germline_alignment",
    "junction",
    "junction_aa",
    "v_cigar",
    "d_cigar",
    "j_cigar",
)
#: AIRR fields tcrtrack reads (others are ignored unless ``extra_columns`` names them).
AIRR_READ: Final = (
    "sequence_id",
    "cell_id",
    "locus",
    "junction",
    "junction_aa",
    "v_call",
    "d_call",
    "j_call",
    "c_call",
    "productive",
    "umi_count",
    "consensus_count",
    "duplicate_count",
    "is_cell",
    "high_confidence",
    "clone_id",
    "full_length",
)
#: Gene calls from which a missing locus is inferred.
_GENE_CALLS: Final = ("v_call", "j_call", "c_call")
#: Clone-size fields of a bulk file without ``duplicate_count``, first present wins, and
#: the unit each counts.
_OTHER_COUNTS: Final = (("umi_count", s.UNIT_UMIS), ("consensus_count", s.UNIT_READS))
#: Region fields from which a missing junction can be rebuilt.
_REGIONS: Final = ("fwr3", "cdr3", "fwr4")
#: A non-standard clone-size column written by immundata.
_COUNTS: Final = "counts"
_TYPES: Final = {
    "productive": pa.bool_(),
    "is_cell": pa.bool_(),
    "high_confidence": pa.bool_(),
    "full_length": pa.bool_(),
    "umi_count": pa.int64(),
    "counts": pa.int64(),
    "consensus_count": pa.int64(),
    "duplicate_count": pa.int64(),
}
#: Non-standard locus spellings seen in real files, mapped to the AIRR vocabulary.
LOCUS_ALIASES: Final = {
    "TCRA": "TRA",
    "TCRB": "TRB",
    "TCRG": "TRG",
    "TCRD": "TRD",
    "TRA": "TRA",
    "TRB": "TRB",
    "TRG": "TRG",
    "TRD": "TRD",
    "IGH": "IGH",
    "IGK": "IGK",
    "IGL": "IGL",
}


def read_airr(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    strict: bool = False,
    unit: BulkUnit | None = None,
) -> pd.DataFrame:
    """Read an AIRR Rearrangement TSV file (including Cell Ranger's ``airr_rearrangement.tsv``).

    Only the fields the analysis needs are required (``strict=False``, the default): a
    junction (``junction`` or ``junction_aa``, or ``fwr3`` + ``cdr3`` + ``fwr4`` to rebuild it;
    AIRR's ``cdr3`` alone lacks the conserved codons, so it is not a junction), a locus
    (``locus``, or ``v_call``/``j_call``/``c_call`` to infer it), and for bulk files a count
    (``duplicate_count``, else ``umi_count``, else ``consensus_count``; a file with
    ``cell_id`` values has one row per contig of a cell and needs no count). So a clone table
    with only ``junction``, ``v_call``, ``j_call`` and ``duplicate_count`` is read. With
    ``strict=True`` every field the AIRR standard requires must be present (``sequence``,
    ``rev_comp``, alignments, CIGAR strings, even if empty). Booleans may be written
    ``T``/``F``, ``TRUE``/``FALSE`` or ``True``/``False``; NA is empty, ``NA`` or ``None``.
    Deviations seen in real files are repaired and counted in the QC ledger as ``changed``
    entries, never silently accepted:

    - ``locus_renamed``: loci spelled ``TCRB`` (any case) become ``TRB``, and so on;
    - ``locus_inferred_from_genes``: without a ``locus`` column (Cell Ranger's
      ``airr_rearrangement.tsv``), the locus is the first three letters of the C, else J, else
      V gene (``TRBC1`` -> ``TRB``), or ``Multi`` when the genes name different loci;
    - ``sequence_uppercased``: junctions written in lower case are upper-cased;
    - ``junction_derived_from_regions``: where ``junction`` is NA but ``fwr3``, ``cdr3`` and
      ``fwr4`` are given, ``junction = fwr3[-3:] + cdr3 + fwr4[:3]`` (the AIRR definition:
      the CDR3 plus the conserved codons on either side), kept only if it is ACGT, a
      multiple of 3 long, translates to Cys first and Phe or Trp last, and the translation
      agrees with ``cdr3_aa`` (inner residues) and ``junction_aa`` where those are given;
      ``junction_aa`` is filled with the translation. Other rows stay NA and are dropped by
      :func:`tcrtrack.pp.filter_contigs` as ``missing_junction``;
    - ``productive_inferred``: without a ``productive`` field, a row is productive when its
      ``junction_aa`` (else the junction's translation) has no stop (``*``) or frame-shift
      (``_``) and the junction is three times as long;
    - ``count_from_nonstandard_column``: a ``counts`` column (written by immundata) is used as
      ``duplicate_count`` when the file has no ``duplicate_count`` values;
    - ``count_from_other_field``: a bulk file without ``duplicate_count`` takes its clone
      size from ``umi_count`` (unit ``umis``) or else ``consensus_count`` (unit ``reads``);
    - ``count_missing``: a bulk file with no count field counts each row once.

    For single-cell files (a ``cell_id`` column with values), ``duplicate_count`` holds UMIs
    (Cell Ranger's convention) and becomes ``umi_count`` when that column is absent; the unit
    is ``cells``. For bulk files ``duplicate_count`` is the clone size; AIRR TSV files do not
    say what it counts, so tcrtrack takes ``templates`` unless ``unit=`` (``--unit``, the
    sample sheet's ``unit`` column) declares otherwise.

    Parameters
    ----------
    path
        The TSV file, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    columns
        Accepted for the common reader signature (:func:`tcrtrack.io.read`); every field
        tcrtrack reads is read, since the repairs need them.
    strict
        Require every field the AIRR standard requires (default: only the fields the
        analysis needs, see above).
    unit
        The unit of a bulk file's clone sizes (default: ``templates`` for
        ``duplicate_count``, ``umis`` for ``umi_count``, ``reads`` for ``consensus_count``).
        A single-cell file counts cells: giving ``unit`` for one is an error.

    Returns
    -------
    The contig table.

    Raises
    ------
    tcrtrack.errors.InputError
        The file is missing, a directory, unreadable or truncated.
    tcrtrack.errors.FormatError
        The file is empty, binary, not tab-separated, lacks a required field, or holds a
        value that cannot be parsed.
    tcrtrack.errors.ParameterError
        ``unit`` given for a single-cell file.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "pbmc3.tsv")
    >>> tt.io.write_airr(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered")), out)
    >>> tt.io.read_airr(out)[["locus", "junction_aa", "productive"]].head(2)
      locus          junction_aa  productive
    0   TRB  CASSQLGRTKDSKNYGYTF        True
    1   TRA        CAARREYGNKLVF        True
    """
    return _files.frame_of(
        parse_airr(path, sample=sample, columns=columns, strict=strict, unit=unit)
    )


def parse_airr(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    columns: Collection[str] | None = None,
    strict: bool = False,
    unit: BulkUnit | None = None,
) -> pa.Table:
    """:func:`read_airr` up to the Arrow table (:func:`tcrtrack.io._files.finish_arrow`), which the
    engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame."""
    p = _files.check_path(path)
    header = _checked_header(p, strict=strict)
    table = _parse(p, header)
    # white space around a junction (a spreadsheet round trip) would make an inferred
    # productive flag false: removed before the repairs, and counted (whitespace_stripped);
    # the repairs add none (upper case, known loci, junctions of ACGT and their translation)
    clean = [c for c in _files.STRIPPED_COLUMNS if c in table.column_names]
    table, stripped = _files.strip_whitespace(table, clean)
    name = sample if sample is not None else _files.sample_name(p)
    changes: list[_qc.QCEntry] = []
    for repair in _REPAIRS:
        table, reason, n = repair(table)
        if n:
            changes.append(_qc.QCEntry(name, "read", "changed", reason, n, "contigs", str(p)))
    table, detected, counted = _counts_and_unit(p, table, unit)
    for reason, n in counted:
        changes.append(_qc.QCEntry(name, "read", "changed", reason, n, "contigs", str(p)))
    return _files.finish_arrow(
        table, name, source=str(p), unit=detected, stripped=stripped, changes=changes, clean=clean
    )


def _checked_header(path: Path, *, strict: bool) -> list[str]:
    """The header of an AIRR file, checked: tab-separated, the required fields, a junction."""
    delimiter, header = _files.sniff(path)
    if delimiter != "\t":
        msg = (
            f"{path}: AIRR Rearrangement files are tab-separated, but the header has no tab "
            f"(columns seen: {', '.join(header[:10])}); convert the file to TSV"
        )
        raise FormatError(msg)
    if strict:
        _files.require_columns(path, header, AIRR_REQUIRED, "an AIRR Rearrangement file")
    derivable = all(c in header for c in _REGIONS)
    if "junction" not in header and "junction_aa" not in header and not derivable:
        cdr3 = (
            " ('cdr3' alone lacks the conserved Cys and Phe/Trp codons: give fwr3 and fwr4 with it)"
            if "cdr3" in header
            else ""
        )
        msg = (
            f"{path}: neither 'junction' nor 'junction_aa' (nor fwr3, cdr3, fwr4) is present, "
            f"so no clonotype can be defined{cdr3}; export the file with its junction fields"
        )
        raise FormatError(msg)
    if not any(c in header for c in ("locus", *_GENE_CALLS)):
        msg = (
            f"{path}: no 'locus' field and no gene call ({', '.join(_GENE_CALLS)}) to infer "
            f"it from (columns seen: {', '.join(header[:20])}); add a 'locus' column "
            "(TRA, TRB, ...)"
        )
        raise FormatError(msg)
    return header


def _parse(path: Path, header: Sequence[str]) -> pa.Table:
    """The columns of an AIRR file that tcrtrack reads (:data:`AIRR_READ`, the regions a
    junction can be rebuilt from, the non-standard ``counts``), parsed by Arrow."""
    wanted: list[str] = [c for c in AIRR_READ if c in header]
    if all(c in header for c in _REGIONS):
        wanted += [c for c in (*_REGIONS, "cdr3_aa") if c in header]
    if _COUNTS in header:
        wanted.append(_COUNTS)
    types = {c: _TYPES.get(c, pa.string()) for c in wanted}
    table = _files.read_table(
        path,
        delimiter="\t",
        columns=wanted,
        types=types,
        what="an AIRR Rearrangement file",
        header=header,
    )
    _files.nonempty(path, table)
    return table


#: A repair: the table in, the repaired table, the ledger reason and the rows changed out.
Repair = Callable[[pa.Table], tuple[pa.Table, str, int]]


def _repair_locus(table: pa.Table) -> tuple[pa.Table, str, int]:
    """``locus_renamed`` (``TCRB`` -> ``TRB``), or ``locus_inferred_from_genes`` without a
    ``locus`` column."""
    if "locus" not in table.column_names:
        inferred = _locus_from_genes(table)
        n = len(inferred) - inferred.null_count
        return table.append_column("locus", inferred), _qc.LOCUS_INFERRED_FROM_GENES, n
    locus = table.column("locus")
    new_locus = _normalise_locus(locus)
    n = _count(pc.not_equal(new_locus, locus))
    return _set(table, "locus", new_locus), _qc.LOCUS_RENAMED, n


def _uppercase_junctions(table: pa.Table) -> tuple[pa.Table, str, int]:
    """``sequence_uppercased``: junctions (nt and aa) written in lower case."""
    lowered = np.zeros(table.num_rows, dtype=bool)
    for col in ("junction", "junction_aa"):
        if col in table.column_names:
            original = table.column(col)
            if not may_have_lower_case(original, non_ascii=True):
                continue  # upper case already: utf8_upper would return the same strings
            upper = pc.utf8_upper(original)
            lowered |= to_numpy(pc.not_equal(upper, original), fill=False)
            table = _set(table, col, upper)
    return table, _qc.SEQUENCE_UPPERCASED, int(lowered.sum())


def _junction_from_regions(table: pa.Table) -> tuple[pa.Table, str, int]:
    """``junction_derived_from_regions``, when the file has ``fwr3``, ``cdr3`` and ``fwr4``."""
    if not all(c in table.column_names for c in _REGIONS):
        return table, _qc.JUNCTION_DERIVED_FROM_REGIONS, 0
    table, n = _derive_junction(table)
    return table, _qc.JUNCTION_DERIVED_FROM_REGIONS, n


def _counts_column(table: pa.Table) -> tuple[pa.Table, str, int]:
    """``count_from_nonstandard_column``: immundata's ``counts`` as ``duplicate_count`` when
    the file has no ``duplicate_count`` values (the column is dropped either way)."""
    if _COUNTS not in table.column_names:
        return table, _qc.COUNT_FROM_NONSTANDARD_COLUMN, 0
    n = table.num_rows
    counts = table.column(_COUNTS)
    has_dup = (
        "duplicate_count" in table.column_names and table.column("duplicate_count").null_count < n
    )
    table = table.drop_columns([_COUNTS])
    if has_dup:
        return table, _qc.COUNT_FROM_NONSTANDARD_COLUMN, 0
    if "duplicate_count" in table.column_names:
        table = table.drop_columns(["duplicate_count"])
    table = table.append_column("duplicate_count", counts)
    return table, _qc.COUNT_FROM_NONSTANDARD_COLUMN, n - counts.null_count


def _infer_productive(table: pa.Table) -> tuple[pa.Table, str, int]:
    """``productive_inferred``: without a ``productive`` field, productive = the amino-acid
    junction (else the junction's translation) has no ``*`` or ``_`` and the nucleotide
    junction (where given) is three times as long."""
    if "productive" in table.column_names:
        return table, _qc.PRODUCTIVE_INFERRED, 0
    from tcrtrack._translate import in_frame_of, translate

    n = table.num_rows
    junction = (
        table.column("junction") if "junction" in table.column_names else pa.nulls(n, pa.string())
    )
    aa = (
        pc.coalesce(table.column("junction_aa"), translate(junction))
        if "junction_aa" in table.column_names
        else translate(junction)
    )
    coding = pc.invert(pc.match_substring_regex(aa, r"[*_]"))
    in_frame = pc.or_kleene(pc.is_null(junction), in_frame_of(junction, aa))
    productive = fill_null(pc.and_kleene(coding, in_frame), False)
    return table.append_column("productive", productive), _qc.PRODUCTIVE_INFERRED, n


#: The repairs, in the order they run (and their entries appear in the ledger).
_REPAIRS: Final[tuple[Repair, ...]] = (
    _repair_locus,
    _uppercase_junctions,
    _junction_from_regions,
    _infer_productive,
    _counts_column,
)


def _counts_and_unit(
    path: Path, table: pa.Table, declared: str | None
) -> tuple[pa.Table, str, list[tuple[str, int]]]:
    """The clone-size columns and the unit, with the ledger reasons of what was taken.

    Single-cell (``cell_id`` has values): unit ``cells``, ``duplicate_count`` holds UMIs and
    becomes ``umi_count`` (Cell Ranger's use). Bulk: ``duplicate_count`` (``templates``),
    else ``umi_count`` (``umis``) or ``consensus_count`` (``reads``) as ``duplicate_count``
    (``count_from_other_field``), else each row once (``count_missing``); ``declared``
    replaces the unit.
    """
    n = table.num_rows
    is_single_cell = "cell_id" in table.column_names and table.column("cell_id").null_count < n
    if is_single_cell:
        if declared is not None:
            msg = (
                f"{path}: unit={declared!r} was given, but the file is single-cell (cell_id "
                "has values) and counts cells; leave the unit out for this file"
            )
            raise ParameterError(msg)
        if "duplicate_count" in table.column_names:
            if "umi_count" not in table.column_names:
                table = table.append_column("umi_count", table.column("duplicate_count"))
            table = table.drop_columns(["duplicate_count"])
        return table, s.UNIT_CELLS, []
    if "duplicate_count" in table.column_names:
        return table, declared or s.UNIT_TEMPLATES, []
    for field, field_unit in _OTHER_COUNTS:
        if field in table.column_names and table.column(field).null_count < n:
            values = table.column(field)
            table = table.append_column("duplicate_count", values)
            reasons = [(_qc.COUNT_FROM_OTHER_FIELD, n - values.null_count)]
            return table, declared or field_unit, reasons
    return table, declared or s.UNIT_TEMPLATES, [(_qc.COUNT_MISSING, n)]


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def _count(mask: pa.Array | pa.ChunkedArray) -> int:
    """Number of True values (NA counts as False)."""
    return int(pc.sum(fill_null(mask, False)).as_py() or 0)


def _normalise_locus(locus: pa.ChunkedArray) -> pa.ChunkedArray:
    """Map spellings in :data:`LOCUS_ALIASES` (any case) to AIRR loci; keep others as they are."""
    upper = pc.utf8_upper(locus)
    mapped = pc.take(
        string_array(list(LOCUS_ALIASES.values())),
        pc.index_in(upper, value_set=string_array(list(LOCUS_ALIASES))),
    )
    return pc.if_else(pc.is_valid(mapped), mapped, locus)


def _derive_junction(table: pa.Table) -> tuple[pa.Table, int]:
    """Fill NA junctions with ``fwr3[-3:] + cdr3 + fwr4[:3]`` where that is consistent.

    Returns the table without the region columns, and the number of junctions filled.
    """
    from tcrtrack._translate import translate

    fwr3, cdr3, fwr4 = (pc.utf8_upper(table.column(c)) for c in _REGIONS)
    candidate = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(fwr3, -3),
        cdr3,
        pc.utf8_slice_codeunits(fwr4, 0, 3),
        scalar("", pa.string()),
    )
    length = to_numpy(pc.utf8_length(cdr3), fill=0)
    ok = (
        (to_numpy(pc.utf8_length(fwr3), fill=0) >= 3)
        & (to_numpy(pc.utf8_length(fwr4), fill=0) >= 3)
        & (length > 0)
        & (length % 3 == 0)
        & to_numpy(pc.match_substring_regex(candidate, r"^[ACGT]+$"), fill=False)
    )
    aa = translate(candidate)
    ok = from_numpy(ok & to_numpy(pc.match_substring_regex(aa, r"^C[A-Z*]*[FW]$"), fill=False))
    inner = pc.utf8_slice_codeunits(aa, 1, -1)
    if "cdr3_aa" in table.column_names:
        cdr3_aa = pc.utf8_upper(table.column("cdr3_aa"))
        ok = pc.and_kleene(ok, pc.or_kleene(pc.is_null(cdr3_aa), pc.equal(inner, cdr3_aa)))
    n = table.num_rows
    junction = (
        table.column("junction") if "junction" in table.column_names else pa.nulls(n, pa.string())
    )
    junction_aa = (
        table.column("junction_aa")
        if "junction_aa" in table.column_names
        else pa.nulls(n, pa.string())
    )
    ok = pc.and_kleene(ok, pc.or_kleene(pc.is_null(junction_aa), pc.equal(aa, junction_aa)))
    fill = pc.and_(pc.is_null(junction), fill_null(ok, False))
    new_junction = pc.if_else(fill, candidate, junction)
    new_aa = pc.if_else(pc.and_(fill, pc.is_null(junction_aa)), aa, junction_aa)
    drop = [c for c in (*_REGIONS, "cdr3_aa", "junction", "junction_aa") if c in table.column_names]
    table = table.drop_columns(drop)
    table = table.append_column("junction", new_junction).append_column("junction_aa", new_aa)
    return table, _count(fill)


def _locus_from_genes(table: pa.Table) -> pa.ChunkedArray | pa.Array:
    """Locus from the gene names: the C, else J, else V gene prefix; ``Multi`` if they differ.

    ``Multi`` is 10x's word for a contig whose genes come from different loci; such contigs
    are dropped by :func:`tcrtrack.pp.filter_contigs` as ``multi_locus_contig``.
    """
    prefixes = []
    for col in ("c_call", "j_call", "v_call"):
        if col in table.column_names:
            prefix = pc.utf8_slice_codeunits(pc.utf8_upper(table.column(col)), 0, 3)
            known = fill_null(pc.is_in(prefix, value_set=string_array(list(s.LOCI))), False)
            prefixes.append(pc.if_else(known, prefix, scalar(None, pa.string())))
    if not prefixes:
        return pa.nulls(table.num_rows, pa.string())
    locus = pc.coalesce(*prefixes)
    conflict = np.zeros(table.num_rows, dtype=bool)
    for prefix in prefixes:
        conflict |= to_numpy(pc.not_equal(prefix, locus), fill=False)
    return pc.if_else(from_numpy(conflict), scalar(s.MULTI_LOCUS, pa.string()), locus)


def write_airr(contigs: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a contig table as an AIRR Rearrangement TSV file.

    Every required AIRR field is written (empty where tcrtrack has no value: ``sequence``,
    alignments and CIGAR strings), booleans as ``T``/``F``, NA as empty. The extra 10x
    columns (``is_cell``, ``high_confidence``, ``full_length``, ``umi_count``) are written
    under their own names, so :func:`read_airr` reads the same table back.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> out = os.path.join(tempfile.mkdtemp(), "pbmc3.tsv")
    >>> tt.io.write_airr(contigs, out)
    >>> back = tt.io.read_airr(out)
    >>> len(back) == len(contigs)
    True
    """
    import pandas as pd

    frame = pd.DataFrame(index=contigs.index)
    seq_id = (
        contigs[s.SEQUENCE_ID]
        if s.SEQUENCE_ID in contigs
        else pd.Series(np.arange(len(contigs)).astype(str), index=contigs.index)
    )
    frame["sequence_id"] = seq_id
    for col in AIRR_REQUIRED[1:]:
        frame[col] = contigs.get(col, pd.NA)
    frame["rev_comp"] = frame["rev_comp"].astype("boolean") if "rev_comp" in contigs else False
    for col in contigs.columns:
        if col not in frame and col != s.SAMPLE:
            frame[col] = contigs[col]
    for col in frame.columns:
        if pd.api.types.is_bool_dtype(frame[col].dtype):
            frame[col] = frame[col].map({True: "T", False: "F"}).astype(object)
    write_atomic(
        path,
        lambda tmp: frame.to_csv(tmp, sep="\t", index=False, na_rep=""),
    )
