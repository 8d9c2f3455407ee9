"""Diversity of each sample: ``tt.tl.diversity``.

Richness, Shannon entropy, clonality, Simpson's index, the Gini coefficient of clone sizes and
D50, the numbers TIL studies report for an infusion product and the patient's blood — as
observed, and at a common depth (each sample subsampled without replacement, repeatedly, with
the sampler of :func:`tcrtrack.tl.rarefy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tcrtrack.errors import EmptyError, NotFoundError, ParameterError, UnitError
from tcrtrack.tl._stats import Units, check_ci, percentile_interval, sample_rng, units_of

if TYPE_CHECKING:
    from tcrtrack.tl._counts import CloneCounts
    from tcrtrack.tl._spec import ClonotypeSpec

__all__ = ["DIVERSITY_METRICS", "Diversity", "diversity"]

#: The metrics of :func:`diversity`, in the order of the table's columns.
DIVERSITY_METRICS = ("richness", "shannon", "clonality", "simpson", "gini", "d50", "d50_percent")

#: Replicates drawn at once, at most; fewer for large samples so that a batch's
#: replicates × cells (or × clonotypes) arrays hold at most :data:`_BATCH_CELLS` values.
_CHUNK = 50
_BATCH_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class Diversity:
    """The diversity of each sample, observed and (with a depth) at a common depth.

    Definitions and formulas: :func:`diversity`.

    Attributes
    ----------
    table
        One row per sample (index ``sample``): ``unit``, ``n_units``, then
        :data:`DIVERSITY_METRICS` as observed; with a depth also ``depth``, ``n_repeats``
        and, per metric, ``<metric>_rarefied`` (the mean over the subsamples) with
        ``<metric>_rarefied_low`` / ``<metric>_rarefied_high`` (the central ``ci`` range of
        the subsampled values).
    replicates
        With a depth, one row per sample and subsample: ``sample``, ``replicate`` and each
        metric of that subsample; empty without a depth.
    units
        The units of the samples' counts (``cells``, ``templates``, ``reads``, ``umis``),
        each once, in the order of the samples.
    depth
        Cells (or bulk units) per subsample; ``None`` without rarefaction.
    n_repeats, seed, ci
        Subsamples per sample, the seed of the draws and the level of the range.
    spec
        The clonotype definition.
    """

    table: pd.DataFrame
    replicates: pd.DataFrame
    units: tuple[str, ...]
    depth: int | None
    n_repeats: int
    seed: int
    ci: float
    spec: ClonotypeSpec

    @property
    def samples(self) -> tuple[str, ...]:
        """The samples, in the order of the table."""
        return tuple(self.table.index)

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def display_tables(self) -> dict[str, pd.DataFrame]:
        """The readable tables the command line prints and the report shows, one row per
        sample: ``observed`` (counts with thousands separators, indices rounded, D50 with its
        percentage) and, with a depth, ``rarefied`` (each index as ``mean [low-high]``)."""
        t = self.table
        out = pd.DataFrame(index=t.index)
        out["units"] = [f"{int(n):,} {u}" for n, u in zip(t["n_units"], t["unit"], strict=True)]
        out["richness"] = t["richness"].map("{:,}".format)
        for metric in ("shannon", "clonality", "simpson", "gini"):
            out[metric] = t[metric].map(_fmt)
        out["D50"] = [
            f"{int(d):,} ({_pct(p)})" for d, p in zip(t["d50"], t["d50_percent"], strict=True)
        ]
        tables = {"observed": out}
        if self.depth is not None:
            rare = pd.DataFrame(index=t.index)
            for metric in ("richness", "shannon", "clonality", "simpson", "gini", "d50"):
                digits = "{:,.1f}" if metric in ("richness", "d50") else "{:.4f}"
                rare["D50" if metric == "d50" else metric] = [
                    _range(m, lo, hi, digits)
                    for m, lo, hi in zip(
                        t[f"{metric}_rarefied"],
                        t[f"{metric}_rarefied_low"],
                        t[f"{metric}_rarefied_high"],
                        strict=True,
                    )
                ]
            tables["rarefied"] = rare
        return tables

    def __repr__(self) -> str:
        depth = "" if self.depth is None else f", depth={self.depth}, n_repeats={self.n_repeats}"
        return (
            f"Diversity({len(self.table)} samples, units={'/'.join(self.units)!r}{depth}, "
            f"spec='{self.spec}')"
        )

    def _repr_html_(self) -> str:
        depth = (
            ""
            if self.depth is None
            else (
                f"; rarefied to {self.depth:,} ({self.n_repeats} subsamples, seed {self.seed}, "
                f"central {self.ci:.0%} range)"
            )
        )
        return (
            f"<p><b>Diversity</b> ({'/'.join(self.units)}; clonotype = {self.spec}{depth})</p>"
            + self.table.to_html(float_format=lambda x: f"{x:.4g}")
        )


def _fmt(x: float) -> str:
    return "NA" if pd.isna(x) else f"{x:.4f}"


def _pct(x: float) -> str:
    return "NA" if pd.isna(x) else f"{x:.2f}%"


def _range(mean: float, low: float, high: float, digits: str) -> str:
    if pd.isna(mean):
        return "NA"
    return f"{digits.format(mean)} [{digits.format(low)}-{digits.format(high)}]"


def diversity_metrics(sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of :func:`diversity` for each row of a ``replicates × clonotypes`` array
    of clone sizes (zeros allowed: a clonotype absent from that row). Vectorised over rows."""
    c = np.atleast_2d(np.asarray(sizes, dtype=np.float64))
    total = c.sum(axis=1)
    richness = (c > 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = c / total[:, None]
        logp = np.log(p, where=p > 0, out=np.zeros_like(p))
        shannon = -(p * logp).sum(axis=1)
        simpson = (p * p).sum(axis=1)
        clonality = np.where(richness > 1, 1.0 - shannon / np.log(richness), np.nan)
        ascending = np.sort(c, axis=1)  # zeros first; the richness clones are the last ones
        k = c.shape[1]
        rank = np.arange(1, k + 1, dtype=np.float64)
        # rank among the clones of the row: i = column + 1 - (k - richness)
        weighted = (ascending * rank).sum(axis=1) - (k - richness) * total
        gini = 2.0 * weighted / (richness * total) - (richness + 1.0) / richness
        descending = ascending[:, ::-1]
        covered = np.cumsum(descending, axis=1)
        # D50: clones (largest first) needed until they hold at least half of the total
        d50 = (2.0 * covered < total[:, None]).sum(axis=1) + 1
        d50_percent = 100.0 * d50 / richness
    empty = total <= 0
    out = {
        "richness": richness.astype(np.int64),
        "shannon": shannon,
        "clonality": clonality,
        "simpson": simpson,
        "gini": gini,
        "d50": d50.astype(np.int64),
        "d50_percent": d50_percent,
    }
    if empty.any():  # callers refuse empty samples; keep the arithmetic honest anyway
        for key in ("shannon", "clonality", "simpson", "gini", "d50_percent"):
            out[key] = np.where(empty, np.nan, out[key])
        out["d50"] = np.where(empty, 0, out["d50"])
    return out


def _own_clonotypes(units: Units) -> Units:
    """``units`` restricted to the clonotypes the sample has (columns of the membership)."""
    present = np.flatnonzero(np.diff(units.membership.tocsc().indptr))
    return Units(weights=units.weights, membership=units.membership[:, present].tocsr())


def _rarefied(units: Units, depth: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    parts = []
    done = 0
    width = max(len(units.weights), units.membership.shape[1], 1)
    chunk = max(1, min(_CHUNK, _BATCH_CELLS // width))
    while done < n:
        b = min(chunk, n - done)
        weights = units.subsample(depth, b, rng)
        parts.append(diversity_metrics(units.clone_counts(weights)))
        done += b
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _gather(
    counts: CloneCounts | Sequence[CloneCounts], samples: Sequence[str] | None
) -> list[tuple[str, CloneCounts]]:
    """``(sample, its CloneCounts)`` for each sample asked for, in order."""
    from tcrtrack.tl._counts import CloneCounts

    groups = [counts] if isinstance(counts, CloneCounts) else list(counts)
    if not groups:
        msg = "diversity needs a CloneCounts (from tt.tl.clonotypes); got an empty list"
        raise EmptyError(msg)
    for g in groups:
        if not isinstance(g, CloneCounts):
            msg = (
                "diversity takes the CloneCounts of tt.tl.clonotypes (or a list of them), "
                f"got {type(g).__name__}"
            )
            raise ParameterError(msg)
    specs = {str(g.spec) for g in groups}
    if len(specs) > 1:
        msg = (
            f"the CloneCounts define clonotypes differently ({'; '.join(sorted(specs))}); "
            "define every sample's clonotypes the same way"
        )
        raise ParameterError(msg)
    owner: dict[str, CloneCounts] = {}
    for g in groups:
        for name in g.samples:
            if name in owner:
                msg = f"sample {name!r} is in two of the CloneCounts given; name samples uniquely"
                raise ParameterError(msg)
            owner[name] = g
    if samples is None:
        names = list(owner)
    else:
        names = list(samples)
        unknown = [x for x in names if x not in owner]
        if unknown:
            msg = (
                f"unknown sample(s) {', '.join(map(repr, unknown))}; samples are: "
                f"{', '.join(owner)}"
            )
            raise NotFoundError(msg)
        twice = sorted({x for x in names if names.count(x) > 1})
        if twice:
            msg = f"sample(s) {', '.join(map(repr, twice))} given twice; list each once"
            raise ParameterError(msg)
    if not names:
        msg = "no sample to compute the diversity of"
        raise EmptyError(msg)
    return [(name, owner[name]) for name in names]


def _check_depth(
    depth: int | Literal["min"] | None, pairs: list[tuple[str, CloneCounts]], totals: dict[str, int]
) -> int | None:
    if depth is None:
        return None
    units = {name: g.unit_of(name) for name, g in pairs}
    if len(set(units.values())) > 1:
        sources = {name: g.sources()[name] for name, g in pairs}

        def where(x: str) -> str:
            return f"{x!r} ({sources[x]})" if sources[x] != x else repr(x)

        listing = "; ".join(
            f"{u}: {', '.join(where(n) for n in units if units[n] == u)}"
            for u in dict.fromkeys(units.values())
        )
        msg = (
            f"cannot subsample to a common depth: samples counted in different units ({listing}); "
            "a depth in one unit is not a depth in another: declare the unit each file really "
            "counts with --unit FILE=UNIT (units= in Python) if the counts are comparable, "
            "compute the rarefied diversity of each unit's samples separately, or leave out "
            "the depth"
        )
        raise UnitError(msg)
    if isinstance(depth, str):
        if depth != "min":
            msg = f"depth must be None, 'min' or a positive whole number, got {depth!r}"
            raise ParameterError(msg)
        return min(totals.values())
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 1:
        msg = f"depth must be None, 'min' or a positive whole number, got {depth!r}"
        raise ParameterError(msg)
    unit = next(iter(units.values()))
    small = [f"{n!r} ({totals[n]:,} {unit})" for n in totals if totals[n] < depth]
    if small:
        msg = (
            f"depth={int(depth):,} is more than sample(s) {', '.join(small)} hold; "
            "choose a depth no larger than the smallest sample (depth='min'), or leave "
            "those samples out"
        )
        raise ParameterError(msg)
    return int(depth)


def diversity(
    counts: CloneCounts | Sequence[CloneCounts],
    *,
    samples: Sequence[str] | None = None,
    depth: int | Literal["min"] | None = None,
    n_repeats: int = 100,
    seed: int = 0,
    ci: float = 0.95,
) -> Diversity:
    """Richness, Shannon entropy, clonality, Simpson, Gini and D50 of each sample.

    A sample with clone sizes :math:`c_1, \\dots, c_S` (its :math:`S` clonotypes, in cells
    for single-cell data, else in templates, reads or UMIs) and frequencies
    :math:`p_i = c_i / \\sum_j c_j`:

    - ``n_units``: the sample's cells (distinct cells with a clonotype) or summed bulk counts;
    - ``richness`` :math:`S`: the number of distinct clonotypes;
    - ``shannon`` :math:`H = -\\sum_i p_i \\ln p_i` (natural logarithm, in nats);
    - ``clonality`` :math:`1 - H / \\ln S`: 0 when every clone has the same size, towards 1
      when one clone dominates (one minus Pielou's evenness; immunoSEQ's "productive
      clonality"). Undefined for :math:`S = 1` (0/0): NaN;
    - ``simpson`` :math:`\\sum_i p_i^2`: the probability that two cells drawn with
      replacement share a clonotype (1 for a single clone; the plug-in value, not the
      unbiased :math:`\\sum c_i(c_i-1)/N(N-1)`);
    - ``gini``: the Gini coefficient of the :math:`S` clone sizes, with the sizes sorted
      ascending :math:`c_{(1)} \\le \\dots \\le c_{(S)}`,
      :math:`G = \\frac{2\\sum_i i\\,c_{(i)}}{S\\sum_i c_i} - \\frac{S+1}{S}`
      (equal to :math:`\\sum_i\\sum_j |c_i - c_j| / (2 S^2 \\bar c)`; 0 when all clones are
      the same size, at most :math:`1 - 1/S`; no small-sample correction);
    - ``d50``: the smallest number of clonotypes, taken largest first, that together hold at
      least half of the sample (:math:`\\min\\{k : \\sum_{i \\le k} c_{[i]} \\ge N/2\\}`, with
      :math:`c_{[1]} \\ge c_{[2]} \\ge \\dots` and :math:`N = \\sum c_i`; ties do not matter);
      ``d50_percent`` = :math:`100\\,d50 / S`, the same as a percentage of the clonotypes
      (immunarch reports both; vdjtools' "d50" index is :math:`1 - d50/S`).

    Under ``multichain="all"`` a cell with two chains counts in two clonotypes, so
    :math:`N` may exceed ``n_units``; the frequencies are over :math:`N`.

    **At a common depth** (``depth`` not ``None``): each sample is subsampled to ``depth``
    cells (bulk: templates, reads or UMIs) without replacement, ``n_repeats`` times, with
    the sampler of :func:`tcrtrack.tl.rarefy` (distinct cells, so a cell in two clonotypes
    is kept or dropped whole; a multivariate hypergeometric draw on bulk clone sizes); every
    metric is recomputed on each subsample and reported as the mean
    (``<metric>_rarefied``) and the central ``ci`` range (``_low``, ``_high``: the
    :math:`(1-ci)/2` and :math:`(1+ci)/2` quantiles). Richness, Shannon entropy and D50 grow
    with depth, so only values at one depth compare samples fairly. ``depth="min"`` takes
    the smallest sample's ``n_units``. Each sample's draws come from its own random stream,
    derived from ``seed`` and the sample's name: the same seed gives the same numbers, and
    adding a sample does not change another's. A subsample of a single clonotype has no
    clonality; such subsamples are left out of the clonality mean and range.

    Parameters
    ----------
    counts
        The :class:`CloneCounts` of :func:`tcrtrack.tl.clonotypes`, or a list of them (for
        samples counted in different units, which one ``CloneCounts`` cannot hold; sample
        names must be distinct across them).
    samples
        Samples to describe, in order (default: all).
    depth
        ``None`` (default: observed values only), ``"min"`` (the smallest sample's size) or
        a number of cells (bulk units) per subsample.
    n_repeats
        Subsamples per sample at the common depth.
    seed
        Seed of the subsampling (a non-negative whole number).
    ci
        Level of the central range of the subsampled values.

    Returns
    -------
    :class:`Diversity`.

    Raises
    ------
    tcrtrack.errors.SchemaError
        A depth asked for samples counted in different units (the message lists the samples
        of each unit).
    tcrtrack.errors.ParameterError
        A depth larger than a sample (named, with its size), or an invalid option.
    tcrtrack.errors.EmptyError
        A sample without any clonotype.
    tcrtrack.errors.NotFoundError
        An unknown sample name.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> cells = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc")
    >>> counts = tt.tl.clonotypes(cells)
    >>> d = tt.tl.diversity(counts, depth=500, n_repeats=20, seed=1)
    >>> row = d.table.loc["pbmc"]
    >>> int(row["n_units"]), int(row["richness"]), int(row["d50"])
    (1521, 1461, 701)
    >>> round(float(row["shannon"]), 3), round(float(row["clonality"]), 4)
    (7.256, 0.0043)
    >>> float(row["richness_rarefied"]) < float(row["richness"])
    True
    """
    ci = check_ci(ci)
    if isinstance(n_repeats, bool) or int(n_repeats) < 1:
        msg = f"n_repeats must be a positive number of subsamples, got {n_repeats!r}"
        raise ParameterError(msg)
    n_repeats = int(n_repeats)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a non-negative whole number, got {seed!r}"
        raise ParameterError(msg)
    pairs = _gather(counts, samples)
    totals: dict[str, int] = {}
    for name, g in pairs:
        n = int(g.totals()[name])
        if n == 0 or int(g.n_clonotypes_per_sample()[name]) == 0:
            msg = (
                f"sample {name!r} has no clonotype ({g.spec.locus}); its diversity is "
                "undefined: check its file with `tcrtrack inspect`, or leave it out"
            )
            raise EmptyError(msg)
        totals[name] = n
    depth_used = _check_depth(depth, pairs, totals)

    rows, reps = [], []
    for name, g in pairs:
        row_sizes = g.matrix[[g.index(name)]].toarray().ravel()
        observed = diversity_metrics(row_sizes[row_sizes > 0])
        row: dict[str, object] = {"sample": name, "unit": g.unit_of(name), "n_units": totals[name]}
        row |= {m: observed[m][0].item() for m in DIVERSITY_METRICS}
        if depth_used is not None:
            units = _own_clonotypes(units_of(g, name))
            values = _rarefied(units, depth_used, n_repeats, sample_rng(int(seed), name))
            row |= {"depth": depth_used, "n_repeats": n_repeats}
            for m in DIVERSITY_METRICS:
                v = values[m].astype(np.float64)
                low = high = mean = np.nan
                if np.isfinite(v).any():  # clonality is NaN in a one-clonotype subsample
                    lo, hi = percentile_interval(v, ci=ci)
                    low, high, mean = float(lo), float(hi), float(np.nanmean(v))
                row |= {
                    f"{m}_rarefied": mean,
                    f"{m}_rarefied_low": low,
                    f"{m}_rarefied_high": high,
                }
            frame = pd.DataFrame(values)
            frame.insert(0, "replicate", np.arange(n_repeats))
            frame.insert(0, "sample", name)
            reps.append(frame)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("sample")
    for col in ("n_units", "richness", "d50", "depth", "n_repeats"):
        if col in table:
            table[col] = table[col].astype("int64")
    replicates = (
        pd.concat(reps, ignore_index=True)
        if reps
        else pd.DataFrame(columns=["sample", "replicate", *DIVERSITY_METRICS])
    )
    return Diversity(
        table=table,
        replicates=replicates,
        units=tuple(dict.fromkeys(g.unit_of(name) for name, g in pairs)),
        depth=depth_used,
        n_repeats=n_repeats,
        seed=int(seed),
        ci=ci,
        spec=pairs[0][1].spec,
    )
