"""The ``tcrtrack`` command line: a thin layer over the library.

Every command opens library objects, calls library functions and renders the result. Errors
cross one boundary, :func:`main`: a :class:`~tcrtrack.errors.TcrtrackError` or an
:class:`OSError` (data, file or argument) prints one line on stderr and exits 1, usage errors
exit 2, any other exception is a bug and exits 3 with the version and the command, Ctrl-C exits
130; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence

import click

from tcrtrack._version import __version__
from tcrtrack.cli import _common


@click.group(
    name="tcrtrack",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="tcrtrack")
@click.option(
    "--debug", is_flag=True, help="Show the full traceback of an error (for bug reports)."
)
def cli(debug: bool) -> None:
    """Track infused T-cell clones across samples: clonotypes matched by TCR sequence,
    sharing with the infusion product, persistence statistics."""
    _common.STATE.debug = _common.STATE.debug or debug


def _register() -> None:
    from tcrtrack.cli import (
        _cohort,
        _diversity,
        _inspect,
        _overlap,
        _persist,
        _report,
        _share,
        _track,
    )

    for module in (_inspect, _share, _track, _persist, _diversity, _overlap, _report, _cohort):
        module.register(cli)
    from tcrtrack.cli._sheet import guard_outputs

    guard_outputs(cli)  # every output path checked before any work


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script exits with it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _common.STATE.debug = "--debug" in args or bool(os.environ.get("TCRTRACK_DEBUG"))
    try:
        with warnings.catch_warnings():
            _common.warnings_to_stderr()
            result = cli.main(args=args, prog_name="tcrtrack", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("tcrtrack: interrupted", err=True)
        return _common.EXIT_INTERRUPTED
    except click.exceptions.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except Exception as e:  # the error boundary
        return _common.report_error(e, args)
    return result if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover - console script entry
    sys.exit(main())
