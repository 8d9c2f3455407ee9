"""Plots of :class:`tcrtrack.tl.Persistence`: recapture curves, clone trajectories, origins.

Each takes the computed result, draws it as it is (nothing is recomputed), accepts ``ax=`` and
returns the :class:`matplotlib.axes.Axes` drawn on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from tcrtrack.errors import SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from tcrtrack.tl import Persistence

__all__ = ["ORIGIN_COLORS", "origin", "recapture", "trajectories"]

#: Colour of each origin class in :func:`origin`.
ORIGIN_COLORS = {
    "product": "#d62728",
    "pre-existing": "#ff7f0e",
    "reference": "#d62728",
    "baseline-only": "#1f77b4",
    "unexplained": "#bbbbbb",
}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize)
    return new


def recapture(result: Persistence, *, ax: Axes | None = None) -> Axes:
    """Recapture curves: per later sample, the fraction of reference clonotypes detected by
    reference clone-size class (points with exact intervals, solid lines) beside the fraction
    expected from depth alone had every clone kept its frequency (dashed, same colour).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> result = tt.tl.persist(tt.tl.clonotypes(tt.pp.concat([a, b])), reference="a")
    >>> ax = tt.pl.recapture(result)
    >>> import numpy as np
    >>> observed = result.recapture.loc["b", "frac_detected"]
    >>> bool(np.allclose(ax.lines[0].get_ydata(), observed, equal_nan=True))
    True
    """
    ax = _axes(ax, (6.5, 4))
    table = result.recapture
    classes = list(table.index.levels[1])
    x = np.arange(len(classes))
    colors = [f"C{i % 10}" for i in range(len(result.samples))]
    for sample, color in zip(result.samples, colors, strict=True):
        part = table.loc[sample]
        y = part["frac_detected"].to_numpy(dtype=float)
        low = y - part["frac_detected_low"].to_numpy(dtype=float)
        high = part["frac_detected_high"].to_numpy(dtype=float) - y
        ax.plot(x, y, marker="o", color=color, label=f"{sample} observed")
        ax.errorbar(x, y, yerr=[low, high], fmt="none", ecolor=color, capsize=3, lw=1)
        ax.plot(
            x,
            part["frac_expected"].to_numpy(dtype=float),
            ls="--",
            color=color,
            label=f"{sample} expected (depth alone)",
        )
    ax.set_xticks(x, classes)
    ax.set_xlabel(f"clone size in {result.reference} ({result.unit})")
    ax.set_ylabel(f"fraction of {result.reference} clonotypes detected")
    ax.set_ylim(0, 1.02)
    ax.set_title("Recapture of reference clonotypes")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def trajectories(
    result: Persistence,
    *,
    top: int = 10,
    kind: Literal["line", "area"] = "line",
    log: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """The ``top`` largest reference clones' frequencies over every sample in time order
    (baseline, reference, later samples): one line per clone (``kind="line"``), or stacked
    areas (``kind="area"``, an alluvial-like view of how much of each sample the top clones
    make up). ``log=True`` puts frequencies on a log scale (lines only; a clone not seen is
    drawn at the sample's limit of detection, hollow marker, for the later samples).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> result = tt.tl.persist(tt.tl.clonotypes(tt.pp.concat([a, b])), reference="a")
    >>> ax = tt.pl.trajectories(result, top=3)
    >>> len(ax.lines)
    3
    """
    if kind not in ("line", "area"):
        msg = f"kind must be 'line' or 'area', got {kind!r}"
        raise SchemaError(msg)
    if top < 1:
        msg = f"top must be a positive number of clones, got {top!r}"
        raise SchemaError(msg)
    if log and kind == "area":
        msg = "log=True applies to kind='line'; stacked areas need a linear scale"
        raise SchemaError(msg)
    freq = result.frequencies.iloc[:top]
    ax = _axes(ax, (7, 4))
    columns = list(freq.columns)
    x = np.arange(len(columns))
    names = [_label(result, str(c)) for c in freq.index]
    values = freq.to_numpy(dtype=float)
    if kind == "line":
        lod = {s: float(v) for s, v in result.detection["lod_frequency"].items()}
        for label, row in zip(names, values, strict=True):
            (line,) = ax.plot(x, row, marker="o", ms=3, label=label)
            if log:
                hidden = [i for i, c in enumerate(columns) if row[i] == 0 and c in lod]
                line.set_ydata(np.where(row > 0, row, np.nan))
                if hidden:
                    ax.plot(
                        x[hidden],
                        [lod[columns[i]] for i in hidden],
                        ls="none",
                        marker="o",
                        mfc="none",
                        color=line.get_color(),
                    )
        if log:
            ax.set_yscale("log")
    else:
        ax.stackplot(x, values, labels=names, alpha=0.85)
    ax.set_xticks(x, columns)
    ax.set_xlabel("sample (time order)")
    ax.set_ylabel(f"frequency (of {result.unit})")
    ax.set_title(f"Top {len(freq)} clones of {result.reference} over time")
    ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _label(result: Persistence, clonotype: str, width: int = 22) -> str:
    """The clonotype key, shortened, with the amino acid beside it when there is one."""
    aa = None
    traj = result.trajectories
    if "junction_aa" in traj.columns:
        hit = traj.loc[traj["clonotype"] == clonotype, "junction_aa"]
        aa = str(hit.iloc[0]) if len(hit) else None
    key = clonotype if len(clonotype) <= width else clonotype[: width - 1] + "…"
    return f"{key} ({aa})" if aa else key


def origin(
    result: Persistence,
    *,
    weight: Literal["clonotypes", "units"] = "clonotypes",
    ax: Axes | None = None,
) -> Axes:
    """Stacked bars, one per later sample: the fraction of its clonotypes
    (``weight="clonotypes"``) or of its cells/units (``weight="units"``) of each origin.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> result = tt.tl.persist(tt.tl.clonotypes(tt.pp.concat([a, b])), reference="a")
    >>> ax = tt.pl.origin(result)
    >>> [round(float(p.get_height()), 3) for p in ax.patches]
    [1.0, 0.0]
    """
    if weight not in ("clonotypes", "units"):
        msg = f"weight must be 'clonotypes' or 'units', got {weight!r}"
        raise SchemaError(msg)
    column = "frac_clonotypes" if weight == "clonotypes" else "frac_units"
    ax = _axes(ax, (6, 4))
    x = np.arange(len(result.samples))
    bottom = np.zeros(len(x))
    for name in result.origins:
        values = (
            result.origin.xs(name, level="origin")
            .loc[list(result.samples), column]
            .to_numpy(dtype=float)
        )
        values = np.nan_to_num(values)
        ax.bar(x, values, bottom=bottom, color=ORIGIN_COLORS[name], label=name, width=0.6)
        bottom += values
    ax.set_xticks(x, list(result.samples))
    ax.set_ylim(0, 1)
    what = "clonotypes" if weight == "clonotypes" else result.unit
    ax.set_ylabel(f"fraction of the sample's {what}")
    ax.set_title(f"Origin of later clones (reference {result.reference})")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
