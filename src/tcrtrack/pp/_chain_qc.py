"""Per-sample chain statistics: ``tt.pp.chain_qc``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tcrtrack import schema as s
from tcrtrack.pp._filter import check_contig_table

__all__ = ["chain_qc"]


def chain_qc(contigs: pd.DataFrame, *, loci: tuple[str, ...] = ("TRA", "TRB")) -> pd.DataFrame:
    """Per sample: cells, contigs per locus, cells with 0, 1 or 2+ chains of each locus.

    Counts are taken on the table as given (filter it first to count usable chains only).
    ``cells`` counts distinct barcodes (``cell_id``) with any contig; ``productive_fraction``
    is productive contigs / contigs (NA ``productive`` counts as not productive). A cell with
    0 chains of a locus has contigs only of other loci. Bulk tables (no ``cell_id``) have
    cell columns of 0.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> qc = tt.pp.chain_qc(contigs)
    >>> int(qc.loc["pbmc3", "contigs"]) == len(contigs)
    True
    """
    check_contig_table(contigs)
    rows = []
    for sample, part in contigs.groupby(s.SAMPLE, observed=True, sort=False):
        locus = part[s.LOCUS].astype("string")
        cells = part[s.CELL_ID].dropna()
        n_cells = int(cells.nunique())
        row: dict[str, object] = {"sample": str(sample), "cells": n_cells, "contigs": len(part)}
        for value, n in locus.value_counts(dropna=False).sort_index().items():
            row[f"contigs_{value if value is not pd.NA else 'NA'}"] = int(n)
        prod = part[s.PRODUCTIVE].astype("boolean").fillna(False)
        row["productive_fraction"] = float(np.mean(prod.to_numpy(dtype=bool))) if len(part) else 0.0
        for lc in loci:
            per_cell = part.loc[
                locus.eq(lc).fillna(False).to_numpy() & part[s.CELL_ID].notna().to_numpy(),
                s.CELL_ID,
            ].value_counts()
            one = int((per_cell == 1).sum())
            many = int((per_cell >= 2).sum())
            row[f"cells_0_{lc}"] = n_cells - one - many
            row[f"cells_1_{lc}"] = one
            row[f"cells_2plus_{lc}"] = many
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("sample")
    count_cols = [c for c in frame.columns if c != "productive_fraction"]
    frame[count_cols] = frame[count_cols].fillna(0).astype("int64")
    return frame
