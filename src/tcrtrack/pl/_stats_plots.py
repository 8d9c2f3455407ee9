"""Plots of the statistics: sharing curves, overlap heat maps, clone tracks, scatter, volcano,
UpSet. Each takes a computed result, draws it as it is (nothing is recomputed), accepts ``ax=``
and returns the :class:`matplotlib.axes.Axes` drawn on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tcrtrack._display import fraction_labels
from tcrtrack.errors import NotFoundError, ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from tcrtrack.tl import SharingCurve, Track

__all__ = [
    "CLASS_COLORS",
    "overlap_heatmap",
    "scatter",
    "sharing_curve",
    "track",
    "upset",
    "volcano",
]

#: Colour of each clone class in :func:`scatter`, :func:`volcano`.
CLASS_COLORS = {
    "expanded": "#d62728",
    "contracted": "#1f77b4",
    "shared": "#555555",
    "new": "#ff7f0e",
    "lost": "#9467bd",
    "absent": "#cccccc",
}


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize)
    return new


def sharing_curve(
    curve: SharingCurve,
    *,
    fraction: str = "frac_clonotypes_shared",
    ax: Axes | None = None,
) -> Axes:
    """Draw a sharing curve: per sample, the mean ``fraction`` over subsamples versus depth
    (a line with markers) and its range (a shaded band).

    Parameters
    ----------
    curve
        From :func:`tcrtrack.tl.sharing_curve`.
    fraction
        Which fraction of :func:`tcrtrack.tl.sharing` to draw; the axis names it in the
        curve's unit (``cells``, or the bulk unit).
    ax
        Axes to draw on (default: a new figure).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> curve = tt.tl.sharing_curve(counts, reference="a", depths=[100, 500], n=5)
    >>> ax = tt.pl.sharing_curve(curve)
    >>> ax.lines[0].get_ydata().tolist()
    [1.0, 1.0]
    """
    table = curve.table
    labels = fraction_labels(curve.unit, curve.reference)
    if fraction not in labels:
        msg = f"unknown fraction {fraction!r}; choose one of {', '.join(labels)}"
        raise ParameterError(msg)
    ax = _axes(ax)
    for name, part in table.groupby("sample", sort=False, observed=True):
        x = part["depth"].to_numpy(dtype=float)
        (line,) = ax.plot(
            x, part[fraction].to_numpy(dtype=float), marker="o", ms=3, label=str(name)
        )
        ax.fill_between(
            x,
            part[f"{fraction}_low"].to_numpy(dtype=float),
            part[f"{fraction}_high"].to_numpy(dtype=float),
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
        )
    ax.set_xlabel(f"depth ({curve.unit} per subsample)")
    ax.set_ylabel(labels[fraction])
    ax.set_title(f"Sharing with {curve.reference} ({curve.ci:.0%} range of {curve.n} subsamples)")
    ax.legend(title="sample", frameon=False)
    return ax


def overlap_heatmap(
    matrix: pd.DataFrame,
    *,
    annotate: bool = True,
    cmap: str = "viridis",
    ax: Axes | None = None,
) -> Axes:
    """Draw a samples × samples overlap matrix (from :func:`tcrtrack.tl.overlap`) as a heat
    map on a fixed 0–1 colour scale, each cell labelled with its value (2 decimals).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> ax = tt.pl.overlap_heatmap(tt.tl.overlap(counts, metric="jaccard"))
    >>> [t.get_text() for t in ax.texts]
    ['1.00', '1.00', '1.00', '1.00']
    """
    ax = _axes(ax, (1.2 + 0.6 * len(matrix), 1.0 + 0.5 * len(matrix)))
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap=cmap)
    ax.set_xticks(range(values.shape[1]), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in matrix.index])
    if annotate:
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                text = "NA" if np.isnan(v) else f"{v:.2f}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    color="black" if not np.isnan(v) and v > 0.6 else "white",
                    fontsize=8,
                )
    ax.figure.colorbar(image, ax=ax, label=matrix.attrs.get("metric", "overlap"))
    ax.set_title(f"Overlap ({matrix.attrs.get('metric', 'overlap')})")
    return ax


def track(
    result: Track,
    *,
    kind: Literal["line", "area"] = "line",
    value: Literal["frequency", "count"] = "frequency",
    ax: Axes | None = None,
) -> Axes:
    """Draw the clones of a :class:`~tcrtrack.tl.Track` over its samples: one line per clone
    (``kind="line"``) or stacked areas (``kind="area"``), of frequency or count, in the
    result's clone order (pass ``top=`` to :func:`tcrtrack.tl.track` to keep a few).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> result = tt.tl.track(counts, top=2)
    >>> ax = tt.pl.track(result, value="count")
    >>> [line.get_ydata().tolist() for line in ax.lines] == result.sizes.to_numpy().tolist()
    True
    """
    if kind not in ("line", "area"):
        msg = f"kind must be 'line' or 'area', got {kind!r}"
        raise ParameterError(msg)
    if value not in ("frequency", "count"):
        msg = f"value must be 'frequency' or 'count', got {value!r}"
        raise ParameterError(msg)
    data = result.frequencies if value == "frequency" else result.sizes
    ax = _axes(ax, (7, 4))
    x = np.arange(len(result.samples))
    labels = clone_labels(result)
    if kind == "line":
        for label, row in zip(labels, data.to_numpy(dtype=float), strict=True):
            ax.plot(x, row, marker="o", ms=3, label=label)
    else:
        ax.stackplot(x, data.to_numpy(dtype=float), labels=labels, alpha=0.85)
    ax.set_xticks(x, list(result.samples))
    ax.set_xlabel("sample")
    unit = result.unit
    ax.set_ylabel(f"frequency (of {unit})" if value == "frequency" else unit)
    ax.set_title(f"Top clones of {result.reference} over samples")
    if len(data) <= 15:
        ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def clone_labels(result: Track, *, width: int = 48) -> list[str]:
    """A legend label per clone of ``result`` (in the order of ``sizes``): the clonotype key,
    with the amino acids beside it in parentheses when clonotypes are nucleotide sequences.
    A key longer than ``width`` keeps its first and last characters around an ellipsis
    (nucleotide variants of one clone differ anywhere, so neither end alone tells them
    apart)."""
    amino = result.amino_acids().to_numpy()
    nt = result.counts.spec.sequence == "nt"
    labels = []
    for key, aa in zip(map(str, result.sizes.index), amino, strict=True):
        if len(key) > width:
            head = (width - 1) // 2
            key = key[:head] + "…" + key[len(key) - (width - 1 - head) :]
        labels.append(f"{key} ({aa})" if nt and aa is not None else key)
    return labels


def _later(result: Track, sample: str | None) -> str:
    later = [x for x in result.samples if x != result.reference]
    if sample is None:
        return later[-1]
    if sample not in later:
        msg = f"sample {sample!r} was not compared; compared samples: {', '.join(later)}"
        raise NotFoundError(msg)
    return sample


def scatter(
    result: Track,
    *,
    sample: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Frequency of each clone in the reference (x) versus a later ``sample`` (y), log–log,
    coloured by class; clones found in both (shared) are drawn large and on top.

    A clone absent from one sample has frequency 0, which a log axis cannot show: it is
    drawn at half of that sample's smallest possible frequency, :math:`0.5 / N`, on a
    dashed line labelled "not found". ``sample`` defaults to the last compared sample.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> ax = tt.pl.scatter(tt.tl.track(counts))
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    """
    sample = _later(result, sample)
    tests = result.tests[result.tests["sample"] == sample]
    tests = tests[tests["class"] != "absent"]
    ax = _axes(ax, (5, 5))
    floor_x = 0.5 / max(int(tests["total_reference"].iloc[0]), 1) if len(tests) else 1e-4
    floor_y = 0.5 / max(int(tests["total"].iloc[0]), 1) if len(tests) else 1e-4
    x = tests["freq_reference"].to_numpy(dtype=float)
    y = tests["freq"].to_numpy(dtype=float)
    x = np.where(x > 0, x, floor_x)
    y = np.where(y > 0, y, floor_y)
    shared = ((tests["count_reference"] > 0) & (tests["count"] > 0)).to_numpy()
    classes = tests["class"].astype(str).to_numpy()
    for cls in CLASS_COLORS:
        for is_shared in (False, True):
            sel = (classes == cls) & (shared == is_shared)
            if not sel.any():
                continue
            ax.scatter(
                x[sel],
                y[sel],
                s=18 if is_shared else 6,
                color=CLASS_COLORS[cls],
                alpha=0.9 if is_shared else 0.4,
                zorder=3 if is_shared else 2,
                label=f"{cls} ({int(sel.sum())})" if is_shared or cls in ("new", "lost") else None,
                edgecolors="none",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvline(floor_x, ls="--", lw=0.6, color="grey")
    ax.axhline(floor_y, ls="--", lw=0.6, color="grey")
    lims = [min(floor_x, floor_y) / 1.5, 1.0]
    ax.plot(lims, lims, lw=0.6, color="grey")
    ax.set_xlabel(f"frequency in {result.reference} (dashed: not found)")
    ax.set_ylabel(f"frequency in {sample} (dashed: not found)")
    ax.set_title(f"{result.reference} vs {sample}")
    ax.legend(fontsize=7, frameon=False)
    return ax


def volcano(
    result: Track,
    *,
    sample: str | None = None,
    y: Literal["qvalue", "pvalue"] = "qvalue",
    ax: Axes | None = None,
) -> Axes:
    """Volcano plot of the per-clone tests: ``log2fc`` (x) versus :math:`-\\log_{10}` of the
    q-value (or p-value) (y), coloured by class, with the ``alpha`` line; for one later
    ``sample`` (default: the last compared). A q-value of 0 (below floating point) is
    drawn at :math:`-\\log_{10}(10^{-300})`.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> ax = tt.pl.volcano(tt.tl.track(counts))
    >>> ax.get_xlabel()
    'log2 fold change (b / a)'
    """
    if y not in ("qvalue", "pvalue"):
        msg = f"y must be 'qvalue' or 'pvalue', got {y!r}"
        raise ParameterError(msg)
    sample = _later(result, sample)
    tests = result.tests[(result.tests["sample"] == sample) & result.tests[y].notna()]
    ax = _axes(ax, (5, 4))
    classes = tests["class"].astype(str).to_numpy()
    xs = tests["log2fc"].to_numpy(dtype=float)
    ys = -np.log10(np.maximum(tests[y].to_numpy(dtype=float), 1e-300))
    for cls, color in CLASS_COLORS.items():
        sel = classes == cls
        if sel.any():
            ax.scatter(
                xs[sel],
                ys[sel],
                s=8,
                color=color,
                label=f"{cls} ({int(sel.sum())})",
                edgecolors="none",
                alpha=0.8,
            )
    ax.axhline(-np.log10(result.alpha), ls="--", lw=0.6, color="grey")
    ax.set_xlabel(f"log2 fold change ({sample} / {result.reference})")
    ax.set_ylabel(f"-log10 {'BH q-value' if y == 'qvalue' else 'p-value'}")
    test = "Fisher's exact test" if result.test == "fisher" else "Beta-binomial test"
    ax.set_title(f"{test} per clone, {result.reference} vs {sample}")
    ax.legend(fontsize=7, frameon=False)
    return ax


def upset(
    table: pd.DataFrame,
    *,
    max_bars: int | None = 30,
    ax: Axes | None = None,
) -> Axes:
    """UpSet plot of exact intersections (from :func:`tcrtrack.tl.intersections`): a bar per
    combination of samples with its clonotype count (written above the bar), and below it
    the membership matrix (filled dots: the samples of the combination). Works for any
    number of samples. The matrix is an inset of the returned bar axes
    (``ax.child_axes[0]``).

    Parameters
    ----------
    table
        The intersections, in the order to draw (the default order of
        :func:`~tcrtrack.tl.intersections` is largest first).
    max_bars
        Draw at most this many combinations (``None``: all).
    ax
        Axes for the bars (the matrix takes its lower part).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    >>> table = tt.tl.intersections(counts)
    >>> ax = tt.pl.upset(table)
    >>> [p.get_height() for p in ax.patches] == table["n_clonotypes"].tolist()
    True
    """
    samples = [c for c in table.columns if c not in ("degree", "n_clonotypes")]
    rows = table if max_bars is None else table.iloc[:max_bars]
    ax = _axes(ax, (max(5.0, 0.35 * len(rows) + 2), 3.0 + 0.3 * len(samples)))
    x = np.arange(len(rows))
    heights = rows["n_clonotypes"].to_numpy()
    bars = ax.bar(x, heights, color="#333333", width=0.7)
    ax.bar_label(bars, labels=[f"{int(h):,}" for h in heights], fontsize=7, padding=1)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xticks([])
    ax.set_ylabel("clonotypes in exactly these samples")
    ax.spines[["top", "right"]].set_visible(False)
    share = min(0.6, 0.12 * len(samples) + 0.05)
    matrix = ax.inset_axes((0.0, -share - 0.02, 1.0, share), sharex=ax)
    member = rows[samples].to_numpy(dtype=bool)
    yy = np.arange(len(samples))[::-1]
    gx, gy = np.meshgrid(x, yy)
    matrix.scatter(gx.ravel(), gy.ravel(), s=30, color="#dddddd", zorder=1)
    for i in range(len(rows)):
        on = yy[member[i]]
        if len(on):
            matrix.scatter(np.full(len(on), x[i]), on, s=30, color="#333333", zorder=2)
            matrix.plot([x[i], x[i]], [on.min(), on.max()], color="#333333", lw=1.5, zorder=2)
    matrix.set_yticks(yy, samples)
    matrix.set_ylim(-0.6, len(samples) - 0.4)
    matrix.tick_params(axis="x", bottom=False, labelbottom=False)
    for spine in matrix.spines.values():
        spine.set_visible(False)
    return ax
