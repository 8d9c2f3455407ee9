"""Contig filters: ``tt.pp.filter_contigs``."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from tcrtrack import _qc
from tcrtrack._contigs import check_contig_table, filter_masks

__all__ = ["filter_contigs"]


def filter_contigs(
    contigs: pd.DataFrame,
    *,
    cells_only: bool = True,
    high_confidence: bool = True,
    productive: bool = True,
    sequence: Literal["nt", "aa"] = "nt",
    check_translation: bool = True,
) -> pd.DataFrame:
    """Drop contigs that cannot define a clonotype, counting each by reason in the QC ledger.

    Rows are checked in this order and each dropped row is counted once, under the first
    reason that applies:

    1. ``not_a_cell``: ``is_cell`` is False (``cells_only``);
    2. ``low_confidence``: ``high_confidence`` is False (``high_confidence``);
    3. ``multi_locus_contig``: 10x ``chain`` is ``Multi``;
    4. ``non_productive``: ``productive`` is False or missing (``productive``);
    5. ``missing_junction``: no ``junction`` (``sequence="nt"``) or no ``junction_aa``
       (``sequence="aa"``);
    6. ``malformed_junction``: for ``nt``, characters other than ``ACGT``, a length that is not
       a multiple of 3, or (``check_translation``) a translation that differs from
       ``junction_aa``; for ``aa``, characters other than the 20 amino acids.

    A missing ``is_cell`` or ``high_confidence`` value (bulk data, AIRR files without these
    fields) never drops a row.

    Parameters
    ----------
    contigs
        A contig table from :mod:`tcrtrack.io`.
    cells_only, high_confidence, productive
        Apply the corresponding filter.
    sequence
        Which junction the clonotype definition uses, and so must be present and well formed.
    check_translation
        For ``nt``, also require the junction to translate to ``junction_aa`` where that is
        given.

    Returns
    -------
    A new contig table with the kept rows; its ledger has one entry per sample and reason.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> raw = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> kept = tt.pp.filter_contigs(raw)
    >>> qc = tt.qc(kept).summary()
    >>> row = qc.loc["pbmc3"]
    >>> int(row["read"]) == int(row["kept"]) + int(row["dropped"])
    True
    """
    check_contig_table(contigs)
    masks = filter_masks(
        contigs,
        cells_only=cells_only,
        high_confidence=high_confidence,
        productive=productive,
        sequence=sequence,
        check_translation=check_translation,
    )
    return _qc.drop_rows(contigs, masks, stage="filter")
