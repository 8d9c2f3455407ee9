"""Small bridges between pandas columns and Arrow arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ARROW_STRING = pd.StringDtype("pyarrow")


def strings(series: pd.Series) -> pa.ChunkedArray:
    """A string column as an Arrow array (zero-copy for ``string[pyarrow]`` columns)."""
    if series.dtype != _ARROW_STRING:
        series = series.astype(_ARROW_STRING)
    return series.array.__arrow_array__()  # type: ignore[union-attr]


def take_chunked(array: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``array.take(rows)`` for ascending ``rows``, chunk by chunk: Arrow neither concatenates
    the chunks first (a copy of the whole column) nor resolves each index's chunk."""
    bounds = np.cumsum([0] + [len(c) for c in array.chunks])
    cut = np.searchsorted(rows, bounds)
    parts = [
        chunk.take(pa.array(rows[cut[i] : cut[i + 1]] - bounds[i]))
        for i, chunk in enumerate(array.chunks)
        if cut[i + 1] > cut[i]
    ]
    return pa.chunked_array(parts, type=array.type)


def encode(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dictionary codes (-1 for NA, else numbered by first appearance) and dictionary."""
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    indices = encoded.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    return np.asarray(indices, dtype=np.int64), encoded.dictionary
