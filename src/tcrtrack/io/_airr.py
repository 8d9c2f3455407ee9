"""Reader and writer of AIRR Rearrangement TSV files."""

from __future__ import annotations

import os
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._tenx import finish

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
)
_TYPES: Final = {
    "productive": pa.bool_(),
    "is_cell": pa.bool_(),
    "high_confidence": pa.bool_(),
    "umi_count": pa.int64(),
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
    strict: bool = True,
) -> pd.DataFrame:
    """Read an AIRR Rearrangement TSV file (including Cell Ranger's ``airr_rearrangement.tsv``).

    The standard's required fields are checked (``strict=True``); booleans may be written
    ``T``/``F`` or ``TRUE``/``FALSE``. Deviations seen in real files are normalised and counted
    in the QC ledger (``changed`` entries), never silently accepted: loci spelled ``TCRB``
    become ``TRB``; a ``locus`` column missing altogether is inferred from the V, J or C gene
    name prefix.

    For single-cell files (a ``cell_id`` column with values), ``duplicate_count`` holds UMIs
    (Cell Ranger's convention) and is copied to ``umi_count`` when that column is absent.
    For bulk files ``duplicate_count`` is the clone size.

    Parameters
    ----------
    path
        The TSV file, plain or gzip-compressed.
    sample
        Sample name; default: the file name without extensions.
    strict
        Require every field the AIRR standard requires. With ``False`` only the fields
        tcrtrack uses must be present (``junction`` or ``junction_aa``, ``v_call``,
        ``productive``).

    Returns
    -------
    The contig table.

    Raises
    ------
    tcrtrack.errors.FormatError
        A required field is missing or a value cannot be parsed.
    """
    p = _files.check_path(path)
    lines = _files.head_lines(p)
    delimiter, header = _files.split_header(lines[0])
    if delimiter != "\t":
        msg = (
            f"{p}: AIRR Rearrangement files are tab-separated, but the header has no tab; "
            "convert the file to TSV"
        )
        raise FormatError(msg)
    required = AIRR_REQUIRED if strict else ("v_call", "productive")
    _files.require_columns(p, header, required, "an AIRR Rearrangement file")
    if "junction" not in header and "junction_aa" not in header:
        msg = f"{p}: neither 'junction' nor 'junction_aa' is present; no clonotype can be defined"
        raise FormatError(msg)
    wanted = [c for c in AIRR_READ if c in header]
    types = {c: _TYPES.get(c, pa.string()) for c in wanted}
    table = _files.read_table(
        p, delimiter="\t", columns=wanted, types=types, what="an AIRR Rearrangement file"
    )
    _files.nonempty(p, table)
    name = sample if sample is not None else _files.sample_name(p)
    changes: list[_qc.QCEntry] = []

    # normalise the locus
    if "locus" in table.column_names:
        locus = table.column("locus")
        upper = pc.utf8_upper(locus)
        known = pa.array(list(LOCUS_ALIASES))
        mapped = pc.take(
            pa.array(list(LOCUS_ALIASES.values())),
            pc.index_in(upper, value_set=known),
        )
        new_locus = pc.if_else(pc.is_valid(mapped), mapped, locus)
        n_changed = int(pc.sum(pc.fill_null(pc.not_equal(new_locus, locus), False)).as_py() or 0)
        if n_changed:
            changes.append(
                _qc.QCEntry(
                    name, "read", "changed", _qc.LOCUS_RENAMED, n_changed, "contigs", str(p)
                )
            )
        table = table.set_column(table.column_names.index("locus"), "locus", new_locus)
    else:
        table = table.append_column("locus", _locus_from_genes(table))

    # junctions are upper-case DNA
    for col in ("junction", "junction_aa"):
        if col in table.column_names:
            i = table.column_names.index(col)
            table = table.set_column(i, col, pc.utf8_upper(table.column(col)))

    is_single_cell = (
        "cell_id" in table.column_names and table.column("cell_id").null_count < table.num_rows
    )
    unit = s.UNIT_CELLS if is_single_cell else s.UNIT_TEMPLATES
    if is_single_cell and "duplicate_count" in table.column_names:
        if "umi_count" not in table.column_names:
            table = table.append_column("umi_count", table.column("duplicate_count"))
        table = table.drop_columns(["duplicate_count"])
    frame = finish(table, name, source=str(p), unit=unit)
    ledger = _qc.ledger_of(frame).extend(changes)
    return _qc.with_ledger(frame, ledger)


def _locus_from_genes(table: pa.Table) -> pa.ChunkedArray:
    out = pa.nulls(table.num_rows, pa.string())
    for col in ("c_call", "j_call", "v_call"):
        if col in table.column_names:
            prefix = pc.utf8_slice_codeunits(pc.utf8_upper(table.column(col)), 0, 3)
            ok = pc.is_in(prefix, value_set=pa.array(list(s.LOCI)))
            out = pc.if_else(pc.fill_null(ok, False), prefix, out)
    return out


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
    frame.to_csv(path, sep="\t", index=False, na_rep="")
