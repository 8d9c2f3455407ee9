"""Clonotypes shared with a reference sample: ``tt.tl.sharing``, ``tt.tl.shared_clonotypes``,
``tt.tl.venn_regions``."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from tcrtrack._display import Columns
from tcrtrack.errors import ParameterError, UnitError
from tcrtrack.tl._counts import CloneCounts
from tcrtrack.tl._spec import ClonotypeSpec
from tcrtrack.tl._stats import BinomialMethod

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Sharing", "VennRegions", "shared_clonotypes", "sharing", "venn_regions"]

#: Columns of :attr:`Sharing.table`, in order.
SHARING_COLUMNS = (
    "n_clonotypes",
    "n_cells",
    "n_shared",
    "frac_clonotypes_shared",
    "n_cells_shared",
    "frac_cells_shared",
    "n_reference_clonotypes",
    "n_reference_cells",
    "frac_reference_clonotypes_detected",
    "n_reference_cells_detected",
    "frac_reference_cells_detected",
)


@dataclass(frozen=True)
class Sharing:
    """Sharing of clonotypes between each sample and a reference (the infusion product).

    Attributes
    ----------
    table
        One row per compared sample (index: sample name), columns :data:`SHARING_COLUMNS`;
        formulas in :func:`sharing`. When the samples count in different units, two more
        columns: ``unit`` (what the row's ``n_cells`` counts) and ``reference_unit`` (what
        ``n_reference_cells`` counts). A pandas DataFrame built on first access (the command
        line prints the numbers without building it).
    reference
        The reference sample's name.
    spec
        The clonotype definition.
    units
        Each sample's unit, the reference's included (``cells`` for single-cell data, or the
        bulk unit): what its ``n_cells`` (``n_reference_cells`` for the reference) counts.
    ci
        Confidence level of the ``*_low``/``*_high`` columns, or ``None`` without intervals.
    method
        Interval method of the clonotype fractions (cell fractions: bootstrap over cells).
    """

    #: the table's numbers as plain columns (:class:`tcrtrack._display.Columns`)
    data: Columns = field(repr=False)
    reference: str
    spec: ClonotypeSpec
    units: Mapping[str, str]
    ci: float | None = None
    method: str | None = None

    @cached_property
    def table(self) -> pd.DataFrame:
        return self.data.to_pandas()

    @property
    def unit(self) -> str:
        """The one unit of the reference and the samples.

        Raises
        ------
        tcrtrack.errors.UnitError
            They count in different units; ask :attr:`units`.
        """
        if not self.mixed_units:
            return self.units[self.reference]
        listing = ", ".join(f"{x!r}: {u}" for x, u in self.units.items())
        msg = f"the samples count in different units ({listing}); ask Sharing.units for each"
        raise UnitError(msg)

    @property
    def mixed_units(self) -> bool:
        """Whether the reference and the samples count in different units."""
        return len(set(self.units.values())) > 1

    @property
    def samples_unit(self) -> str | None:
        """The one unit of the compared samples (the reference's may differ), or None."""
        found = {self.units[str(x)] for x in self.data.index}
        return next(iter(found)) if len(found) == 1 else None

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def display_tables(self) -> dict[str, pd.DataFrame]:
        """The readable tables the command line prints and the report shows (strings, counts
        beside every percentage, the interval when there is one, labelled in the data's unit):
        ``samples``, each sample's clonotypes and units found in the reference (the reference
        study's sharing frequency and its unit-weighted twin), and ``reference``, the
        reference's clonotypes and units found again in each sample. Each sample's
        count-weighted fractions are in its own unit and the reference's in the reference's:
        when the samples count in different units, the column says ``units`` and each value
        names its unit.

        Examples
        --------
        >>> import tcrtrack as tt
        >>> path = tt.datasets.path("pbmc3_t_filtered")
        >>> tables = [tt.io.read_10x(path, sample=x) for x in ("a", "b")]
        >>> counts = tt.tl.clonotypes(tt.pp.concat(tables))
        >>> shown = tt.tl.sharing(counts, reference="a", ci=None).display_tables()
        >>> list(shown["reference"].columns)
        ['a clonotypes found', 'a cells found']
        """
        return {name: table.to_pandas() for name, table in self.display_columns().items()}

    def display_columns(self) -> dict[str, Columns]:
        """:meth:`display_tables` as plain columns (:class:`tcrtrack._display.Columns`, which
        print as the DataFrames do): the one rendering of the sharing in words."""
        from tcrtrack._display import MIXED_UNITS, count_of, fraction_labels

        t = self.data.columns
        own = self.samples_unit
        ref_unit = self.units[self.reference]
        labels = fraction_labels(own or MIXED_UNITS, self.reference, ref_unit)
        row_units = ["" if own else self.units[str(x)] for x in self.data.index]

        def fraction(num: str, den: str, frac: str, units: list[str] | None = None) -> list[str]:
            low, high = t.get(f"{frac}_low"), t.get(f"{frac}_high")
            return [
                count_of(
                    int(t[num][i]),
                    int(t[den][i]),
                    None if low is None else low[i],
                    None if high is None else high[i],
                    unit=units[i] if units else "",
                )
                for i in range(len(self.data.index))
            ]

        samples = {
            "clonotypes": [f"{int(v):,}" for v in t["n_clonotypes"]],
            own or MIXED_UNITS: [
                f"{int(v):,}" + (f" {u}" if u else "")
                for v, u in zip(t["n_cells"], row_units, strict=True)
            ],
            labels["frac_clonotypes_shared"]: fraction(
                "n_shared", "n_clonotypes", "frac_clonotypes_shared"
            ),
            labels["frac_cells_shared"]: fraction(
                "n_cells_shared", "n_cells", "frac_cells_shared", row_units
            ),
        }
        reference = {
            labels["frac_reference_clonotypes_detected"]: fraction(
                "n_shared", "n_reference_clonotypes", "frac_reference_clonotypes_detected"
            ),
            labels["frac_reference_cells_detected"]: fraction(
                "n_reference_cells_detected",
                "n_reference_cells",
                "frac_reference_cells_detected",
            ),
        }
        index = self.data.index
        return {"samples": Columns(index, samples), "reference": Columns(index, reference)}

    def _unit_repr(self) -> str:
        if not self.mixed_units:
            return f"unit={self.unit!r}"
        return f"units={dict(self.units)!r}"

    def __repr__(self) -> str:
        ci = "" if self.ci is None else f", ci={self.ci}"
        return (
            f"Sharing(reference={self.reference!r}, samples={list(self.data.index)!r}, "
            f"{self._unit_repr()}{ci}, spec='{self.spec}')"
        )

    def _repr_html_(self) -> str:
        shown = "/".join(dict.fromkeys(self.units.values()))
        return (
            f"<p><b>Sharing with {self.reference}</b> (clonotype = {self.spec}; unit = "
            f"{shown})</p>" + self.table.to_html(float_format=lambda x: f"{x:.4f}")
        )


def _check_reference(
    counts: CloneCounts, reference: str, samples: Sequence[str] | None
) -> list[str]:
    counts.index(reference)  # raises KeyError naming the samples
    if samples is None:
        others = [x for x in counts.samples if x != reference]
    else:
        others = list(samples)
        for x in others:
            counts.index(x)
    if not others:
        msg = (
            f"nothing to compare with the reference {reference!r}: give at least one other "
            f"sample (samples are: {', '.join(counts.samples)})"
        )
        raise ParameterError(msg)
    return others


def sharing(
    counts: CloneCounts,
    *,
    reference: str,
    samples: Sequence[str] | None = None,
    ci: float | None = 0.95,
    method: BinomialMethod = "clopper-pearson",
    n_boot: int = 1000,
    seed: int = 0,
) -> Sharing:
    """How many clonotypes (and cells) of each sample are found in the reference, and back.

    For a sample *S* with clonotype set :math:`C_S` and the reference *R* (the infusion
    product) with :math:`C_R`:

    - ``n_clonotypes`` = :math:`|C_S|`; ``n_cells`` = distinct cells of *S* with a clonotype
      (for bulk data, the summed clone sizes in the sample's unit, :attr:`Sharing.units`);
    - ``n_shared`` = :math:`|C_S \\cap C_R|`;
    - ``frac_clonotypes_shared`` = ``n_shared / n_clonotypes`` — the reference study's
      *sharing frequency*: clonotypes of the blood sample also found in the infusion product,
      over all clonotypes of that blood sample;
    - ``n_cells_shared`` = cells of *S* whose clonotype is in :math:`C_R`;
      ``frac_cells_shared`` = ``n_cells_shared / n_cells`` (the share of the sample's T cells
      that descend from infused clones);
    - ``n_reference_clonotypes`` = :math:`|C_R|`, ``n_reference_cells`` = cells of *R*;
    - ``frac_reference_clonotypes_detected`` = ``n_shared / n_reference_clonotypes`` (infused
      clonotypes found again in *S*);
    - ``n_reference_cells_detected`` = cells of *R* whose clonotype is in :math:`C_S`;
      ``frac_reference_cells_detected`` = ``n_reference_cells_detected / n_reference_cells``
      (the share of the infused product, by cells, whose clonotype persists).

    A fraction with a zero denominator is NA. Cell counts are distinct cells, so a cell counted
    in two clonotypes (``multichain="all"``) counts once.

    **Units**: the clonotype counts and fractions do not depend on what the counts count, so
    samples counted in different units (templates beside reads, reads beside UMIs,
    single-cell beside bulk data) are compared as they are; each count-weighted number is in
    its own sample's unit (``n_cells``, ``n_cells_shared`` in the sample's, the
    ``n_reference_cells*`` in the reference's), and the table then has ``unit`` and
    ``reference_unit`` columns.

    **Intervals** (``ci`` not ``None``): each fraction ``frac_X`` is followed by ``frac_X_low``
    and ``frac_X_high``. The clonotype fractions get an exact binomial interval on
    ``n_shared`` out of ``n_clonotypes`` (or ``n_reference_clonotypes``): Clopper–Pearson by
    default, or Wilson (``method``); formulas in :func:`tcrtrack.tl._stats.binomial_interval`.
    The cell fractions get a percentile bootstrap interval over cells: the cells counted by
    the fraction (the sample's for ``frac_cells_shared``, the reference's for
    ``frac_reference_cells_detected``) are resampled with replacement ``n_boot`` times
    (seeded by ``seed``), the fraction is recounted, and the interval is the central ``ci``
    range of the values. The other sample's clonotype set is held at its observed value:
    resampling it too would bias the interval downwards, since a clonotype seen once
    vanishes from a resample with probability :math:`(1-1/n)^n \\approx e^{-1}`. For bulk
    data the resampled units are the templates (or reads, UMIs).

    Parameters
    ----------
    counts
        Clonotype counts of the reference and the samples.
    reference
        Name of the reference sample.
    samples
        Samples to compare (default: all but the reference, in order).
    ci
        Confidence level of the intervals (default 0.95); ``None`` for no interval columns.
    method
        Interval of the clonotype fractions: ``"clopper-pearson"`` (exact) or ``"wilson"``.
    n_boot
        Bootstrap replicates for the cell fractions.
    seed
        Seed of the bootstrap; the same seed gives the same intervals. Each sample draws from
        its own stream, derived from the seed and its name, so its interval does not depend
        on the other samples or their order. A cell fraction of 0 or 1 gets the exact
        (Clopper-Pearson) interval, never the zero-width interval a bootstrap gives.

    Returns
    -------
    :class:`Sharing`.

    Raises
    ------
    KeyError
        An unknown sample or reference name (the message lists the known names).
    ValueError
        No sample to compare with the reference.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> result = tt.tl.sharing(counts, reference="a")
    >>> float(result.table.loc["b", "frac_clonotypes_shared"])
    1.0
    """
    others = _check_reference(counts, reference, samples)
    present = counts.dense() > 0
    totals = counts._totals_array()
    ref_row = present[counts.index(reference)]
    n_ref = int(ref_row.sum())
    n_ref_cells = int(totals[counts.index(reference)])
    rows = []
    for name in others:
        row = present[counts.index(name)]
        shared = row & ref_row
        n_clono = int(row.sum())
        n_cells = int(totals[counts.index(name)])
        n_shared = int(shared.sum())
        n_cells_shared = counts.count_in(name, shared)
        n_ref_cells_detected = counts.count_in(reference, shared)
        rows.append(
            {
                "n_clonotypes": n_clono,
                "n_cells": n_cells,
                "n_shared": n_shared,
                "frac_clonotypes_shared": _ratio(n_shared, n_clono),
                "n_cells_shared": n_cells_shared,
                "frac_cells_shared": _ratio(n_cells_shared, n_cells),
                "n_reference_clonotypes": n_ref,
                "n_reference_cells": n_ref_cells,
                "frac_reference_clonotypes_detected": _ratio(n_shared, n_ref),
                "n_reference_cells_detected": n_ref_cells_detected,
                "frac_reference_cells_detected": _ratio(n_ref_cells_detected, n_ref_cells),
            }
        )
    columns: dict[str, np.ndarray] = {
        col: np.array(
            [r[col] for r in rows], dtype=np.float64 if col.startswith("frac_") else np.int64
        )
        for col in SHARING_COLUMNS
    }
    if ci is not None:
        from tcrtrack.tl._stats import add_sharing_intervals

        columns = add_sharing_intervals(
            columns, list(others), ci=ci, method=method, n_boot=n_boot, seed=seed
        )
    units = {x: counts.unit_of(x) for x in [reference, *others]}
    data: dict[str, np.ndarray | list[str]] = dict(columns)
    if len(set(units.values())) > 1:  # each row's units, where they differ
        data["unit"] = [units[x] for x in others]
        data["reference_unit"] = [units[reference]] * len(others)
    return Sharing(
        data=Columns(tuple(others), data),
        reference=reference,
        spec=counts.spec,
        units=units,
        ci=ci,
        method=method if ci is not None else None,
    )


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def shared_clonotypes(
    counts: CloneCounts,
    *,
    reference: str,
    samples: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The clonotypes of the reference found again in at least one of ``samples``.

    One row per shared clonotype: its defining columns (sequence, genes), then its count in
    the reference and in each sample (cells, or the bulk unit), then ``n_samples_found``,
    the number of ``samples`` it is found in. Sorted by the reference count, largest first,
    then by the total over ``samples``.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> table = tt.tl.shared_clonotypes(counts, reference="a")
    >>> len(table) == counts.n_clonotypes
    True
    """
    import pandas as pd

    others = _check_reference(counts, reference, samples)
    dense = counts.dense()
    ref = dense[counts.index(reference)]
    sub = dense[[counts.index(x) for x in others]]
    found = (sub > 0) & (ref > 0)
    keep = found.any(axis=0)
    table = counts.clonotypes.loc[keep].reset_index(drop=True)
    names = [reference, *others]
    values = pd.DataFrame(np.vstack([ref[keep], sub[:, keep]]).T, columns=names).astype("int64")
    table = pd.concat([table, values], axis=1)
    table["n_samples_found"] = found[:, keep].sum(axis=0).astype("int64")
    total = sub[:, keep].sum(axis=0)
    order = np.lexsort((-total, -ref[keep]))
    return table.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class VennRegions:
    """Clonotypes in each region of a Venn diagram of 2 or 3 samples.

    Attributes
    ----------
    samples
        The samples, in circle order.
    regions
        Membership tuple (one bool per sample) → clonotypes found in exactly those samples.
        All :math:`2^n - 1` non-empty memberships are present, zeros included.
    totals
        Sample → clonotypes in that sample (the sum of its regions).
    """

    samples: tuple[str, ...]
    regions: dict[tuple[bool, ...], int]
    totals: dict[str, int]

    def to_frame(self) -> pd.DataFrame:
        """One row per region: a boolean column per sample, then ``n_clonotypes``."""
        import pandas as pd

        rows = [
            dict(zip(self.samples, key, strict=True)) | {"n_clonotypes": n}
            for key, n in self.regions.items()
        ]
        return pd.DataFrame(rows)

    @property
    def union(self) -> int:
        """Clonotypes found in at least one of the samples."""
        return sum(self.regions.values())

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Venn regions</b> of {', '.join(self.samples)}</p>" + self.to_frame().to_html()
        )


def venn_regions(counts: CloneCounts, samples: Sequence[str]) -> VennRegions:
    """Count the clonotypes in each region of the Venn diagram of 2 or 3 samples.

    A clonotype is in region (True, False, True) when it is found in the first and third
    samples and not in the second. The regions of a sample add up to its clonotype count.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> v = tt.tl.venn_regions(counts, ["a", "b"])
    >>> v.regions[(True, True)] == counts.n_clonotypes, v.regions[(True, False)]
    (True, 0)
    """
    samples = tuple(samples)
    if not 2 <= len(samples) <= 3:
        msg = (
            f"a Venn diagram needs 2 or 3 samples, got {len(samples)}; "
            "for more samples use an UpSet plot (tt.pl.upset)"
        )
        raise ParameterError(msg)
    if len(set(samples)) != len(samples):
        msg = f"samples must be distinct, got {samples!r}"
        raise ParameterError(msg)
    from tcrtrack.tl._overlap import intersections

    table = intersections(counts, list(samples), include_empty=True)
    membership = table[list(samples)].to_numpy(dtype=bool)
    found = dict(zip(map(tuple, membership.tolist()), table["n_clonotypes"].tolist(), strict=True))
    regions = {
        key: int(found[key])
        for key in itertools.product((True, False), repeat=len(samples))
        if any(key)
    }
    totals = {x: sum(n for key, n in regions.items() if key[i]) for i, x in enumerate(samples)}
    return VennRegions(samples=samples, regions=regions, totals=totals)
