"""Every command has help text and an entry in docs/cli.md (sqlite-utils' rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcrtrack.cli import cli, main

DOCS = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_docs(name, capsys):
    command = cli.commands[name]
    assert command.help and len(command.help) > 40, f"{name} has no help text"
    assert f"## `tcrtrack {name}`" in DOCS, f"{name} is not documented in docs/cli.md"
    assert main([name, "--help"]) == 0
    assert f"Usage: tcrtrack {name}" in capsys.readouterr().out


def test_version(capsys):
    from tcrtrack import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tcrtrack, version {__version__}"


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["shar"]) == 2
    assert "No such command 'shar'" in capsys.readouterr().err
