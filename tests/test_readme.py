"""The README's main command prints what the README shows (a golden file kept in the README)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tcrtrack.cli import main

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_main_command_output_is_current(tmp_path, capsys, monkeypatch):
    command = re.search(r"pip install \. && (tcrtrack share [^\n]+)", README)
    assert command, "README lost its main command"
    args = shlex.split(command.group(1))[1:]
    shown = re.search(r"```text\n(.*?)```", README, re.S)
    assert shown, "README lost the output of its main command"
    monkeypatch.chdir(ROOT)
    venn = tmp_path / "venn.png"
    args[args.index("--venn") + 1] = str(venn)
    assert main(args) == 0
    assert capsys.readouterr().out == shown.group(1)
    assert venn.stat().st_size > 10_000


@pytest.mark.parametrize(
    "fragment", ["640/6,560 = 9.76%", "785/7,475 = 10.50%", "3,287 clonotypes, 8,675 cells"]
)
def test_readme_shows_the_published_numbers(fragment):
    assert fragment in README


def test_readme_python_example_runs(monkeypatch, capsys):
    block = re.search(r"```python\n(.*?)```", README, re.S)
    assert block, "README lost its Python example"
    monkeypatch.chdir(ROOT)
    exec(compile(block.group(1), "README.md", "exec"), {})
    import matplotlib.pyplot as plt

    plt.close("all")
    out = capsys.readouterr().out
    assert "pbmc_3m" in out and "640" in out
