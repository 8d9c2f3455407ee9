"""Pairwise repertoire overlap (``tt.tl.overlap``) and exact intersections
(``tt.tl.intersections``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tcrtrack import schema
from tcrtrack.errors import ParameterError
from tcrtrack.schema import OverlapMetric

if TYPE_CHECKING:
    from tcrtrack.tl._counts import CloneCounts

__all__ = ["OVERLAP_METRICS", "OverlapMetric", "intersections", "overlap"]

#: Metrics of :func:`overlap`: the first three on clonotype sets, the last two on counts.
OVERLAP_METRICS = schema.OVERLAP_METRICS
#: The overlap metrics weighted by counts (the others compare clonotype sets).
COUNT_METRICS = ("morisita_horn", "cosine")


def _rows(counts: CloneCounts, samples: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    names = list(counts.samples) if samples is None else list(samples)
    if len(set(names)) != len(names):
        msg = f"samples must be distinct, got {names!r}"
        raise ParameterError(msg)
    if not names:
        msg = "give at least one sample"
        raise ParameterError(msg)
    idx = [counts.index(x) for x in names]
    return names, np.asarray(counts.matrix[idx].toarray(), dtype=np.float64)


def overlap(
    counts: CloneCounts,
    *,
    metric: OverlapMetric = "jaccard",
    samples: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Pairwise overlap of the samples' repertoires: a symmetric samples × samples matrix.

    For samples *A* and *B* with clonotype sets :math:`C_A`, :math:`C_B` (the distinct
    clonotypes with a positive count, never the rows of a contig table) and clone sizes
    :math:`a_i`, :math:`b_i` (cells, or the bulk unit) with totals :math:`A = \\sum a_i`,
    :math:`B = \\sum b_i`:

    - ``jaccard``: :math:`|C_A \\cap C_B| / |C_A \\cup C_B|`;
    - ``overlap`` (overlap coefficient, Szymkiewicz–Simpson):
      :math:`|C_A \\cap C_B| / \\min(|C_A|, |C_B|)`;
    - ``sorensen`` (Sørensen–Dice): :math:`2|C_A \\cap C_B| / (|C_A| + |C_B|)`;
    - ``morisita_horn``: :math:`2\\sum_i a_i b_i / ((D_A + D_B) A B)` with
      :math:`D_A = \\sum_i a_i^2 / A^2` (likewise :math:`D_B`); it weighs large clones most;
    - ``cosine``: :math:`\\sum_i a_i b_i / (\\sqrt{\\sum_i a_i^2}\\sqrt{\\sum_i b_i^2})`, on the
      counts (cosine on presence vectors would be :math:`|C_A \\cap C_B| / \\sqrt{|C_A||C_B|}`,
      a different index).

    Every index is symmetric, lies in [0, 1], is 1 on the diagonal and 0 for samples without
    a common clonotype; a pair involving an empty sample is NA. The first three compare
    clonotype sets and work on samples counted in different units (templates beside reads,
    single-cell beside bulk data); ``morisita_horn`` and ``cosine`` multiply counts of
    different samples and refuse them (:class:`~tcrtrack.errors.UnitError`, naming the
    samples, files and units). Clone sizes of a
    single-cell sample are cells per clonotype (under ``multichain="all"`` a cell with two
    chains counts in both its clonotypes).

    Parameters
    ----------
    counts
        Clonotype counts.
    metric
        One of ``jaccard``, ``overlap``, ``sorensen``, ``morisita_horn``, ``cosine``.
    samples
        Samples to compare, in order (default: all).

    Returns
    -------
    A ``float64`` :class:`pandas.DataFrame` indexed by sample on both axes;
    ``attrs["metric"]`` names the metric.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> tt.tl.overlap(counts, metric="morisita_horn").round(6)
              a    b
    sample
    a       1.0  1.0
    b       1.0  1.0
    """
    if metric not in OVERLAP_METRICS:
        msg = f"unknown overlap metric {metric!r}; choose one of {', '.join(OVERLAP_METRICS)}"
        raise ParameterError(msg)
    names, x = _rows(counts, samples)
    if metric in COUNT_METRICS:
        counts.require_one_unit(f"the {metric} overlap index (weighted by counts)", names)
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric in ("jaccard", "overlap", "sorensen"):
            p = (x > 0).astype(np.float64)
            inter = p @ p.T
            size = p.sum(axis=1)
            if metric == "jaccard":
                value = inter / (size[:, None] + size[None, :] - inter)
            elif metric == "overlap":
                value = inter / np.minimum(size[:, None], size[None, :])
            else:
                value = 2 * inter / (size[:, None] + size[None, :])
            empty = size == 0
        elif metric == "morisita_horn":
            total = x.sum(axis=1)
            d = (x**2).sum(axis=1) / total**2
            value = 2 * (x @ x.T) / ((d[:, None] + d[None, :]) * total[:, None] * total[None, :])
            empty = total == 0
        else:
            norm = np.sqrt((x**2).sum(axis=1))
            value = (x @ x.T) / (norm[:, None] * norm[None, :])
            empty = norm == 0
    value = np.clip(value, 0.0, 1.0)
    value = (value + value.T) / 2  # exact symmetry despite rounding
    np.fill_diagonal(value, 1.0)
    value[empty, :] = np.nan
    value[:, empty] = np.nan
    frame = pd.DataFrame(value, index=pd.Index(names, name="sample"), columns=names)
    frame.attrs["metric"] = metric
    return frame


def intersections(
    counts: CloneCounts,
    samples: Sequence[str] | None = None,
    *,
    include_empty: bool = False,
) -> pd.DataFrame:
    """Clonotypes found in exactly each combination of samples (the bars of an UpSet plot).

    A clonotype is counted in the combination of the samples where its count is positive
    and in no other; the combinations therefore partition the union of the samples'
    clonotypes, and a sample's combinations add up to its clonotype count. Works for any
    number of samples (up to 62).

    Parameters
    ----------
    counts
        Clonotype counts.
    samples
        Samples, in order (default: all).
    include_empty
        Also list the combinations holding no clonotype (all :math:`2^n - 1` of them).

    Returns
    -------
    One row per combination: a boolean column per sample (is the clonotype in it), then
    ``degree`` (samples in the combination) and ``n_clonotypes``; sorted by
    ``n_clonotypes`` (largest first), then degree, then sample order.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> table = tt.tl.intersections(counts)
    >>> table[["a", "b", "degree"]].values.tolist()
    [[True, True, 2]]
    """
    names, x = _rows(counts, samples)
    n = len(names)
    if n > 62:
        msg = f"intersections supports up to 62 samples, got {n}"
        raise ParameterError(msg)
    present = x > 0
    weights = np.left_shift(np.int64(1), np.arange(n - 1, -1, -1, dtype=np.int64))
    codes = (present.astype(np.int64) * weights[:, None]).sum(axis=0)
    codes = codes[codes > 0]
    if include_empty:
        if n > 20:
            msg = f"include_empty lists 2^n - 1 combinations; too many for {n} samples"
            raise ParameterError(msg)
        uniq = np.arange(1, 1 << n, dtype=np.int64)
        tally = np.bincount(codes, minlength=1 << n)[1:]
    else:
        uniq, tally = np.unique(codes, return_counts=True)
    member = (uniq[:, None] & weights[None, :]) > 0
    table = pd.DataFrame(member, columns=names)
    table["degree"] = member.sum(axis=1).astype(np.int64)
    table["n_clonotypes"] = np.asarray(tally, dtype=np.int64)
    order = np.lexsort((-uniq, table["degree"].to_numpy(), -table["n_clonotypes"].to_numpy()))
    return table.iloc[order].reset_index(drop=True)
