"""Hand-made CloneCounts for the statistics tests (no reader involved)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from tcrtrack.tl import ClonotypeSpec
from tcrtrack.tl._counts import CloneCounts


def bulk_counts(
    matrix: Sequence[Sequence[int]] | np.ndarray,
    samples: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    unit: str = "templates",
) -> CloneCounts:
    """Bulk counts (unit templates, or ``unit``) from a dense samples × clonotypes matrix."""
    m = np.asarray(matrix, dtype=np.int64)
    samples = tuple(samples or [f"s{i}" for i in range(m.shape[0])])
    labels = list(labels or [f"C{j}" for j in range(m.shape[1])])
    return CloneCounts(
        matrix=sparse.csr_array(m),
        samples=samples,
        clonotypes=pd.DataFrame({"clonotype": labels, "junction_aa": labels}),
        spec=ClonotypeSpec(),
        unit=unit,
    )


def cell_counts(
    cells: Sequence[tuple[str, str, int]], samples: Sequence[str], n_clonotypes: int
) -> CloneCounts:
    """Single-cell counts from (sample, cell_id, clonotype index) rows; a cell may appear
    in two clonotypes (multichain="all")."""
    table = pd.DataFrame(cells, columns=["sample", "cell_id", "clonotype"])
    table["sample"] = pd.Categorical(table["sample"], categories=list(samples))
    table["cell_id"] = table["cell_id"].astype("string")
    table["clonotype"] = table["clonotype"].astype(np.int64)
    rows = table["sample"].cat.codes.to_numpy()
    m = sparse.coo_array(
        (np.ones(len(table), dtype=np.int64), (rows, table["clonotype"].to_numpy())),
        shape=(len(samples), n_clonotypes),
    ).tocsr()
    m.sum_duplicates()
    labels = [f"C{j}" for j in range(n_clonotypes)]
    return CloneCounts(
        matrix=m,
        samples=tuple(samples),
        clonotypes=pd.DataFrame({"clonotype": labels, "junction_aa": labels}),
        spec=ClonotypeSpec(),
        unit="cells",
        cells=table,
    )


def cells_from_sizes(sizes: dict[str, Sequence[int]]) -> CloneCounts:
    """Single-cell counts, one clonotype per cell, from clone sizes per sample."""
    n = max(len(v) for v in sizes.values())
    rows = []
    for sample, per_clone in sizes.items():
        k = 0
        for clone, size in enumerate(per_clone):
            for _ in range(int(size)):
                rows.append((sample, f"{sample}-cell{k}", clone))
                k += 1
    return cell_counts(rows, list(sizes), n)


def repertoire(rng: np.random.Generator, n_clones: int = 3000) -> np.ndarray:
    """Clone frequencies of a simulated blood repertoire (heavy-tailed: Pareto sizes)."""
    f = rng.pareto(1.2, n_clones) + 1.0
    return f / f.sum()


def two_step_reads(
    rng: np.random.Generator,
    freq: np.ndarray,
    *,
    n_cells: int,
    mean_reads: float,
    shape: float,
) -> np.ndarray:
    """Reads per clone from two-step sampling: ``n_cells`` cells drawn from the repertoire
    (multinomial), then negative-binomial reads per cell (mean ``mean_reads``, shape
    ``shape``; the sum over a clone's ``c`` cells is negative binomial with shape ``c*shape``)."""
    cells = rng.multinomial(n_cells, freq)
    reads = np.zeros_like(cells)
    has = cells > 0
    reads[has] = rng.negative_binomial(cells[has] * shape, shape / (shape + mean_reads))
    return reads


def expanded_repertoire(
    rng: np.random.Generator, freq: np.ndarray, *, n_changed: int, fold: float, min_freq: float
) -> tuple[np.ndarray, np.ndarray]:
    """A second repertoire where ``n_changed`` clones of frequency ``min_freq`` to
    ``3 * min_freq`` grow ``fold`` times, each paid for by a larger clone giving up the same
    mass (at most 80% of its own), so every other clone keeps its frequency exactly (no
    renormalisation). Returns the new frequencies and the true ratio new / old per clone."""
    new = freq.copy()
    candidates = np.flatnonzero((freq >= min_freq) & (freq <= 3 * min_freq))
    up = rng.choice(candidates, n_changed, replace=False)
    for i in up:
        need = freq[i] * (fold - 1.0)
        partners = np.setdiff1d(np.flatnonzero(new >= 1.25 * need), up)
        j = int(rng.choice(partners))
        new[i] += need
        new[j] -= need
    return new, new / freq
