"""Venn diagrams of clonotypes shared between 2 or 3 samples: ``tt.pl.venn``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tcrtrack.errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib_venn._common import VennDiagram

    from tcrtrack.tl import VennRegions

__all__ = ["venn", "venn_region_id"]

#: Colour-blind-safe circle colours (Paul Tol's "bright" scheme).
DEFAULT_COLORS = ("#4477AA", "#EE6677", "#228833")


def venn_region_id(membership: Sequence[bool]) -> str:
    """matplotlib-venn's id of a region: ``"101"`` = in the first and third sample only.

    Examples
    --------
    >>> venn_region_id((True, False, True))
    '101'
    """
    return "".join("1" if m else "0" for m in membership)


def venn(
    regions: VennRegions,
    *,
    ax: Axes | None = None,
    weighted: bool = False,
    show_percent: bool = False,
    min_fraction: float = 0.04,
    unit: str = "clones",
    colors: Sequence[Any] | None = None,
    alpha: float = 0.45,
    title: str | None = None,
    fontsize: float = 10.0,
) -> VennDiagram:
    """Draw the Venn diagram of 2 or 3 samples from :func:`tcrtrack.tl.venn_regions`.

    Each circle is labelled with its sample name and clonotype total (``"infusion\\n3,287
    clones"``); each region shows the number of clonotypes found in exactly those samples,
    and with ``show_percent`` also its share of the union:
    ``percent = region / (clonotypes in at least one sample) × 100``. The numbers drawn are
    the numbers in ``regions``; nothing is recomputed.

    Layouts. Unweighted (default): every region gets the same space, so every count is
    readable whatever the sizes. Weighted: circle areas follow the clonotype counts
    (matplotlib-venn's layout: for 2 samples exact, for 3 samples exact circle areas and
    pairwise overlaps, approximate triple overlap), except that every region is laid out as
    if it held at least ``min_fraction`` × the largest region, so that a region dwarfed by
    another (or empty) stays visible and its label has room; its label still shows its true
    count.

    Parameters
    ----------
    regions
        A :class:`tcrtrack.tl.VennRegions` of 2 or 3 samples.
    ax
        Axes to draw on; a new figure if ``None``.
    weighted
        Area-proportional layout (see above) instead of equal regions.
    show_percent
        Add each region's percentage of the union under its count.
    min_fraction
        Weighted layout only: the smallest region size used for the layout, as a fraction of
        the largest region, in (0, 1].
    unit
        The word after the totals in the circle labels.
    colors
        One matplotlib colour per circle.
    alpha
        Circle transparency.
    title
        Axes title.
    fontsize
        Font size of the region labels (circle labels are 1.1 × larger).

    Returns
    -------
    The matplotlib-venn ``VennDiagram``: ``get_label_by_id("110")`` is the label of the
    region in the first two samples only (see :func:`venn_region_id`), ``set_labels`` the
    circle labels; the figure is ``diagram.set_labels[0].figure``.

    Raises
    ------
    ValueError
        Not 2 or 3 samples, or ``min_fraction`` outside (0, 1].

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tcrtrack as tt
    >>> a = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="a")
    >>> b = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="b")
    >>> regions = tt.tl.venn_regions(tt.tl.clonotypes(tt.pp.concat([a, b])), ["a", "b"])
    >>> diagram = tt.pl.venn(regions)
    >>> diagram.get_label_by_id("11").get_text() == f"{regions.regions[(True, True)]:,}"
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib_venn import venn2, venn3

    samples = tuple(regions.samples)
    k = len(samples)
    if k not in (2, 3):
        msg = f"a Venn diagram needs 2 or 3 samples, got {k}: {samples!r}"
        raise ParameterError(msg)
    if not 0.0 < min_fraction <= 1.0:
        msg = f"min_fraction must be in (0, 1], got {min_fraction!r}"
        raise ParameterError(msg)
    counts = {venn_region_id(key): int(n) for key, n in regions.regions.items()}
    ids = _region_ids(k)
    subsets = tuple(counts.get(i, 0) for i in ids)
    union = sum(subsets)
    if weighted:
        floor = min_fraction * max(max(subsets), 1)
        layout_sizes = tuple(max(float(n), floor) for n in subsets)
    else:
        layout_sizes = (1.0,) * len(ids)

    def label(n: float) -> str:
        text = f"{int(n):,}"
        if show_percent:
            text += f"\n{100.0 * n / union:.1f}%" if union else "\n–"
        return text

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.0))
    set_labels = tuple(f"{x}\n{_quantity(regions.totals[x], unit)}" for x in samples)
    colors = tuple(colors) if colors is not None else DEFAULT_COLORS[:k]
    if len(colors) != k:
        msg = f"colors must give one colour per sample ({k}), got {len(colors)}"
        raise ParameterError(msg)
    if k == 2:
        from matplotlib_venn.layout.venn2 import DefaultLayoutAlgorithm as Layout

        draw = venn2
    else:
        from matplotlib_venn.layout.venn3 import DefaultLayoutAlgorithm as Layout

        draw = venn3
    diagram = draw(
        subsets=subsets,
        set_labels=set_labels,
        set_colors=colors,
        alpha=alpha,
        ax=ax,
        subset_label_formatter=label,
        layout_algorithm=Layout(fixed_subset_sizes=layout_sizes),
    )
    for i in ids:
        text = diagram.get_label_by_id(i)
        if text is not None:
            text.set_fontsize(fontsize)
    for text in diagram.set_labels or ():
        if text is not None:
            text.set_fontsize(1.1 * fontsize)
    if title is not None:
        ax.set_title(title)
    return diagram


def _quantity(n: int, unit: str) -> str:
    """``"3,287 clones"``, ``"1 clone"``."""
    if n == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{n:,} {unit}"


def _region_ids(k: int) -> tuple[str, ...]:
    """Region ids in matplotlib-venn's subset order."""
    if k == 2:
        return ("10", "01", "11")
    return ("100", "010", "110", "001", "101", "011", "111")
