"""Persistence of the reference's clones over later samples: ``tt.tl.persist``.

Three questions, each answered per later sample and per clone, from one :class:`CloneCounts`:

- **origin**: where does each clone of a later blood sample come from — the infusion product,
  the blood before infusion (baseline), both, or neither?
- **detection**: is a reference clone that is not seen in a later sample truly gone, or was the
  sample too small to see it?
- **trajectories**: over all later time points, where is each reference clone seen?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tcrtrack.errors import SchemaError
from tcrtrack.tl._detection import (
    CELL_LIKE_UNITS,
    detection_probability,
    effective_size,
    lod_frequency,
)
from tcrtrack.tl._stats import BinomialMethod, binomial_interval, check_ci

if TYPE_CHECKING:
    from tcrtrack.tl._counts import CloneCounts

__all__ = [
    "DETECTION_CLASSES",
    "ORIGINS",
    "SIZE_CLASSES",
    "TRAJECTORY_CLASSES",
    "Persistence",
    "persist",
]

#: Origin of a clone of a later sample, with a baseline sample.
ORIGINS = ("product", "pre-existing", "baseline-only", "unexplained")
#: Origin of a clone of a later sample without a baseline: in the reference or not.
ORIGINS_NO_BASELINE = ("reference", "unexplained")
#: What became of a reference clone in a later sample.
DETECTION_CLASSES = ("detected", "absent", "undersampled")
#: Pattern of a reference clone over the later time points.
TRAJECTORY_CLASSES = ("persistent", "intermittent", "late", "transient", "lost")
#: Reference clone-size classes of the recapture curves: (label, smallest, largest) size.
SIZE_CLASSES: tuple[tuple[str, int, float], ...] = (
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-10", 4, 10),
    ("11-100", 11, 100),
    (">100", 101, np.inf),
)


@dataclass(frozen=True, eq=False)
class Persistence:
    """The persistence of a reference's clones (the infusion product) in later samples.

    Definitions and formulas: :func:`persist`.

    Attributes
    ----------
    detection
        One row per later sample (index ``sample``): its clonotypes and units, the cells
        sampled and the effective sample size, ``lod_frequency``, and the reference clones
        ``detected`` / ``absent`` / ``undersampled`` there.
    origin
        One row per later sample and origin (index ``sample``, ``origin``): clonotypes and
        units of that origin, their fractions of the sample, with intervals.
    recapture
        One row per later sample and reference clone-size class (index ``sample``,
        ``size_class``): reference clones of that size, how many were detected (fraction with
        an exact interval) and the fraction expected if every clone had kept its reference
        frequency.
    clones
        One row per reference clone and later sample: sizes, the probability it would have
        been seen at its reference frequency (``p_detect``) and its ``detection`` class.
    trajectories
        One row per reference clone: the later time points where it is seen (``n_found`` of
        ``n_timepoints``), the first and the last, and its ``trajectory`` class.
    origin_clones
        One row per clone of each later sample: its count, frequency and origin.
    sizes
        Reference clone (index: clonotype key) × sample counts, samples in order (baseline,
        reference, later samples); ``frequencies`` the same divided by the sample totals.
    summary
        The headline numbers (see :func:`persist`), as a Series.
    reference, baseline, samples, timepoints, unit, detection_level, ci
        The roles, the later samples in time order, their time points, the unit of the
        counts and the settings used.
    """

    detection: pd.DataFrame
    origin: pd.DataFrame
    recapture: pd.DataFrame
    clones: pd.DataFrame
    trajectories: pd.DataFrame
    origin_clones: pd.DataFrame
    sizes: pd.DataFrame
    frequencies: pd.DataFrame
    summary: pd.Series
    reference: str
    baseline: str | None
    samples: tuple[str, ...]
    timepoints: tuple[str, ...]
    unit: str
    detection_level: float
    ci: float
    method: str
    spec: object = field(default=None)

    @property
    def origins(self) -> tuple[str, ...]:
        """The origin classes used (without a baseline: ``reference`` / ``unexplained``)."""
        return ORIGINS if self.baseline is not None else ORIGINS_NO_BASELINE

    def to_frame(self) -> pd.DataFrame:
        """One row per later sample: the detection table, then per origin its clonotypes,
        units and fractions (``<origin>_n_clonotypes``, ``<origin>_frac_clonotypes``, ...)."""
        wide = self.origin[["n_clonotypes", "frac_clonotypes", "n_units", "frac_units"]].unstack(
            "origin"
        )
        wide = wide.reindex(
            columns=pd.MultiIndex.from_product([wide.columns.levels[0], self.origins])
        )
        wide.columns = [f"{origin}_{col}" for col, origin in wide.columns]
        ordered = [
            f"{o}_{c}"
            for o in self.origins
            for c in ("n_clonotypes", "frac_clonotypes", "n_units", "frac_units")
        ]
        return pd.concat([self.detection, wide[ordered]], axis=1)

    def display_tables(self) -> dict[str, pd.DataFrame]:
        """The readable tables the command line prints and the report shows (strings, counts
        beside every percentage, labelled in the data's unit): ``detection``, ``origin``,
        ``recapture`` and ``trajectories``."""
        unit = self.unit
        level = f"{self.detection_level:.0%}"
        det = self.detection
        n_ref = det["n_reference_clonotypes"]
        detection = pd.DataFrame(
            {
                "clonotypes": det["n_clonotypes"].map("{:,}".format),
                unit: det["n_units"].map("{:,}".format),
                "cells sampled": [
                    f"{n:,}" + (" (est.)" if est else "")
                    for n, est in zip(det["n_cells"], det["n_cells_estimated"], strict=True)
                ],
                "effective cells": det["n_effective"].map("{:,.0f}".format),
                f"LOD ({level})": det["lod_frequency"].map(_percent),
                f"{self.reference} clonotypes detected": [
                    _count_of(k, n) + _bounds(lo, hi)
                    for k, n, lo, hi in zip(
                        det["n_reference_detected"],
                        n_ref,
                        det["frac_reference_detected_low"],
                        det["frac_reference_detected_high"],
                        strict=True,
                    )
                ],
                "expected if unchanged": det["n_reference_expected"].map("{:,.0f}".format),
                "absent": det["n_reference_absent"].map("{:,}".format),
                "undersampled": det["n_reference_undersampled"].map("{:,}".format),
            },
            index=det.index,
        )
        if unit in CELL_LIKE_UNITS:  # the unit is cells already
            detection = detection.drop(columns=["cells sampled", "effective cells"])
        org = self.origin
        origin = pd.DataFrame(index=pd.Index(self.samples, name="sample"))
        for name in self.origins:
            part = org.xs(name, level="origin")
            origin[name] = [
                f"{int(r.n_clonotypes):,} ({_percent(r.frac_clonotypes)}); "
                f"{int(r.n_units):,} {unit} ({_percent(r.frac_units)})"
                for r in part.itertuples()
            ]
        rec = self.recapture.reset_index()
        recapture = pd.DataFrame(index=pd.Index(self.samples, name="sample"))
        for size, part in rec.groupby("size_class", observed=True, sort=False):
            part = part.set_index("sample")
            recapture[f"{size} {unit}"] = [
                f"{_count_of(int(r.n_detected), int(r.n_reference_clonotypes))} "
                f"(exp. {_percent(r.frac_expected)})"
                for r in part.loc[list(self.samples)].itertuples()
            ]
        values = self.summary
        rows = {
            "reference clonotypes": values["n_reference_clonotypes"],
            "later time points": values["n_timepoints"],
            "found at any later time point": values[
                "n_reference_clonotypes_found_at_any_timepoint"
            ],
            "found at every later time point": values[
                "n_reference_clonotypes_found_at_every_timepoint"
            ],
            "  of which not in the baseline": values[
                "n_reference_clonotypes_found_at_every_timepoint_not_in_baseline"
            ],
        }
        for cls in TRAJECTORY_CLASSES:
            rows[f"trajectory: {cls}"] = values[f"n_{cls}"]
        trajectories = pd.DataFrame(
            {
                "clonotypes": [
                    ("NA (no baseline)" if pd.isna(v) else f"{int(v):,}") for v in rows.values()
                ]
            },
            index=pd.Index(list(rows), name=""),
        )
        return {
            "detection": detection,
            "origin": origin,
            "recapture": recapture,
            "trajectories": trajectories,
        }

    def __repr__(self) -> str:
        base = f", baseline={self.baseline!r}" if self.baseline else ""
        return (
            f"Persistence(reference={self.reference!r}{base}, samples={list(self.samples)!r}, "
            f"{int(self.summary['n_reference_clonotypes'])} reference clonotypes, "
            f"unit={self.unit!r})"
        )

    def _repr_html_(self) -> str:
        base = f"; baseline {self.baseline}" if self.baseline else "; no baseline"
        return (
            f"<p><b>Persistence</b> of {self.reference}'s clones in "
            f"{', '.join(self.samples)}{base} ({self.unit})</p>"
            + self.detection.to_html(float_format=lambda x: f"{x:.4g}")
            + self.summary.to_frame("value").to_html()
        )


def _percent(x: float) -> str:
    """``12.34%`` (``NA`` for a missing value; small values keep 3 significant digits)."""
    if pd.isna(x):
        return "NA"
    pct = 100 * float(x)
    return f"{pct:.3g}%" if 0 < pct < 0.1 else f"{pct:.2f}%"


def _count_of(k: int, n: int) -> str:
    return f"{k:,}/{n:,} = {_percent(k / n) if n else 'NA'}"


def _bounds(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f" [{_percent(low)}-{_percent(high)}]"


def _size_class(sizes: np.ndarray, classes: Sequence[tuple[str, int, float]]) -> np.ndarray:
    """Index into ``classes`` of each size (every size >= 1 falls into one class)."""
    out = np.full(len(sizes), -1, dtype=np.int64)
    for i, (_, low, high) in enumerate(classes):
        out[(sizes >= low) & (sizes <= high)] = i
    return out


def _check_roles(
    counts: CloneCounts, reference: str, baseline: str | None, samples: Sequence[str] | None
) -> list[str]:
    for name in (reference, baseline):
        if name is not None:
            counts.index(name)  # KeyError naming the samples
    if baseline == reference:
        msg = (
            f"the baseline {baseline!r} is also the reference; the baseline is the blood taken "
            "before the infusion, the reference the infusion product: give two samples"
        )
        raise SchemaError(msg)
    roles = {reference, baseline}
    if samples is None:
        later = [x for x in counts.samples if x not in roles]
    else:
        later = list(samples)
        for x in later:
            counts.index(x)
        clash = [x for x in later if x in roles]
        if clash:
            msg = (
                f"sample(s) {', '.join(map(repr, clash))} given as later samples are the "
                "reference or the baseline; list only the samples after the infusion"
            )
            raise SchemaError(msg)
        twice = sorted({x for x in later if later.count(x) > 1})
        if twice:
            msg = f"sample(s) {', '.join(map(repr, twice))} given twice; list each once"
            raise SchemaError(msg)
    if not later:
        msg = (
            f"persist needs at least one sample after the reference {reference!r} "
            f"(samples are: {', '.join(counts.samples)})"
        )
        raise SchemaError(msg)
    return later


def _time_groups(later: list[str], timepoints: Mapping[str, object] | None) -> list[list[int]]:
    """Indices (into ``later``) of the samples of each time point, in order of the samples.

    Without ``timepoints`` every sample is a time point of its own; samples sharing a time
    point (sorted fractions of one blood draw) form one."""
    if timepoints is None:
        return [[i] for i in range(len(later))]
    missing = [x for x in later if x not in timepoints]
    if missing:
        msg = f"timepoints has no time point for sample(s) {', '.join(map(repr, missing))}"
        raise SchemaError(msg)
    groups: dict[object, list[int]] = {}
    for i, x in enumerate(later):
        groups.setdefault(timepoints[x], []).append(i)
    return list(groups.values())


def _trajectory_class(found: np.ndarray) -> np.ndarray:
    """Class of each row of a clones × time points boolean array (see :func:`persist`)."""
    n = found.shape[1]
    k = found.sum(axis=1)
    first_seen = found[:, 0]
    last_seen = found[:, -1]
    cls = np.where(
        k == n,
        "persistent",
        np.where(
            k == 0,
            "lost",
            np.where(~last_seen, "transient", np.where(first_seen, "intermittent", "late")),
        ),
    )
    return cls


def _interval_columns(
    frame: pd.DataFrame, frac: str, k: np.ndarray, n: np.ndarray, ci: float, method: BinomialMethod
) -> None:
    low, high = binomial_interval(k, n, ci=ci, method=method)
    frame[f"{frac}_low"] = low
    frame[f"{frac}_high"] = high


def persist(
    counts: CloneCounts,
    *,
    reference: str,
    baseline: str | None = None,
    samples: Sequence[str] | None = None,
    timepoints: Mapping[str, object] | None = None,
    n_cells: Mapping[str, int] | None = None,
    detection: float = 0.95,
    ci: float = 0.95,
    method: BinomialMethod = "clopper-pearson",
) -> Persistence:
    """Did the reference's clones persist in the later samples, and where do later clones
    come from?

    Roles: the ``reference`` *R* is the infusion product; the optional ``baseline`` *B* is the
    patient's blood before the infusion; ``samples`` are the later samples :math:`S_1, ..., S_n`
    in time order. :math:`C_X` is the set of clonotypes of sample *X*, :math:`a_i` the count of
    clone *i* in *R* (cells, or the bulk unit) and :math:`f_i = a_i / N_R` its reference
    frequency.

    **Origin** of each clonotype *c* of a later sample: ``product`` (:math:`c \\in C_R`,
    :math:`c \\notin C_B`: the infusion brought it), ``pre-existing`` (in both *R* and *B*),
    ``baseline-only`` (in *B*, not in *R*) or ``unexplained`` (in neither). Without a baseline
    the classes are ``reference`` (in *R*) and ``unexplained``. Per later sample and origin:
    ``n_clonotypes`` and ``frac_clonotypes`` (over the sample's clonotypes, exact binomial
    interval), ``n_units`` (cells, or the bulk unit, in clonotypes of that origin) and
    ``frac_units`` (over the units in all the sample's clonotypes). The interval of
    ``frac_units`` is the binomial interval of :math:`\\hat p N_{eff}` successes in
    :math:`N_{eff}` draws (both rounded): for cells :math:`N_{eff}` is the number of cells, so
    this is the exact interval of cells as independent draws; for reads it is widened to the
    effective number of cells below.

    **Detection**: a clone at frequency *f* is missed by a sample of *N* cells with
    probability :math:`(1 - f)^N`. Per later sample: ``n_cells`` (*N*: the cells, or the
    templates; for reads and UMIs the cells sampled, given in ``n_cells`` or estimated —
    ``n_cells_estimated`` says which), ``n_effective`` (:math:`N_{eff}`:
    :math:`1/N_{eff} = 1/N_{cells} + 1/N_{reads}` for reads and UMIs, else *N*; estimator in
    :func:`tcrtrack.tl._detection.effective_size`) and ``lod_frequency``
    :math:`= 1 - (1 - d)^{1/N_{eff}}`, the frequency seen with probability :math:`d` =
    ``detection`` (0.95). Per reference clone *i* and later sample: ``p_detect``
    :math:`= 1 - (1 - f_i)^{N_{eff}}`, the probability it would have been seen had it kept its
    reference frequency, and ``detection``: ``detected`` (count > 0), ``absent`` (not seen
    although ``p_detect`` :math:`\\ge d`: evidence that it is gone or much smaller) or
    ``undersampled`` (not seen, ``p_detect`` :math:`< d`: the sample could have missed it).
    Per sample: ``n_reference_detected`` / ``_absent`` / ``_undersampled``,
    ``frac_reference_detected`` (exact interval) and ``n_reference_expected`` =
    :math:`\\sum_i p_{detect,i}`, the number detected if every clone had persisted unchanged.

    **Recapture** per later sample and reference clone-size class (:math:`a_i` = 1, 2–3,
    4–10, 11–100, > 100): ``n_reference_clonotypes`` of that size, ``n_detected``,
    ``frac_detected`` with its exact interval, and ``frac_expected`` = the mean ``p_detect``
    of the class (depth alone). Observed below expected is evidence of loss; at or above,
    of persistence.

    **Trajectories** over the later time points (samples sharing a time point in
    ``timepoints`` are pooled: a clone is seen at a time point when any of its samples has
    it): ``n_found`` of ``n_timepoints``, ``first`` and ``last`` (the time points where it is
    seen first and last; NA when never), ``in_baseline`` (NA without a baseline) and
    ``trajectory``: ``persistent`` (seen at every later time point), ``intermittent`` (at the
    first and the last, not at every one between), ``late`` (not at the first, at the last),
    ``transient`` (seen, but not at the last), ``lost`` (never seen again; its ``detection``
    at each sample tells whether that is evidence of loss). ``summary`` holds
    ``n_reference_clonotypes``, ``n_timepoints``,
    ``n_reference_clonotypes_found_at_any_timepoint``,
    ``n_reference_clonotypes_found_at_every_timepoint``,
    ``n_reference_clonotypes_found_at_every_timepoint_not_in_baseline`` (NA without a
    baseline) and ``n_<class>`` for every trajectory class.

    Parameters
    ----------
    counts
        Clonotype counts of every sample named.
    reference
        The infusion product.
    baseline
        The blood sample taken before the infusion (optional).
    samples
        The later samples in time order (default: every other sample of ``counts``, in its
        order).
    timepoints
        Time point of each later sample (e.g. days); samples with equal time points are pooled
        in the trajectories. Default: each sample its own time point.
    n_cells
        Cells sampled, per later sample, for read or UMI counts (default: estimated).
    detection
        The detection probability :math:`d` of ``lod_frequency`` and of the ``absent`` class.
    ci
        Confidence level of the intervals.
    method
        Binomial interval: ``"clopper-pearson"`` (exact) or ``"wilson"``.

    Returns
    -------
    :class:`Persistence`.

    Raises
    ------
    KeyError
        An unknown sample name (the message lists the known names).
    tcrtrack.errors.SchemaError
        The baseline is the reference, a later sample is the reference or the baseline or
        is given twice, no later sample, or a bad ``n_cells``.
    tcrtrack.errors.UnitError
        The samples count in different units (the message names them, their files and
        units).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> product = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="product")
    >>> blood = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="blood")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([product, blood]))
    >>> result = tt.tl.persist(counts, reference="product")
    >>> result.detection[["n_clonotypes", "n_reference_detected", "n_reference_absent"]]
            n_clonotypes  n_reference_detected  n_reference_absent
    sample
    blood           ...
    >>> str(result.trajectories["trajectory"].iloc[0])
    'persistent'
    """
    if not 0.0 < float(detection) < 1.0:
        msg = f"detection must be a probability between 0 and 1 (e.g. 0.95), got {detection!r}"
        raise SchemaError(msg)
    ci = check_ci(ci)
    later = _check_roles(counts, reference, baseline, samples)
    groups = _time_groups(later, timepoints)
    order = ([baseline] if baseline is not None else []) + [reference, *later]
    counts.require_one_unit(
        "persist (limits of detection: reference clone frequencies against each sample's depth)",
        order,
    )
    sub = counts.select(order)
    dense = sub.dense()
    totals = sub.totals().to_numpy().astype(np.int64)
    n_clono = sub.n_clonotypes_per_sample().to_numpy()
    labels = sub.clonotypes["clonotype"].astype(str).to_numpy()
    r = order.index(reference)
    rows = np.array([order.index(x) for x in later])
    ref = dense[r]
    in_ref = ref > 0
    in_base = dense[0] > 0 if baseline is not None else np.zeros(len(ref), dtype=bool)
    f_ref = ref / max(int(totals[r]), 1)
    later_counts = dense[rows]
    later_totals = totals[rows]

    cells, estimated, n_eff = effective_size(
        unit=sub.unit,
        totals=later_totals,
        n_clonotypes=n_clono[rows],
        samples=later,
        n_cells=n_cells,
    )
    lod = lod_frequency(n_eff, detection=detection)

    # reference clones: largest first, then by label
    ref_idx = np.flatnonzero(in_ref)
    ref_idx = ref_idx[np.lexsort((labels[ref_idx], -ref[ref_idx]))]
    p_det = detection_probability(f_ref[ref_idx][None, :], n_eff[:, None])  # later × clones
    seen = later_counts[:, ref_idx] > 0
    det_class = np.where(seen, 0, np.where(p_det >= detection, 1, 2))

    detection_table = _detection_table(
        later,
        n_clono[rows],
        later_totals,
        cells,
        estimated,
        n_eff,
        lod,
        det_class,
        p_det,
        ci,
        method,
    )
    origin_table, origin_clones = _origin(
        later, later_counts, later_totals, n_eff, in_ref, in_base, labels, baseline, ci, method
    )
    recapture = _recapture(later, ref[ref_idx], seen, p_det, ci, method)

    # per reference clone × later sample
    n_ref, n_later = len(ref_idx), len(later)
    clones = pd.DataFrame(
        {
            "clonotype": np.tile(labels[ref_idx], n_later),
            "sample": pd.Categorical(np.repeat(later, n_ref), categories=later),
            "count_reference": np.tile(ref[ref_idx], n_later),
            "freq_reference": np.tile(f_ref[ref_idx], n_later),
            "in_baseline": np.tile(in_base[ref_idx], n_later)
            if baseline is not None
            else pd.array([pd.NA] * (n_ref * n_later), dtype="boolean"),
            "count": later_counts[:, ref_idx].ravel(),
            "freq": (later_counts[:, ref_idx] / np.maximum(later_totals, 1)[:, None]).ravel(),
            "p_detect": p_det.ravel(),
            "detection": pd.Categorical(
                np.asarray(DETECTION_CLASSES)[det_class.ravel()], categories=DETECTION_CLASSES
            ),
        }
    )
    _add_amino_acids(clones, sub.clonotypes, np.tile(ref_idx, n_later))

    # trajectories over time points
    found = np.stack([seen[g].any(axis=0) for g in groups], axis=1)  # clones × time points
    point_names = [
        str(timepoints[later[g[0]]]) if timepoints is not None else later[g[0]] for g in groups
    ]
    trajectories = _trajectories(
        labels[ref_idx],
        ref[ref_idx],
        f_ref[ref_idx],
        in_base[ref_idx],
        found,
        point_names,
        baseline,
    )
    _add_amino_acids(trajectories, sub.clonotypes, ref_idx)
    summary = _summary(trajectories, len(groups), baseline)

    index = pd.Index(labels[ref_idx], name="clonotype")
    size_frame = pd.DataFrame(dense[:, ref_idx].T, index=index, columns=order).astype("int64")
    freq_frame = size_frame / np.maximum(totals, 1)[None, :]
    return Persistence(
        detection=detection_table,
        origin=origin_table,
        recapture=recapture,
        clones=clones,
        trajectories=trajectories,
        origin_clones=origin_clones,
        sizes=size_frame,
        frequencies=freq_frame,
        summary=summary,
        reference=reference,
        baseline=baseline,
        samples=tuple(later),
        timepoints=tuple(point_names),
        unit=sub.unit,
        detection_level=float(detection),
        ci=ci,
        method=method,
        spec=sub.spec,
    )


def _add_amino_acids(frame: pd.DataFrame, clonotypes: pd.DataFrame, idx: np.ndarray) -> None:
    """Put the amino-acid junction beside the clonotype key (when it is not the key)."""
    if "junction_aa" in clonotypes.columns and "junction_aa" not in frame.columns:
        aa = clonotypes["junction_aa"].to_numpy()[idx]
        if not np.array_equal(aa.astype(str), frame["clonotype"].to_numpy().astype(str)):
            frame.insert(1, "junction_aa", aa)


def _detection_table(
    later: list[str],
    n_clono: np.ndarray,
    totals: np.ndarray,
    cells: np.ndarray,
    estimated: np.ndarray,
    n_eff: np.ndarray,
    lod: np.ndarray,
    det_class: np.ndarray,
    p_det: np.ndarray,
    ci: float,
    method: BinomialMethod,
) -> pd.DataFrame:
    n_ref = det_class.shape[1]
    detected = (det_class == 0).sum(axis=1)
    table = pd.DataFrame(
        {
            "n_clonotypes": n_clono.astype(np.int64),
            "n_units": totals.astype(np.int64),
            "n_cells": np.round(cells).astype(np.int64),
            "n_cells_estimated": estimated,
            "n_effective": n_eff,
            "lod_frequency": lod,
            "n_reference_clonotypes": np.full(len(later), n_ref, dtype=np.int64),
            "n_reference_detected": detected.astype(np.int64),
            "n_reference_absent": (det_class == 1).sum(axis=1).astype(np.int64),
            "n_reference_undersampled": (det_class == 2).sum(axis=1).astype(np.int64),
            "frac_reference_detected": detected / n_ref if n_ref else np.nan,
        },
        index=pd.Index(later, name="sample"),
    )
    _interval_columns(
        table, "frac_reference_detected", detected, np.full(len(later), n_ref), ci, method
    )
    table["n_reference_expected"] = p_det.sum(axis=1)
    return table


def _origin(
    later: list[str],
    later_counts: np.ndarray,
    later_totals: np.ndarray,
    n_eff: np.ndarray,
    in_ref: np.ndarray,
    in_base: np.ndarray,
    labels: np.ndarray,
    baseline: str | None,
    ci: float,
    method: BinomialMethod,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    names: tuple[str, ...]
    if baseline is not None:
        names = ORIGINS
        # product 0, pre-existing 1, baseline-only 2, unexplained 3
        code = np.where(in_ref, np.where(in_base, 1, 0), np.where(in_base, 2, 3))
    else:
        names = ORIGINS_NO_BASELINE
        code = np.where(in_ref, 0, 1)
    k = len(names)
    parts = []
    clone_parts = []
    for j, sample in enumerate(later):
        row = later_counts[j]
        present = np.flatnonzero(row > 0)
        n_clono = np.bincount(code[present], minlength=k)
        n_units = np.bincount(code[present], weights=row[present], minlength=k)
        total_units = float(row[present].sum())
        frame = pd.DataFrame(
            {
                "sample": sample,
                "origin": list(names),
                "n_clonotypes": n_clono.astype(np.int64),
                "frac_clonotypes": n_clono / max(len(present), 1),
                "n_units": n_units.astype(np.int64),
                "frac_units": n_units / total_units if total_units else np.nan,
            }
        )
        _interval_columns(frame, "frac_clonotypes", n_clono, np.full(k, len(present)), ci, method)
        # units: binomial on the effective number of independent draws
        n_draws = np.full(k, round(float(n_eff[j])))
        successes = np.round(frame["frac_units"].fillna(0).to_numpy() * n_draws)
        _interval_columns(frame, "frac_units", np.minimum(successes, n_draws), n_draws, ci, method)
        parts.append(frame)
        clone_parts.append(
            pd.DataFrame(
                {
                    "clonotype": labels[present],
                    "sample": sample,
                    "count": row[present],
                    "freq": row[present] / max(int(later_totals[j]), 1),
                    "origin": np.asarray(names)[code[present]],
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    table["sample"] = pd.Categorical(table["sample"], categories=later)
    table["origin"] = pd.Categorical(table["origin"], categories=list(names))
    table = table.set_index(["sample", "origin"])
    origin_clones = pd.concat(clone_parts, ignore_index=True)
    origin_clones["sample"] = pd.Categorical(origin_clones["sample"], categories=later)
    origin_clones["origin"] = pd.Categorical(origin_clones["origin"], categories=list(names))
    return table, origin_clones


def _recapture(
    later: list[str],
    ref_sizes: np.ndarray,
    seen: np.ndarray,
    p_det: np.ndarray,
    ci: float,
    method: BinomialMethod,
) -> pd.DataFrame:
    size_class = _size_class(ref_sizes, SIZE_CLASSES)
    k = len(SIZE_CLASSES)
    n_class = np.bincount(size_class, minlength=k)
    parts = []
    for j, sample in enumerate(later):
        n_det = np.bincount(size_class, weights=seen[j], minlength=k)
        expected = np.bincount(size_class, weights=p_det[j], minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "sample": sample,
                    "size_class": [c[0] for c in SIZE_CLASSES],
                    "n_reference_clonotypes": n_class.astype(np.int64),
                    "n_detected": n_det.astype(np.int64),
                    "frac_detected": np.where(n_class > 0, n_det / n_class, np.nan),
                    "frac_expected": np.where(n_class > 0, expected / n_class, np.nan),
                }
            )
        _interval_columns(frame, "frac_detected", n_det.astype(np.int64), n_class, ci, method)
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table["sample"] = pd.Categorical(table["sample"], categories=later)
    table["size_class"] = pd.Categorical(
        table["size_class"], categories=[c[0] for c in SIZE_CLASSES]
    )
    cols = [
        "n_reference_clonotypes",
        "n_detected",
        "frac_detected",
        "frac_detected_low",
        "frac_detected_high",
        "frac_expected",
    ]
    return table.set_index(["sample", "size_class"])[cols]


def _trajectories(
    labels: np.ndarray,
    ref_sizes: np.ndarray,
    f_ref: np.ndarray,
    in_base: np.ndarray,
    found: np.ndarray,
    point_names: list[str],
    baseline: str | None,
) -> pd.DataFrame:
    n_points = found.shape[1]
    any_found = found.any(axis=1)
    first = np.where(any_found, found.argmax(axis=1), -1)
    last = np.where(any_found, n_points - 1 - found[:, ::-1].argmax(axis=1), -1)
    names = np.asarray([*point_names, None], dtype=object)
    frame = pd.DataFrame(
        {
            "clonotype": labels,
            "count_reference": ref_sizes.astype(np.int64),
            "freq_reference": f_ref,
            "in_baseline": pd.array(in_base, dtype="boolean")
            if baseline is not None
            else pd.array([pd.NA] * len(labels), dtype="boolean"),
            "n_found": found.sum(axis=1).astype(np.int64),
            "n_timepoints": np.full(len(labels), n_points, dtype=np.int64),
            "first": names[first],
            "last": names[last],
            "trajectory": pd.Categorical(_trajectory_class(found), categories=TRAJECTORY_CLASSES),
        }
    )
    for i, name in enumerate(point_names):
        frame[f"found_{name}"] = found[:, i]
    return frame


def _summary(trajectories: pd.DataFrame, n_points: int, baseline: str | None) -> pd.Series:
    every = trajectories["n_found"] == n_points
    values: dict[str, object] = {
        "n_reference_clonotypes": len(trajectories),
        "n_timepoints": n_points,
        "n_reference_clonotypes_found_at_any_timepoint": int((trajectories["n_found"] > 0).sum()),
        "n_reference_clonotypes_found_at_every_timepoint": int(every.sum()),
        "n_reference_clonotypes_found_at_every_timepoint_not_in_baseline": (
            int((every & ~trajectories["in_baseline"].astype(bool)).sum())
            if baseline is not None
            else pd.NA
        ),
    }
    counts = trajectories["trajectory"].value_counts()
    for cls in TRAJECTORY_CLASSES:
        values[f"n_{cls}"] = int(counts.get(cls, 0))
    return pd.Series(values, name="value", dtype=object)
