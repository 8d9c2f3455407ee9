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
) -> CloneCounts:
    """Bulk counts (unit templates) from a dense samples × clonotypes matrix."""
    m = np.asarray(matrix, dtype=np.int64)
    samples = tuple(samples or [f"s{i}" for i in range(m.shape[0])])
    labels = list(labels or [f"C{j}" for j in range(m.shape[1])])
    return CloneCounts(
        matrix=sparse.csr_array(m),
        samples=samples,
        clonotypes=pd.DataFrame({"clonotype": labels, "junction_aa": labels}),
        spec=ClonotypeSpec(),
        unit="templates",
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
