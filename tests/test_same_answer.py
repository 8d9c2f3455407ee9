"""Same input, same answer: a seed gives each sample the same numbers whatever the other
samples and their order (issue 14, item 12), and a fraction of 0/n or n/n gets an exact
interval, never a zero-width bootstrap one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import tcrtrack as tt
from tcrtrack.cli import main
from tcrtrack.errors import ParameterError

DATA = Path(__file__).parent / "data"
# one transplant patient's blood TCRβ (immunoSEQ v2), the three exports counted in reads
BULK = {
    "d32": DATA / "bulk" / "TRB_Unsorted_32.tsv",
    "d83": DATA / "stats" / "TRB_Unsorted_83.tsv.gz",
    "d369": DATA / "stats" / "TRB_Unsorted_369.tsv.gz",
}
# one lung-cancer patient's tumour, blood and normal lung (10x)
CELLS = {x: DATA / "sharing" / f"{x}.csv.gz" for x in ("lt6", "lb6", "ln6")}


def _counts(files: dict[str, Path], order: list[str]) -> tt.tl.CloneCounts:
    return tt.tl.clonotypes(
        tt.io.read_each([files[x] for x in order], samples=order, read_ahead=False)
    )


@pytest.mark.parametrize("rarefy_reference", [False, True], ids=["sample", "both"])
def test_rarefied_numbers_do_not_depend_on_sample_order(rarefy_reference):
    """The issue's case: the rarefied reference reads of a sample changed with the order."""
    one = _counts(BULK, ["d32", "d83", "d369"])
    two = _counts(BULK, ["d32", "d369", "d83"])
    a = tt.tl.rarefy(one, reference="d32", n=30, seed=4, rarefy_reference=rarefy_reference)
    b = tt.tl.rarefy(two, reference="d32", n=30, seed=4, rarefy_reference=rarefy_reference)
    pd.testing.assert_frame_equal(a.table.loc[["d83", "d369"]], b.table.loc[["d83", "d369"]])
    # and a sample alone gets what it gets beside the others
    alone = tt.tl.rarefy(
        _counts(BULK, ["d32", "d83"]),
        reference="d32",
        depth=a.depth,
        n=30,
        seed=4,
        rarefy_reference=rarefy_reference,
    )
    pd.testing.assert_frame_equal(alone.table.loc[["d83"]], a.table.loc[["d83"]])
    # another seed gives other subsamples
    c = tt.tl.rarefy(one, reference="d32", n=30, seed=5, rarefy_reference=rarefy_reference)
    assert not a.table.equals(c.table)


def test_sharing_curve_does_not_depend_on_sample_order():
    one = _counts(BULK, ["d32", "d83", "d369"])
    two = _counts(BULK, ["d32", "d369", "d83"])
    depths = [1000, 5000]
    a = tt.tl.sharing_curve(one, reference="d32", depths=depths, n=10, seed=2).table
    b = tt.tl.sharing_curve(two, reference="d32", depths=depths, n=10, seed=2).table
    key = ["sample", "depth"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )


def test_bootstrap_intervals_do_not_depend_on_sample_order():
    one = _counts(CELLS, ["lt6", "lb6", "ln6"])
    two = _counts(CELLS, ["lt6", "ln6", "lb6"])
    a = tt.tl.sharing(one, reference="lt6", seed=9).table
    b = tt.tl.sharing(two, reference="lt6", seed=9).table
    pd.testing.assert_frame_equal(a.loc[["lb6", "ln6"]], b.loc[["lb6", "ln6"]])


def test_share_on_the_command_line_gives_each_sample_the_same_rows(capsys):
    args = ["share", "--rarefy", "--seed", "3", "-f", "tsv"]
    assert main([*args, str(BULK["d32"]), str(BULK["d83"]), str(BULK["d369"])]) == 0
    one = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    assert main([*args, str(BULK["d32"]), str(BULK["d369"]), str(BULK["d83"])]) == 0
    two = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    pd.testing.assert_frame_equal(one.sort_index(), two.sort_index())


def test_zero_and_whole_cell_fractions_get_the_exact_interval():
    """A sample sharing nothing (0/n) and the reference against itself (n/n): the bootstrap
    would give [0, 0] and [1, 1]; the interval is Clopper-Pearson's, checked with scipy."""
    lt = tt.io.read(CELLS["lt6"], sample="lt6")
    lb = tt.io.read(CELLS["lb6"], sample="lb6")
    counts = tt.tl.clonotypes([lt, lb])
    # a copy of the blood with every junction changed shares nothing with the tumour
    other = lb.copy()
    other["sample"] = pd.Categorical(["none"] * len(other))
    other["junction"] = ("TGTGCCTGG" + other["junction"].astype("string")).astype("string[pyarrow]")
    other["junction_aa"] = ("CAW" + other["junction_aa"].astype("string")).astype("string[pyarrow]")
    counts = tt.tl.clonotypes([lt, lb, other])
    table = tt.tl.sharing(counts, reference="lt6", ci=0.95, seed=0).table
    none = table.loc["none"]
    assert none.n_cells_shared == 0
    n = int(none.n_cells)
    expected = stats.binomtest(0, n).proportion_ci(0.95, method="exact")
    assert none.frac_cells_shared_low == 0
    assert none.frac_cells_shared_high == pytest.approx(expected.high, rel=1e-9)
    assert none.frac_cells_shared_high == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)
    itself = tt.tl.sharing(counts, reference="lt6", samples=["lt6"], seed=0).table.loc["lt6"]
    assert itself.frac_cells_shared == 1
    m = int(itself.n_cells)
    exact = stats.binomtest(m, m).proportion_ci(0.95, method="exact")
    assert itself.frac_cells_shared_low == pytest.approx(exact.low, rel=1e-9)
    assert itself.frac_cells_shared_high == 1
    assert itself.frac_cells_shared_low < 1


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_a_bad_seed_names_the_seed(seed):
    counts = _counts(BULK, ["d32", "d83"])
    with pytest.raises(ParameterError, match=r"seed must be a non-negative whole number"):
        tt.tl.rarefy(counts, reference="d32", n=5, seed=seed)
    assert np.isfinite(tt.tl.rarefy(counts, reference="d32", n=5, seed=0).table.iloc[0, 1])


@pytest.mark.parametrize("files", [BULK, CELLS], ids=["bulk", "cells"])
def test_rarefied_diversity_does_not_depend_on_sample_order(files):
    names = list(files)
    one = tt.tl.diversity(_counts(files, names), depth="min", n_repeats=20, seed=6)
    two = tt.tl.diversity(_counts(files, names[::-1]), depth="min", n_repeats=20, seed=6)
    pd.testing.assert_frame_equal(one.table.loc[names], two.table.loc[names])
    # one CloneCounts or one per file: the same streams
    per_file = [_counts(files, [x]) for x in names]
    three = tt.tl.diversity(per_file, depth=one.depth, n_repeats=20, seed=6)
    pd.testing.assert_frame_equal(one.table.loc[names], three.table.loc[names])


def test_bulk_bootstrap_intervals_do_not_depend_on_sample_order():
    one = tt.tl.sharing(_counts(BULK, ["d32", "d83", "d369"]), reference="d32", seed=9).table
    two = tt.tl.sharing(_counts(BULK, ["d32", "d369", "d83"]), reference="d32", seed=9).table
    pd.testing.assert_frame_equal(one.loc[["d83", "d369"]], two.loc[["d83", "d369"]])
    other = tt.tl.sharing(_counts(BULK, ["d32", "d83", "d369"]), reference="d32", seed=10).table
    assert not one["frac_cells_shared_low"].equals(other["frac_cells_shared_low"])


def test_reference_fractions_of_zero_and_one_get_the_exact_interval():
    """The reference's view: none of its cells found in a sample (0/n), all of them in itself
    (n/n)."""
    lt = tt.io.read(CELLS["lt6"], sample="lt6")
    other = tt.io.read(CELLS["lb6"], sample="none")
    other["junction"] = ("TGTGCCTGG" + other["junction"].astype("string")).astype("string[pyarrow]")
    other["junction_aa"] = ("CAW" + other["junction_aa"].astype("string")).astype("string[pyarrow]")
    counts = tt.tl.clonotypes([lt, other])
    none = tt.tl.sharing(counts, reference="lt6", seed=0).table.loc["none"]
    n = int(none.n_reference_cells)
    assert none.n_reference_cells_detected == 0 and none.frac_reference_cells_detected_low == 0
    high = stats.binomtest(0, n).proportion_ci(0.95, method="exact").high
    assert none.frac_reference_cells_detected_high == pytest.approx(high, rel=1e-9)
    itself = tt.tl.sharing(counts, reference="lt6", samples=["lt6"], seed=0).table.loc["lt6"]
    low = stats.binomtest(n, n).proportion_ci(0.95, method="exact").low
    assert itself.frac_reference_cells_detected_low == pytest.approx(low, rel=1e-9)
    assert itself.frac_reference_cells_detected_high == 1
