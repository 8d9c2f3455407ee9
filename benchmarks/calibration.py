"""Calibration and power of the per-clone change tests of `tt.tl.track` (the figures of
docs/statistics.md, "Calibration and power").

Usage (from the root of a clone)::

    python benchmarks/calibration.py [--repeats 20]

Prints Markdown tables. Everything is seeded; no timing. The simulators are the ones the
tests use (tests/stats_helpers.py):

(a) null split: the cells of a real 10x tumour sample (tests/data/sharing/lt6.csv.gz, 6,775
    cells) split at random into two halves;
(b) null reads: one simulated repertoire (3,000 clones, Pareto sizes) sampled twice in two
    steps, 20,000 cells, then negative-binomial reads per cell (mean 12 and 8, shape 2);
(c) expansions: 50 clones of a size band grow 2- or 4-fold, each paid for by a larger clone
    (every other clone keeps its frequency exactly); reads as in (b), mean 12 in both.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402

import tcrtrack as tt  # noqa: E402
from stats_helpers import (  # noqa: E402
    bulk_counts,
    cell_counts,
    expanded_repertoire,
    repertoire,
    two_step_reads,
)
from tcrtrack.errors import TcrtrackWarning  # noqa: E402

CALLED = ("expanded", "contracted")


def _track(counts, test, dispersion=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TcrtrackWarning)
        return tt.tl.track(counts, test=test, dispersion=dispersion)


def _ml_dispersion(a: np.ndarray, b: np.ndarray) -> float:
    """The maximum-likelihood dispersion (for comparison with the robust estimate)."""
    pi = a.sum() / (a.sum() + b.sum())
    k = a + b
    use = k >= 2
    a, k = a[use], k[use]

    def nll(log_excess: float) -> float:
        nu = k / np.exp(log_excess)
        return -float(stats.betabinom.logpmf(a, k, pi * nu, (1 - pi) * nu).sum())

    fit = minimize_scalar(nll, bounds=(np.log(1e-4), np.log(k.max())), method="bounded")
    return 1.0 + float(np.exp(fit.x))


def null_split(repeats: int) -> None:
    whole = tt.tl.clonotypes(tt.io.read(ROOT / "tests/data/sharing/lt6.csv.gz", sample="lt6"))
    cells = whole.cells
    ids = cells["cell_id"].unique()
    rng = np.random.default_rng(0)
    rows = {t: {"any": 0, "calls": [], "p05": [], "phi": []} for t in ("fisher", "betabinomial")}
    for _ in range(repeats):
        half = set(rng.permutation(ids)[: len(ids) // 2])
        table = [
            ("h1" if cid in half else "h2", str(cid), int(clone))
            for cid, clone in zip(cells["cell_id"], cells["clonotype"], strict=True)
        ]
        counts = cell_counts(table, ["h1", "h2"], whole.n_clonotypes)
        for test, row in rows.items():
            result = _track(counts, test)
            tests = result.tests[result.tests["presence"] != "absent"]
            calls = int(tests["change"].isin(CALLED).sum())
            row["any"] += calls > 0
            row["calls"].append(calls)
            row["p05"].append(float((tests["pvalue"] < 0.05).mean()))
            row["phi"].append(float(result.dispersion["h2"]))
    print(f"(a) null split of lt6 (6,775 cells, 3,500 clonotypes), {repeats} random halves\n")
    print("| test | splits with any call | calls per split (mean) | p < 0.05 | dispersion |")
    print("|---|---|---|---|---|")
    for test, row in rows.items():
        phi = "—" if test == "fisher" else f"{np.mean(row['phi']):.2f}"
        print(
            f"| {test} | {row['any']} of {repeats} | {np.mean(row['calls']):.2f} | "
            f"{np.mean(row['p05']):.3f} | {phi} |"
        )
    print()


def null_reads(repeats: int) -> None:
    rng = np.random.default_rng(1)
    rows = {t: {"called": [], "p05": []} for t in ("betabinomial", "fisher")}
    phis, ml = [], []
    for _ in range(repeats):
        freq = repertoire(rng)
        a = two_step_reads(rng, freq, n_cells=20_000, mean_reads=12, shape=2.0)
        b = two_step_reads(rng, freq, n_cells=20_000, mean_reads=8, shape=2.0)
        counts = bulk_counts(np.vstack([a, b]), samples=["r", "s"], unit="reads")
        for test, row in rows.items():
            result = _track(counts, test)
            tests = result.tests[result.tests["presence"] != "absent"]
            row["called"].append(float(tests["change"].isin(CALLED).mean()))
            row["p05"].append(float((tests["pvalue"] < 0.05).mean()))
            if test == "betabinomial":
                phis.append(float(result.dispersion["s"]))
        ml.append(_ml_dispersion(a, b))
    print(f"(b) null reads: one repertoire sampled twice in two steps, {repeats} repertoires\n")
    print("| test | clones called at FDR 0.05 (mean, max) | p < 0.05 |")
    print("|---|---|---|")
    for test, row in rows.items():
        print(
            f"| {test} | {np.mean(row['called']):.2%}, {np.max(row['called']):.2%} | "
            f"{np.mean(row['p05']):.3f} |"
        )
    print(
        f"\ndispersion: robust estimate {np.mean(phis):.1f} (range {min(phis):.1f}–"
        f"{max(phis):.1f}); maximum likelihood {np.mean(ml):.1f}\n"
    )


def power(repeats: int) -> None:
    print(f"(c) 50 or 20 clones expanded, known truth, {repeats} repertoires per row\n")
    print(
        "| clone size (cells of 20,000) | fold | test | power | false-discovery proportion "
        "| dispersion (robust; ML) |"
    )
    print("|---|---|---|---|---|---|")
    for band in (10, 50):
        for fold in (2.0, 4.0):
            rng = np.random.default_rng(int(band * 10 + fold))
            res = {t: {"power": [], "fdp": []} for t in ("betabinomial", "fisher", "ml")}
            phis, mls = [], []
            for _ in range(repeats):
                freq = repertoire(rng)
                new, ratio = expanded_repertoire(
                    rng, freq, n_changed=50 if band == 10 else 20, fold=fold, min_freq=band / 20_000
                )
                a = two_step_reads(rng, freq, n_cells=20_000, mean_reads=12, shape=2.0)
                b = two_step_reads(rng, new, n_cells=20_000, mean_reads=12, shape=2.0)
                counts = bulk_counts(np.vstack([a, b]), samples=["r", "s"], unit="reads")
                ml = _ml_dispersion(a, b)
                mls.append(ml)
                for test in res:
                    result = (
                        _track(counts, "betabinomial", dispersion=ml)
                        if test == "ml"
                        else _track(counts, test)
                    )
                    if test == "betabinomial":
                        phis.append(float(result.dispersion["s"]))
                    tests = result.tests
                    truth = ratio[tests["clonotype"].str[1:].astype(int).to_numpy()]
                    up = (tests["change"] == "expanded").to_numpy()
                    called = tests["change"].isin(CALLED).to_numpy()
                    res[test]["power"].append((up & (truth == fold)).sum() / (ratio == fold).sum())
                    res[test]["fdp"].append((called & (truth == 1.0)).sum() / max(called.sum(), 1))
            for test, row in res.items():
                label = {"ml": "betabinomial, ML dispersion"}.get(test, test)
                phi = f"{np.mean(phis):.1f}; {np.mean(mls):.1f}" if test != "fisher" else "—"
                print(
                    f"| {band}–{3 * band} | {fold:g} | {label} | {np.mean(row['power']):.2f} | "
                    f"{np.mean(row['fdp']):.3f} | {phi} |"
                )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    null_split(args.repeats * 5)
    null_reads(args.repeats)
    power(max(args.repeats // 2, 1))


if __name__ == "__main__":
    main()
