"""The CLI's error boundary: user errors exit 1, bugs exit 3 with the version and the command."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import numpy as np
import pytest

import tcrtrack
from tcrtrack import errors
from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
LT, LB = (str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6"))
SRC = Path(tcrtrack.__file__).parent


def _broadcast_bug(*args, **kwargs):
    return np.ones(2) + np.ones(3)  # a numpy ValueError: operands could not be broadcast


def _division_bug(*args, **kwargs):
    return 1 / 0


@pytest.mark.parametrize(
    ("bug", "kind", "text"),
    [
        (_broadcast_bug, "ValueError", "operands could not be broadcast together"),
        (_division_bug, "ZeroDivisionError", "division by zero"),
    ],
    ids=["numpy-valueerror", "zerodivision"],
)
def test_injected_bug_is_an_internal_error(bug, kind, text, monkeypatch, capsys):
    # tcrtrack.tl resolves ``sharing`` lazily and keeps what it found: patch it first, so the
    # name it keeps (and monkeypatch restores) is the real function, not the injected bug.
    monkeypatch.setattr("tcrtrack.tl.sharing", bug)
    monkeypatch.setattr("tcrtrack.tl._sharing.sharing", bug)
    status = main(["share", LT, LB])
    err = capsys.readouterr().err
    assert status == 3
    assert err.count("\n") == 1
    assert err.startswith(f"tcrtrack: internal error: {kind}: {text} ")
    assert f"(tcrtrack {tcrtrack.__version__}, command: tcrtrack share {LT} {LB})" in err
    assert err.rstrip().endswith("rerun with --debug and report the traceback")
    assert "tcrtrack: error:" not in err


def test_injected_bug_with_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr("tcrtrack.tl.sharing", _broadcast_bug)
    assert main(["--debug", "share", LT, LB]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "_broadcast_bug" in err
    assert "tcrtrack: internal error: ValueError" in err


def test_user_error_exits_1_with_one_line(capsys):
    status = main(["share", LT, LB, "--locus", "TRG"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("tcrtrack: error: ")
    assert "sample 'lt6' has no TRG clonotype after filtering" in err
    assert err.count("\n") == 1


def test_not_found_error_prints_without_quotes():
    error = errors.NotFoundError("unknown sample 'x'; samples are: a, b")
    assert str(error) == "unknown sample 'x'; samples are: a, b"
    assert isinstance(error, KeyError)


_BUILTIN_ERRORS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}
#: Builtin exceptions the library may raise on purpose: programming errors of the caller.
_ALLOWED = {"TypeError", "NotImplementedError", "StopIteration", "AttributeError"}


def test_library_raises_only_tcrtrack_errors_for_user_input():
    """A builtin ValueError/KeyError raised by tcrtrack would be mistaken for a bug (exit 3)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(exc, ast.Name) and exc.id in _BUILTIN_ERRORS - _ALLOWED:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {exc.id}")
    assert offenders == []


def test_every_error_is_a_tcrtrack_error():
    for name in errors.__all__:
        kind = getattr(errors, name)
        if name.endswith("Warning"):
            assert issubclass(kind, UserWarning)
        else:
            assert issubclass(kind, errors.TcrtrackError)
