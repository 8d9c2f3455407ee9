"""Opening input files and parsing delimited text with Arrow, with errors that name the file."""

from __future__ import annotations

import atexit
import gzip
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import zlib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import from_numpy, scalar, string_array, to_numpy
from tcrtrack._memory import LARGE_ROWS, release_memory
from tcrtrack.errors import FormatError, InputError

if TYPE_CHECKING:
    import pandas as pd

#: The units a bulk file may count its clone sizes in (``unit=`` of the bulk readers).
BulkUnit = Literal["templates", "reads", "umis"]

#: Strings read as missing values in every format.
NULL_VALUES: Final = ["", "None", "none", "NA", "N/A", "nan", "NaN", "null", "NULL"]
TRUE_VALUES: Final = ["True", "TRUE", "true", "T", "t"]
FALSE_VALUES: Final = ["False", "FALSE", "false", "F", "f"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_BLOCK_SIZE: Final = 16 << 20
#: Plain files of at most this many bytes are parsed from memory (:func:`_read_small`) ...
_SMALL_FILE: Final = 64 << 20
#: ... in blocks of this many bytes (so that a file of a few MB is parsed by several threads).
_SMALL_BLOCK: Final = 1 << 20
#: Delimiters that spreadsheet programs write but tcrtrack does not read.
_FOREIGN_DELIMITERS: Final = {";": "semicolon", "|": "pipe"}


#: The name standing for standard input.
STDIN: Final = "-"
#: Streams (standard input, named pipes, process substitutions) copied to a temporary file on
#: first use: a stream can be read only once, and a reader looks at the header before it parses.
_SPOOLS: dict[str, str] = {}
_SPOOL_LOCK = threading.Lock()
#: The standard-input object whose copy is ``_SPOOLS["-"]`` (a new ``sys.stdin``, as a test
#: runner installs, is copied anew).
_STDIN_OWNER: list[object] = []


def _remove_spools() -> None:
    for spooled in _SPOOLS.values():
        Path(spooled).unlink(missing_ok=True)
    _SPOOLS.clear()


atexit.register(_remove_spools)


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is standard input (``-``), a named pipe or a character device (such as
    the ``/dev/fd/63`` of a shell's process substitution ``<(zcat x.csv.gz)``)."""
    if str(path) == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _spool(path: str | os.PathLike[str]) -> None:
    """Copy a stream to a temporary file, once per process: it is opened exactly once."""
    key = str(path)
    with _SPOOL_LOCK:
        if key == STDIN and key in _SPOOLS and _STDIN_OWNER and _STDIN_OWNER[0] is not sys.stdin:
            Path(_SPOOLS.pop(key)).unlink(missing_ok=True)
        if key in _SPOOLS:
            return
        fd, target = tempfile.mkstemp(prefix="tcrtrack-stream-")
        try:
            with os.fdopen(fd, "wb") as out:
                if key == STDIN:
                    source = getattr(sys.stdin, "buffer", None)
                    if source is None:  # a text stream without bytes underneath
                        out.write(sys.stdin.read().encode())
                    else:
                        shutil.copyfileobj(source, out, 1 << 20)
                else:
                    with open(key, "rb") as fh:
                        shutil.copyfileobj(fh, out, 1 << 20)
        except PermissionError as e:
            Path(target).unlink(missing_ok=True)
            raise InputError(permission_message(Path(key))) from e
        except BaseException:
            Path(target).unlink(missing_ok=True)
            raise
        _SPOOLS[key] = target
        if key == STDIN:
            _STDIN_OWNER[:] = [sys.stdin]


def physical(path: str | os.PathLike[str]) -> str:
    """The file to open for ``path``: its temporary copy for a stream, else ``path`` itself."""
    return _SPOOLS.get(str(path), str(path))


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Size in bytes and SHA-256 of the bytes tcrtrack reads from ``path``: for standard input
    or a pipe, the copy read once (:func:`is_stream`), not the exhausted stream.

    Raises
    ------
    tcrtrack.errors.InputError
        The file cannot be read.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> size, sha = tt.io.file_digest(tt.datasets.path("pbmc3_t_filtered"))
    >>> size > 0, len(sha)
    (True, 64)
    """
    import hashlib

    source = Path(physical(path))
    digest = hashlib.sha256()
    try:
        with source.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        size = source.stat().st_size
    except OSError as e:
        msg = f"{str(path)!r}: cannot read the input file to hash it ({e.strerror or e})"
        raise InputError(msg) from None
    return size, digest.hexdigest()


def check_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise :class:`InputError` saying why not.

    Standard input (``-``), named pipes and process substitutions are read once, into a
    temporary file that every later reading of ``path`` opens.
    """
    p = Path(path)
    if is_stream(path):
        _spool(path)
        return p
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
    with Path(physical(path)).open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def head_lines(path: Path, n: int = 2) -> list[str]:
    """The first ``n`` lines of a plain or gzipped text file (for format detection).

    Raises :class:`InputError` for an unreadable, truncated or corrupted file and
    :class:`FormatError` for an empty or binary one.
    """
    p = check_path(path)
    try:
        gz = is_gzip(p)
        if gz:
            with gzip.open(physical(p), "rb") as fh:
                raw = fh.read(1 << 16)
        else:
            with Path(physical(p)).open("rb") as fh:
                raw = fh.read(1 << 16)
    except PermissionError as e:
        raise InputError(permission_message(p)) from e
    except (EOFError, OSError, zlib.error) as e:
        raise InputError(_corrupt_message(p, e)) from e
    if not raw.strip():
        msg = f"{p}: the file is empty; expected a header line and one row per contig"
        raise FormatError(msg)
    nul = raw.find(b"\x00")
    first_line = raw.find(b"\n")
    if nul >= 0 and 0 <= first_line < nul and not looks_binary(raw[:nul]):
        raise FormatError(nul_message(p, nul, compressed=gz))
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


def nul_message(path: Path, offset: int, *, compressed: bool) -> str:
    """The message for a text file with a NUL byte (a crashed or incomplete copy)."""
    where = " of the decompressed data" if compressed else ""
    return (
        f"{path}: NUL byte at byte offset {offset:,}{where}: the file is damaged (NUL bytes "
        "are what a crashed or unfinished copy leaves behind); copy or download it again"
    )


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
    check_header(path, header)
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


def check_header(path: Path, header: Sequence[str]) -> None:
    """Raise :class:`FormatError` when a column name occurs twice in the header line: which of
    the two columns holds the data a reader needs cannot be known."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name and name in seen:
            msg = (
                f"{path}: column {name!r} occurs twice in the header (columns {seen[name] + 1} "
                f"and {i + 1}); remove or rename one of them"
            )
            raise FormatError(msg)
        seen.setdefault(name, i)


class _NulCheck:
    """A file-like reader over an Arrow input stream that stops at the first NUL byte and
    remembers its offset (the parse is checked for NULs without a second pass)."""

    def __init__(self, stream: pa.NativeFile) -> None:
        self._stream = stream
        self._offset = 0
        self.nul: int | None = None
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if self.nul is not None:
            return b""
        chunk = self._stream.read(size) if size is not None and size >= 0 else self._stream.read()
        at = chunk.find(b"\x00")
        if at >= 0:
            self.nul = self._offset + at
            chunk = chunk[:at]
        self._offset += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


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
    ``None``, ``NA`` or empty. Integer columns are parsed as numbers and must hold whole,
    non-negative values (``6.0`` is 6). Arrow's errors become a :class:`FormatError` naming
    the file, the column (``header`` gives the file's column names) and the line; a NUL byte
    anywhere in the file is a :class:`FormatError` naming its offset.
    """
    integers = [c for c, t in types.items() if pa.types.is_integer(t)]
    types = {c: (pa.float64() if c in integers else t) for c, t in types.items()}
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
        table = _read_small(path, parse_options, convert_options)
    except pa.ArrowInvalid:  # the error as the streamed parse reports it (below)
        table = None
    if table is None:
        table = _read_streamed(
            path, read_options, parse_options, convert_options, header, columns, what
        )
    for name in integers:
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, whole_counts(path, name, table.column(name)))
    if table.num_rows >= LARGE_ROWS:
        # the parser's buffers back to the system, and the counts' temporaries
        release_memory()
    return table


def _read_small(
    path: Path,
    parse_options: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
) -> pa.Table | None:
    """The parse of a plain (not gzipped) file of at most :data:`_SMALL_FILE` bytes from its
    bytes in memory, in blocks of :data:`_SMALL_BLOCK` (both cores parse a file of a few MB);
    None for other files and for a file with a NUL byte, which :func:`_read_streamed` reads
    (and reports). An Arrow error is raised as it is: the caller parses the file again
    streamed, whose error (the first bad row of one 16 MB block) names the file, line and
    column as always."""
    source = physical(path)
    try:
        if os.path.getsize(source) > _SMALL_FILE or is_gzip(path):
            return None
        with open(source, "rb") as fh:
            data = fh.read(_SMALL_FILE + 1)
    except OSError:
        return None  # the streamed parse reports it
    if len(data) > _SMALL_FILE or b"\x00" in data:
        return None
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pacsv.ReadOptions(block_size=_SMALL_BLOCK),
        parse_options=parse_options,
        convert_options=convert_options,
    )


def _read_streamed(
    path: Path,
    read_options: pacsv.ReadOptions,
    parse_options: pacsv.ParseOptions,
    convert_options: pacsv.ConvertOptions,
    header: Sequence[str] | None,
    columns: Sequence[str],
    what: str,
) -> pa.Table:
    """The parse of ``path`` streamed in blocks of :data:`_BLOCK_SIZE` (a gzipped file
    decompressed on the way), checked for NUL bytes on the way; Arrow's errors, a NUL byte
    and an unreadable file become :class:`FormatError` and :class:`InputError`."""
    try:
        compression = "gzip" if is_gzip(path) else None
        with pa.input_stream(physical(path), compression=compression) as stream:
            checked = _NulCheck(stream)
            try:
                table = pacsv.read_csv(
                    checked,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
            except pa.ArrowInvalid:
                if checked.nul is None:
                    raise
            if checked.nul is not None:
                gz = compression is not None
                raise FormatError(nul_message(path, checked.nul, compressed=gz))
    except pa.ArrowInvalid as e:
        names = list(header) if header is not None else list(columns)
        raise FormatError(_explain_arrow_error(path, str(e), names, what)) from e
    except PermissionError as e:
        raise InputError(permission_message(path)) from e
    except (OSError, EOFError) as e:
        raise InputError(_corrupt_message(path, e)) from e
    return table


#: Counts are parsed as float64, exact below this (2**53).
_EXACT: Final = float(1 << 53)


def whole_counts(path: Path, name: str, column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A count column as int64: whole numbers (``6.0`` is 6), never negative, NA kept.

    A fraction, a negative value or a value of 2**53 or more (the counts are parsed as
    float64, which holds whole numbers exactly only below that) is a :class:`FormatError`
    naming the file, the column and the line (the header is line 1).
    """
    values = to_numpy(column.cast(pa.float64()), fill=np.nan)
    present = ~np.isnan(values)
    for bad, what in (
        (present & (values < 0), "is negative"),
        (present & (values != np.round(values)), "is not a whole number"),
        # read as float64 (so that 6.0 is 6): above 2**53 a count would be rounded
        (present & (values >= _EXACT), "is 2**53 or more, beyond what is read exactly"),
    ):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = values[row]
            shown = int(value) if value == np.round(value) else float(value)
            msg = (
                f"{path}: column {name!r}, line {row + 2}: count {shown!r} {what}; counts of "
                "cells, templates, reads or UMIs are whole numbers of 0 or more: fix the "
                "value or remove the row"
            )
            raise FormatError(msg)
    return from_numpy(np.where(present, values, 0).astype(np.int64), mask=~present)


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
        with pa.input_stream(physical(path), compression=compression) as stream:
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
    import pandas as pd

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
    if str(path) == STDIN:
        return "stdin"
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


#: Columns whose values lose surrounding white space (a spreadsheet round trip adds it).
STRIPPED_COLUMNS: Final = (
    s.CELL_ID,
    s.LOCUS,
    s.JUNCTION,
    s.JUNCTION_AA,
    s.V_CALL,
    s.D_CALL,
    s.J_CALL,
    s.C_CALL,
)


#: Bytes that count as white space around a value: tab, LF, VT, FF, CR, space.
_WHITESPACE: Final = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True


def _has_edge_whitespace(column: pa.ChunkedArray) -> bool:
    """Whether any value may start or end with white space: the first and last byte of each
    value are looked at in place (no copy), so a clean column costs almost nothing. (An empty
    or NA value makes its neighbour's byte looked at: a false alarm costs only a trim.)"""
    for chunk in column.chunks:
        bufs = chunk.buffers()
        if len(chunk) == 0 or bufs[2] is None or bufs[2].size == 0:
            continue
        dtype = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets: np.ndarray = np.frombuffer(bufs[1], dtype=dtype)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.intp, copy=False)
        data = np.frombuffer(bufs[2], dtype=np.uint8)
        if _WHITESPACE.take(np.take(data, offsets[:-1], mode="clip")).any():
            return True
        if _WHITESPACE.take(np.take(data, offsets[1:] - 1, mode="clip")).any():
            return True
    return False


def strip_whitespace(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, np.ndarray]:
    """Remove white space around the values of the string ``columns`` (an empty value becomes
    NA); return the table and the mask of the rows where any value changed."""
    changed = np.zeros(table.num_rows, dtype=bool)
    for name in columns:
        if name not in table.column_names:
            continue
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        if not _has_edge_whitespace(column):
            continue
        trimmed = pc.utf8_trim_whitespace(column)
        lengths = pc.not_equal(pc.binary_length(trimmed), pc.binary_length(column))
        differs = to_numpy(lengths, fill=False)
        if differs.any():
            lengths = pc.binary_length(trimmed)
            empty = pc.equal(lengths, scalar(0, lengths.type))
            trimmed = pc.if_else(empty, scalar(None, trimmed.type), trimmed)
            table = table.set_column(table.column_names.index(name), name, trimmed)
            changed |= differs
    return table, changed


def finish(
    table: pa.Table,
    sample: str,
    *,
    source: str,
    unit: str = s.UNIT_CELLS,
    stripped: np.ndarray | None = None,
    changes: Sequence[_qc.QCEntry] = (),
) -> pd.DataFrame:
    """Add missing required columns, the sample column and the ledger's read entry (then the
    reader's own ``changes``).

    White space around the values of :data:`STRIPPED_COLUMNS` is removed and counted
    (``whitespace_stripped``, with the rows of ``stripped``, a mask a reader passes for the
    columns it stripped itself). Columns come in a fixed order (required, then known optional
    ones, then any others), so tables read from different formats line up.
    """
    finished = finish_arrow(
        table, sample, source=source, unit=unit, stripped=stripped, changes=changes
    )
    return frame_of(finished)


#: Schema metadata keys of a finished Arrow contig table (see :func:`finish_arrow`).
META_QC: Final = s.ATTRS_QC.encode()
META_UNIT: Final = s.ATTRS_UNIT.encode()


def finish_arrow(
    table: pa.Table,
    sample: str,
    *,
    source: str,
    unit: str = s.UNIT_CELLS,
    stripped: np.ndarray | None = None,
    changes: Sequence[_qc.QCEntry] = (),
    clean: Collection[str] = (),
) -> pa.Table:
    """The Arrow half of :func:`finish`: the contig table's columns in order, with the unit
    and the ledger's read entry (then the reader's ``changes``) in the schema metadata (what
    the engine of :func:`tcrtrack.tl.clonotypes` digests without building a DataFrame).

    ``clean`` names columns the reader stripped of white space itself (:func:`strip_whitespace`)
    and changed since only in ways that add none: they are not looked at again."""
    import json

    n = table.num_rows
    table, changed = strip_whitespace(table, [c for c in STRIPPED_COLUMNS if c not in clean])
    if stripped is not None:
        changed |= stripped
    for col in s.REQUIRED_COLUMNS:
        if col == s.SAMPLE or col in table.column_names:
            continue
        kind = pa.bool_() if col in s.BOOLEAN_COLUMNS else pa.string()
        table = table.append_column(col, pa.nulls(n, kind))
    table = (
        table.append_column(
            s.SAMPLE,
            pa.DictionaryArray.from_arrays(
                from_numpy(np.zeros(n, np.int32)), string_array([sample])
            ),
        )
        if n
        else table.append_column(s.SAMPLE, string_array([]))
    )
    known = [c for c in (*s.REQUIRED_COLUMNS, *_OPTIONAL_ORDER) if c in table.column_names]
    order = known + [c for c in table.column_names if c not in known]
    entries = [_qc.QCEntry(sample, "read", "read", _qc.READ, n, "contigs", source)]
    if changed.any():
        entries.append(
            _qc.QCEntry(
                sample,
                "read",
                "changed",
                _qc.WHITESPACE_STRIPPED,
                int(changed.sum()),
                "contigs",
                source,
            )
        )
    entries.extend(changes)
    records = [{c: getattr(e, c) for c in _qc.QCEntry.__slots__} for e in entries]
    return table.select(order).replace_schema_metadata(
        {META_QC: json.dumps(records), META_UNIT: unit}
    )


def frame_of(table: pa.Table) -> pd.DataFrame:
    """The contig-table DataFrame of a table from :func:`finish_arrow` (ledger and unit in
    ``attrs``)."""
    import json

    meta = table.schema.metadata or {}
    frame = to_frame(table.replace_schema_metadata(None))
    frame.attrs[s.ATTRS_UNIT] = meta[META_UNIT].decode()
    records = json.loads(meta[META_QC])
    return _qc.with_ledger(frame, _qc.QCLedger(tuple(_qc.QCEntry(**r) for r in records)))
