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


_SHARING = Path(__file__).parent / "data" / "sharing"
_FILES = [str(_SHARING / f"{x}.csv.gz") for x in ("lt6", "lb6")]
_SHEET_COMMANDS = {
    "inspect": [],
    "share": [],
    "track": ["--top", "2"],
    "overlap": [],
    "persist": [],
    "diversity": [],
}


def _sheet(tmp_path: Path) -> Path:
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        f"P1\tlt6\t0\t{_FILES[0]}\ttrue\n"
        f"P1\tlb6\t28\t{_FILES[1]}\tfalse\n"
    )
    return sheet


@pytest.mark.parametrize("command", sorted(_SHEET_COMMANDS))
def test_every_command_has_one_json_shape_from_files_or_a_sheet(command, tmp_path, capsys):
    """``{"command", "clonotype", "patients": [{"patient", ...}]}``, ``patient`` null for
    files; the block of a one-patient sheet holds what the same files give."""
    import json

    from tcrtrack.cli import main

    extra = _SHEET_COMMANDS[command]
    assert main([command, *_FILES, *extra, "-f", "json"]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert main([command, "--samples", str(_sheet(tmp_path)), *extra, "-f", "json"]) == 0
    from_sheet = json.loads(capsys.readouterr().out)
    for payload in (from_files, from_sheet):
        assert list(payload) == ["command", "clonotype", "patients"]
        assert payload["command"] == command
        assert payload["clonotype"] == "TRB junction nucleotides, multichain=primary"
    (files_block,) = from_files["patients"]
    (sheet_block,) = from_sheet["patients"]
    assert files_block.pop("patient") is None and sheet_block.pop("patient") == "P1"
    if command == "persist":  # time points: the sheet's, or the file names without one
        assert files_block.pop("timepoints") == ["lb6"] and sheet_block.pop("timepoints") == ["28"]
    assert files_block == sheet_block
