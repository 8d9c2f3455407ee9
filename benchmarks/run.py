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
* ``scirpy`` (``--scirpy``, at most 10,000 cells per sample): scirpy's idiomatic pipeline.

Results go to ``benchmarks/_out/results.json`` and a Markdown table to stdout (``--markdown``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
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
    """The naive script's filters and primary chain, written with polars (``--engines``)."""
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
    """The naive script's filters and primary chain as one DuckDB query per file (``--engines``)."""
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
    "polars": task_polars,
    "duckdb": task_duckdb,
}
#: Optional engines timed with ``--engines`` when installed (not dependencies of tcrtrack).
ENGINES = ("polars", "duckdb")


# --------------------------------------------------------------------------- runner (parent)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
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


def run_size(
    n_cells: int, *, repeats: int, data: Path, scirpy: bool, gz: bool, engines: bool = False
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
    if engines:
        for engine in ENGINES:
            if importlib.util.find_spec(engine) is not None:
                jobs[engine] = _task_cmd(engine, paths, outdir / f"{engine}.tsv")
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
                f"  {n_cells:>8} {name:<9} run {r + 1}: {wall:7.2f} s {rss:7.0f} MB",
                file=sys.stderr,
            )
    result = {
        "cells_per_sample": n_cells,
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
    for engine in ENGINES:
        if engine in jobs:
            checks[engine] = _read_tsv(outdir / f"{engine}.tsv")
    result["equal_to_naive"] = {k: _same(v, naive) for k, v in checks.items()}
    result["numbers"] = naive
    if "scirpy" in jobs:
        result["scirpy_numbers"] = _read_tsv(outdir / "scirpy.tsv")
    return result


def _machine() -> dict:
    import numpy
    import pandas
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
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": mem,
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def markdown(results: list[dict]) -> str:
    """The results as a Markdown table (one row per size)."""
    tool = "cli" if any("cli" in r["time"] for r in results) else "api"
    lines = [
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
        for engine in ENGINES:
            if engine in r["time"]:
                t, m = r["time"], r["peak_mb"]
                lines.append("")
                lines.append(
                    f"{engine} at {r['cells_per_sample']:,} cells/sample: {t[engine]:.2f} s "
                    f"({t[engine] / t['floor']:.2f} × floor), peak {m[engine]:.0f} MB, numbers "
                    f"{'equal to' if r['equal_to_naive'][engine] else 'DIFFERENT from'} naive."
                )
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
        "--engines",
        action="store_true",
        help="also time the naive pipeline written with polars and DuckDB, when installed",
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
                engines=args.engines,
            )
        )
    out = HERE / "_out" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": _machine(), "results": results}, indent=1))
    table = markdown(results)
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
