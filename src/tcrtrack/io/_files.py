"""Opening input files and parsing delimited text with Arrow, with errors that name the file."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack.errors import FormatError, InputError

#: Strings read as missing values in every format.
NULL_VALUES: Final = ["", "None", "none", "NA", "N/A", "nan", "NaN", "null", "NULL"]
TRUE_VALUES: Final = ["True", "TRUE", "true", "T", "t"]
FALSE_VALUES: Final = ["False", "FALSE", "false", "F", "f"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_BLOCK_SIZE: Final = 16 << 20
#: Delimiters that spreadsheet programs write but tcrtrack does not read.
_FOREIGN_DELIMITERS: Final = {";": "semicolon", "|": "pipe"}


def check_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise :class:`InputError` saying why not."""
    p = Path(path)
    if not p.exists():
        msg = f"{p}: no such file; check the path (current directory: {Path.cwd()})"
        raise InputError(msg)
    if p.is_dir():
        msg = (
            f"{p}: is a directory, not a file; give the contig table inside it "
            "(e.g. filtered_contig_annotations.csv)"
        )
        raise InputError(msg)
    if not os.access(p, os.R_OK):
        raise InputError(permission_message(p))
    return p


def permission_message(path: Path) -> str:
    """The message for a file the current user may not read."""
    return (
        f"{path}: permission denied; make the file readable (chmod +r) or copy it "
        "somewhere readable"
    )


def _corrupt_message(path: Path, error: BaseException) -> str:
    return (
        f"{path}: cannot read the file ({error}); it looks truncated or corrupted: "
        "download or copy it again"
    )


def is_gzip(path: Path) -> bool:
    """Whether ``path`` starts with the gzip magic bytes."""
    with path.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def head_lines(path: Path, n: int = 2) -> list[str]:
    """The first ``n`` lines of a plain or gzipped text file (for format detection).

    Raises :class:`InputError` for an unreadable, truncated or corrupted file and
    :class:`FormatError` for an empty or binary one.
    """
    p = check_path(path)
    try:
        if is_gzip(p):
            with gzip.open(p, "rb") as fh:
                raw = fh.read(1 << 16)
        else:
            with p.open("rb") as fh:
                raw = fh.read(1 << 16)
    except PermissionError as e:
        raise InputError(permission_message(p)) from e
    except (EOFError, OSError, zlib.error) as e:
        raise InputError(_corrupt_message(p, e)) from e
    if not raw.strip():
        msg = f"{p}: the file is empty; expected a header line and one row per contig"
        raise FormatError(msg)
    if looks_binary(raw):
        msg = (
            f"{p}: this is a binary file, not a text table (a spreadsheet, archive or image?); "
            "give the CSV or TSV contig table, e.g. filtered_contig_annotations.csv"
        )
        raise FormatError(msg)
    text = raw.decode("utf-8", errors="replace")
    return text.splitlines()[:n]


def looks_binary(raw: bytes) -> bool:
    """True if ``raw`` has a NUL byte or more than 5% control bytes other than tab, CR, LF.

    Examples
    --------
    >>> looks_binary(b"barcode,chain\\nAAAC-1,TRB\\n"), looks_binary(b"PK\\x03\\x04\\x14\\x00")
    (False, True)
    """
    if b"\x00" in raw:
        return True
    head = np.frombuffer(raw[:8192], dtype=np.uint8)
    control = (head < 32) & (head != 9) & (head != 10) & (head != 13)
    return bool(control.mean() > 0.05) if len(head) else False


def split_header(line: str) -> tuple[str, list[str]]:
    """Guess the delimiter of a header line (tab or comma); return it and the column names."""
    line = line.lstrip("\ufeff")
    delimiter = "\t" if line.count("\t") >= max(1, line.count(",")) else ","
    return delimiter, [c.strip().strip('"') for c in line.split(delimiter)]


def sniff(path: Path) -> tuple[str, list[str]]:
    """Delimiter and column names of the header line of ``path``.

    Raises :class:`FormatError` when the header is split by ``;`` or ``|`` instead of a comma
    or a tab (a table re-saved by a spreadsheet program in some locales).
    """
    delimiter, header = split_header(head_lines(path)[0])
    if len(header) == 1:
        for other, name in _FOREIGN_DELIMITERS.items():
            if header[0].count(other) >= 2:
                msg = (
                    f"{path}: the columns are separated by {other!r} ({name}); tcrtrack reads "
                    "comma-separated (Cell Ranger) or tab-separated (AIRR) files: re-save the "
                    "file as CSV with commas"
                )
                raise FormatError(msg)
    return delimiter, header


def read_table(
    path: Path,
    *,
    delimiter: str,
    columns: Sequence[str],
    types: Mapping[str, pa.DataType],
    what: str,
    header: Sequence[str] | None = None,
) -> pa.Table:
    """Read ``columns`` of a delimited text file with Arrow's multi-threaded CSV reader.

    Only ``columns`` are parsed. Booleans accept ``True``/``TRUE``/``true``/``T``; NA is
    ``None``, ``NA`` or empty. Arrow's errors become a :class:`FormatError` naming the file,
    the column (``header`` gives the file's column names) and the line.
    """
    read_options = pacsv.ReadOptions(block_size=_BLOCK_SIZE)
    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False)
    convert_options = pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=dict(types),
        null_values=NULL_VALUES,
        true_values=TRUE_VALUES,
        false_values=FALSE_VALUES,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        compression = "gzip" if is_gzip(path) else None
        with pa.input_stream(str(path), compression=compression) as stream:
            table = pacsv.read_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        pa.default_memory_pool().release_unused()  # the parser's buffers, back to the system
        return table
    except pa.ArrowInvalid as e:
        names = list(header) if header is not None else list(columns)
        raise FormatError(_explain_arrow_error(path, str(e), names, what)) from e
    except PermissionError as e:
        raise InputError(permission_message(path)) from e
    except (OSError, EOFError) as e:
        raise InputError(_corrupt_message(path, e)) from e


def _explain_arrow_error(path: Path, message: str, columns: Sequence[str], what: str) -> str:
    first = message.strip().splitlines()[0]
    m = re.search(r"CSV column #(\d+)", first)
    if m:
        index = int(m.group(1))
        name = columns[index] if index < len(columns) else f"#{index}"
        bad = re.search(r"invalid value '([^']*)'", first)
        value = f" {bad.group(1)!r}" if bad else ""
        line = _line_of(path, name, bad.group(1)) if bad else None
        where = f", line {line}" if line is not None else ""
        return (
            f"{path}: column {name!r}{where}: cannot read value{value} in {what}; "
            "fix or remove the offending rows"
        )
    m_rows = re.search(r"Expected (\d+) columns, got (\d+)", first)
    if m_rows:
        return (
            f"{path}: a row has {m_rows.group(2)} fields where the header has "
            f"{m_rows.group(1)}; the file is truncated or uses a different delimiter"
        )
    return f"{path}: cannot parse as {what}: {first}"


def _line_of(path: Path, column: str, value: str) -> int | None:
    """1-based line number of the first row whose ``column`` is ``value`` (header = line 1)."""
    try:
        delimiter, _ = split_header(head_lines(path)[0])
        compression = "gzip" if is_gzip(path) else None
        with pa.input_stream(str(path), compression=compression) as stream:
            table = pacsv.read_csv(
                stream,
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[column], column_types={column: pa.string()}
                ),
            )
    except (pa.ArrowInvalid, OSError):
        return None
    index = pc.index(table.column(column), value).as_py()
    return index + 2 if index >= 0 else None


def require_columns(path: Path, header: Sequence[str], required: Sequence[str], what: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        shown = ", ".join(header[:30]) + (" ..." if len(header) > 30 else "")
        msg = (
            f"{path}: missing required column(s) {', '.join(missing)} for {what}; "
            f"columns seen: {shown}; check that this is the right file, or add the column(s)"
        )
        raise FormatError(msg)


def nonempty(path: Path, table: pa.Table) -> None:
    if table.num_rows == 0:
        msg = (
            f"{path}: the file has a header line but no data rows; check that the run "
            "produced contigs and that the file was copied completely"
        )
        raise FormatError(msg)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Convert an Arrow table to a contig-table DataFrame with tcrtrack's dtypes.

    Strings stay Arrow-backed (``string[pyarrow]``), low-cardinality columns become
    categoricals, booleans nullable ``boolean`` and counts nullable ``Int64``.
    """
    arrays = {}
    for name in table.column_names:
        col = table.column(name)
        if name in s.CATEGORICAL_COLUMNS and pa.types.is_string(col.type):
            col = pc.dictionary_encode(col)
        arrays[name] = col
    table = pa.table(arrays)

    def mapper(t: pa.DataType) -> object:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return pd.StringDtype("pyarrow")
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        if pa.types.is_integer(t):
            return pd.Int64Dtype()
        return None

    frame = table.to_pandas(types_mapper=mapper, split_blocks=True)
    for name in s.CATEGORICAL_COLUMNS:
        if name in frame and not isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
    return frame


def sample_name(path: str | os.PathLike[str]) -> str:
    """The sample name a reader gives a file by default: its name without ``.gz`` and its
    extension (``.csv``, ``.tsv``, ``.txt``).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> tt.io.sample_name("runs/patient1_day28.csv.gz")
    'patient1_day28'
    """
    name = Path(path).name
    for suffix in (".gz", ".csv", ".tsv", ".txt"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


#: Order of the optional columns after the required ones, whatever the input format.
_OPTIONAL_ORDER: Final = (
    s.SEQUENCE_ID,
    s.D_CALL,
    s.C_CALL,
    s.UMI_COUNT,
    s.CONSENSUS_COUNT,
    s.DUPLICATE_COUNT,
    s.IS_CELL,
    s.HIGH_CONFIDENCE,
    s.FULL_LENGTH,
    s.CLONE_ID,
)


def finish(table: pa.Table, sample: str, *, source: str, unit: str = s.UNIT_CELLS) -> pd.DataFrame:
    """Add missing required columns, the sample column and the ledger's read entry.

    Columns come in a fixed order (required, then known optional ones, then any others), so
    tables read from different formats line up.
    """
    n = table.num_rows
    for col in s.REQUIRED_COLUMNS:
        if col == s.SAMPLE or col in table.column_names:
            continue
        kind = pa.bool_() if col in s.BOOLEAN_COLUMNS else pa.string()
        table = table.append_column(col, pa.nulls(n, kind))
    table = (
        table.append_column(
            s.SAMPLE, pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), [sample])
        )
        if n
        else table.append_column(s.SAMPLE, pa.array([], pa.string()))
    )
    known = [c for c in (*s.REQUIRED_COLUMNS, *_OPTIONAL_ORDER) if c in table.column_names]
    order = known + [c for c in table.column_names if c not in known]
    frame = to_frame(table.select(order))
    frame.attrs[s.ATTRS_UNIT] = unit
    ledger = _qc.QCLedger((_qc.QCEntry(sample, "read", "read", _qc.READ, n, "contigs", source),))
    return _qc.with_ledger(frame, ledger)
