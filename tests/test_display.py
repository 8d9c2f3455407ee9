"""One rendering per result (issue 13): the readable tables come from the library, labelled in
the data's unit; the command line prints them and the report escapes the same cells."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- Columns: the plain table the command line prints without pandas ---------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_TEXT, min_size=1, max_size=4, unique=True),
    st.lists(st.lists(_TEXT, min_size=4, max_size=4), min_size=1, max_size=4),
    st.sampled_from(["sample", "rank", "s"]),
)
def test_columns_print_as_pandas_prints_the_same_strings(names, rows, index_name):
    from tcrtrack._display import Columns

    # distinct sample names, not starting with a blank (pandas would strip a blank that every
    # label starts with)
    index = tuple(f"s{i}{r[0]}" for i, r in enumerate(rows))
    columns = {name: [r[j] for r in rows] for j, name in enumerate(names)}
    table = Columns(index, columns, index_name)
    assert table.to_string() == table.to_pandas().to_string()


_FLOATS = st.one_of(
    st.floats(0, 1, allow_nan=False),
    st.floats(1e-16, 1e-9),
    st.just(float("nan")),
    st.sampled_from([0.0, 1.0, 0.5, 5e-11, 4.9999e-11, 1 / 3, 0.12345678905, 0.99999999995]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**12), _FLOATS, _FLOATS, _TEXT.filter(bool)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["\t", ","]),
)
def test_columns_write_tsv_csv_and_json_as_pandas_writes_them(rows, sep):
    import json

    from tcrtrack._display import Columns

    table = Columns(
        tuple(f"{r[3]}{i}" for i, r in enumerate(rows)),
        {
            "n_shared": np.array([r[0] for r in rows], dtype=np.int64),
            "frac_clonotypes_shared": np.array([r[1] for r in rows]),
            "frac_clonotypes_shared_low": np.array([r[2] for r in rows]),
        },
    )
    frame = table.to_pandas()
    assert table.to_csv(sep) == frame.to_csv(sep=sep, lineterminator="\n")
    assert table.records() == json.loads(frame.reset_index().to_json(orient="records"))


def test_sharing_columns_are_the_sharing_table():
    files = [SHARING / f"{x}.csv.gz" for x in ("lt6", "lb6")]
    counts = tt.tl.clonotypes(tt.io.read_each(files))
    result = tt.tl.sharing(counts, reference="lt6")
    frame = result.table
    assert list(frame.index) == list(result.data.index) == ["lb6"]
    assert frame.index.name == "sample"
    for name, values in result.data.columns.items():
        expected = frame[name]
        if name.startswith("frac_"):
            assert str(expected.dtype) == "Float64"
            np.testing.assert_array_equal(expected.to_numpy(dtype=float, na_value=np.nan), values)
        else:
            assert str(expected.dtype) == "int64"
            assert expected.tolist() == list(values)
    shown = result.display_columns()
    for key, frame in result.display_tables().items():
        assert shown[key].to_string() == frame.to_string()
