"""tt.pl.venn draws exactly the counts it is given."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.tl import VennRegions


def make_regions(samples: tuple[str, ...], counts: list[int]) -> VennRegions:
    """A hand-made VennRegions: counts in the order of itertools.product((False, True))."""
    keys = [k for k in itertools.product((False, True), repeat=len(samples)) if any(k)]
    regions = dict(zip(keys, counts, strict=True))
    totals = {x: sum(n for k, n in regions.items() if k[i]) for i, x in enumerate(samples)}
    return VennRegions(samples=samples, regions=regions, totals=totals)


def drawn_counts(diagram, regions: VennRegions) -> dict[tuple[bool, ...], int]:
    """Read the region labels back from the figure's Text objects."""
    out = {}
    for key in regions.regions:
        text = diagram.get_label_by_id(tt.pl.venn_region_id(key))
        assert text is not None, key
        out[key] = int(text.get_text().split("\n")[0].replace(",", ""))
    return out


CASES = {
    "two": (("infusion", "blood"), [5920, 2647, 640]),
    "three": (("infusion", "pbmc_3m", "pbmc_6m"), [5540, 4770, 1150, 2282, 365, 220, 420]),
    "dwarfed": (("a", "b", "c"), [1, 0, 3, 1_000_000, 2, 0, 7]),
    "two-dwarfed": (("a", "b"), [0, 250_000, 1]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_labels_drawn_equal_counts(case: str, weighted: bool) -> None:
    samples, counts = CASES[case]
    regions = make_regions(samples, counts)
    fig, ax = plt.subplots()
    diagram = tt.pl.venn(regions, ax=ax, weighted=weighted)
    assert drawn_counts(diagram, regions) == regions.regions
    # every region has a visible patch, even the dwarfed and the empty ones
    for key in regions.regions:
        patch = diagram.get_patch_by_id(tt.pl.venn_region_id(key))
        assert patch is not None, key
        assert patch.axes is ax
    # circle labels: name and clonotype total
    labels = [t.get_text() for t in diagram.set_labels]
    assert labels == [
        f"{x}\n{regions.totals[x]:,} {'clone' if regions.totals[x] == 1 else 'clones'}"
        for x in samples
    ]
    plt.close(fig)


def test_percentages_are_shares_of_the_union() -> None:
    samples, counts = CASES["three"]
    regions = make_regions(samples, counts)
    diagram = tt.pl.venn(regions, show_percent=True, unit="clonotypes")
    union = sum(counts)
    for key, n in regions.regions.items():
        text = diagram.get_label_by_id(tt.pl.venn_region_id(key)).get_text()
        count, percent = text.split("\n")
        assert int(count.replace(",", "")) == n
        assert percent == f"{100 * n / union:.1f}%"
    assert diagram.set_labels[0].get_text() == "infusion\n3,287 clonotypes"
    plt.close("all")


def test_from_clone_counts_of_a_real_file() -> None:
    """venn_regions on real contigs split into two overlapping halves, drawn and read back."""
    contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="x")
    cells = contigs["cell_id"].astype(str)
    first = sorted(cells.unique())
    half = set(first[: len(first) * 2 // 3])
    rest = set(first[len(first) // 3 :])
    a = contigs[cells.isin(half).to_numpy()].copy()
    b = contigs[cells.isin(rest).to_numpy()].copy()
    a["sample"] = pd.Categorical(["a"] * len(a))
    b["sample"] = pd.Categorical(["b"] * len(b))
    a.attrs, b.attrs = {}, {}
    counts = tt.tl.clonotypes(tt.pp.concat([a, b]))
    regions = tt.tl.venn_regions(counts, ["a", "b"])
    diagram = tt.pl.venn(regions, weighted=True, show_percent=True)
    assert drawn_counts(diagram, regions) == regions.regions
    assert sum(regions.regions.values()) == counts.n_clonotypes
    plt.close("all")


def test_new_figure_when_no_axes() -> None:
    regions = make_regions(("a", "b"), [3, 4, 5])
    diagram = tt.pl.venn(regions, title="t")
    ax = diagram.get_patch_by_id("11").axes
    assert ax.get_title() == "t"
    assert diagram.set_labels[0].figure is ax.figure
    plt.close("all")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(
            {"min_fraction": 0.0}, r"min_fraction must be in \(0, 1\], got 0.0", id="min-fraction"
        ),
        pytest.param({"colors": ["red"]}, "one colour per sample", id="colors"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tt.pl.venn(make_regions(("a", "b"), [1, 2, 3]), **kwargs)
    plt.close("all")


def test_four_samples_rejected() -> None:
    regions = make_regions(("a", "b", "c", "d"), list(range(15)))
    with pytest.raises(ValueError, match="needs 2 or 3 samples, got 4"):
        tt.pl.venn(regions)
