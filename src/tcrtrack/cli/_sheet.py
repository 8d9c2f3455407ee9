"""``--samples sheet.tsv``: run a command once per patient of a sample sheet.

Commands add :data:`samples_option`, call :func:`open_sheet` (which validates the sheet before
any data file is read, and rejects file arguments given alongside it) and render each patient's
result as a :class:`tcrtrack.cli._common.Block` with :func:`tcrtrack.cli._common.emit`, the
same way as the result of files named on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from tcrtrack.cli import _common

if TYPE_CHECKING:
    from tcrtrack.io import SampleSheet

_samples = click.option(
    "--samples",
    "sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Sample sheet (TSV/CSV with patient, sample, timepoint, path and optional reference, "
        "baseline, timepoint_unit, format, unit columns; paths relative to the sheet) instead "
        "of FILE arguments: the analysis runs per patient, one output block per patient, "
        "samples ordered by numeric time point."
    ),
)

#: Where ``--sheet-order`` is kept for :func:`open_sheet` (click's per-invocation store).
_ORDER_KEY = "tcrtrack.sheet_order"


def _remember_order(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta[_ORDER_KEY] = "sheet" if value else "time"


_sheet_order = click.option(
    "--sheet-order",
    is_flag=True,
    expose_value=False,
    callback=_remember_order,
    help=(
        "With --samples: order each patient's samples as the sheet lists them (reference "
        "first) instead of by numeric time point; time points may then be text."
    ),
)


def samples_option(func: Any) -> Any:
    """``--samples SHEET`` and ``--sheet-order``."""
    return _samples(_sheet_order(func))


def open_sheet(
    sheet: Path | None, files: Sequence[Path], names: Sequence[str] = ()
) -> SampleSheet | None:
    """The validated sheet, or None without ``--samples``.

    A usage error if FILE arguments or ``-n`` names are given with it (the sheet names the
    files and samples).
    """
    if sheet is None:
        return None
    if files:
        msg = "give either FILE arguments or --samples SHEET, not both"
        raise click.UsageError(msg)
    if names:
        msg = "-n/--name does not apply with --samples: the sheet's 'sample' column names samples"
        raise click.UsageError(msg)
    from tcrtrack.io import read_sheet

    ctx = click.get_current_context(silent=True)
    order: Literal["time", "sheet"] = "time"
    if ctx is not None and ctx.meta.get(_ORDER_KEY) == "sheet":
        order = "sheet"
    return read_sheet(sheet, order=order)


def require_references(sheet: SampleSheet) -> None:
    """A usage error naming the patients without a reference row."""
    missing = [p for p in sheet.patients if sheet.reference(p) is None]
    if missing:
        msg = (
            f"{sheet.path}: patient(s) {', '.join(map(repr, missing))} have no reference row; "
            "mark the infusion product with reference = true"
        )
        raise click.UsageError(msg)


def patient_counts(sheet: SampleSheet, patient: str, spec: Any) -> tuple[Any, list[str]]:
    """The patient's :class:`~tcrtrack.tl.CloneCounts` and sample names in time order
    (reference first); every sample must have clonotypes."""
    import tcrtrack as tt

    names = sheet.samples(patient)
    _common.progress(f"patient {patient}: reading {len(names)} file(s) ...")
    every = sheet.table  # --unit may name a sample of any patient
    declared = _common.declared_units(
        [Path(str(p)) for p in every["path"]], [str(x) for x in every["sample"]]
    )
    units = {x: u for x, u in declared.items() if x in names}
    counts = tt.tl.clonotypes(sheet.load(patient), spec, units=units or None)
    rows = sheet.table.set_index("sample")
    _common.check_nonempty(counts, {n: str(rows.loc[n, "path"]) for n in names})
    return counts, names


def _paths(value: object) -> list[Path]:
    if isinstance(value, Path):
        return [value]
    if isinstance(value, tuple | list):
        return [v for v in value if isinstance(v, Path)]
    return []


def guard_outputs(command: click.Command) -> None:
    """Make ``command`` check every output path (:func:`_common.check_outputs`) before it does
    any work: against every file argument and option, and the data files of a sample sheet."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard_outputs(sub)
        return
    callback = command.callback
    outputs = [p for p in command.params if isinstance(p.type, _common.OutputPath)]
    if callback is None or not outputs or getattr(callback, "_guarded", False):
        return

    def label(param: click.Parameter) -> str:
        return max(param.opts, key=len) if param.opts else str(param.name)

    def checked(*args: Any, **kwargs: Any) -> Any:
        chosen = {label(p): kwargs[p.name] for p in outputs if kwargs.get(p.name) is not None}
        if chosen:
            inputs = [
                path
                for p in command.params
                if p not in outputs
                for path in _paths(kwargs.get(str(p.name)))
            ]
            sheet = kwargs.get("sheet")
            if isinstance(sheet, Path) and sheet.is_file():
                inputs += _sheet_files(sheet)
            _common.check_outputs(chosen, inputs)
        return callback(*args, **kwargs)

    checked._guarded = True  # type: ignore[attr-defined]
    command.callback = checked


def _sheet_files(sheet: Path) -> list[Path]:
    """The data files a sample sheet names (none if the sheet cannot be read: the command
    reports that itself)."""
    from tcrtrack.errors import TcrtrackError
    from tcrtrack.io import read_sheet

    try:
        table = read_sheet(sheet, order="sheet").table
    except (TcrtrackError, OSError):
        return []
    return [Path(str(p)) for p in table["path"]]


def reference_and_samples(func: Any) -> Any:
    """REF SAMPLE... arguments, ``-n``, ``--samples SHEET`` and the clonotype options."""
    decorators = [
        click.argument("reference", required=False, type=_common.INPUT_FILE, metavar="REF"),
        click.argument("samples", nargs=-1, type=_common.INPUT_FILE, metavar="SAMPLE..."),
        _common.name_option,
        samples_option,
        _common.spec_options,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
