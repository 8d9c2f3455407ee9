"""How results are shown to a person: the words and number formats of the readable tables.

One rendering per result type: :meth:`tcrtrack.tl.Sharing.display_tables`,
:meth:`tcrtrack.tl.Rarefaction.display_table`, :meth:`tcrtrack.tl.Track.display_table`,
:meth:`tcrtrack.tl.Persistence.display_tables`, :meth:`tcrtrack.tl.Diversity.display_tables` and
:func:`overlap_table` return string DataFrames labelled in the data's unit (``cells`` for
single-cell data, ``templates``/``reads``/``umis`` for bulk data); the command line prints them,
the report escapes them, the plots label their axes with :func:`fraction_labels`. This module is
the one place that names the sharing fractions in words.

A result that the command line prints on its own (the sharing table of ``tcrtrack share``) is
also available as :class:`Columns`, plain columns that print, and write TSV, CSV and JSON, as
pandas would print and write the same table, without importing pandas (the start-up of a small
run: docs/performance.md).
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: The four sharing fractions of :func:`tcrtrack.tl.sharing` (columns of its table).
SharingFraction = Literal[
    "frac_clonotypes_shared",
    "frac_cells_shared",
    "frac_reference_clonotypes_detected",
    "frac_reference_cells_detected",
]
SHARING_FRACTIONS: tuple[str, ...] = get_args(SharingFraction)


#: The word for the count-weighted columns of samples counted in different units (each value
#: then names its own unit).
MIXED_UNITS: Final = "units"


def fraction_labels(
    unit: str, reference: str = "reference", reference_unit: str | None = None
) -> dict[str, str]:
    """The sharing fractions in words, in the samples' ``unit``, against ``reference``
    (whose own fractions are in ``reference_unit``, default ``unit``).

    >>> fraction_labels("templates", "infusion")["frac_reference_cells_detected"]
    'infusion templates found'
    >>> fraction_labels("reads", "infusion", "cells")["frac_reference_cells_detected"]
    'infusion cells found'
    """
    return {
        "frac_clonotypes_shared": f"clonotypes shared with {reference}",
        "frac_cells_shared": f"{unit} in shared clonotypes",
        "frac_reference_clonotypes_detected": f"{reference} clonotypes found",
        "frac_reference_cells_detected": f"{reference} {reference_unit or unit} found",
    }


def missing(value: Any) -> bool:
    """Whether ``value`` is None or NA (NaN, or pandas' NA when pandas is in use: no pandas
    object exists before pandas is imported, so it is not imported here)."""
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:  # not a number
        pass
    pd = sys.modules.get("pandas")
    return pd is not None and bool(pd.isna(value))


def interval(low: Any, high: Any) -> str:
    """`` [low-high%]`` in percent, empty when either bound is missing.

    >>> interval(0.09, 0.105)
    ' [9.00-10.50%]'
    """
    if missing(low) or missing(high):
        return ""
    return f" [{100 * low:.2f}-{100 * high:.2f}%]"


def mean_interval(mean: float, low: float, high: float) -> str:
    """``mean% [low-high%]`` in percent (a rarefied fraction: the mean over subsamples and
    their central range)."""
    return f"{100 * mean:.2f}%" + interval(low, high)


def count_of(num: int, den: int, low: Any = None, high: Any = None, unit: str = "") -> str:
    """``num/den = percent`` (``NA`` for a zero denominator), with the interval if given;
    ``unit`` after the denominator (for samples counted in different units).

    >>> count_of(640, 6560, 0.09, 0.105)
    '640/6,560 = 9.76% [9.00-10.50%]'
    >>> count_of(640, 6560, unit="reads")
    '640/6,560 reads = 9.76%'
    """
    den_text = f"{den:,} {unit}" if unit else f"{den:,}"
    if not den:
        return f"{num:,}/{den_text} = NA"
    return f"{num:,}/{den_text} = {100 * num / den:.2f}%" + interval(low, high)


def overlap_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """The readable form of a :func:`tcrtrack.tl.overlap` matrix: 3 decimals, ``NA`` where
    the index is undefined (an empty sample)."""
    return matrix.map(lambda v: "NA" if missing(v) else f"{v:.3f}")


#: The columns of a shared clonotype shown beside it with a background or Pgen, in order.
PUBLICITY_COLUMNS: tuple[str, ...] = (
    "clonotype",
    "n_samples_found",
    "n_background_donors",
    "public",
    "pgen",
)


def publicity_table(clones: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """The readable list of shared clonotypes with their background columns (those of
    :data:`PUBLICITY_COLUMNS` present), the ``top`` first (all when None); Pgen with 3
    significant digits, counts with thousands separators.

    >>> import pandas as pd
    >>> clones = pd.DataFrame({"clonotype": ["CASSF"], "n_samples_found": [2],
    ...                        "n_background_donors": [3], "public": [True], "pgen": [1.234e-9]})
    >>> publicity_table(clones).iloc[0].tolist()
    ['CASSF', '2', '3', 'yes', '1.23e-09']
    """
    cols = [c for c in PUBLICITY_COLUMNS if c in clones.columns]
    shown = clones[cols].head(top) if top is not None else clones[cols]
    view = shown.astype(str).reset_index(drop=True)
    for col in ("n_samples_found", "n_background_donors"):
        if col in shown.columns:
            view[col] = [f"{int(v):,}" for v in shown[col]]
    if "public" in shown.columns:
        view["public"] = ["yes" if v else "no" for v in shown["public"]]
    if "pgen" in shown.columns:
        view["pgen"] = [f"{float(p):.3g}" for p in shown["pgen"]]
    return view


@dataclass(frozen=True)
class Columns:
    """A table as plain columns, in order: numbers (numpy ``int64``, or ``float64`` with NaN
    for NA) or strings, one row per entry of ``index``.

    :meth:`to_string`, :meth:`to_csv` and :meth:`records` give what pandas gives for the
    DataFrame :meth:`to_pandas` builds (``tests/test_display.py`` compares them); the command
    line uses them to print a result without importing pandas.

    Examples
    --------
    >>> import numpy as np
    >>> table = Columns(("a", "b"), {"n": np.array([3, 40]), "f": np.array([0.5, np.nan])})
    >>> print(table.to_csv("\\t"), end="")
    sample\tn\tf
    a\t3\t0.5
    b\t40\t
    """

    index: tuple[str, ...]
    columns: Mapping[str, Sequence[Any] | np.ndarray]
    index_name: str = "sample"

    def _kind(self, name: str) -> Literal["int", "float", "str"]:
        import numpy as np

        values = self.columns[name]
        if isinstance(values, np.ndarray):
            if values.dtype.kind in "iu":
                return "int"
            if values.dtype.kind == "f":
                return "float"
        if all(isinstance(v, str) for v in values):
            return "str"
        msg = f"column {name!r}: numbers as a numpy array or strings, got {type(values)}"
        raise TypeError(msg)

    def to_pandas(self) -> pd.DataFrame:
        """The DataFrame: ``int64`` and ``Float64`` (NA for NaN) columns, strings as objects,
        the index named :attr:`index_name`."""
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for name, values in self.columns.items():
            kind = self._kind(name)
            if kind == "int":
                data[name] = pd.array(np.asarray(values, dtype=np.int64), dtype="int64")
            elif kind == "float":
                data[name] = pd.array(np.asarray(values, dtype=np.float64), dtype="Float64")
            else:
                data[name] = list(values)
        return pd.DataFrame(data, index=pd.Index(list(self.index), name=self.index_name))

    def to_string(self) -> str:
        """The aligned text of ``DataFrame.to_string()`` (string columns only): the index
        left-justified under an empty corner, its name on a line of its own, every column
        right-justified to its widest value (written after one space) or header."""
        widths = {}
        for name, values in self.columns.items():
            if self._kind(name) != "str":
                msg = f"to_string prints string columns; {name!r} holds numbers"
                raise TypeError(msg)
            widths[name] = max([len(name), *(len(v) + 1 for v in values)])
        left = max([len(self.index_name), *(len(x) for x in self.index)])
        lines = [" " * left + "".join(f" {name:>{w}}" for name, w in widths.items())]
        lines.append(self.index_name.ljust(left) + "".join(" " * (w + 1) for w in widths.values()))
        for i, label in enumerate(self.index):
            cells = "".join(f" {' ' + self.columns[name][i]:>{w}}" for name, w in widths.items())
            lines.append(label.ljust(left) + cells)
        return "\n".join(lines)

    def _text(self, name: str, i: int) -> str:
        value = self.columns[name][i]
        kind = self._kind(name)
        if kind == "float":
            return "" if math.isnan(value) else repr(float(value))
        return str(int(value)) if kind == "int" else str(value)

    def to_csv(self, sep: str) -> str:
        """``DataFrame.to_csv(sep=sep, lineterminator="\\n")``: a header with the index name,
        NA as an empty field, floats as Python writes them, quoted as the ``csv`` module
        quotes (as pandas does)."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sep, lineterminator="\n")
        writer.writerow([self.index_name, *self.columns])
        for i, label in enumerate(self.index):
            writer.writerow([label, *(self._text(name, i) for name in self.columns)])
        return out.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """``json.loads(frame.reset_index().to_json(orient="records"))``: one dict per row,
        NA as None, floats as pandas writes them to JSON (10 decimals, :func:`json_float`)."""
        rows = []
        for i, label in enumerate(self.index):
            row: dict[str, Any] = {self.index_name: label}
            for name, values in self.columns.items():
                kind = self._kind(name)
                if kind == "float":
                    row[name] = json_float(float(values[i]))
                else:
                    row[name] = int(values[i]) if kind == "int" else values[i]
            rows.append(row)
        return rows


def json_float(value: float) -> float | None:
    """The number pandas' ``to_json`` writes for ``value`` (its default ``double_precision``
    of 10), as Python reads it back: ``None`` for NaN; the value rounded to 10 decimals as
    pandas' encoder rounds (the fraction's digits as an integer, half to odd); ``%.10g`` for
    values beyond 1e16 or below 1e-15.

    >>> json_float(1 / 3), json_float(5e-11), json_float(float("nan"))
    (0.3333333333, 1e-10, None)
    """
    if math.isnan(value):
        return None
    if math.isinf(value):
        return value
    sign = -1.0 if value < 0 else 1.0
    v = abs(value)
    if v > 1e16 - 1 or (v != 0.0 and v < 1e-15):
        return sign * float(f"{v:.10g}")
    whole = int(v)
    scaled = (v - whole) * 1e10
    frac = int(scaled)
    diff = scaled - frac
    if diff > 0.5 or (diff == 0.5 and (frac == 0 or frac & 1)):
        frac += 1
    if frac >= 10**10:
        frac = 0
        whole += 1
    return sign * float(f"{whole}.{frac:010d}")
