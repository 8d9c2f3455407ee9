"""Time `tt.tl.diversity` on the study's patient 1 and on a large simulated bulk repertoire.

Usage (from the root of a clone)::

    python benchmarks/diversity.py [--repeats 3]

Rows: the observed indices and the indices at a common depth (100 subsamples) of the three
10x samples of the study's simulated patient 1 (8,675–10,772 cells), and of two bulk samples of
200,000 clonotypes with Zipf clone sizes (7.6 and 12.2 million templates) subsampled to 100,000
templates. Counts are built once; the analysis alone is timed (median of ``--repeats``).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from components import median_time  # noqa: E402  (this folder is on sys.path)

import tcrtrack as tt  # noqa: E402

NAMES = ("infusion", "pbmc_3m", "pbmc_6m")
PATIENT1 = [ROOT / "examples" / "data" / "patient1" / f"{x}.csv.gz" for x in NAMES]


def _bulk() -> tt.tl.CloneCounts:
    import numpy as np
    import pandas as pd
    from scipy import sparse

    rng = np.random.default_rng(0)
    sizes = np.minimum(rng.zipf(1.8, size=(2, 200_000)), 10**6)
    labels = [f"C{i}" for i in range(sizes.shape[1])]
    return tt.tl.CloneCounts(
        sparse.csr_array(sizes),
        ("a", "b"),
        pd.DataFrame({"clonotype": labels}),
        tt.tl.ClonotypeSpec(),
        "templates",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cells = tt.tl.clonotypes(tt.io.read_each(PATIENT1, samples=list(NAMES)))
    bulk = _bulk()
    rows = [
        ("patient 1, 3 × ~9,600 cells", "observed", lambda: tt.tl.diversity(cells)),
        (
            "patient 1, 3 × ~9,600 cells",
            "depth='min' (8,675), 100 subsamples",
            lambda: tt.tl.diversity(cells, depth="min"),
        ),
        ("bulk, 2 × 200,000 clonotypes", "observed", lambda: tt.tl.diversity(bulk)),
        (
            "bulk, 2 × 200,000 clonotypes",
            "depth=100,000, 100 subsamples",
            lambda: tt.tl.diversity(bulk, depth=100_000),
        ),
    ]
    print("| data | diversity | seconds (median) |")
    print("|---|---|---|")
    for data, what, task in rows:
        print(f"| {data} | {what} | {median_time(task, args.repeats):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
