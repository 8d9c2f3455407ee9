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


DATA = Path(__file__).parent / "data"

#: Two small real files of every format ``share`` reads besides Cell Ranger contig tables (the
#: readers' paths differ: v2/v3 exports, VDJtools and MiTCR, immunarch and vendor names, MiXCR
#: UMIs and reads and best genes, bulk and single-cell AIRR, a locus inferred from genes; a
#: ``clonotypes.csv`` beside the contig table of the same sample).
SHARE_FORMATS = {
    "immunoseq-v2": ["bulk/TRB_Unsorted_0.tsv", "bulk/TRB_Unsorted_32.tsv"],
    "immunoseq-v3": ["bulk/7972BW_TCRB.tsv", "bulk/860011108_TCRB-500.tsv.gz"],
    "vdjtools": ["formats/vdjtools_Pt-1-8.txt", "formats/mitcr_Pt-1-8_top200.txt"],
    "clone-table": [
        "clonetables/immunarch_TRB_Unsorted_83.tsv.gz",
        "clonetables/vendor_TRB_Unsorted_949.csv.gz",
    ],
    "mixcr": ["units/lt6_mixcr_umis.tsv.gz", "units/ln6_mixcr_reads.tsv.gz"],
    "mixcr-best-gene": ["bulk/TRB-Pt-1-8_S150.clones.txt.gz", "units/ln6_mixcr_reads.tsv.gz"],
    "airr-bulk": ["airr/immundata_tcrb_200.tsv", "formats/airr_minimal_bulk_Pt-1-8.tsv"],
    "airr-cells": [
        "formats/airr_minimal_cells_lb6.tsv.gz",
        "10x/cellranger_airr_rearrangement.tsv",
    ],
    "10x-clonotypes": ["formats/lb6_clonotypes.csv.gz", "sharing/lb6.csv.gz"],
    "paired": ["paired/UV019_a_Aqueous.csv", "paired/UV027_a_Aqueous.csv"],
}


@pytest.mark.parametrize("fmt", ["table", "tsv"])
@pytest.mark.parametrize("files", list(SHARE_FORMATS.values()), ids=list(SHARE_FORMATS))
def test_share_on_every_format_loads_neither_pandas_nor_scipy(files, fmt, capsys):
    """Issue 11 for the other readers: ``share`` on immunoSEQ, VDJtools, clone tables, MiXCR,
    AIRR, ``clonotypes.csv`` and paired tables builds its Arrow arrays through
    :mod:`tcrtrack._arrow`, never through pyarrow's converters (which import pandas), and
    prints exactly what the command prints in a process that has pandas loaded."""
    args = ["share", *(str(DATA / f) for f in files), "-n", "ref", "-n", "later"]
    _assert_light_and_same([*args, "--format", fmt], capsys)


def _assert_light_and_same(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """``tcrtrack ARGS`` (printing sample ``later``) loads neither pandas nor scipy in a fresh
    interpreter, and prints exactly what it prints in a process that has pandas loaded."""
    from tcrtrack.cli import main

    modules, out = _modules_after(
        f"from tcrtrack.cli import main\nstatus = main({args!r})\nassert status == 0"
    )
    assert "pyarrow" in modules and "numpy" in modules  # the probe sees what the command used
    assert modules.isdisjoint({"pandas", "scipy"}), sorted(modules & {"pandas", "scipy"})
    import pandas  # noqa: F401  (the run below has pandas loaded, as a notebook or test does)

    assert main(args) == 0
    expected = capsys.readouterr().out
    assert "later" in expected
    assert out == expected


@pytest.mark.parametrize(
    "options",
    [["--genes", "vj"], ["--sequence", "aa", "--genes", "v", "--alleles"]],
    ids=["vj", "aa-v-alleles"],
)
@pytest.mark.parametrize(
    "files", [SHARE_FORMATS["immunoseq-v2"], SHARE_FORMATS["mixcr"]], ids=["immunoseq", "mixcr"]
)
def test_share_with_genes_loads_neither_pandas_nor_scipy(files, options):
    """Gene calls in the clonotype key are compared in their canonical form, computed once per
    distinct name and broadcast through :mod:`tcrtrack._arrow` too."""
    args = ["share", *(str(DATA / f) for f in files), "-n", "ref", "-n", "later", *options]
    modules, out = _modules_after(
        f"from tcrtrack.cli import main\nstatus = main({args!r})\nassert status == 0"
    )
    assert "later" in out
    assert modules.isdisjoint({"pandas", "scipy"}), sorted(modules & {"pandas", "scipy"})


def test_share_on_values_with_white_space_loads_neither_pandas_nor_scipy(tmp_path):
    """A Cell Ranger file whose values carry white space (stripped and counted by the reader)
    takes the same Arrow path: no pandas, no scipy, and the stripped rows are told."""
    import gzip

    import tcrtrack as tt

    source = tt.datasets.path("pbmc3_t_filtered")
    raw = Path(source).read_bytes()
    lines = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode().splitlines()
    header = lines[0].split(",")
    junction = header.index("cdr3_nt")
    padded = []
    for i, line in enumerate(lines):
        fields = line.split(",")
        if i and i % 10 == 0:
            fields[junction] = f" {fields[junction]} "
        padded.append(",".join(fields))
    path = tmp_path / "padded.csv"
    path.write_text("\n".join(padded) + "\n", encoding="utf-8")
    args = ["share", str(path), str(path), "-n", "a", "-n", "b", "--format", "tsv"]
    modules, out = _modules_after(
        f"from tcrtrack.cli import main\nstatus = main({args!r})\nassert status == 0"
    )
    assert "b\t" in out  # the command ran and printed sample b's row
    assert modules.isdisjoint({"pandas", "scipy"}), sorted(modules & {"pandas", "scipy"})
    files = tt.io.read_each([path], samples=["a"])
    stripped = [e for e in tt.tl.clonotypes(files).qc.entries if e.reason == "whitespace_stripped"]
    assert stripped and stripped[0].n == (len(lines) - 1) // 10


@pytest.mark.parametrize(
    "options", [[], ["--genes", "vj"], ["--multichain", "all"]], ids=["nt", "vj", "all"]
)
@pytest.mark.parametrize("fmt", ["table", "tsv"])
def test_share_paired_loads_neither_pandas_nor_scipy(fmt, options, capsys):
    """A paired definition (``--locus TRA+TRB``) pairs each cell's chains with numpy, and the
    clonotype table (pandas) is built only when asked for: ``share`` prints the same table
    without pandas as in a process that has it loaded."""
    import tcrtrack as tt

    path = str(tt.datasets.path("pbmc3_t_filtered"))
    args = ["share", path, path, "-n", "ref", "-n", "later", "--locus", "TRA+TRB"]
    _assert_light_and_same([*args, "--format", fmt, *options], capsys)
