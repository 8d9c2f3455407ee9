"""Time the components whose cost the docs quote, outside `tcrtrack share`.

Usage (from the root of a clone)::

    python benchmarks/components.py

Prints a Markdown table (median of 3 runs, in-process wall time after a warm-up import):
the simulator on the study's patient 1, reading 1,000,000 immunoSEQ v2 rows, `tt.tl.track`
with its vectorised Fisher test against a loop of `scipy.stats.fisher_exact` on the same
clones, and building the HTML report of patient 1. Data are written to benchmarks/_data/.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402

import tcrtrack as tt  # noqa: E402

DATA = ROOT / "benchmarks" / "_data"
EXAMPLES = ROOT / "examples" / "data"
PATIENT1 = [EXAMPLES / "patient1" / f"{x}.csv.gz" for x in ("infusion", "pbmc_3m", "pbmc_6m")]


def median_time(task: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def immunoseq_million() -> Path:
    """The day-0 immunoSEQ v2 export repeated to 1,000,000 rows (plain TSV)."""
    path = DATA / "immunoseq_v2_1M.tsv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        with gzip.open(EXAMPLES / "bmt" / "TRB_Unsorted_0.tsv.gz", "rt") as fh:
            header, *rows = fh.read().splitlines()
        repeats = -(-1_000_000 // len(rows))
        body = "\n".join((rows * repeats)[:1_000_000])
        path.write_text(header + "\n" + body + "\n")
    return path


def main() -> None:
    results: list[tuple[str, str]] = []

    def simulate() -> None:
        with tempfile.TemporaryDirectory() as out:
            tt.datasets.simulate_patient(
                out, cells={"infusion": 8675, "pbmc_3m": 9440, "pbmc_6m": 10772}, seed=1
            )

    results.append(
        ("simulate_patient, 3 samples, 28,887 cells (gzip)", f"{median_time(simulate):.2f} s")
    )

    big = immunoseq_million()
    results.append(
        ("tt.io.read, 1,000,000 immunoSEQ v2 rows", f"{median_time(lambda: tt.io.read(big)):.2f} s")
    )

    pair = tt.pp.concat(
        [
            tt.io.read(EXAMPLES / "bmt" / "TRB_Unsorted_83.tsv.gz", sample="d83"),
            tt.io.read(EXAMPLES / "bmt" / "TRB_Unsorted_369.tsv.gz", sample="d369"),
        ]
    )
    counts = tt.tl.clonotypes(pair)
    result = tt.tl.track(counts, reference="d83")
    tests = result.tests

    def scipy_loop() -> np.ndarray:
        return np.array(
            [
                scipy.stats.fisher_exact([[a, ta - a], [b, tb - b]]).pvalue
                for a, b, ta, tb in zip(
                    tests["count_reference"],
                    tests["count"],
                    tests["total_reference"],
                    tests["total"],
                    strict=True,
                )
            ]
        )

    ours = median_time(lambda: tt.tl.track(counts, reference="d83"))
    loop = median_time(scipy_loop, repeats=1)
    tested = tests["pvalue"].notna().to_numpy()
    agree = np.allclose(tests["pvalue"].to_numpy()[tested], scipy_loop()[tested], rtol=1e-9)
    results.append(
        (
            f"tt.tl.track, bmt day 83 vs 369 ({len(tests):,} clones) "
            "vs a scipy.stats.fisher_exact loop",
            f"{ours:.2f} s vs {loop:.2f} s (p-values equal: {agree})",
        )
    )

    patient1 = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=p.name.split(".")[0]) for p in PATIENT1])
    )
    tt.report.build(patient1, reference="infusion")  # warm-up: imports matplotlib
    results.append(
        (
            "tt.report.build, patient 1 (after reading)",
            f"{median_time(lambda: tt.report.build(patient1, reference='infusion')):.2f} s",
        )
    )

    print("| component | median time |\n|---|---|")
    for what, value in results:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
