"""Sample sheets for cohorts: ``tt.io.read_sheet`` and :class:`SampleSheet`."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from tcrtrack import schema as s
from tcrtrack.errors import FormatError, NotFoundError, SchemaError
from tcrtrack.io import _files

__all__ = ["SampleSheet", "read_sheet"]

#: Columns a sheet must have.
SHEET_REQUIRED: Final = ("patient", "sample", "timepoint", "path")
#: Optional columns.
SHEET_OPTIONAL: Final = ("reference", "baseline", "timepoint_unit", "format", "unit")
#: How a sheet orders a patient's samples: by numeric time point, or as the rows are listed.
SheetOrder = Literal["time", "sheet"]
SHEET_ORDERS: Final = ("time", "sheet")
_TRUE: Final = frozenset({"true", "t", "yes", "y", "1", "reference", "ref", "x"})
_FALSE: Final = frozenset({"false", "f", "no", "n", "0", ""})
_MAX_PROBLEMS: Final = 10


@dataclass(frozen=True, eq=False)
class SampleSheet:
    """A validated sample sheet: which files belong to which patient, time point and sample.

    Attributes
    ----------
    path
        The sheet file.
    table
        One row per sample: ``patient``, ``sample``, ``timepoint`` (a number with
        ``order="time"``, the text as written with ``order="sheet"``), ``timepoint_unit`` (NA
        when not given), ``path`` (absolute), ``reference`` (bool), ``baseline`` (bool),
        ``format`` (NA = detect), ``unit`` (NA = detect), ``line`` (the line of the sheet the
        sample is on).
    order
        How every command orders a patient's samples: ``"time"`` (by time point) or
        ``"sheet"`` (as the rows are listed); see :meth:`samples`.
    """

    path: Path
    table: pd.DataFrame
    order: SheetOrder = "time"

    @property
    def patients(self) -> list[str]:
        """Patients in order of first appearance."""
        return list(dict.fromkeys(self.table["patient"]))

    def samples(self, patient: str | None = None, *, order: SheetOrder | None = None) -> list[str]:
        """Sample names of ``patient`` (all patients when None), in the order every command
        uses: the reference first, then every other sample by time point (numerically; ties
        keep the sheet's order). ``order="sheet"`` (the default when the sheet was read with
        it): the reference first, then the rows as listed.
        """
        rows = self._rows(patient)
        order = self.order if order is None else order
        if order == "time" and self.order == "sheet":
            msg = (
                f"{self.path}: the sheet was read with order='sheet', so its time points need "
                "not be numbers; read it with order='time' to order samples by time point"
            )
            raise SchemaError(msg)
        frame = pd.DataFrame(
            {
                "ref": ~rows["reference"].to_numpy(),
                "key": rows["timepoint"].to_numpy() if order == "time" else np.arange(len(rows)),
                "sample": rows["sample"].to_numpy(),
            }
        )
        return list(frame.sort_values(["ref", "key"], kind="stable")["sample"])

    def baseline(self, patient: str) -> str | None:
        """The baseline sample of ``patient`` (the blood before the infusion), or None."""
        rows = self._rows(patient)
        base = rows.loc[rows["baseline"], "sample"]
        return str(base.iloc[0]) if len(base) else None

    def later(self, patient: str) -> list[str]:
        """The samples of ``patient`` that are neither the reference nor the baseline, in
        the order of :meth:`samples`."""
        roles = {self.reference(patient), self.baseline(patient)}
        return [x for x in self.samples(patient) if x not in roles]

    def timepoint_unit(self, patient: str) -> str | None:
        """The unit of ``patient``'s time points (the ``timepoint_unit`` column), or None."""
        units = self._rows(patient)["timepoint_unit"].dropna()
        return str(units.iloc[0]) if len(units) else None

    def timepoint_labels(self, patient: str) -> dict[str, str]:
        """Per sample of ``patient``: its time point as a short text (``28`` for 28.0)."""
        rows = self._rows(patient)
        return {
            str(x): (f"{t:g}" if isinstance(t, float) else str(t))
            for x, t in zip(rows["sample"], rows["timepoint"], strict=True)
        }

    def reference(self, patient: str) -> str | None:
        """The reference sample of ``patient`` (the infusion product), or None if not marked."""
        rows = self._rows(patient)
        ref = rows.loc[rows["reference"], "sample"]
        return str(ref.iloc[0]) if len(ref) else None

    def timepoints(self, patient: str | None = None) -> pd.Series:
        """Time point of each sample (index: sample), as written in the sheet."""
        rows = self._rows(patient)
        return pd.Series(
            rows["timepoint"].to_numpy(), index=rows["sample"].to_numpy(), name="timepoint"
        )

    def _rows(self, patient: str | None) -> pd.DataFrame:
        if patient is None:
            return self.table
        if patient not in set(self.table["patient"]):
            msg = (
                f"{self.path}: no patient {patient!r} in the sheet; patients: "
                f"{', '.join(self.patients)}"
            )
            raise NotFoundError(msg)
        return self.table[self.table["patient"] == patient]

    def load(self, patient: str | None = None) -> pd.DataFrame:
        """Read the files of ``patient`` (all patients when None) into one contig table.

        Each file is read with :func:`tcrtrack.io.read` under its ``sample`` name and
        ``format`` (detected when empty); a ``unit`` column declares the unit of bulk counts.
        The tables are joined with :func:`tcrtrack.pp.concat`; samples may count in
        different units (each keeps its own: see :class:`tcrtrack.tl.CloneCounts`).
        """
        from tcrtrack._contigs import concat

        rows = self._rows(patient)
        return concat([self.read(str(name)) for name in rows["sample"]])  # one call per file

    def read(self, sample: str) -> pd.DataFrame:
        """Read one sample's file: :func:`tcrtrack.io.read` with the sheet's name, format, unit."""
        from tcrtrack.io._detect import read

        rows = self.table[self.table["sample"] == sample]
        if rows.empty:
            msg = f"{self.path}: no sample {sample!r} in the sheet"
            raise NotFoundError(msg)
        rec = rows.iloc[0]
        fmt = None if pd.isna(rec["format"]) else str(rec["format"])
        table = read(rec["path"], sample=sample, format=fmt)
        if not pd.isna(rec["unit"]):
            table.attrs[s.ATTRS_UNIT] = str(rec["unit"])
        return table

    def to_frame(self) -> pd.DataFrame:
        """The sheet as a table (one row per sample)."""
        return self.table.copy()

    def __repr__(self) -> str:
        return (
            f"SampleSheet({str(self.path)!r}, {len(self.patients)} patient(s), "
            f"{len(self.table)} sample(s))"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>SampleSheet</b> {self.path}: {len(self.patients)} patient(s), "
            f"{len(self.table)} sample(s)</p>" + self.table.drop(columns=["path"]).to_html()
        )


def _number(text: str) -> float:
    """``text`` as a finite float, else NaN."""
    try:
        value = float(text)
    except ValueError:
        return float("nan")
    return value if np.isfinite(value) else float("nan")


def read_sheet(
    path: str | os.PathLike[str], *, check_files: bool = True, order: SheetOrder = "time"
) -> SampleSheet:
    """Read and validate a sample sheet (CSV or TSV).

    Columns: ``patient``, ``sample``, ``timepoint``, ``path`` (relative to the sheet's folder,
    or absolute), and optionally ``reference`` (``true``/``false``, ``yes``/``no``, ``1``/``0``
    or ``x``/empty marking the reference sample, e.g. the infusion product), ``baseline``
    (the same yes/no values, marking the patient's blood before the infusion),
    ``timepoint_unit`` (what the time points count, e.g. ``days``; one per patient),
    ``format`` (a name from :func:`tcrtrack.io.known_formats`; empty = detect) and ``unit``
    (``templates``, ``reads``, ``umis`` or ``cells``: declare the unit of bulk counts). Lines
    starting with ``#`` and blank lines are ignored.

    **Time order**: ``timepoint`` is a number (days, or the ``timepoint_unit``; negative for
    samples before the infusion is fine), and every command orders a patient's samples the
    same way: the reference first, then the others by time point (ties keep the sheet's
    order). A time point that is not a number (``4W``, ``FU1``) is an error naming its line,
    unless ``order="sheet"`` (``--sheet-order`` on the command line) asks for the sheet's own
    row order, in which case time points are kept as text and never compared.

    Everything is checked before any data file is read, and all problems are reported
    together, each with its line: a required column missing, an empty patient, sample or
    path, a file that does not exist (``check_files``), a sample named twice, two references
    or two baselines for one patient, a sample that is both reference and baseline, a time
    point that is not a number, two time-point units for one patient, an unknown format or
    unit, a ``reference`` or ``baseline`` value that is not a yes/no.

    Raises
    ------
    tcrtrack.errors.InputError
        The sheet itself cannot be read.
    tcrtrack.errors.FormatError
        The sheet is invalid; the message lists the problems with their line numbers.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os, shutil
    >>> folder = tempfile.mkdtemp()
    >>> _ = shutil.copy(tt.datasets.path("pbmc3_t_filtered"), os.path.join(folder, "a.csv.gz"))
    >>> with open(os.path.join(folder, "sheet.tsv"), "w") as fh:
    ...     _ = fh.write("patient\\tsample\\ttimepoint\\tpath\\treference\\n"
    ...                  "P1\\tinfusion\\t0\\ta.csv.gz\\ttrue\\n")
    >>> sheet = tt.io.read_sheet(os.path.join(folder, "sheet.tsv"))
    >>> sheet.patients, sheet.reference("P1")
    (['P1'], 'infusion')
    """
    p = _files.check_path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{p}: cannot read the sample sheet ({e}); save it as UTF-8 text"
        raise FormatError(msg) from e
    lines = [
        (i + 1, line)
        for i, line in enumerate(text.splitlines())
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        msg = f"{p}: the sample sheet is empty; expected a header line: {', '.join(SHEET_REQUIRED)}"
        raise FormatError(msg)
    delimiter, _ = _files.split_header(lines[0][1])
    reader = csv.reader(io.StringIO("\n".join(line for _, line in lines)), delimiter=delimiter)
    records = list(reader)
    header = [h.strip().lower() for h in records[0]]
    _files.check_header(p, header)
    missing = [c for c in SHEET_REQUIRED if c not in header]
    if missing:
        msg = (
            f"{p}, line {lines[0][0]}: the sample sheet lacks column(s) {', '.join(missing)}; "
            f"columns seen: {', '.join(header)}. A sheet needs {', '.join(SHEET_REQUIRED)} and "
            f"may have {', '.join(SHEET_OPTIONAL)}"
        )
        raise FormatError(msg)
    if order not in SHEET_ORDERS:
        msg = f"order must be one of {', '.join(SHEET_ORDERS)}, got {order!r}"
        raise SchemaError(msg)
    from tcrtrack.io._detect import known_formats

    formats = [f.name for f in known_formats()]
    problems: list[str] = []
    rows = []
    for (line_no, _), values in zip(lines[1:], records[1:], strict=True):
        if len(values) != len(header):
            problems.append(
                f"line {line_no}: {len(values)} field(s) where the header has {len(header)}"
            )
            continue
        rec = {h: v.strip() for h, v in zip(header, values, strict=True)}
        for col in ("patient", "sample", "path"):
            if not rec[col]:
                problems.append(f"line {line_no}: empty {col!r}")
        flags = {}
        for role in ("reference", "baseline"):
            text = rec.get(role, "").lower()
            flags[role] = text in _TRUE or text == role
            if text not in _TRUE | _FALSE | {role}:
                problems.append(
                    f"line {line_no}: {role} {rec[role]!r} is not a yes/no value "
                    "(use true/false, yes/no, 1/0, or x / empty)"
                )
        if flags["reference"] and flags["baseline"]:
            problems.append(
                f"line {line_no}: sample {rec['sample']!r} is marked both reference and "
                "baseline; the reference is the infusion product, the baseline the blood "
                "before it: mark one"
            )
        timepoint: object = rec["timepoint"]
        if order == "time":
            timepoint = _number(rec["timepoint"])
            if np.isnan(timepoint):
                problems.append(
                    f"line {line_no}: time point {rec['timepoint']!r} is not a number; write "
                    "it as a number (e.g. days: -7, 0, 28, 90, with the unit in a "
                    "'timepoint_unit' column), or keep the sheet's row order with "
                    "--sheet-order (order='sheet' in Python)"
                )
        fmt = rec.get("format", "")
        if fmt and fmt not in formats:
            problems.append(
                f"line {line_no}: unknown format {fmt!r}; known formats: {', '.join(formats)}"
                " (or leave it empty to detect)"
            )
        unit = rec.get("unit", "").lower()
        if unit and unit not in s.UNITS:
            problems.append(
                f"line {line_no}: unknown unit {rec['unit']!r}; use {', '.join(s.UNITS)}"
            )
        file = Path(rec["path"]) if rec["path"] else None
        if file is not None and not file.is_absolute():
            file = p.parent / file
        if check_files and file is not None and not file.is_file():
            problems.append(f"line {line_no}: file {rec['path']!r} not found (looked for {file})")
        rows.append(
            {
                "patient": rec["patient"],
                "sample": rec["sample"],
                "timepoint": timepoint,
                "timepoint_unit": rec.get("timepoint_unit", "") or pd.NA,
                "path": str(file) if file is not None else "",
                "reference": flags["reference"],
                "baseline": flags["baseline"],
                "format": fmt or pd.NA,
                "unit": unit or pd.NA,
                "line": line_no,
            }
        )
    if len(lines) == 1:
        problems.append("no samples: the sheet has a header but no rows")
    table = pd.DataFrame(
        rows,
        columns=[
            "patient",
            "sample",
            "timepoint",
            "timepoint_unit",
            "path",
            "reference",
            "baseline",
            "format",
            "unit",
            "line",
        ],
    )
    dup = table[table["sample"].duplicated(keep=False) & (table["sample"] != "")]
    for name, group in dup.groupby("sample", sort=False):
        problems.append(
            f"lines {', '.join(map(str, group['line']))}: sample {name!r} named twice; "
            "give each sample its own name"
        )
    for role in ("reference", "baseline"):
        marked = table[table[role].astype(bool)]
        for patient, group in marked.groupby("patient", sort=False):
            if len(group) > 1:
                problems.append(
                    f"lines {', '.join(map(str, group['line']))}: patient {patient!r} has "
                    f"{len(group)} {role}s ({', '.join(group['sample'])}); mark one"
                )
    for patient, group in table.groupby("patient", sort=False):
        units = group["timepoint_unit"].dropna().unique()
        if len(units) > 1:
            problems.append(
                f"lines {', '.join(map(str, group['line']))}: patient {patient!r} has time "
                f"points in {len(units)} units ({', '.join(map(repr, units))}); convert them "
                "to one unit"
            )
    if problems:
        shown = problems[:_MAX_PROBLEMS]
        more = len(problems) - len(shown)
        msg = (
            f"{p}: invalid sample sheet: "
            + "; ".join(shown)
            + (f"; and {more} more problem(s)" if more else "")
        )
        raise FormatError(msg)
    table["reference"] = table["reference"].astype(bool)
    table["baseline"] = table["baseline"].astype(bool)
    table["line"] = table["line"].astype("int64")
    if order == "time":
        table["timepoint"] = table["timepoint"].astype("float64")
    return SampleSheet(path=p, table=table.reset_index(drop=True), order=order)
