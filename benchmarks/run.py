"""Time ``tcrtrack share`` against the CSV parse floor and a naive pandas script (whole processes).

Usage (from the root of a clone; generates missing data first)::

    python benchmarks/run.py --cells 10000 100000 1000000

For each size (cells per sample; 3 samples ``infusion``, ``3m``, ``6m``) every task runs as its
own process, ``--repeats`` times, on the same files; the table shows the median wall time, the
peak resident memory (``ru_maxrss`` of the process, from ``os.wait4``) and the ratios:

* ``floor``: Arrow's multi-threaded CSV reader parsing only the columns tcrtrack needs;
* ``naive``: a plain pandas script computing the same sharing numbers; its numbers are compared
  with tcrtrack's and the run fails if they differ;
* ``cli``: ``tcrtrack share infusion.csv 3m.csv 6m.csv --format tsv``;
* ``api``: the same through the Python API (read, concat, clonotypes, sharing);
* ``gunzip``: decompression of the gzipped inputs alone, and ``floor``/``cli`` on the
  gzipped inputs (``*.gz`` rows);
* ``polars-naive``, ``duckdb-naive``: the naive script's pipeline written with polars and as
  one DuckDB query per file (the peers of a compiled engine; run when installed: ``pip install
  -e ".[bench]"``); their numbers must equal the naive script's too;
* ``import``: the import time of ``tcrtrack share`` and of the naive script
  (``python -X importtime``, summed over the top-level imports), and of the libraries in it;
* ``scirpy`` (``--scirpy``, at most 10,000 cells per sample): scirpy's idiomatic pipeline.

Results go to ``benchmarks/_out/results.json`` and a Markdown table to stdout (``--markdown``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

REFERENCE = "infusion"
#: Cell Ranger columns the sharing numbers need (default clonotype: TRB junction nt, primary).
NEEDED = (
    "barcode",
    "is_cell",
    "high_confidence",
    "chain",
    "productive",
    "cdr3",
    "cdr3_nt",
    "umis",
    "reads",
)
#: Columns compared between implementations.
COMPARED = (
    "n_clonotypes",
    "n_cells",
    "n_shared",
    "frac_clonotypes_shared",
    "n_cells_shared",
    "frac_cells_shared",
    "n_reference_clonotypes",
    "n_reference_cells",
    "n_reference_cells_detected",
)


# --------------------------------------------------------------------------- tasks (children)


def task_floor(paths: list[str], out: str) -> None:
    """Parse the needed columns of every file with Arrow's multi-threaded CSV reader."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {
        "productive": pa.bool_(),
        "is_cell": pa.bool_(),
        "high_confidence": pa.bool_(),
        "umis": pa.int64(),
        "reads": pa.int64(),
    }
    nulls = ["", "None", "NA", "nan"]
    rows = 0
    for path in paths:
        compression = "gzip" if path.endswith(".gz") else None
        with pa.input_stream(path, compression=compression) as stream:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=16 << 20),
                convert_options=pacsv.ConvertOptions(
                    include_columns=list(NEEDED),
                    column_types=types,
                    null_values=nulls,
                    true_values=["True", "true"],
                    false_values=["False", "false"],
                    strings_can_be_null=True,
                ),
            )
        rows += table.num_rows
    Path(out).write_text(f"{rows}\n")


def task_gunzip(paths: list[str], out: str) -> None:
    """Decompress every file and discard the bytes (what gzip alone costs)."""
    import pyarrow as pa

    total = 0
    for path in paths:
        with pa.input_stream(path, compression="gzip") as stream:
            while chunk := stream.read(16 << 20):
                total += len(chunk)
    Path(out).write_text(f"{total}\n")


#: The Cell Ranger columns the naive script (and its polars twin) reads.
NAIVE_COLUMNS = (
    "barcode",
    "is_cell",
    "high_confidence",
    "chain",
    "productive",
    "cdr3_nt",
    "umis",
    "reads",
)


def task_naive(paths: list[str], out: str) -> None:
    """The sharing numbers with plain pandas, as a careful analyst would write them."""
    import pandas as pd

    cols = list(NAIVE_COLUMNS)
    clones = {}
    for path in paths:
        name = Path(path).name.split(".")[0]
        df = pd.read_csv(path, usecols=cols)
        ok = (
            df["is_cell"].astype(str).isin(["True", "true"])
            & df["high_confidence"].astype(str).isin(["True", "true"])
            & df["productive"].astype(str).isin(["True", "true"])
            & (df["chain"] == "TRB")
            & df["cdr3_nt"].notna()
        )
        trb = df[ok].sort_values(
            ["barcode", "umis", "reads", "cdr3_nt"], ascending=[True, False, False, False]
        )
        primary = trb.drop_duplicates("barcode")  # the chain with most UMIs, reads, larger seq
        clones[name] = primary["cdr3_nt"].value_counts()
    _write_sharing(clones, out)


def _write_sharing(clones: dict, out: str) -> None:
    """The naive script's columns from each sample's clone sizes (pandas Series by junction)."""
    import pandas as pd

    ref = clones[REFERENCE]
    rows = []
    for name, vc in clones.items():
        if name == REFERENCE:
            continue
        shared = vc.index.isin(ref.index)
        ref_found = ref.index.isin(vc.index)
        rows.append(
            {
                "sample": name,
                "n_clonotypes": len(vc),
                "n_cells": int(vc.sum()),
                "n_shared": int(shared.sum()),
                "frac_clonotypes_shared": shared.sum() / len(vc),
                "n_cells_shared": int(vc[shared].sum()),
                "frac_cells_shared": vc[shared].sum() / vc.sum(),
                "n_reference_clonotypes": len(ref),
                "n_reference_cells": int(ref.sum()),
                "n_reference_cells_detected": int(ref[ref_found].sum()),
            }
        )
    pd.DataFrame(rows).to_csv(out, sep="\t", index=False)


def task_api(paths: list[str], out: str) -> None:
    """The sharing numbers through tcrtrack's Python API."""
    import tcrtrack as tt

    # the idiom docs/io.md recommends for many files: one file in memory at a time
    counts = tt.tl.clonotypes(tt.io.read_each(paths))
    ref = Path(paths[0]).name.split(".")[0]
    frame = tt.tl.sharing(counts, reference=ref).to_frame()
    if "sample" not in frame.columns:
        frame = frame.reset_index()
    frame.to_csv(out, sep="\t", index=False)


def task_polars(paths: list[str], out: str) -> None:
    """The naive script's filters and primary chain, written with polars (``polars-naive``)."""
    import polars as pl

    clones = {}
    for path in paths:
        name = Path(path).name.split(".")[0]
        df = pl.read_csv(
            path,
            columns=list(NAIVE_COLUMNS),
            null_values=["", "None"],
        )
        ok = pl.col("is_cell") & pl.col("high_confidence") & pl.col("productive")
        df = df.filter(ok & (pl.col("chain") == "TRB") & pl.col("cdr3_nt").is_not_null())
        df = df.sort(["barcode", "umis", "reads", "cdr3_nt"], descending=[False, True, True, True])
        primary = df.unique(subset=["barcode"], keep="first", maintain_order=True)
        vc = primary.group_by("cdr3_nt").len().to_pandas()
        clones[name] = vc.set_index("cdr3_nt")["len"]
    _write_sharing(clones, out)


def task_duckdb(paths: list[str], out: str) -> None:
    """The naive script's filters and primary chain as one DuckDB query per file
    (``duckdb-naive``)."""
    import duckdb

    con = duckdb.connect()
    clones = {}
    for path in paths:
        name = Path(path).name.split(".")[0]
        vc = con.execute(
            """
            select cdr3_nt, count(*) as n from (
              select cdr3_nt, row_number() over (
                partition by barcode order by umis desc, reads desc, cdr3_nt desc) as r
              from read_csv(?, nullstr = ['', 'None'])
              where is_cell and high_confidence and productive and chain = 'TRB'
                and cdr3_nt is not null
            ) where r = 1 group by cdr3_nt
            """,
            [path],
        ).df()
        clones[name] = vc.set_index("cdr3_nt")["n"]
    _write_sharing(clones, out)


def task_scirpy(paths: list[str], out: str) -> None:
    """scirpy's idiomatic pipeline: read_10x_vdj, index_chains, chain_qc, define_clonotypes."""
    import warnings

    warnings.simplefilter("ignore")
    import anndata as ad
    import pandas as pd
    import scirpy as ir

    adatas = {}
    for path in paths:
        name = Path(path).name.split(".")[0]
        a = ir.io.read_10x_vdj(path)
        adatas[name] = a
    adata = ad.concat(adatas, index_unique="-", label="sample")
    ir.pp.index_chains(adata)
    ir.tl.chain_qc(adata)
    ir.pp.ir_dist(adata, metric="identity", sequence="nt")
    ir.tl.define_clonotypes(adata, receptor_arms="VDJ", dual_ir="primary_only", key_added="ct")
    obs = adata.obs[adata.obs["ct"].notna()]
    # scirpy assigns a clonotype to cells without a VDJ chain too: keep cells with one
    has_vdj = ir.get.airr(adata, "junction", "VDJ_1").notna().reindex(obs.index)
    obs = obs[has_vdj.to_numpy()]
    ref = set(obs.loc[obs["sample"] == REFERENCE, "ct"])
    rows = []
    for name, grp in obs.groupby("sample", observed=True):
        cts = set(grp["ct"])
        rows.append(
            {
                "sample": name,
                "n_clonotypes": len(cts),
                "n_cells": len(grp),
                "n_shared": len(cts & ref),
                "frac_clonotypes_shared": len(cts & ref) / len(cts),
            }
        )
    pd.DataFrame(rows).to_csv(out, sep="\t", index=False)


TASKS = {
    "floor": task_floor,
    "gunzip": task_gunzip,
    "naive": task_naive,
    "api": task_api,
    "scirpy": task_scirpy,
    "polars-naive": task_polars,
    "duckdb-naive": task_duckdb,
}
#: The naive script's peers, timed when their library is installed (DuckDB is not a
#: dependency of tcrtrack: ``pip install -e ".[bench]"``).
PEERS = {"polars-naive": "polars", "duckdb-naive": "duckdb"}


# --------------------------------------------------------------------------- runner (parent)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    # tcrtrack's modules compiled once and cached, as in an installed package (without the
    # cache every run compiles them again: ~0.05-0.1 CPU-s of a 0.5 s run at 3 x 10k cells)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _measure(cmd: list[str], *, stdout: Path | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS in MB). Raises if the process fails."""
    out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=_env())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if stdout is not None:
        out.close()
    if proc.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}"
        raise RuntimeError(msg)
    return wall, usage.ru_maxrss / 1024  # Linux: kB


def _task_cmd(task: str, paths: list[Path], out: Path) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--task",
        task,
        "--out-file",
        str(out),
        *map(str, paths),
    ]


def _has_share_cli() -> bool:
    cmd = [sys.executable, "-m", "tcrtrack", "share", "--help"]
    return subprocess.run(cmd, capture_output=True, env=_env()).returncode == 0


def _read_tsv(path: Path) -> dict[str, dict[str, float]]:
    lines = path.read_text().strip().splitlines()
    header = lines[0].split("\t")
    rows = {}
    for line in lines[1:]:
        values = dict(zip(header, line.split("\t"), strict=True))
        rows[values["sample"]] = {c: float(values[c]) for c in COMPARED if c in values}
    return rows


def _same(got: dict, naive: dict) -> bool:
    """Equal numbers for every sample and every column the naive script computes."""
    if got.keys() != naive.keys():
        return False
    for sample in naive:
        for col in naive[sample]:
            x, y = got[sample].get(col), naive[sample][col]
            if x is None or y is None or abs(x - y) > 1e-9 * max(1.0, abs(x)):
                return False
    return True


#: Libraries whose share of the import time the ``import`` row shows.
LIBRARIES = ("pandas", "numpy", "pyarrow", "polars", "scipy", "click", "tcrtrack")


def import_times(cmd: list[str]) -> dict[str, float]:
    """Seconds ``cmd`` (a Python command) spends importing, from ``python -X importtime``: the
    total over the top-level imports and each library's own modules (self times summed)."""
    assert cmd[0] == sys.executable
    done = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=_env()
    )
    if done.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}"
        raise RuntimeError(msg)
    total = 0
    own = dict.fromkeys(LIBRARIES, 0)
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        self_us, cumulative_us, indent, name = int(m[1]), int(m[2]), m[3], m[4]
        if len(indent) == 1:  # a top-level import: its cumulative time counts once
            total += cumulative_us
        root = name.split(".")[0]
        if root in own:
            own[root] += self_us
    return {"total": total / 1e6, **{k: v / 1e6 for k, v in own.items()}}


def _median_dicts(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def run_size(
    n_cells: int, *, repeats: int, data: Path, scirpy: bool, gz: bool, peers: bool = True
) -> dict:
    # generated in a child process: a forked task inherits the runner's resident size in its
    # peak-memory figure (ru_maxrss), so the runner must stay small
    cmd = [sys.executable, str(HERE / "generate.py"), "--cells", str(n_cells), "--out", str(data)]
    subprocess.run(cmd + ([] if gz else ["--no-gzip"]), check=True)
    csv = generate.paths(data, n_cells)
    paths = [csv[x] for x in generate.SAMPLES]
    gz_paths = [Path(str(p) + ".gz") for p in paths]
    outdir = HERE / "_out" / f"cells{n_cells}"
    outdir.mkdir(parents=True, exist_ok=True)
    jobs: dict[str, list[str]] = {
        "floor": _task_cmd("floor", paths, outdir / "floor.txt"),
        "naive": _task_cmd("naive", paths, outdir / "naive.tsv"),
        "api": _task_cmd("api", paths, outdir / "api.tsv"),
    }
    share_cli = _has_share_cli()
    if share_cli:
        jobs["cli"] = [
            sys.executable,
            "-m",
            "tcrtrack",
            "share",
            *map(str, paths),
            "--format",
            "tsv",
        ]
    if gz:
        jobs["gunzip"] = _task_cmd("gunzip", gz_paths, outdir / "gunzip.txt")
        jobs["floor.gz"] = _task_cmd("floor", gz_paths, outdir / "floor_gz.txt")
        if share_cli:
            jobs["cli.gz"] = [
                sys.executable,
                "-m",
                "tcrtrack",
                "share",
                *map(str, gz_paths),
                "--format",
                "tsv",
            ]
        else:
            jobs["api.gz"] = _task_cmd("api", gz_paths, outdir / "api_gz.tsv")
    if scirpy and n_cells <= 10_000:
        jobs["scirpy"] = _task_cmd("scirpy", paths, outdir / "scirpy.tsv")
    if peers:
        for peer, library in PEERS.items():
            if importlib.util.find_spec(library) is not None:
                jobs[peer] = _task_cmd(peer, paths, outdir / f"{peer}.tsv")
            else:
                print(f"  {peer}: {library} is not installed; skipped", file=sys.stderr)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {k: [] for k in jobs}
    mems: dict[str, list[float]] = {k: [] for k in jobs}
    for r in range(repeats):
        for name, cmd in jobs.items():
            if name == "scirpy" and r > 0:
                continue  # one run is enough to make the point
            stdout = outdir / f"{name}.stdout" if name.startswith("cli") else None
            wall, rss = _measure(cmd, stdout=stdout)
            times[name].append(wall)
            mems[name].append(rss)
            print(
                f"  {n_cells:>8} {name:<12} run {r + 1}: {wall:7.2f} s {rss:7.0f} MB",
                file=sys.stderr,
            )
    load_after = os.getloadavg()
    result = {
        "cells_per_sample": n_cells,
        "load_average": [round(x, 2) for x in (*load_before, *load_after)],
        "rows": sum(sum(1 for _ in p.open("rb")) - 1 for p in paths),
        "mb_csv": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
        "time": {k: statistics.median(v) for k, v in times.items()},
        "peak_mb": {k: max(v) for k, v in mems.items()},
        "runs": {k: v for k, v in times.items()},
    }
    naive = _read_tsv(outdir / "naive.tsv")
    checks = {"api": _read_tsv(outdir / "api.tsv")}
    if share_cli:
        checks["cli"] = _read_tsv(outdir / "cli.stdout")
        if gz:
            checks["cli.gz"] = _read_tsv(outdir / "cli.gz.stdout")
    elif gz:
        checks["api.gz"] = _read_tsv(outdir / "api_gz.tsv")
    for peer in PEERS:
        if peer in jobs:
            checks[peer] = _read_tsv(outdir / f"{peer}.tsv")
    result["equal_to_naive"] = {k: _same(v, naive) for k, v in checks.items()}
    if share_cli:
        result["imports"] = {
            task: _median_dicts([import_times(jobs[task]) for _ in range(repeats)])
            for task in ("cli", "naive")
        }
    result["numbers"] = naive
    if "scirpy" in jobs:
        result["scirpy_numbers"] = _read_tsv(outdir / "scirpy.tsv")
    return result


def _machine() -> dict:
    import numpy
    import pandas
    import polars
    import pyarrow

    cpu = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    try:
        import duckdb

        duckdb_version = duckdb.__version__
    except ImportError:
        duckdb_version = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit or "unknown",
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": mem,
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "polars": polars.__version__,
        "duckdb": duckdb_version,
        "platform": platform.platform(),
    }


def markdown(results: list[dict], machine: dict | None = None) -> str:
    """The results as Markdown: the summary table (one row per size), then one table per size
    with every task (median, runs, ratios, peak memory, numbers), the import times and the
    load average during the size's runs."""
    tool = "cli" if any("cli" in r["time"] for r in results) else "api"
    lines = []
    if machine is not None:
        lines += [
            f"{machine['date']}, commit {machine['commit']}; {machine['nproc']} × "
            f"{machine['cpu']}, {machine['ram']}; Python {machine['python']}, pyarrow "
            f"{machine['pyarrow']}, polars {machine['polars']}, pandas {machine['pandas']}, "
            f"DuckDB {machine['duckdb']}.",
            "",
        ]
    lines += [
        f"| cells/sample | contig rows | CSV MB | floor s | naive s | {tool} s | api s | "
        f"{tool}/floor | naive/{tool} | peak MB {tool} | peak MB naive | "
        f"gunzip s | floor.gz s | {tool}.gz s | equal to naive |",
        "|" + "---:|" * 15,
    ]
    for r in results:
        t, m = r["time"], r["peak_mb"]

        def f(k: str, digits: int = 2, t: dict = t) -> str:
            return f"{t[k]:.{digits}f}" if k in t else "–"

        lines.append(
            f"| {r['cells_per_sample']:,} | {r['rows']:,} | {r['mb_csv']:.0f} | {f('floor')} | "
            f"{f('naive')} | {f(tool)} | {f('api')} | {t[tool] / t['floor']:.2f} | "
            f"{t['naive'] / t[tool]:.2f} | {m[tool]:.0f} | {m['naive']:.0f} | {f('gunzip')} | "
            f"{f('floor.gz')} | {f(tool + '.gz')} | "
            f"{'yes' if all(r['equal_to_naive'].values()) else 'NO'} |"
        )
    for r in results:
        t, m, runs = r["time"], r["peak_mb"], r["runs"]
        load = r.get("load_average")
        lines += [
            "",
            f"{r['cells_per_sample']:,} cells per sample"
            + (
                f" (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} before, "
                f"{load[3]:.1f} / {load[4]:.1f} / {load[5]:.1f} after)"
                if load
                else ""
            )
            + ":",
            "",
            f"| task | runs s | median s | × floor | × naive | {tool} / task | peak MB | numbers |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for task in t:
            equal = r["equal_to_naive"].get(task)
            numbers = "" if equal is None else ("equal to naive" if equal else "DIFFERENT")
            lines.append(
                f"| {task} | {' / '.join(f'{x:.2f}' for x in runs[task])} | {t[task]:.2f} | "
                f"{t[task] / t['floor']:.2f} | {t[task] / t['naive']:.2f} | "
                f"{t[tool] / t[task]:.2f} | {m[task]:.0f} | {numbers} |"
            )
        for task, imports in r.get("imports", {}).items():
            parts = ", ".join(
                f"{k} {v:.3f}" for k, v in imports.items() if k != "total" and v >= 0.0005
            )
            lines.append(f"| import ({task}) | | {imports['total']:.3f} | | | | | {parts} |")
    if any("scirpy" in r["time"] for r in results):
        for r in results:
            if "scirpy" in r["time"]:
                lines.append("")
                lines.append(
                    f"scirpy at {r['cells_per_sample']:,} cells/sample: "
                    f"{r['time']['scirpy']:.1f} s, peak {r['peak_mb']['scirpy']:.0f} MB."
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "_data")
    parser.add_argument("--no-gzip", action="store_true", help="skip the gzipped inputs")
    parser.add_argument("--scirpy", action="store_true", help="also time scirpy (≤10k cells)")
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="skip the naive pipeline written with polars and DuckDB (polars-naive, duckdb-naive)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--task", choices=sorted(TASKS), help=argparse.SUPPRESS)
    parser.add_argument("--out-file", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        TASKS[args.task](args.paths, args.out_file)
        return 0
    results = []
    for n in args.cells:
        print(f"{n} cells per sample", file=sys.stderr)
        results.append(
            run_size(
                n,
                repeats=args.repeats,
                data=args.data,
                scirpy=args.scirpy,
                gz=not args.no_gzip,
                peers=not args.no_peers,
            )
        )
    out = HERE / "_out" / "results.json"
    out.parent.mkdir(exist_ok=True)
    machine = _machine()
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    table = markdown(results, machine)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    bad = [r["cells_per_sample"] for r in results if not all(r["equal_to_naive"].values())]
    if bad:
        print(
            f"tcrtrack's numbers differ from the naive script at {bad} cells/sample; "
            f"see {HERE / '_out'}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
