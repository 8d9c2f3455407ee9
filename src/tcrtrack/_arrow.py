"""Small bridges between pandas columns and Arrow arrays."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

_ARROW_STRING = pd.StringDtype("pyarrow")


def strings(series: pd.Series) -> pa.ChunkedArray:
    """A string column as an Arrow array (zero-copy for ``string[pyarrow]`` columns)."""
    if series.dtype != _ARROW_STRING:
        series = series.astype(_ARROW_STRING)
    return series.array.__arrow_array__()  # type: ignore[union-attr]
