"""Writers of clonotype counts and results to TSV or Parquet."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from tcrtrack._atomic import write_atomic
from tcrtrack.errors import FormatError

__all__ = ["write_counts", "write_table"]

TableFormat = Literal["tsv", "csv", "parquet"]


class Counts(Protocol):
    """What :func:`write_counts` needs of a :class:`~tcrtrack.tl.CloneCounts` (``tt.io``
    writes results without knowing the analysis that made them)."""

    @property
    def unit(self) -> str: ...

    @property
    def spec(self) -> object: ...

    def to_frame(self, *, layout: Literal["wide", "long"] = ...) -> pd.DataFrame: ...


def _format_of(path: Path, fmt: TableFormat | None) -> TableFormat:
    if fmt is not None:
        if fmt not in ("tsv", "csv", "parquet"):
            msg = f"unknown table format {fmt!r}; use 'tsv', 'csv' or 'parquet'"
            raise FormatError(msg)
        return fmt
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tsv", ".txt", ".tab")):
        return "tsv"
    msg = (
        f"{path}: cannot tell the format from the extension; name the file .tsv, .csv or "
        ".parquet, or pass format="
    )
    raise FormatError(msg)


def write_table(
    result: Any,
    path: str | os.PathLike[str],
    *,
    format: TableFormat | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write a result (anything with ``to_frame()``) or a DataFrame as TSV, CSV or Parquet.

    The format follows the extension (``.tsv``, ``.csv``, ``.parquet``; ``.gz`` compresses
    text). Parquet keeps the column types, and ``metadata`` (e.g. the unit and clonotype
    definition) is stored in the file's key-value metadata under ``tcrtrack``.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os, pandas as pd
    >>> cc = tt.tl.clonotypes(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p"))
    >>> out = os.path.join(tempfile.mkdtemp(), "summary.tsv")
    >>> tt.io.write_table(cc.summary(), out)
    >>> bool(pd.read_csv(out, sep="\\t", index_col=0).loc["p", "cells"] == cc.totals()["p"])
    True
    """
    p = Path(path)
    fmt = _format_of(p, format)
    frame = result if isinstance(result, pd.DataFrame) else result.to_frame()
    keep_index = not isinstance(frame.index, pd.RangeIndex)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=keep_index)
        if metadata:
            meta = dict(table.schema.metadata or {})
            meta[b"tcrtrack"] = json.dumps(metadata).encode()
            table = table.replace_schema_metadata(meta)
        write_atomic(p, lambda tmp: pq.write_table(table, tmp))
        return
    sep = "\t" if fmt == "tsv" else ","
    write_atomic(
        p,
        lambda tmp: frame.to_csv(tmp, sep=sep, index=keep_index, na_rep=""),
    )


def write_counts(
    counts: Counts,
    path: str | os.PathLike[str],
    *,
    format: TableFormat | None = None,
    layout: Literal["wide", "long"] = "wide",
) -> None:
    """Write :class:`~tcrtrack.tl.CloneCounts` as a table.

    ``wide``: one row per clonotype, its defining columns, then one count column per sample
    (:meth:`CloneCounts.to_frame`). ``long``: one row per sample and clonotype found in it
    (``sample``, the clonotype's columns, ``count``), zeros omitted. Parquet files carry the
    unit and the clonotype definition in their metadata.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os, pandas as pd
    >>> cc = tt.tl.clonotypes(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="p"))
    >>> out = os.path.join(tempfile.mkdtemp(), "counts.tsv")
    >>> tt.io.write_counts(cc, out, layout="long")
    >>> int(pd.read_csv(out, sep="\\t")["count"].sum()) == int(cc.totals()["p"])
    True
    """
    frame = counts.to_frame(layout=layout)
    write_table(
        frame, path, format=format, metadata={"unit": counts.unit, "spec": str(counts.spec)}
    )
