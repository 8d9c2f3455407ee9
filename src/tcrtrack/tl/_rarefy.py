"""Depth-fair sharing: ``tt.tl.rarefy`` and ``tt.tl.sharing_curve``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tcrtrack.errors import ParameterError
from tcrtrack.tl._counts import CloneCounts
from tcrtrack.tl._stats import (
    FRACTIONS,
    Units,
    check_ci,
    percentile_interval,
    sample_rng,
    sharing_replicates,
    units_of,
)

__all__ = ["Rarefaction", "SharingCurve", "rarefy", "sharing_curve"]

_CHUNK = 50


@dataclass(frozen=True)
class Rarefaction:
    """Sharing with a reference after subsampling every sample to one depth.

    Attributes
    ----------
    table
        One row per sample (index): ``depth``, ``n``, then for each fraction of
        :func:`tcrtrack.tl.sharing` its mean over the ``n`` subsamples and ``*_low`` /
        ``*_high``, the central ``ci`` range of the subsampled values; also the mean
        ``n_clonotypes`` and ``n_shared``.
    replicates
        One row per subsample and sample: ``replicate``, ``sample``, ``depth``,
        ``n_clonotypes``, ``n_shared`` and the fractions.
    reference, depth, n, seed, ci, rarefy_reference
        The settings used.
    unit
        What ``depth`` counts: ``cells`` for single-cell data, or the bulk unit.
    """

    table: pd.DataFrame
    replicates: pd.DataFrame
    reference: str
    depth: int
    n: int
    seed: int
    ci: float
    rarefy_reference: bool
    unit: str = "cells"

    def to_frame(self) -> pd.DataFrame:
        """The summary table (a copy)."""
        return self.table.copy()

    def display_table(self) -> pd.DataFrame:
        """The readable table the command line prints and the report shows: per sample and
        fraction of :func:`tcrtrack.tl.sharing`, the mean over the subsamples and the central
        ``ci`` range, in percent, labelled in the data's unit."""
        from tcrtrack._display import SHARING_FRACTIONS, fraction_labels, mean_interval

        t = self.table
        labels = fraction_labels(self.unit)
        return pd.DataFrame(
            {
                labels[frac]: [
                    mean_interval(m, lo, hi)
                    for m, lo, hi in zip(t[frac], t[f"{frac}_low"], t[f"{frac}_high"], strict=True)
                ]
                for frac in SHARING_FRACTIONS
            },
            index=pd.Index(t.index, name="sample"),
        )

    def __repr__(self) -> str:
        return (
            f"Rarefaction(reference={self.reference!r}, samples={list(self.table.index)!r}, "
            f"depth={self.depth}, n={self.n}, seed={self.seed}, ci={self.ci})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Sharing with {self.reference} rarefied</b> to {self.depth:,} per sample "
            f"({self.n} subsamples, seed {self.seed}; interval {self.ci:.0%})</p>"
            + self.table.to_html(float_format=lambda x: f"{x:.4f}")
        )


@dataclass(frozen=True)
class SharingCurve:
    """Sharing with a reference as a function of sampling depth.

    Attributes
    ----------
    table
        One row per sample and depth: ``sample``, ``depth``, ``n`` and, per fraction, the
        mean over subsamples and ``*_low`` / ``*_high`` (the central ``ci`` range).
    reference, n, seed, ci
        The settings used.
    unit
        What the depth counts: ``cells`` (single-cell data) or the bulk unit.
    """

    table: pd.DataFrame
    reference: str
    n: int
    seed: int
    ci: float
    unit: str = "cells"

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        samples = list(dict.fromkeys(self.table["sample"])) if len(self.table) else []
        depths = self.table["depth"].nunique() if len(self.table) else 0
        return (
            f"SharingCurve(reference={self.reference!r}, samples={samples!r}, "
            f"{depths} depth(s), unit={self.unit!r}, n={self.n}, seed={self.seed})"
        )

    def _repr_html_(self) -> str:
        return f"<p><b>Sharing curve</b> against {self.reference}</p>" + self.table.to_html()


def _others(counts: CloneCounts, reference: str, samples: Sequence[str] | None) -> list[str]:
    from tcrtrack.tl._sharing import _check_reference

    return _check_reference(counts, reference, samples)


def _replicates(
    units: Units,
    ref_units: Units,
    depth: int,
    n: int,
    rng: np.random.Generator,
    ref_depth: int | None,
) -> dict[str, np.ndarray]:
    parts = []
    done = 0
    while done < n:
        b = min(_CHUNK, n - done)
        w = units.subsample(depth, b, rng)
        if ref_depth is None:
            rw = np.broadcast_to(ref_units.weights, (b, len(ref_units.weights)))
        else:
            rw = ref_units.subsample(ref_depth, b, rng)
        parts.append(sharing_replicates(units, w, ref_units, rw))
        done += b
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _summarise(reps: dict[str, np.ndarray], ci: float) -> dict[str, float]:
    row: dict[str, float] = {}
    for key in ("n_clonotypes", "n_shared"):
        row[key] = float(np.mean(reps[key]))
    for frac in FRACTIONS:
        values = reps[frac]
        low, high = percentile_interval(values, ci=ci)
        with np.errstate(all="ignore"):
            row[frac] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
        row[f"{frac}_low"], row[f"{frac}_high"] = float(low), float(high)
    return row


def _check_n(n: int) -> int:
    if int(n) < 1:
        msg = f"n must be a positive number of subsamples, got {n!r}"
        raise ParameterError(msg)
    return int(n)


def rarefy(
    counts: CloneCounts,
    *,
    reference: str,
    samples: Sequence[str] | None = None,
    depth: int | None = None,
    n: int = 100,
    seed: int = 0,
    ci: float = 0.95,
    rarefy_reference: bool = False,
) -> Rarefaction:
    """Sharing with the reference after subsampling each sample to a common depth.

    Sharing fractions grow with the number of cells sequenced, so a raw percentage of a
    9,440-cell sample is not comparable with that of a 10,772-cell sample. ``rarefy`` draws,
    ``n`` times, ``depth`` cells of each sample without replacement (for bulk data,
    ``depth`` templates, reads or UMIs: a multivariate hypergeometric draw on the clone
    sizes), recomputes the sharing of :func:`tcrtrack.tl.sharing` on each subsample, and
    reports the mean and the central ``ci`` range (the :math:`(1-ci)/2` and
    :math:`(1+ci)/2` quantiles) of the ``n`` values.

    The mean estimates the sharing a sample of ``depth`` cells would show (without bias:
    a without-replacement subsample of an i.i.d. sample is an i.i.d. sample); the range is
    where the sharing of one ``depth``-cell sample falls (a prediction interval for a new
    sample of that depth, not an interval on the mean). Single-cell samples are subsampled
    by distinct cells, so a cell in two clonotypes (``multichain="all"``) is kept or dropped
    whole. The reference is kept whole unless ``rarefy_reference`` (then it is subsampled
    to ``depth`` too).

    Parameters
    ----------
    counts
        Clonotype counts of the reference and the samples.
    reference
        The reference sample.
    samples
        Samples to compare (default: all but the reference).
    depth
        Cells (or bulk units) per subsample; default: the smallest of the samples (and of
        the reference, with ``rarefy_reference``).
    n
        Subsamples per sample.
    seed
        Seed of the random draws: the same seed gives the same result. Each sample draws
        from its own stream, derived from the seed and its name, so its numbers do not
        depend on the other samples or their order.
    ci
        Level of the range.
    rarefy_reference
        Subsample the reference to ``depth`` too.

    Returns
    -------
    :class:`Rarefaction`.

    Raises
    ------
    ValueError
        ``depth`` larger than a sample (the message names it and its size).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> r = tt.tl.rarefy(counts, reference="a", depth=500, n=20, seed=1)
    >>> r.table.loc["b", ["depth", "frac_clonotypes_shared"]].tolist()
    [500.0, 1.0]
    """
    ci = check_ci(ci)
    n = _check_n(n)
    others = _others(counts, reference, samples)
    unit = counts.require_one_unit("rarefaction to a common depth", [reference, *others])
    totals = counts.totals()
    pool = [*others, reference] if rarefy_reference else others
    if depth is None:
        depth = int(min(int(totals[x]) for x in pool))
    depth = int(depth)
    if depth < 1:
        msg = f"depth must be at least 1, got {depth!r}"
        raise ParameterError(msg)
    for x in pool:
        if int(totals[x]) < depth:
            msg = (
                f"sample {x!r} has {int(totals[x]):,} {unit}, fewer than depth={depth:,}; "
                "choose a smaller depth or leave it out"
            )
            raise ParameterError(msg)
    ref_units = units_of(counts, reference)
    rows, reps_frames = [], []
    for name in others:
        # each sample its own stream: the same seed gives a sample the same subsamples
        # whatever the other samples and their order
        reps = _replicates(
            units_of(counts, name),
            ref_units,
            depth,
            n,
            sample_rng(seed, name),
            depth if rarefy_reference else None,
        )
        rows.append({"sample": name, "depth": depth, "n": n} | _summarise(reps, ci))
        frame = pd.DataFrame(reps)
        frame.insert(0, "depth", depth)
        frame.insert(0, "sample", name)
        frame.insert(0, "replicate", np.arange(n))
        reps_frames.append(frame)
    table = pd.DataFrame(rows).set_index("sample")
    table["n"] = table["n"].astype("int64")
    return Rarefaction(
        table=table,
        replicates=pd.concat(reps_frames, ignore_index=True),
        reference=reference,
        depth=depth,
        n=n,
        seed=int(seed),
        ci=ci,
        rarefy_reference=bool(rarefy_reference),
        unit=unit,
    )


def sharing_curve(
    counts: CloneCounts,
    *,
    reference: str,
    samples: Sequence[str] | None = None,
    depths: Sequence[int] | None = None,
    n_depths: int = 10,
    n: int = 50,
    seed: int = 0,
    ci: float = 0.95,
) -> SharingCurve:
    """Sharing with the reference versus sampling depth (a rarefaction curve of sharing).

    At each depth, each sample is subsampled ``n`` times as in :func:`rarefy` (the reference
    kept whole) and the mean and central ``ci`` range of each fraction are reported. A
    sample appears only at depths up to its own size; its own size is always included
    (where the range has width 0: the full sample).

    Parameters
    ----------
    counts, reference, samples
        As in :func:`rarefy`.
    depths
        Depths to evaluate; default: ``n_depths`` evenly spaced depths up to the largest
        sample, plus each sample's size.
    n_depths
        Number of default depths.
    n, seed, ci
        Subsamples per depth, seed and range level.

    Returns
    -------
    :class:`SharingCurve`.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> curve = tt.tl.sharing_curve(counts, reference="a", depths=[100, 1000], n=5)
    >>> curve.table[["sample", "depth", "frac_cells_shared"]].values.tolist()
    [['b', 100, 1.0], ['b', 1000, 1.0]]
    """
    ci = check_ci(ci)
    n = _check_n(n)
    others = _others(counts, reference, samples)
    unit = counts.require_one_unit("a sharing curve (rarefaction)", [reference, *others])
    totals = counts.totals()
    if depths is None:
        top = max(int(totals[x]) for x in others)
        grid = np.linspace(0, top, int(n_depths) + 1)[1:].round().astype(np.int64)
        grid_list = sorted({int(d) for d in grid if d > 0})
    else:
        grid_list = sorted({int(d) for d in depths})
        if not grid_list or grid_list[0] < 1:
            msg = f"depths must be positive integers, got {list(depths)!r}"
            raise ParameterError(msg)
    ref_units = units_of(counts, reference)
    rows = []
    for name in others:
        rng = sample_rng(seed, name)
        units = units_of(counts, name)
        size = int(totals[name])
        mine = [d for d in grid_list if d <= size]
        if depths is None and size not in mine:
            mine.append(size)
        for d in mine:
            reps = _replicates(units, ref_units, d, n, rng, None)
            rows.append({"sample": name, "depth": d, "n": n} | _summarise(reps, ci))
    table = pd.DataFrame(rows)
    if len(table):
        table["depth"] = table["depth"].astype("int64")
        table["n"] = table["n"].astype("int64")
    return SharingCurve(table=table, reference=reference, n=n, seed=int(seed), ci=ci, unit=unit)
