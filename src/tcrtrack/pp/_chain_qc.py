"""Per-sample chain statistics: ``tt.pp.chain_qc``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tcrtrack import schema as s
from tcrtrack._contigs import check_contig_table

__all__ = ["chain_qc"]

#: Order of the ``contigs_<locus>`` columns (other values follow, sorted, then ``NA``).
_LOCUS_ORDER = (*s.LOCI, s.MULTI_LOCUS)


def chain_qc(contigs: pd.DataFrame, *, loci: tuple[str, ...] = ("TRA", "TRB")) -> pd.DataFrame:
    """Per sample: cells, contigs per locus, cells with 0, 1 or 2+ contigs of each locus.

    Counts are taken on the table as given (filter it first with
    :func:`tcrtrack.pp.filter_contigs` to count usable chains only). Columns:

    - ``barcodes``: distinct ``cell_id`` values;
    - ``cells``: distinct ``cell_id`` values with at least one contig whose ``is_cell`` is not
      False (equal to ``barcodes`` for ``filtered_contig_annotations`` and for tables
      without ``is_cell``);
    - ``contigs`` and ``contigs_<locus>`` (``contigs_Multi`` for 10x ``Multi`` chains,
      ``contigs_NA`` for a missing locus);
    - ``productive`` (contigs with ``productive`` True) and
      ``productive_fraction = productive / contigs`` (NA counts as not productive);
    - ``cells_0_<locus>``, ``cells_1_<locus>``, ``cells_2plus_<locus>`` for each of ``loci``:
      among ``cells``, how many have 0, 1, 2 or more contigs of that locus
      (``cells_0 + cells_1 + cells_2plus = cells``).

    Bulk tables (no ``cell_id``) have 0 in every cell column.

    Parameters
    ----------
    contigs
        A contig table.
    loci
        The loci whose chains per cell are counted.

    Returns
    -------
    One row per sample (index ``sample``, in order of appearance); every column but
    ``productive_fraction`` is an integer.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> qc = tt.pp.chain_qc(contigs)
    >>> int(qc.loc["pbmc3", "contigs"]) == len(contigs)
    True
    >>> row = qc.loc["pbmc3"]
    >>> int(row["cells_0_TRB"] + row["cells_1_TRB"] + row["cells_2plus_TRB"]) == int(row["cells"])
    True
    """
    check_contig_table(contigs)
    locus_all = contigs[s.LOCUS].astype("string")
    seen = set(locus_all.dropna().unique())
    locus_cols = [lc for lc in _LOCUS_ORDER if lc in seen] + sorted(seen - set(_LOCUS_ORDER))
    rows = []
    for sample, part in contigs.groupby(s.SAMPLE, observed=True, sort=False):
        locus = part[s.LOCUS].astype("string")
        cell_id = part[s.CELL_ID]
        has_cell = cell_id.notna().to_numpy()
        if s.IS_CELL in part:
            called = ~np.asarray(part[s.IS_CELL].astype("boolean").eq(False).fillna(False), bool)
        else:
            called = np.ones(len(part), dtype=bool)
        cells = pd.unique(cell_id[has_cell & called])
        row: dict[str, object] = {
            "sample": str(sample),
            "barcodes": int(cell_id[has_cell].nunique()),
            "cells": len(cells),
            "contigs": len(part),
        }
        counts = locus.value_counts(dropna=False)
        for lc in locus_cols:
            row[f"contigs_{lc}"] = int(counts.get(lc, 0))
        if locus.isna().any():
            row["contigs_NA"] = int(locus.isna().sum())
        prod = np.asarray(part[s.PRODUCTIVE].astype("boolean").fillna(False), dtype=bool)
        row["productive"] = int(prod.sum())
        row["productive_fraction"] = float(prod.mean()) if len(part) else 0.0
        in_cells = cell_id.isin(cells).to_numpy() & has_cell
        for lc in loci:
            of_locus = np.asarray(locus.eq(lc).fillna(False), dtype=bool)
            per_cell = cell_id[of_locus & in_cells].value_counts()
            one = int((per_cell == 1).sum())
            many = int((per_cell >= 2).sum())
            row[f"cells_0_{lc}"] = len(cells) - one - many
            row[f"cells_1_{lc}"] = one
            row[f"cells_2plus_{lc}"] = many
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("sample")
    count_cols = [c for c in frame.columns if c != "productive_fraction"]
    frame[count_cols] = frame[count_cols].fillna(0).astype("int64")
    return frame
