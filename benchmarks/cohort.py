"""Time the clonotype store (issue 12): build, query, exact and 1-mismatch overlap, and the
local run against a 2-worker Dask cluster, on a simulated cohort the script generates itself.

Usage (from the root of a clone)::

    python benchmarks/cohort.py --repertoires 500 --clonotypes 50000      # the build target
    python benchmarks/cohort.py --repertoires 120 --clonotypes 200000     # the overlap targets
    python benchmarks/cohort.py --repertoires 40 --clonotypes 20000 --cluster

The cohort: ``--repertoires`` bulk TRB repertoires of ``--clonotypes`` clonotypes each, AIRR
TSV files (junction, junction_aa, V, J, duplicate_count). Amino-acid junctions of 11 to 18
letters (CASS + random letters + a J-like end), nucleotides by a random codon per letter; a
pool of "public" junctions (5 % of each repertoire, drawn from a pool of
``--clonotypes`` // 2) makes repertoires overlap, and a tenth of the private junctions are
copies of a pool junction with one letter changed (1-mismatch neighbours). Counts are
heavy-tailed (Pareto). The data go to ``benchmarks/_data/cohort-R-C/`` (generated once).

Tasks (each ``--repeats`` times, median; wall clock; ``--workers`` local processes):

- ``floor``: ``pyarrow.csv.read_csv`` of the five needed columns of every file (one thread
  per file, one process): the parse floor the build is compared with;
- ``build``: ``tt.cohort.build`` into a new store; peak memory = the largest ``ru_maxrss`` of
  a worker process (``RUSAGE_CHILDREN``);
- ``query``: ``tt.cohort.query`` of 10,000 clonotypes of the first repertoire;
- ``overlap exact`` and ``overlap 1-mismatch``: ``tt.cohort.overlap`` of every repertoire;
- with ``--cluster``: the build with 1 local worker (in process), then the build and (unless
  ``--skip overlap``) the overlaps on a ``dask scheduler`` with 1 and then 2 ``dask worker``
  processes on 127.0.0.1: every store checked equal to the local build's (each batch file row
  by row, the QC ledgers, the sample records), every overlap to the local one's.

Prints a Markdown table and the store's bytes per row; writes ``benchmarks/_out/cohort.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import tcrtrack as tt  # noqa: E402

AA = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
CODON = {
    "A": "GCT", "C": "TGT", "D": "GAT", "E": "GAA", "F": "TTT", "G": "GGT", "H": "CAT",
    "I": "ATT", "K": "AAA", "L": "CTG", "M": "ATG", "N": "AAT", "P": "CCT", "Q": "CAG",
    "R": "CGT", "S": "AGC", "T": "ACC", "V": "GTG", "W": "TGG", "Y": "TAT",
}  # fmt: skip
HEADER = [
    "sequence_id", "sequence", "rev_comp", "productive", "v_call", "d_call", "j_call",
    "sequence_alignment", "germline_alignment", "junction", "junction_aa", "v_cigar",
    "d_cigar", "j_cigar", "locus", "duplicate_count",
]  # fmt: skip


def junctions(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` amino-acid junctions of 11 to 18 letters: CASS, random letters, F."""
    lengths = rng.integers(11, 19, size=n)
    letters = AA[rng.integers(0, len(AA), size=(n, 13))]
    rows = ["".join(x) for x in letters]
    return np.array([f"CASS{r[: k - 5]}F" for r, k in zip(rows, lengths, strict=True)])


def generate(folder: Path, repertoires: int, clonotypes: int, seed: int = 12) -> Path:
    """The cohort's AIRR files and its sheet (``sheet.tsv``), written once."""
    sheet = folder / "sheet.tsv"
    if sheet.exists():
        return sheet
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pool = junctions(rng, max(clonotypes // 2, 10))
    lines = ["patient\tsample\ttimepoint\tpath"]
    n_public = clonotypes // 20
    for r in range(repertoires):
        public = rng.choice(pool, size=n_public, replace=False)
        n_private = clonotypes - n_public
        private = junctions(rng, n_private)
        near = rng.random(n_private) < 0.1  # copies of a pool junction, one letter changed
        for k in np.flatnonzero(near):
            base = rng.choice(pool)
            pos = int(rng.integers(4, len(base) - 1))
            private[k] = base[:pos] + rng.choice(AA) + base[pos + 1 :]
        aa = np.concatenate([public, private])
        v = rng.choice([f"TRBV{k}-1*01" for k in range(2, 30)], size=len(aa))
        j = rng.choice([f"TRBJ{k}-{m}*01" for k in (1, 2) for m in range(1, 7)], size=len(aa))
        counts = np.ceil(rng.pareto(1.5, size=len(aa)) + 1).astype(np.int64)
        path = folder / f"r{r:04d}.tsv"
        with path.open("w") as fh:
            fh.write("\t".join(HEADER) + "\n")
            for k in range(len(aa)):
                nt = "".join(CODON[c] for c in aa[k])
                fh.write(
                    f"r{k}\t\tF\tT\t{v[k]}\t\t{j[k]}\t\t\t{nt}\t{aa[k]}\t\t\t\tTRB\t{counts[k]}\n"
                )
        lines.append(f"D{r:04d}\tr{r:04d}\t0\t{path}")
    sheet.write_text("\n".join(lines) + "\n")
    return sheet


def floor(sheet: Path) -> None:
    import pyarrow.csv as csv

    paths = [line.split("\t")[3] for line in sheet.read_text().splitlines()[1:]]
    columns = ["junction", "junction_aa", "v_call", "j_call", "duplicate_count"]
    for p in paths:
        csv.read_csv(
            p,
            parse_options=csv.ParseOptions(delimiter="\t"),
            convert_options=csv.ConvertOptions(include_columns=columns),
        )


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def start_cluster(n_workers: int, logs: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=(logs / "scheduler.log").open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
        )
    ]
    for k in range(n_workers):
        procs.append(
            subprocess.Popen(
                [*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                stdout=(logs / f"worker{k}.log").open("wb"),
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
    from distributed import Client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with Client(address, timeout=5, set_as_default=False) as client:
                if len(client.scheduler_info()["workers"]) >= n_workers:
                    return address, procs
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the Dask cluster did not start")


def same_store(a: Any, b: Any) -> None:
    """Stop the benchmark unless stores ``a`` and ``b`` hold the same rows in the same order
    (each partition's batch files), the same QC ledgers and the same sample records."""
    import pyarrow.parquet as pq

    assert a.partitions == b.partitions and a.n_rows == b.n_rows, "cluster ≠ local (size)"
    for p in range(a.partitions):
        files_a, files_b = a.files(p), b.files(p)
        assert [Path(f).name for f in files_a] == [Path(f).name for f in files_b]
        for fa, fb in zip(files_a, files_b, strict=True):
            assert pq.read_table(fa).equals(pq.read_table(fb)), f"cluster ≠ local ({fa})"
    assert a.qc().entries == b.qc().entries, "cluster ≠ local (QC ledgers)"
    fields = [c for c in a.samples.columns if c != "path"]
    assert a.samples[fields].equals(b.samples[fields]), "cluster ≠ local (samples)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repertoires", type=int, default=40)
    parser.add_argument("--clonotypes", type=int, default=20000)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="tasks not to run: floor, overlap, near"
    )
    args = parser.parse_args()
    folder = ROOT / "benchmarks" / "_data" / f"cohort-{args.repertoires}-{args.clonotypes}"
    start = time.perf_counter()
    sheet = generate(folder, args.repertoires, args.clonotypes)
    print(f"data: {folder} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    rows: list[tuple[str, float, list[float], str]] = []
    if "floor" not in args.skip:
        t, ts, _ = timed(lambda: floor(sheet), args.repeats)
        rows.append(("floor (pyarrow.csv, 5 columns)", t, ts, ""))
    store_dir = folder / "store"

    def build() -> Any:
        shutil.rmtree(store_dir, ignore_errors=True)
        return tt.cohort.build(
            sheet, store_dir, partitions=args.partitions, workers=args.workers
        ).store

    t, ts, store = timed(build, args.repeats)
    # a small build runs on threads of this process, a large one on worker processes
    peak = (
        max(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )
        / 1024
    )
    size = sum(f.stat().st_size for f in store_dir.rglob("*.parquet"))
    per_row = size / store.n_rows
    rows.append(("build", t, ts, f"{store.n_rows:,} rows; peak worker RSS {peak:.0f} MB"))
    first = store.records[0]
    own = tt.cohort.query(store, sample=first.sample, workers=1).table["clonotype"]
    wanted = own.head(10000).tolist()
    t, ts, _ = timed(
        lambda: tt.cohort.query(store, clonotypes=wanted, workers=args.workers), args.repeats
    )
    rows.append((f"query {len(wanted):,} clonotypes", t, ts, ""))
    if args.cluster:  # the build on 1 local worker, for the cluster's speed-up per worker
        one_dir = folder / "store-1"

        def build_one() -> Any:
            shutil.rmtree(one_dir, ignore_errors=True)
            return tt.cohort.build(sheet, one_dir, partitions=args.partitions, workers=1).store

        t, ts, one = timed(build_one, args.repeats)
        same_store(store, one)
        rows.append(("build, 1 local worker (in process)", t, ts, "equal to the local build"))
        shutil.rmtree(one_dir, ignore_errors=True)
    if "overlap" in args.skip:  # the build and the query alone
        args.skip.append("near")
    else:
        t, ts, exact = timed(lambda: tt.cohort.overlap(store, workers=args.workers), args.repeats)
        rows.append(("overlap exact", t, ts, f"{store.n_samples} × {store.n_samples}"))
    if "near" not in args.skip:
        t, ts, near = timed(
            lambda: tt.cohort.overlap(store, mismatches=1, workers=args.workers), args.repeats
        )
        extra = int((near.shared.to_numpy() - exact.shared.to_numpy()).sum() // 2)
        rows.append(("overlap 1-mismatch", t, ts, f"{extra:,} near (non-identical) pairs"))
    if args.cluster:
        logs = ROOT / "benchmarks" / "_out" / "dask-logs"
        logs.mkdir(parents=True, exist_ok=True)
        for n in (1, 2):
            address, procs = start_cluster(n, logs)
            try:
                dask_dir = folder / f"store-dask-{n}"

                def build_dask(a: str = address, out: Path = dask_dir) -> Any:
                    shutil.rmtree(out, ignore_errors=True)
                    return tt.cohort.build(
                        sheet, out, partitions=args.partitions, scheduler=a
                    ).store

                t, ts, got_store = timed(build_dask, args.repeats)
                same_store(store, got_store)
                rows.append((f"build, Dask {n} worker(s)", t, ts, "equal to the local build"))
                shutil.rmtree(dask_dir, ignore_errors=True)
                if "overlap" in args.skip:
                    continue
                t, ts, got = timed(
                    lambda a=address: tt.cohort.overlap(store, scheduler=a), args.repeats
                )
                assert got.shared.equals(exact.shared), "cluster ≠ local"
                rows.append((f"overlap exact, Dask {n} worker(s)", t, ts, "equal to local"))
                if "near" not in args.skip:
                    t, ts, got = timed(
                        lambda a=address: tt.cohort.overlap(store, mismatches=1, scheduler=a),
                        args.repeats,
                    )
                    assert got.shared.equals(near.shared), "cluster ≠ local"
                    rows.append((f"overlap 1-mismatch, Dask {n} worker(s)", t, ts, "equal"))
            finally:
                for p in procs[::-1]:
                    p.terminate()
                    p.wait(timeout=30)
    print(
        f"\n{args.repertoires} repertoires × {args.clonotypes:,} clonotypes, "
        f"{args.partitions} partitions, {args.workers} local workers; store "
        f"{size / 1e6:.1f} MB = {per_row:.1f} bytes per row; load {os.getloadavg()}\n"
    )
    print("| task | median (s) | runs (s) | note |\n|---|---|---|---|")
    for name, t, ts, note in rows:
        print(f"| {name} | {t:.2f} | {', '.join(f'{x:.2f}' for x in ts)} | {note} |")
    out = ROOT / "benchmarks" / "_out"
    out.mkdir(exist_ok=True)
    (out / "cohort.json").write_text(
        json.dumps(
            {
                "args": vars(args),
                "bytes_per_row": per_row,
                "rows": [{"task": n, "median": t, "runs": ts, "note": x} for n, t, ts, x in rows],
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
