"""The example notebooks run from top to bottom (their own asserts check the numbers)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize(
    "name", ["reproduce_fig2.ipynb", "real_pair.ipynb", "persistence.ipynb", "public_clones.ipynb"]
)
def test_notebook_runs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel is a subprocess: give it the source tree whatever the working directory
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), path]).rstrip(os.pathsep))
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert errors == []
    # every Venn diagram was drawn
    images = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert len(images) >= 1
