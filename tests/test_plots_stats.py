"""The plots draw the numbers of the results they are given (read back from the artists)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import tcrtrack as tt
from stats_helpers import bulk_counts, cells_from_sizes


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def series():
    return bulk_counts(
        [[50, 30, 20, 5, 0, 1], [10, 30, 0, 40, 9, 1], [0, 25, 5, 30, 20, 0]],
        samples=["d0", "d30", "d90"],
        labels=["A", "B", "C", "D", "E", "F"],
    )


def test_sharing_curve_lines_and_bands_equal_table():
    counts = cells_from_sizes({"r": [5, 3, 1, 0], "a": [3, 3, 3, 3], "b": [1, 5, 0, 9]})
    curve = tt.tl.sharing_curve(counts, reference="r", n=20, n_depths=3)
    _fig, ax = plt.subplots()
    out = tt.pl.sharing_curve(curve, fraction="frac_cells_shared", ax=ax)
    assert out is ax
    for line, (name, part) in zip(ax.lines, curve.table.groupby("sample", sort=False), strict=True):
        assert line.get_label() == name
        np.testing.assert_allclose(line.get_xdata(), part["depth"])
        np.testing.assert_allclose(line.get_ydata(), part["frac_cells_shared"])
    band = ax.collections[0].get_paths()[0].vertices
    part = curve.table[curve.table["sample"] == "a"]
    assert band[:, 1].min() == pytest.approx(part["frac_cells_shared_low"].min())
    assert band[:, 1].max() == pytest.approx(part["frac_cells_shared_high"].max())
    with pytest.raises(ValueError, match="unknown fraction 'x'"):
        tt.pl.sharing_curve(curve, fraction="x")


def test_overlap_heatmap_pixels_and_labels_equal_matrix(series):
    matrix = tt.tl.overlap(series, metric="morisita_horn")
    ax = tt.pl.overlap_heatmap(matrix)
    np.testing.assert_allclose(ax.images[0].get_array(), matrix.to_numpy())
    texts = np.array([float(t.get_text()) for t in ax.texts]).reshape(3, 3)
    np.testing.assert_allclose(texts, matrix.to_numpy(), atol=0.005)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["d0", "d30", "d90"]


@pytest.mark.parametrize("value", ["frequency", "count"])
def test_track_lines_equal_table(series, value):
    result = tt.tl.track(series, top=4)
    ax = tt.pl.track(result, value=value)
    expected = result.frequencies if value == "frequency" else result.sizes
    drawn = np.array([line.get_ydata() for line in ax.lines])
    np.testing.assert_allclose(drawn, expected.to_numpy())
    # the clonotype key, the amino acids beside it
    assert [line.get_label() for line in ax.lines] == [
        f"{key} ({aa})"
        for key, aa in zip(result.sizes.index, result.clonotypes["junction_aa"], strict=True)
    ]


def test_track_labels_nucleotide_clones_by_their_key_beside_the_amino_acids():
    import pandas as pd
    from scipy import sparse

    from tcrtrack.tl import ClonotypeSpec
    from tcrtrack.tl._counts import CloneCounts

    # two nucleotide clonotypes with the same amino acids (synonymous codons), and a long key
    nt1, nt2 = "TGTGCCAGCAGCTTAGGACAGGAGACCCAGTACTTC", "TGCGCCAGCAGTCTAGGACAGGAGACCCAGTACTTC"
    long = "TGTGCCAGCAGCCAACTCGGTCGGACTAAGGACAGTAAAAACTATGGCTACACCTTC"
    counts = CloneCounts(
        matrix=sparse.csr_array(np.array([[9, 0, 5], [0, 9, 5]])),
        samples=("r", "s"),
        clonotypes=pd.DataFrame(
            {
                "clonotype": [nt1, nt2, long],
                "junction": [nt1, nt2, long],
                "junction_aa": ["CASSLGQETQYF", "CASSLGQETQYF", "CASSQLGRTKDSKNYGYTF"],
            }
        ),
        spec=ClonotypeSpec(),
        unit="templates",
    )
    result = tt.tl.track(counts)
    ax = tt.pl.track(result)
    labels = dict(zip(result.sizes.index, [line.get_label() for line in ax.lines], strict=True))
    assert labels[nt1] == f"{nt1} (CASSLGQETQYF)"
    assert labels[nt2] == f"{nt2} (CASSLGQETQYF)"
    # a key of more than 48 characters keeps both ends around an ellipsis
    assert labels[long] == f"{long[:23]}…{long[-24:]} (CASSQLGRTKDSKNYGYTF)"


def test_track_area_stacks_frequencies(series):
    result = tt.tl.track(series, top=3)
    ax = tt.pl.track(result, kind="area")
    # the top of the last stacked area is the summed frequency at each sample
    top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(result.frequencies.sum(axis=0).max())


def test_scatter_points_equal_frequencies(series):
    result = tt.tl.track(series)
    ax = tt.pl.scatter(result, sample="d30")
    points = np.vstack([c.get_offsets() for c in ax.collections])
    tests = result.tests[(result.tests["sample"] == "d30") & (result.tests["class"] != "absent")]
    floor_x, floor_y = 0.5 / 106, 0.5 / 90
    x = np.where(tests["freq_reference"] > 0, tests["freq_reference"], floor_x)
    y = np.where(tests["freq"] > 0, tests["freq"], floor_y)
    assert sorted(map(tuple, np.round(points, 12))) == sorted(
        zip(np.round(x, 12), np.round(y, 12), strict=True)
    )
    assert ax.get_xscale() == "log"


def test_volcano_points_equal_tests(series):
    result = tt.tl.track(series)
    ax = tt.pl.volcano(result)  # last sample, d90
    points = np.vstack([c.get_offsets() for c in ax.collections])
    tests = result.tests[(result.tests["sample"] == "d90") & result.tests["qvalue"].notna()]
    expected = np.column_stack([tests["log2fc"], -np.log10(tests["qvalue"])])
    assert sorted(map(tuple, np.round(points, 10))) == sorted(map(tuple, np.round(expected, 10)))
    with pytest.raises(KeyError, match="sample 'd0' was not compared"):
        tt.pl.volcano(result, sample="d0")


def test_upset_bars_and_matrix_equal_intersections():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 2, size=(5, 200)) * rng.integers(1, 5, size=(5, 200))
    counts = bulk_counts(matrix, samples=list("abcde"))
    table = tt.tl.intersections(counts)
    _fig, ax = plt.subplots(figsize=(10, 5))
    out = tt.pl.upset(table, ax=ax, max_bars=None)
    assert out is ax
    assert [p.get_height() for p in ax.patches] == table["n_clonotypes"].tolist()
    assert [t.get_text() for t in ax.texts] == [f"{n:,}" for n in table["n_clonotypes"]]
    # filled dots of the membership matrix: one per (combination, sample) in it
    inset = ax.child_axes[0]
    filled = sum(len(c.get_offsets()) for c in inset.collections[1:])
    assert filled == int(table[list("abcde")].to_numpy().sum())
    assert [t.get_text() for t in inset.get_yticklabels()] == list("abcde")


def test_sharing_curve_axis_names_the_bulk_unit():
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    import tcrtrack as tt
    from tcrtrack.tl._counts import CloneCounts

    counts = CloneCounts(
        matrix=sp.csr_array(np.array([[5, 3, 0, 2], [4, 0, 6, 1]], dtype=np.int64)),
        samples=("ref", "later"),
        clonotypes=pd.DataFrame({"clonotype": ["A", "B", "C", "D"]}),
        spec=tt.tl.ClonotypeSpec(),
        unit="templates",
    )
    curve = tt.tl.sharing_curve(counts, reference="ref", depths=[4, 8], n=5)
    assert curve.unit == "templates"
    ax = tt.pl.sharing_curve(curve)
    assert ax.get_xlabel() == "depth (templates per subsample)"
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
