"""Time the per-clonotype sum of a bulk sample's counts (``tt.tl.bulk_clonotypes``).

Usage (from the root of a clone)::

    python benchmarks/weighted_sum.py

Sums random int64 counts (1–999) of 50,000 and 1,000,000 rows into 70 % as many clonotypes
(every clonotype present, in random order) three ways, each checked equal to the first:
``np.add.at`` (exact, what ``bulk_clonotypes`` uses), ``np.bincount`` with weights (float64:
exact only while every partial sum stays below 2**53) and a stable sort with
``np.add.reduceat`` (exact). Prints the median and the minimum CPU time of 7 runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def add_at(clone: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    counts = np.zeros(k, dtype=np.int64)
    np.add.at(counts, clone, weight)
    return counts


def bincount(clone: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(clone, weights=weight, minlength=k).astype(np.int64)


def sort_reduceat(clone: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(clone, kind="stable")
    ordered = clone[order]
    start = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    counts = np.zeros(k, dtype=np.int64)
    counts[ordered[start]] = np.add.reduceat(weight[order], start)
    return counts


def main() -> None:
    rng = np.random.default_rng(1)
    ways: list[Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = [
        add_at,
        bincount,
        sort_reduceat,
    ]
    print(f"numpy {np.__version__}")
    for n in (50_000, 1_000_000):
        k = int(n * 0.7)
        clone = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        rng.shuffle(clone)
        weight = rng.integers(1, 1000, n).astype(np.int64)
        expected = add_at(clone, weight, k)
        for way in ways:
            assert (way(clone, weight, k) == expected).all()
            times = []
            for _ in range(7):
                start = time.process_time()
                way(clone, weight, k)
                times.append(time.process_time() - start)
            print(
                f"{n:>9,} rows  {way.__name__:<14}"
                f"{np.median(times) * 1e3:8.2f} ms (min {min(times) * 1e3:.2f})"
            )


if __name__ == "__main__":
    main()
