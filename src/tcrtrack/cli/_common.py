"""Shared pieces of the commands: error reporting, output formats, sample names."""

from __future__ import annotations

import functools
import json
import math
import os
import shlex
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, get_args

import click

from tcrtrack import schema
from tcrtrack.errors import EmptyError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from tcrtrack._display import Columns
    from tcrtrack.tl import CloneCounts, ClonotypeSpec

#: A decorator adding options to a click command.
Decorator = Callable[[Any], Any]

OutputFormat = Literal["table", "tsv", "csv", "json"]
FORMATS = get_args(OutputFormat)


@dataclass
class _State:
    debug: bool = False


STATE = _State()


#: Exit status of a user error (data, file or argument): one line on stderr.
EXIT_USER_ERROR = 1
#: Exit status of a usage error (click's own).
EXIT_USAGE = 2
#: Exit status of an internal error, a bug in tcrtrack.
EXIT_INTERNAL_ERROR = 3
#: Exit status when interrupted with Ctrl-C.
EXIT_INTERRUPTED = 130


def report_error(error: BaseException, args: Sequence[str] = ()) -> int:
    """Print one line for ``error`` on stderr (a traceback with ``--debug``); return the status.

    A :class:`~tcrtrack.errors.TcrtrackError` or an :class:`OSError` is a user error (exit 1);
    anything else is a bug in tcrtrack, reported with the version and the command (exit 3).
    """
    from tcrtrack._version import __version__
    from tcrtrack.errors import TcrtrackError

    if STATE.debug:
        traceback.print_exception(error)
    if isinstance(error, TcrtrackError | OSError):
        click.echo(f"tcrtrack: error: {error}", err=True)
        return EXIT_USER_ERROR
    command = shlex.join(["tcrtrack", *args])
    click.echo(
        f"tcrtrack: internal error: {type(error).__name__}: {error} "
        f"(tcrtrack {__version__}, command: {command}); "
        "rerun with --debug and report the traceback",
        err=True,
    )
    return EXIT_INTERNAL_ERROR


def warnings_to_stderr() -> None:
    """Print each :class:`~tcrtrack.errors.TcrtrackWarning` as one line on stderr (inside a
    ``warnings.catch_warnings()`` block, which restores the previous behaviour)."""

    from tcrtrack.errors import TcrtrackWarning

    previous = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, TcrtrackWarning):
            warning(str(message))
        else:
            previous(message, category, filename, lineno, file, line)

    warnings.simplefilter("always", TcrtrackWarning)
    warnings.showwarning = show


def warning(message: str) -> None:
    """One line on stderr: ``tcrtrack: warning: message`` (the library's warnings, lossy but
    legal steps the command took)."""
    click.echo(f"tcrtrack: warning: {message}", err=True)


def usage_error(message: str) -> click.UsageError:
    """A usage error (exit status 2) with ``message``."""
    return click.UsageError(message)


def sample_names(paths: list[Path], names: list[str] | None) -> list[str]:
    """Names given with ``-n``, else file stems; both must be distinct."""
    from tcrtrack.io import sample_name

    if names:
        if len(names) != len(paths):
            msg = (
                f"{len(names)} name(s) given with -n/--name for {len(paths)} file(s); "
                "give one name per file"
            )
            raise usage_error(msg)
        result = list(names)
    else:
        result = [sample_name(p) for p in paths]
    dupes = sorted({n for n in result if result.count(n) > 1})
    if dupes:
        msg = f"sample name(s) {', '.join(map(repr, dupes))} given twice; name samples with -n"
        raise usage_error(msg)
    return result


def format_table(frame: pd.DataFrame, *, index: bool = True) -> str:
    """A plain, aligned text table (no colours, stable for golden files)."""
    return frame.to_string(index=index)


@dataclass(frozen=True)
class Block:
    """One patient's output (``patient`` None for files named on the command line).

    ``frame`` is what TSV/CSV print, ``text`` the readable table, ``fields`` the block's JSON
    fields besides ``patient``; the rows of ``frame`` are added to them as ``rows`` unless
    ``rows`` is False (a command whose ``fields`` already hold every number).
    """

    patient: str | None
    frame: pd.DataFrame | Columns
    text: str
    fields: dict[str, object]
    rows: bool = True


def emit(
    command: str,
    clonotype: str | None,
    blocks: Sequence[Block],
    fmt: OutputFormat | str,
    output: Path | None,
) -> None:
    """Write the blocks of ``command`` in ``fmt`` to ``output`` (or stdout), one shape whether
    the samples came from files or from a sample sheet.

    ``table``: each block's text, titled ``== Patient P ==`` with a sheet. ``tsv``/``csv``: the
    blocks' rows one after the other, with a leading ``patient`` column with a sheet. ``json``:
    ``{"command", "clonotype", "patients": [{"patient", ...fields, "rows"}]}``, ``patient``
    null for files (docs/cli.md). A block's :class:`~tcrtrack._display.Columns` write as the
    DataFrame they make would (without importing pandas) unless blocks are joined.
    """
    from tcrtrack._display import Columns

    sheet = any(b.patient is not None for b in blocks)
    if fmt == "table":
        texts = [f"== Patient {b.patient} ==\n{b.text}" if sheet else b.text for b in blocks]
        body = "\n\n".join(texts) + "\n"
    elif fmt in ("tsv", "csv"):
        sep = "\t" if fmt == "tsv" else ","
        if len(blocks) == 1 and not sheet and isinstance(blocks[0].frame, Columns):
            body = blocks[0].frame.to_csv(sep)
        elif sheet:
            import pandas as pd

            frames = []
            for b in blocks:
                frame = _dataframe(b.frame).reset_index()
                frame.insert(0, "patient", b.patient)
                frames.append(frame)
            joined = pd.concat(frames, ignore_index=True)
            body = joined.to_csv(sep=sep, index=False, lineterminator="\n")
        else:
            import pandas as pd

            frame = pd.concat([_dataframe(b.frame) for b in blocks])
            body = frame.to_csv(sep=sep, index=True, lineterminator="\n")
    else:
        patients = []
        for b in blocks:
            entry: dict[str, object] = {"patient": b.patient, **b.fields}
            if b.rows and isinstance(b.frame, Columns):
                entry["rows"] = b.frame.records()
            elif b.rows:
                frame = _dataframe(b.frame)
                entry["rows"] = json.loads(frame.reset_index().to_json(orient="records"))
            patients.append(entry)
        payload = {"command": command, "clonotype": clonotype, "patients": patients}
        body = json.dumps(payload, indent=2) + "\n"
    if output is None:
        sys.stdout.write(body)
    else:
        write_text(output, body)


def _dataframe(frame: pd.DataFrame | Columns) -> pd.DataFrame:
    from tcrtrack._display import Columns

    return frame.to_pandas() if isinstance(frame, Columns) else frame


class OutputPath(click.Path):
    """A file a command writes (``-o``, figures, extra tables): before the command does any
    work, every such path is checked (:func:`check_outputs`), and it is written through
    :func:`write_file`."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)


#: The type of every option naming a file the command writes.
OUTPUT_FILE = OutputPath()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(outputs: Mapping[str, Path], inputs: Iterable[Path]) -> None:
    """Refuse, before any work, an output that is an input, that two options share, that is a
    folder, or whose folder is missing or not writable (``outputs``: option -> path)."""
    from tcrtrack.errors import InputError, ParameterError

    inputs = [Path(p) for p in inputs]
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        resolved = os.path.realpath(path)
        for source in inputs:
            if resolved == os.path.realpath(source) or _same_file(path, source):
                msg = (
                    f"{option} {str(path)!r} is also an input file: writing it would destroy "
                    "the data; choose another output path"
                )
                raise ParameterError(msg)
        if resolved in seen:
            msg = (
                f"{option} and {seen[resolved]} both name {str(path)!r}; give each output its "
                "own file"
            )
            raise ParameterError(msg)
        seen[resolved] = option
        folder = path.parent
        if path.is_dir():
            msg = f"{option} {str(path)!r} is a folder; give a file name inside it"
            raise InputError(msg)
        if not folder.is_dir():
            msg = (
                f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist; create it "
                "or choose another path"
            )
            raise InputError(msg)
        if not os.access(folder, os.W_OK | os.X_OK) or (
            path.exists() and not os.access(path, os.W_OK)
        ):
            msg = f"{option} {str(path)!r}: not writable; choose another path"
            raise InputError(msg)


def write_file(path: Path, write: Callable[[Path], object]) -> None:
    """Write an output through :func:`tcrtrack._atomic.write_atomic` (a temporary file in the
    same folder, renamed over ``path`` when complete: an interrupted or failed run leaves the
    old file or none, never half of one). Prints ``tcrtrack: wrote PATH`` on stderr."""
    from tcrtrack._atomic import write_atomic

    click.echo(f"tcrtrack: wrote {write_atomic(path, write)}", err=True)


def write_text(path: Path, body: str) -> None:
    """:func:`write_file` of a text."""
    write_file(path, lambda tmp: tmp.write_text(body, encoding="utf-8"))


def progress(message: str) -> None:
    """A progress line on stderr (only when stderr is a terminal)."""
    if sys.stderr.isatty() and not os.environ.get("TCRTRACK_QUIET"):
        click.echo(message, err=True)


#: Input files: existence and permissions are checked by the library, which names the file and
#: the fix in one line (exit 1), not by click (exit 2).
INPUT_FILE = click.Path(path_type=Path, readable=False)

name_option = click.option(
    "-n",
    "--name",
    "name",
    multiple=True,
    help="Sample name, once per file in order (default: the file name without extensions).",
)
format_option = click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format: a readable table, TSV, CSV or JSON.",
)
output_option = click.option(
    "-o",
    "--output",
    type=OUTPUT_FILE,
    default=None,
    help="Write the result to this file instead of standard output.",
)


#: Where the ``--unit`` declarations are kept for :func:`load_counts` (click's per-invocation
#: store): ``(as written, FILE or NAME, unit)`` each.
_UNITS_KEY = "tcrtrack.units"


def _remember_units(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    declared = []
    for item in value:
        target, sep, unit = item.rpartition("=")
        if not sep or not target.strip():
            msg = f"{item!r}: give FILE=UNIT or NAME=UNIT (e.g. --unit day32.tsv=reads)"
            raise click.BadParameter(msg, ctx=ctx, param=param)
        unit = unit.strip().lower()
        if unit not in schema.UNITS:
            msg = f"{item!r}: unknown unit {unit!r}; use one of {', '.join(schema.UNITS)}"
            raise click.BadParameter(msg, ctx=ctx, param=param)
        declared.append((item, target.strip(), unit))
    ctx.meta[_UNITS_KEY] = declared


unit_option = click.option(
    "--unit",
    "unit",
    multiple=True,
    expose_value=False,
    callback=_remember_units,
    metavar="FILE=UNIT",
    help="What a file's counts count (templates, reads, umis or cells), by file or sample "
    "name (NAME=UNIT); repeat for several files. Like a sample sheet's unit column: replaces "
    "the unit the reader detected or assumed. Samples may count in different units: "
    "presence-level results work, count comparisons across samples refuse.",
)


def declared_units(paths: Sequence[Path], names: Sequence[str]) -> dict[str, str]:
    """Sample -> unit of the ``--unit`` declarations, matched to the inputs by sample name,
    by the file as written, or by the same file; a usage error for one naming no input, or
    two declaring different units for one sample."""
    ctx = click.get_current_context(silent=True)
    declared = [] if ctx is None else ctx.meta.get(_UNITS_KEY, [])
    out: dict[str, str] = {}
    for item, target, unit in declared:
        hits = [
            name
            for path, name in zip(paths, names, strict=True)
            if target in (name, str(path)) or _same_path(Path(target), Path(path))
        ]
        if not hits:
            listing = ", ".join(f"{p} ({n})" for p, n in zip(paths, names, strict=True))
            msg = (
                f"--unit {item!r} names no input file or sample; inputs are: {listing}; "
                "give FILE=UNIT with a file as given, or NAME=UNIT with a sample name"
            )
            raise usage_error(msg)
        for name in hits:
            if out.get(name, unit) != unit:
                msg = f"--unit gives sample {name!r} two units ({out[name]}, {unit}); give one"
                raise usage_error(msg)
            out[name] = unit
    return out


def _same_path(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b) or _same_file(a, b)


def spec_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The clonotype-definition options shared by every analysis command.

    ``--locus``, ``--sequence``, ``--genes``, ``--alleles`` and ``--multichain`` reach the
    command as one ``spec`` argument, a :class:`tcrtrack.tl.ClonotypeSpec`; ``--unit`` (what
    each file's counts count) is kept in the context for :func:`load_counts`.
    """

    @functools.wraps(func)
    def with_spec(
        *args: Any,
        locus: str,
        sequence: str,
        genes: str,
        alleles: bool,
        multichain: str,
        **kwargs: Any,
    ) -> Any:
        if alleles and genes == "none":
            raise usage_error("--alleles compares the alleles of gene calls: add --genes v or vj")
        spec = make_spec(locus, sequence, genes, multichain, alleles=alleles)
        return func(*args, spec=spec, **kwargs)

    options = [
        click.option(
            "--locus",
            type=click.Choice(schema.LOCUS_SPECS),
            default="TRB",
            show_default=True,
            help="Chain(s) that define a clonotype.",
        ),
        click.option(
            "--sequence",
            type=click.Choice(schema.SEQUENCE_SPECS),
            default="nt",
            show_default=True,
            help="Compare CDR3 junction nucleotides (nt) or amino acids (aa).",
        ),
        click.option(
            "--genes",
            type=click.Choice(schema.GENES_SPECS),
            default="none",
            show_default=True,
            help="Also require the same V gene (v) or V and J genes (vj), compared at gene "
            "level (TRBV14*01 = TRBV14) with tied genes as a set (TRBV12-4,TRBV12-3 = "
            "TRBV12-3,TRBV12-4).",
        ),
        click.option(
            "--alleles",
            is_flag=True,
            default=False,
            help="With --genes: compare alleles too (TRBV14*01 no longer matches TRBV14).",
        ),
        click.option(
            "--multichain",
            type=click.Choice(schema.MULTICHAIN_SPECS),
            default="primary",
            show_default=True,
            help="Cells with two chains of a locus: keep the primary (most UMIs, then reads), "
            "count all, or drop the cell.",
        ),
        unit_option,  # not part of the definition: kept for load_counts
    ]
    for option in reversed(options):
        with_spec = option(with_spec)
    return with_spec


def make_spec(
    locus: str, sequence: str, genes: str, multichain: str, *, alleles: bool = False
) -> ClonotypeSpec:
    from tcrtrack.tl import ClonotypeSpec

    return ClonotypeSpec(
        locus=locus,  # type: ignore[arg-type]
        sequence=sequence,  # type: ignore[arg-type]
        genes=genes,  # type: ignore[arg-type]
        multichain=multichain,  # type: ignore[arg-type]
        alleles=alleles,
    )


def load_counts(paths: list[Path], names: list[str], spec: ClonotypeSpec) -> CloneCounts:
    """Read each file and define clonotypes; every sample must have some."""
    import tcrtrack as tt

    progress(f"reading {', '.join(map(str, paths))} ...")
    # each file is reduced to integer codes before the one after next is read, and the next
    # file is parsed while the current one is digested
    units = declared_units(paths, names)
    tables = tt.io.read_each(paths, samples=names, columns=spec.columns)
    counts = tt.tl.clonotypes(tables, spec, units=units or None)
    check_nonempty(counts, dict(zip(names, map(str, paths), strict=True)))
    return counts


def check_nonempty(counts: CloneCounts, sources: dict[str, str]) -> None:
    """Raise a clear error for a sample left without any clonotype."""
    for name in counts.samples:
        if counts.n_clonotypes_of(name) == 0:
            ledger = counts.qc
            read = ledger.count(str(name), action="read")
            reasons = {
                e.reason: 0 for e in ledger.entries if e.sample == name and e.action == "dropped"
            }
            for e in ledger.entries:
                if e.sample == name and e.action == "dropped" and e.counted != "cells":
                    reasons[e.reason] += e.n
            top = ", ".join(
                f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]) if v
            )
            msg = (
                f"{sources.get(str(name), name)}: sample {name!r} has no {counts.spec.locus} "
                f"clonotype after filtering ({read} rows read; dropped: {top or 'none'}); "
                "check the file, or choose another --locus"
            )
            raise EmptyError(msg)


FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _check_figure(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() not in FIGURE_SUFFIXES:
        msg = f"{param.opts[-1]} file {str(value)!r} must end in .png, .svg or .pdf"
        raise click.UsageError(msg, ctx=ctx)
    return value


def renamed_option(old: str, new: str, *, path_type: type | None = None) -> Decorator:
    """The former name ``old`` of option ``new``, kept working: hidden from ``--help``, a
    warning on stderr when used. The command merges both with :func:`renamed`."""

    def warn(ctx: click.Context, param: click.Parameter, value: object) -> object:
        if value is not None:
            warning(f"{old} is deprecated; use {new}")
        return value

    kind = OUTPUT_FILE if path_type else None
    return click.option(old, type=kind, default=None, hidden=True, callback=warn)


def renamed(value: Path | None, old_value: Path | None, new: str, old: str) -> Path | None:
    """The value of an option given under its new or its former name (a usage error if both)."""
    if value is not None and old_value is not None:
        raise usage_error(f"give {new} once ({old} is its former name)")
    return value if value is not None else old_value


def figure_option(flag: str, help: str) -> Decorator:
    """An option naming a figure file (.png, .svg or .pdf; another suffix is a usage error)."""
    return click.option(
        flag,
        type=OUTPUT_FILE,
        default=None,
        callback=_check_figure,
        help=help + " (.png, .svg or .pdf)",
    )


def save_figure(
    draw: Callable[[Axes], object], path: Path, *, figsize: tuple[float, float]
) -> None:
    """Draw with ``draw(ax)`` on a new figure and save it to ``path`` (no pyplot state kept)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    write_file(path, lambda tmp: fig.savefig(tmp, bbox_inches="tight", dpi=150))


def per_patient(path: Path, patient: str) -> Path:
    """``out.png`` -> ``out_<patient>.png``: one output file per patient of a sample sheet."""
    return path.with_name(f"{path.stem}_{patient}{path.suffix}")


def ci_option(help: str, *, allow_zero: bool) -> Decorator:
    """``--ci LEVEL``: the level of the intervals."""
    return click.option(
        "--ci",
        type=click.FloatRange(min=0, max=1, min_open=not allow_zero, max_open=True),
        callback=finite,
        default=0.95,
        show_default=True,
        help=help,
    )


def finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A number option's value, refused when it is NaN or infinite (click's ranges let NaN
    through: every comparison with it is false)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a number", ctx=ctx, param=param)
    return value


seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the bootstrap and of the subsampling: the same seed gives the same numbers.",
)


def depth_option(help: str) -> Decorator:
    """``--depth N``: cells per subsample when rarefying."""
    return click.option("--depth", type=click.IntRange(min=1), default=None, help=help)


baseline_option = click.option(
    "--baseline",
    type=INPUT_FILE,
    default=None,
    help="The patient's blood before the infusion: tells clones that were already there "
    "(pre-existing, baseline-only) from clones the product brought.",
)


def add_baseline(
    paths: list[Path], names: list[str], baseline: Path | None
) -> tuple[list[Path], list[str], str | None]:
    """``paths`` and ``names`` with the ``--baseline`` file appended (named after its file),
    and the baseline's name (None without one); a usage error when the file or its name is
    already a sample."""
    if baseline is None:
        return paths, names, None
    base_name = sample_names([baseline], None)[0]
    if baseline.resolve() in {p.resolve() for p in paths}:
        raise usage_error(
            f"--baseline {str(baseline)!r} is also given as REF or SAMPLE; the "
            "baseline is the blood before the infusion, a file of its own"
        )
    if base_name in names:
        raise usage_error(
            f"the baseline's name {base_name!r} (from its file name) is also a sample "
            "name; rename the file or name the samples with -n"
        )
    return [*paths, baseline], [*names, base_name], base_name
