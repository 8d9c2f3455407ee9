"""Sharing within one mismatch: ``tt.cohort.near_sharing``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from tcrtrack.errors import ParameterError

#: The columns of :func:`near_sharing`, in order.
NEAR_COLUMNS: Final = (
    "n_shared_1mm",
    "frac_clonotypes_shared_1mm",
    "n_cells_shared_1mm",
    "frac_cells_shared_1mm",
    "n_reference_clonotypes_detected_1mm",
    "frac_reference_clonotypes_detected_1mm",
    "n_reference_cells_detected_1mm",
    "frac_reference_cells_detected_1mm",
)


def near_pairs_of(counts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a, b) of clonotypes of ``counts`` (indices of ``counts.clonotypes``) whose
    junctions have equal length and differ at most at one position, with the same genes when
    the definition compares genes; (a, a) included."""
    from tcrtrack.cohort._near import near_pairs

    spec = counts.spec
    if spec.paired:
        msg = (
            f"near matches compare one chain's junction; the clonotypes are defined on "
            f"{spec.locus}: give one locus (--locus TRB) or leave --mismatches at 0"
        )
        raise ParameterError(msg)
    table = counts.clonotypes
    seq = pa.array(table[spec.sequence_column].astype(object).tolist(), pa.large_string())
    genes = None
    if spec.gene_columns:
        parts = [table[c].astype(object).where(table[c].notna(), "NA") for c in spec.gene_columns]
        label = parts[0] if len(parts) == 1 else parts[0] + "|" + parts[1]
        genes = pa.array(label.astype(str).tolist(), pa.large_string())
    return near_pairs(seq, genes, seq, genes)


def _cells_in(counts: Any, sample: str, mask: np.ndarray) -> int:
    """Distinct cells (or summed bulk counts) of ``sample`` in the clonotypes of ``mask``,
    as ``tt.tl.sharing`` counts them: a cell in two clonotypes counts once."""
    return int(counts.count_in(sample, mask))


def _ratio(num: int, den: int) -> float:
    return num / den if den else np.nan


def near_sharing(
    counts: Any, *, reference: str, samples: Sequence[str] | None = None
) -> pd.DataFrame:
    """Sharing with the reference when junctions within one mismatch also match.

    For a sample *S* and the reference *R*: a clonotype of *S* is *shared within one
    mismatch* when *R* has a clonotype whose junction (the definition's: nucleotides or amino
    acids) has the same length and differs at most at one position, with the same genes when
    the definition compares genes; a clonotype of *R* is *detected within one mismatch* in
    *S* likewise. One row per sample:

    - ``n_shared_1mm``: clonotypes of *S* shared within one mismatch;
      ``frac_clonotypes_shared_1mm`` = ``n_shared_1mm / n_clonotypes``;
    - ``n_cells_shared_1mm``: cells of *S* in those clonotypes; ``frac_cells_shared_1mm`` over
      the cells of *S*;
    - ``n_reference_clonotypes_detected_1mm``: clonotypes of *R* detected in *S* within one
      mismatch; ``frac_reference_clonotypes_detected_1mm`` over the clonotypes of *R*;
    - ``n_reference_cells_detected_1mm``: cells of *R* in those clonotypes;
      ``frac_reference_cells_detected_1mm`` over the cells of *R*.

    With exact matching both views count the same clonotypes (``n_shared``); within one
    mismatch they differ: one clonotype of *R* may be near two of *S*. Pairs are found by
    deletion-neighbourhood hashing (:mod:`tcrtrack.cohort._near`), never by comparing all.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> near = tt.cohort.near_sharing(counts, reference="a")
    >>> float(near.loc["b", "frac_clonotypes_shared_1mm"])
    1.0
    """
    ref_row = counts.index(reference)
    others = [x for x in counts.samples if x != reference] if samples is None else list(samples)
    presence = counts.presence()
    a, b = near_pairs_of(counts)
    ref = presence[ref_row]
    n_ref = int(ref.sum())
    totals = counts.totals()
    n = presence.shape[1]
    rows = {}
    for name in others:
        own = presence[counts.index(name)]
        hit = own[a] & ref[b]  # a of the sample near b of the reference
        shared = np.bincount(a[hit], minlength=n) > 0
        detected = np.bincount(b[hit], minlength=n) > 0
        n_clono, n_cells = int(own.sum()), int(totals[name])
        n_shared, n_detected = int(shared.sum()), int(detected.sum())
        cells_shared = _cells_in(counts, name, shared)
        ref_cells = _cells_in(counts, reference, detected)
        rows[name] = {
            "n_shared_1mm": n_shared,
            "frac_clonotypes_shared_1mm": _ratio(n_shared, n_clono),
            "n_cells_shared_1mm": cells_shared,
            "frac_cells_shared_1mm": _ratio(cells_shared, n_cells),
            "n_reference_clonotypes_detected_1mm": n_detected,
            "frac_reference_clonotypes_detected_1mm": _ratio(n_detected, n_ref),
            "n_reference_cells_detected_1mm": ref_cells,
            "frac_reference_cells_detected_1mm": _ratio(ref_cells, int(totals[reference])),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(NEAR_COLUMNS))
    table.index.name = "sample"
    return table
