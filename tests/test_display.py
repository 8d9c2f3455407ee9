"""One rendering per result (issue 13): the readable tables come from the library, labelled in
the data's unit; the command line prints them and the report escapes the same cells."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_immunoseq
from tcrtrack._display import SHARING_FRACTIONS, fraction_labels, overlap_table
from tcrtrack.cli import main

BULK = Path(__file__).parent / "data" / "bulk"
SHARING = Path(__file__).parent / "data" / "sharing"


@pytest.fixture(scope="module")
def reads(tmp_path_factory):
    """Two read-count immunoSEQ files: a real day-32 sample and a binomial thinning of it."""
    folder = tmp_path_factory.mktemp("reads")
    raw = pd.read_csv(BULK / "TRB_Unsorted_32.tsv", sep="\t", dtype=str, keep_default_na=False)
    column = "count (templates/reads)"
    thinned = raw.copy()
    thinned[column] = np.random.default_rng(1).binomial(raw[column].astype(int), 0.5).astype(str)
    thinned = thinned[thinned[column] != "0"]
    first, second = folder / "d32.tsv", folder / "half.tsv"
    raw.to_csv(first, sep="\t", index=False)
    thinned.to_csv(second, sep="\t", index=False)
    tables = [tt.io.read(first, sample="d32"), tt.io.read(second, sample="half")]
    return first, second, tt.tl.clonotypes(tt.pp.concat(tables))


def _no_cells(frame: pd.DataFrame) -> None:
    labels = [str(c) for c in frame.columns]
    assert not [c for c in labels if "cell" in c], labels


def test_fraction_labels_are_in_the_unit():
    labels = fraction_labels("umis", "infusion")
    assert list(labels) == list(SHARING_FRACTIONS)
    assert labels["frac_cells_shared"] == "umis in shared clonotypes"
    assert labels["frac_reference_cells_detected"] == "infusion umis found"


def test_sharing_display_of_reads_counts_reads_as_a_naive_count_does(reads):
    first, second, counts = reads
    result = tt.tl.sharing(counts, reference="d32", ci=None)
    tables = result.display_tables()
    for frame in tables.values():
        _no_cells(frame)
    ref, half = naive_immunoseq(first), naive_immunoseq(second)
    shared = set(ref) & set(half)
    assert list(tables["samples"].columns) == [
        "clonotypes",
        "reads",
        "clonotypes shared with d32",
        "reads in shared clonotypes",
    ]
    row = tables["samples"].loc["half"]
    assert row["clonotypes"] == f"{len(half):,}"
    assert row["reads"] == f"{sum(half.values()):,}"
    n_in_shared = sum(half[j] for j in shared)
    total = sum(half.values())
    assert row["reads in shared clonotypes"] == (
        f"{n_in_shared:,}/{total:,} = {100 * n_in_shared / total:.2f}%"
    )
    found = tables["reference"].loc["half", "d32 reads found"]
    n_found = sum(ref[j] for j in shared)
    assert found == f"{n_found:,}/{sum(ref.values()):,} = {100 * n_found / sum(ref.values()):.2f}%"


def test_rarefied_and_tracked_displays_of_reads(reads):
    _, _, counts = reads
    rarefied = tt.tl.rarefy(counts, reference="d32", n=5, seed=0)
    assert rarefied.unit == "reads"
    shown = rarefied.display_table()
    _no_cells(shown)
    assert list(shown.columns) == list(fraction_labels("reads").values())
    mean = rarefied.table.loc["half", "frac_cells_shared"]
    assert shown.loc["half", "reads in shared clonotypes"].startswith(f"{100 * mean:.2f}% [")
    tracked = tt.tl.track(counts, reference="d32", top=3)
    table = tracked.display_table()
    assert list(table.index) == [1, 2, 3] and table.index.name == "rank"
    for rank, clone in enumerate(tracked.sizes.index, start=1):
        n = int(tracked.sizes.loc[clone, "half"])
        assert table.loc[rank, "half"].startswith(f"{n:,} (")


def test_the_cli_prints_and_the_report_escapes_the_same_tables(capsys):
    files = [SHARING / f"{x}.csv.gz" for x in ("lt6", "lb6", "ln6")]
    names = ["lt6", "lb6", "ln6"]
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=n) for p, n in zip(files, names, strict=True)])
    )
    assert main(["share", *map(str, files)]) == 0
    out = capsys.readouterr().out
    sharing = tt.tl.sharing(counts, reference="lt6")
    for frame in sharing.display_tables().values():
        assert frame.to_string() in out
    report = tt.report.build(counts, reference="lt6", top=3).html
    shown = [
        *sharing.display_tables()["samples"].to_numpy().ravel(),
        *tt.tl.track(counts, reference="lt6", top=3).display_table().to_numpy().ravel(),
        *overlap_table(tt.tl.overlap(counts, metric="morisita_horn")).to_numpy().ravel(),
    ]
    for cell in shown:
        assert f"<td>{html.escape(cell)}</td>" in report
    assert main(["track", *map(str, files), "--top", "3"]) == 0
    out = capsys.readouterr().out
    table = tt.tl.track(counts, reference="lt6", top=3).display_table()
    assert table.to_string(index_names=False) in out
    assert main(["overlap", *map(str, files)]) == 0
    matrix = tt.tl.overlap(counts, metric="jaccard")
    assert overlap_table(matrix).to_string() in capsys.readouterr().out


def test_sharing_curve_axis_is_labelled_in_the_unit(reads):
    from matplotlib.figure import Figure

    _, _, counts = reads
    curve = tt.tl.sharing_curve(counts, reference="d32", depths=[1000], n=2)
    ax = Figure().add_subplot()
    tt.pl.sharing_curve(curve, fraction="frac_cells_shared", ax=ax)
    assert ax.get_ylabel() == "reads in shared clonotypes"


def test_click_choices_are_the_librarys_literals():
    """The command line's choices are the option sets of the library (``typing.Literal`` in
    ``tcrtrack.schema``), not copies."""
    from typing import get_args

    import click

    from tcrtrack import schema
    from tcrtrack.cli import cli
    from tcrtrack.tl import ClonotypeSpec

    def choices(command: click.Command, name: str) -> tuple[str, ...]:
        (param,) = [p for p in command.params if p.name == name]
        assert isinstance(param.type, click.Choice)
        return tuple(param.type.choices)

    share, overlap = cli.commands["share"], cli.commands["overlap"]
    assert choices(share, "locus") == get_args(schema.LocusSpec)
    assert choices(share, "sequence") == get_args(schema.SequenceSpec)
    assert choices(share, "genes") == get_args(schema.GenesSpec)
    assert choices(share, "multichain") == get_args(schema.MultichainSpec)
    assert choices(overlap, "metric") == get_args(schema.OverlapMetric)
    assert choices(cli.commands["track"], "test") == get_args(schema.TrackTest)
    # the library accepts exactly these
    for locus in get_args(schema.LocusSpec):
        assert ClonotypeSpec(locus=locus).locus == locus
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(SHARING / f"{x}.csv.gz", sample=x) for x in ("lt6", "lb6")])
    )
    for metric in get_args(schema.OverlapMetric):
        assert tt.tl.overlap(counts, metric=metric).shape == (2, 2)
