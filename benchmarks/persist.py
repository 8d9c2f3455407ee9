"""Time `tcrtrack persist` against `tcrtrack share` on the study's simulated patient 1.

Usage (from the root of a clone)::

    python benchmarks/persist.py [--repeats 5]

The target (issue 10): `persist` takes no longer than `share` plus 20% on the same files. Both
commands run as whole processes (``python -m tcrtrack ...``: start-up, reading the three files,
the analysis and printing, what a user waits for), alternately, ``--repeats`` times each; the
table gives the medians and their ratio. A second pair of rows times the analysis alone, in
process, on counts read once (`tt.tl.sharing` with its intervals vs `tt.tl.persist`). Prints a
Markdown table; exits with status 1 when the whole-process ratio exceeds 1.2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from components import median_time  # noqa: E402  (this folder is on sys.path)

import tcrtrack as tt  # noqa: E402

NAMES = ("infusion", "pbmc_3m", "pbmc_6m")
PATIENT1 = [ROOT / "examples" / "data" / "patient1" / f"{x}.csv.gz" for x in NAMES]
TARGET = 1.2


def _run(command: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tcrtrack", command, *map(str, PATIENT1)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    _run("share")  # warm the file cache and the byte-code cache
    share: list[float] = []
    persist: list[float] = []
    for _ in range(args.repeats):  # alternate, so that load on the machine hits both alike
        share.append(_run("share"))
        persist.append(_run("persist"))
    whole = (statistics.median(share), statistics.median(persist))

    counts = tt.tl.clonotypes(tt.io.read_each(PATIENT1, samples=list(NAMES)))
    tt.tl.persist(counts, reference="infusion")  # warm-up: imports scipy.special
    inner = (
        median_time(lambda: tt.tl.sharing(counts, reference="infusion"), args.repeats),
        median_time(lambda: tt.tl.persist(counts, reference="infusion"), args.repeats),
    )

    ratio = whole[1] / whole[0]
    print(
        f"patient 1: {', '.join(NAMES)} (8,675 + 9,440 + 10,772 cells); medians of {args.repeats}\n"
    )
    print("| task | share | persist | persist / share |\n|---|---|---|---|")
    print(
        "| whole command (`python -m tcrtrack share FILES`, `... persist FILES`) | "
        f"{whole[0]:.2f} s | {whole[1]:.2f} s | {ratio:.2f} |"
    )
    print(
        f"| analysis alone, in process (`tt.tl.sharing` vs `tt.tl.persist`) | "
        f"{inner[0]:.3f} s | {inner[1]:.3f} s | {inner[1] / inner[0]:.2f} |"
    )
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"\ntarget persist ≤ {TARGET:.1f} × share (whole command): {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
