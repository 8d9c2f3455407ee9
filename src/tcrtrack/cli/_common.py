"""Shared pieces of the commands: error reporting, output formats, sample names."""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

if TYPE_CHECKING:
    import pandas as pd

OutputFormat = Literal["table", "tsv", "csv", "json"]
FORMATS = ("table", "tsv", "csv", "json")


@dataclass
class _State:
    debug: bool = False


STATE = _State()


def report_error(error: BaseException) -> int:
    """Print one line for ``error`` on stderr (a traceback with ``--debug``); return 1."""
    from tcrtrack.errors import TcrtrackError

    if STATE.debug:
        traceback.print_exception(error)
    if isinstance(error, TcrtrackError | OSError | ValueError | KeyError):
        text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        click.echo(f"tcrtrack: error: {text}", err=True)
        return 1
    click.echo(
        f"tcrtrack: internal error: {type(error).__name__}: {error} "
        "(run again with --debug and report the traceback)",
        err=True,
    )
    return 1


def usage_error(message: str) -> click.UsageError:
    """A usage error (exit status 2) with ``message``."""
    return click.UsageError(message)


def sample_names(paths: list[Path], names: list[str] | None) -> list[str]:
    """Names given with ``-n``, else file stems; both must be distinct."""
    from tcrtrack.io._files import sample_name

    if names:
        if len(names) != len(paths):
            msg = f"{len(names)} name(s) given with -n/--name for {len(paths)} file(s); give one per file"
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


def emit(
    frame: pd.DataFrame,
    fmt: OutputFormat,
    output: Path | None,
    *,
    text: str | None = None,
    meta: dict[str, object] | None = None,
) -> None:
    """Write ``frame`` in ``fmt`` to ``output`` (or stdout). ``text`` overrides the table form."""
    if fmt == "table":
        body = (text if text is not None else format_table(frame)) + "\n"
    elif fmt in ("tsv", "csv"):
        body = frame.to_csv(sep="\t" if fmt == "tsv" else ",", index=True, lineterminator="\n")
    else:
        records = json.loads(frame.reset_index().to_json(orient="records"))
        payload: dict[str, object] = dict(meta or {})
        payload["rows"] = records
        body = json.dumps(payload, indent=2) + "\n"
    if output is None:
        sys.stdout.write(body)
    else:
        Path(output).write_text(body)


def progress(message: str) -> None:
    """A progress line on stderr (only when stderr is a terminal)."""
    if sys.stderr.isatty() and not os.environ.get("TCRTRACK_QUIET"):
        click.echo(message, err=True)


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
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the result to this file instead of standard output.",
)
