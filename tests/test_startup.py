"""Start-up stays light: ``tcrtrack --help``/``--version`` and ``import tcrtrack`` do not load the
heavy libraries (checked in a fresh interpreter through ``sys.modules``, never by timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("matplotlib", "scipy", "anndata")


def _modules_after(code: str, *, full: bool = False) -> tuple[set[str], str]:
    """Run ``code`` in a fresh interpreter; return the top-level modules loaded (every module
    with ``full``) and stdout."""
    probe = (
        "import sys, json, io, contextlib\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "print(json.dumps({'modules': sorted({"
        + ("m" if full else "m.split('.')[0]")
        + " for m in sys.modules}),"
        " 'out': out.getvalue()}))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return set(result["modules"]), result["out"]


@pytest.mark.parametrize("args", [["--help"], ["--version"]], ids=["help", "version"])
def test_cli_help_and_version_do_not_import_heavy_libraries(args):
    modules, out = _modules_after(f"from tcrtrack.cli import main\nstatus = main({args!r})")
    assert "tcrtrack" in out  # the command really ran and printed
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_import_tcrtrack_is_light():
    modules, _ = _modules_after("import tcrtrack\nprint(tcrtrack.__version__)")
    assert "tcrtrack" in modules
    assert modules.isdisjoint({*HEAVY, "pandas", "numpy", "pyarrow", "click"})


def test_probe_sees_heavy_imports():
    # the check can fail: a heavy import is visible to it
    modules, _ = _modules_after("import scipy.sparse")
    assert "scipy" in modules


#: What ``tcrtrack share`` needs neither to read Cell Ranger files nor to compute and print the
#: sharing table: plotting, AnnData, and the modules of the other commands and results.
SHARE_NEVER = (
    "matplotlib",
    "anndata",
    "tcrtrack.pl",
    "tcrtrack.report",
    "tcrtrack.cohort",
    "tcrtrack.tl._annotate",
    "tcrtrack.tl._diversity",
    "tcrtrack.tl._overlap",
    "tcrtrack.tl._persist",
    "tcrtrack.tl._rarefy",
    "tcrtrack.tl._track",
    "tcrtrack.tl._change",
)


@pytest.mark.parametrize("fmt", ["table", "tsv"])
def test_share_on_small_files_loads_only_what_it_uses(fmt):
    import tcrtrack as tt

    path = str(tt.datasets.path("pbmc3_t_filtered"))
    args = ["share", path, path, "-n", "infusion", "-n", "blood", "--format", fmt]
    modules, out = _modules_after(
        f"from tcrtrack.cli import main\nstatus = main({args!r})\nassert status == 0",
        full=True,
    )
    assert "blood" in out  # the command ran and printed its table
    assert "tcrtrack.tl._engine" in modules  # the probe sees the modules the command used
    loaded = sorted(m for m in modules if m.split(".")[0] in {"matplotlib", "anndata"})
    loaded += sorted(m for m in modules if m in SHARE_NEVER or m.startswith("tcrtrack.pl."))
    assert loaded == []


@pytest.mark.parametrize("fmt", ["table", "tsv", "csv", "json"])
def test_share_on_three_small_files_loads_neither_pandas_nor_scipy(fmt):
    """pandas only where a pandas object is returned or printed, scipy only where it computes
    (issue 11): ``share`` reads Cell Ranger files into Arrow, counts with numpy, computes the
    Clopper–Pearson intervals with tcrtrack's own Beta quantile and prints its plain columns
    (checked through ``sys.modules``, never by timing)."""
    import tcrtrack as tt

    path = str(tt.datasets.path("pbmc3_t_filtered"))
    names = ["-n", "infusion", "-n", "3m", "-n", "6m"]
    args = ["share", path, path, path, *names, "--format", fmt]
    modules, out = _modules_after(
        f"from tcrtrack.cli import main\nstatus = main({args!r})\nassert status == 0"
    )
    assert "6m" in out and "3m" in out  # the command ran and printed both samples
    assert "pyarrow" in modules and "numpy" in modules  # the probe sees what the command used
    assert modules.isdisjoint({"pandas", "scipy"}), sorted(modules & {"pandas", "scipy"})


def test_probe_sees_pandas_loaded_by_an_arrow_conversion():
    # pyarrow's own converters import pandas (why tcrtrack._arrow converts through buffers)
    modules, _ = _modules_after("import pyarrow as pa\npa.array([1, 2])")
    assert "pandas" in modules
