"""Small bridges between numpy arrays, Arrow arrays and pandas columns.

pyarrow's own converters — ``pa.array`` of numpy or Python objects, ``pa.scalar``,
``Array.to_numpy`` (and so ``np.asarray`` of an Arrow array), a Python value given to a compute
function — import pandas on their first use whenever it is installed (pyarrow's pandas shim
looks for ``pd.NA`` and friends). On the path of ``tcrtrack share`` that import alone costs more
than the rest of the command, so the engine converts through the buffers instead:
:func:`from_numpy`, :func:`to_numpy`, :func:`scalar`, :func:`fill_null` and
:func:`string_array` never import pandas (``tests/test_startup.py`` checks the command's
modules on every format). Only :func:`strings` takes a pandas column, and imports pandas (the
caller already holds a pandas object).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd


def strings(series: pd.Series) -> pa.ChunkedArray:
    """A string column as an Arrow array (zero-copy for ``string[pyarrow]`` columns)."""
    import pandas as pd

    arrow_string = pd.StringDtype("pyarrow")
    if series.dtype != arrow_string:
        series = series.astype(arrow_string)
    return series.array.__arrow_array__()  # type: ignore[union-attr]


def from_numpy(values: np.ndarray, *, mask: np.ndarray | None = None) -> pa.Array:
    """A one-dimensional numpy array of numbers or booleans as an Arrow array, null where
    ``mask`` is True (zero copy for numbers: the Arrow array keeps a view of ``values``).

    >>> from_numpy(np.array([3, 1]), mask=np.array([False, True])).to_pylist()
    [3, None]
    """
    values = np.ascontiguousarray(values)
    validity = None
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~np.asarray(mask, dtype=bool), bitorder="little"))
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
        return pa.Array.from_buffers(pa.bool_(), len(values), [validity, data])
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(values)])


def _numpy_dtype(kind: pa.DataType) -> np.dtype:
    if pa.types.is_boolean(kind):
        return np.dtype(np.bool_)
    if pa.types.is_null(kind):
        return np.dtype(np.float64)
    return np.dtype(kind.to_pandas_dtype())


def _chunk_to_numpy(chunk: pa.Array, fill: object) -> np.ndarray:
    n, offset, kind = len(chunk), chunk.offset, chunk.type
    dtype = _numpy_dtype(kind)
    if pa.types.is_null(kind):
        if n and fill is None:
            msg = "an all-null Arrow array needs a fill value"
            raise TypeError(msg)
        return np.full(n, 0.0 if fill is None else fill)
    if not (pa.types.is_boolean(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        msg = f"to_numpy converts numbers and booleans, got {kind}"
        raise TypeError(msg)
    validity, data = chunk.buffers()[:2]
    if n == 0 or data is None:
        return np.zeros(n, dtype=dtype)
    if pa.types.is_boolean(kind):
        bits = np.frombuffer(data, dtype=np.uint8)
        values = np.unpackbits(bits, bitorder="little", count=offset + n)[offset:].astype(bool)
    else:
        values = np.frombuffer(data, dtype=dtype, count=n, offset=offset * dtype.itemsize)
    if chunk.null_count:
        if fill is None:
            msg = "the Arrow array has nulls: give a fill value"
            raise TypeError(msg)
        bits = np.frombuffer(validity, dtype=np.uint8)
        valid = np.unpackbits(bits, bitorder="little", count=offset + n)[offset:].astype(bool)
        values = np.where(valid, values, np.asarray(fill, dtype=values.dtype))
    return values


def to_numpy(array: pa.Array | pa.ChunkedArray, *, fill: object = None) -> np.ndarray:
    """An Arrow array of numbers or booleans as numpy, nulls replaced by ``fill`` (an array
    with nulls and no ``fill`` is an error). Zero copy for one chunk of numbers without nulls;
    the result may be read-only.

    >>> to_numpy(pa.chunked_array([from_numpy(np.array([True, False]))])).tolist()
    [True, False]
    """
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts = [_chunk_to_numpy(c, fill) for c in chunks]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros(0, dtype=_numpy_dtype(array.type))
    return np.concatenate(parts)


def string_array(values: Sequence[str], kind: pa.DataType | None = None) -> pa.Array:
    """Python strings as an Arrow string array (``kind``: ``pa.string()`` by default, or
    ``pa.large_string()``).

    >>> string_array(["TRA", "TRB"]).to_pylist()
    ['TRA', 'TRB']
    """
    kind = pa.string() if kind is None else kind
    encoded = [v.encode("utf-8") for v in values]
    offset_type = np.int64 if pa.types.is_large_string(kind) else np.int32
    offsets = np.zeros(len(encoded) + 1, dtype=offset_type)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(kind, len(encoded), [None, pa.py_buffer(offsets), data])


def scalar(value: bool | int | float | str | None, kind: pa.DataType) -> pa.Scalar:
    """An Arrow scalar of ``kind`` (a string, integer, floating or boolean type; ``None``: the
    null of ``kind``), for a compute function's argument (``pc.multiply(x, scalar(3, ...))``).

    >>> scalar("|", pa.large_string()).as_py()
    '|'
    >>> scalar(None, pa.string()).is_valid
    False
    """
    if value is None:
        return pa.nulls(1, kind)[0]
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return string_array([str(value)], kind)[0]
    return from_numpy(np.array([value], dtype=_numpy_dtype(kind)))[0]


def fill_null(
    values: pa.Array | pa.ChunkedArray, value: bool | int | float | str
) -> pa.Array | pa.ChunkedArray:
    """``pc.fill_null(values, value)`` with ``value`` made an Arrow scalar of the values' type
    (as pyarrow does, without its converter).

    >>> flags = from_numpy(np.array([True, False]), mask=np.array([False, True]))
    >>> fill_null(flags, True).to_pylist()
    [True, True]
    """
    return pc.fill_null(values, scalar(value, values.type))


def indices(rows: np.ndarray) -> pa.Array:
    """Row numbers for ``take`` (int64, zero copy)."""
    return from_numpy(np.asarray(rows, dtype=np.int64))


def take_chunked(array: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``array.take(rows)`` for ascending ``rows``, chunk by chunk: Arrow neither concatenates
    the chunks first (a copy of the whole column) nor resolves each index's chunk."""
    bounds = np.cumsum([0] + [len(c) for c in array.chunks])
    cut = np.searchsorted(rows, bounds)
    parts = [
        chunk.take(indices(rows[cut[i] : cut[i + 1]] - bounds[i]))
        for i, chunk in enumerate(array.chunks)
        if cut[i + 1] > cut[i]
    ]
    return pa.chunked_array(parts, type=array.type)


def combine(array: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The chunks of ``array`` as one array (``combine_chunks``, which converts an empty list of
    chunks through pyarrow's converter).

    >>> combine(pa.chunked_array([], pa.string())).type
    DataType(string)
    """
    if not isinstance(array, pa.ChunkedArray):
        return array
    if array.num_chunks == 0:
        return pa.nulls(0, array.type)
    return array.combine_chunks()


def encode(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dictionary codes (-1 for NA, else numbered by first appearance) and dictionary."""
    encoded = combine(pc.dictionary_encode(array))
    codes = to_numpy(encoded.indices, fill=-1)
    return codes.astype(np.int64, copy=codes.dtype != np.int64), encoded.dictionary


def take_strings(values: Sequence[str], codes: np.ndarray) -> pa.Array:
    """The string ``values[code]`` of each code, NA where the code is -1 (a value computed
    once per distinct entry of :func:`encode`'s dictionary, broadcast to the rows).

    >>> take_strings(["TRA", "TRB"], np.array([1, -1, 0])).to_pylist()
    ['TRB', None, 'TRA']
    """
    return string_array(values).take(from_numpy(codes, mask=codes < 0))


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of integers (codes numbered by first appearance, and the uniques),
    with Arrow's hash table.

    >>> codes, uniques = factorize(np.array([7, 3, 7, 9]))
    >>> codes.tolist(), uniques.tolist()
    ([0, 1, 0, 2], [7, 3, 9])
    """
    codes, dictionary = encode(from_numpy(np.asarray(values)))
    return codes, to_numpy(dictionary)


#: Bytes looked at a time by :func:`may_have_lower_case` (bounds its temporaries).
_SCAN: Final = 1 << 22


def may_have_lower_case(strings: pa.ChunkedArray, *, non_ascii: bool = False) -> bool:
    """Whether any byte of the strings' data is a lower-case ASCII letter (with
    ``non_ascii``, or any byte of 0x80 and above, whose character may have an upper case),
    looked at in place, a block at a time: False means upper-casing would change nothing (a
    false alarm only costs the upper-casing)."""
    for chunk in strings.chunks:
        data = chunk.buffers()[2] if chunk.type.num_buffers == 3 else None
        if data is None or data.size == 0:
            continue
        view = np.frombuffer(data, dtype=np.uint8)
        for start in range(0, len(view), _SCAN):
            block = view[start : start + _SCAN]
            if (np.subtract(block, ord("a"), dtype=np.uint8) < 26).any():
                return True
            if non_ascii and block.max() >= 0x80:
                return True
    return False
