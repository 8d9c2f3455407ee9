"""Samples counted in different units (issue 14, item 8).

Presence-level results (clonotype counts, sharing, Venn and UpSet, set overlap indices) work
across templates and reads, reads and UMIs, single-cell and bulk samples; each sample's
count-weighted numbers are in its own unit, labelled. Only the analyses that compare counts
across samples (per-clone tests, rarefaction to a common depth, count-weighted overlap,
limits of detection) refuse, naming the files and units and the fix. Every number is checked
against a naive count of the files (tests/naive.py).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

import tcrtrack as tt
from naive import naive_10x, naive_immunoseq, naive_mixcr
from tcrtrack.cli import main
from tcrtrack.errors import ParameterError, UnitError

ROOT = Path(__file__).resolve().parents[1]
BMT = ROOT / "examples" / "data" / "bmt"
UNITS = ROOT / "tests" / "data" / "units"
LB6 = ROOT / "tests" / "data" / "sharing" / "lb6.csv.gz"
READS = UNITS / "ln6_mixcr_reads.tsv.gz"
UMIS = UNITS / "lt6_mixcr_umis.tsv.gz"
D83 = BMT / "TRB_Unsorted_83.tsv.gz"  # reads
D949 = BMT / "TRB_Unsorted_949.tsv.gz"  # templates

#: The unit of each file of the immunoSEQ series, as its export says (immunoSEQ v2).
SERIES_UNITS = {
    "TRB_CD4_949": "templates",
    "TRB_CD8_949": "templates",
    "TRB_CD8_CMV_369": "templates",
    "TRB_Unsorted_0": "templates",
    "TRB_Unsorted_32": "reads",
    "TRB_Unsorted_83": "reads",
    "TRB_Unsorted_369": "reads",
    "TRB_Unsorted_949": "templates",
    "TRB_Unsorted_1320": "templates",
    "TRB_Unsorted_1496": "templates",
}


def _counts(paths: list[Path], names: list[str], **kwargs: object) -> tt.tl.CloneCounts:
    tables = tt.io.read_each(paths, samples=names)
    return tt.tl.clonotypes(tables, **kwargs)  # type: ignore[arg-type]


def _check_sharing(
    result: tt.tl.Sharing, ref: dict[str, int], samples: dict[str, dict[str, int]]
) -> None:
    """Every count of ``result`` against naive clonotype -> count maps."""
    for name, own in samples.items():
        row = result.table.loc[name]
        shared = own.keys() & ref.keys()
        assert row["n_clonotypes"] == len(own)
        assert row["n_cells"] == sum(own.values())
        assert row["n_shared"] == len(shared)
        assert row["n_cells_shared"] == sum(own[k] for k in shared)
        assert row["n_reference_clonotypes"] == len(ref)
        assert row["n_reference_cells"] == sum(ref.values())
        assert row["n_reference_cells_detected"] == sum(ref[k] for k in shared)


def test_immunoseq_series_in_templates_and_reads_shares_clonotypes():
    # previously refused: day 83 is exported in reads, day 949 in templates
    counts = _counts([D83, D949], ["d83", "d949"])
    assert counts.units == ("reads", "templates") and counts.mixed_units
    result = tt.tl.sharing(counts, reference="d83")
    assert result.table.loc["d949", "n_shared"] == 71
    assert result.units == {"d83": "reads", "d949": "templates"}
    assert result.table.loc["d949", "unit"] == "templates"
    assert result.table.loc["d949", "reference_unit"] == "reads"
    _check_sharing(result, naive_immunoseq(D83), {"d949": naive_immunoseq(D949)})


def test_the_whole_series_gives_presence_results_equal_to_naive_sets():
    names = list(SERIES_UNITS)
    counts = _counts([BMT / f"{x}.tsv.gz" for x in names], names)
    assert counts.units == tuple(SERIES_UNITS.values())
    naive = {x: naive_immunoseq(BMT / f"{x}.tsv.gz") for x in names}
    # each sample's clonotypes and total, in its own unit
    assert counts.n_clonotypes_per_sample().to_dict() == {x: len(n) for x, n in naive.items()}
    assert counts.totals().to_dict() == {x: sum(n.values()) for x, n in naive.items()}
    assert counts.summary()["unit"].to_dict() == SERIES_UNITS
    # set overlap indices
    jaccard = tt.tl.overlap(counts, metric="jaccard")
    for a, b in itertools.combinations(names, 2):
        inter = len(naive[a].keys() & naive[b].keys())
        union = len(naive[a].keys() | naive[b].keys())
        assert jaccard.loc[a, b] == pytest.approx(inter / union, abs=1e-12)
    # Venn regions of a reads, a templates and a reads sample
    trio = ["TRB_Unsorted_32", "TRB_Unsorted_949", "TRB_Unsorted_83"]
    regions = tt.tl.venn_regions(counts, trio).regions
    sets = [set(naive[x]) for x in trio]
    for key, n in regions.items():
        inside = set.intersection(*(s for s, k in zip(sets, key, strict=True) if k))
        outside = set().union(*(s for s, k in zip(sets, key, strict=True) if not k))
        assert n == len(inside - outside)
    # sharing with day 0 (templates) for every later sample
    result = tt.tl.sharing(counts, reference="TRB_Unsorted_0", ci=None)
    others = {x: naive[x] for x in names if x != "TRB_Unsorted_0"}
    _check_sharing(result, naive["TRB_Unsorted_0"], others)


def test_mixcr_reads_beside_mixcr_umis():
    counts = _counts([READS, UMIS], ["ln6", "lt6"])
    assert counts.units == ("reads", "umis")
    result = tt.tl.sharing(counts, reference="ln6")
    _check_sharing(result, naive_mixcr(READS), {"lt6": naive_mixcr(UMIS)})
    assert result.table.loc["lt6", "n_shared"] == 535


def test_single_cell_beside_bulk():
    counts = _counts([LB6, UMIS], ["lb6", "lt6"])
    assert counts.units == ("cells", "umis") and counts.single_cell == (True, False)
    assert set(counts.cells["sample"].astype(str)) == {"lb6"}
    blood, tumour = naive_10x(LB6), naive_mixcr(UMIS)
    for ref, own, name in ((blood, tumour, "lt6"), (tumour, blood, "lb6")):
        reference = "lb6" if name == "lt6" else "lt6"
        result = tt.tl.sharing(counts, reference=reference, ci=None)
        _check_sharing(result, ref, {name: own})
    # each sample's row as when it is alone
    for path, name in ((LB6, "lb6"), (UMIS, "lt6")):
        alone = _counts([path], [name])
        assert counts.totals()[name] == alone.totals()[name]
    assert tt.tl.intersections(counts)["n_clonotypes"].sum() == len(blood.keys() | tumour.keys())


def test_one_unit_is_asked_of_mixed_counts_clearly():
    counts = _counts([D83, D949], ["d83", "d949"])
    with pytest.raises(UnitError, match=r"different units \(reads: 'd83' \(\S+TRB_Unsorted_83"):
        counts.unit  # noqa: B018
    assert counts.unit_of("d949") == "templates"
    assert counts.select(["d949"]).unit == "templates"
    assert "units={'d83': 'reads', 'd949': 'templates'}" in repr(counts)
    adata = counts.to_anndata()
    assert list(adata.obs["unit"]) == ["reads", "templates"]


REFUSALS = {
    "track": lambda c: tt.tl.track(c),
    "rarefy": lambda c: tt.tl.rarefy(c, reference="d83", n=2),
    "sharing_curve": lambda c: tt.tl.sharing_curve(c, reference="d83", n=2, depths=[10]),
    "morisita_horn": lambda c: tt.tl.overlap(c, metric="morisita_horn"),
    "cosine": lambda c: tt.tl.overlap(c, metric="cosine"),
    "diversity depth": lambda c: tt.tl.diversity(c, depth="min"),
    "persist": lambda c: tt.tl.persist(c, reference="d83"),
}


@pytest.mark.parametrize("analysis", list(REFUSALS))
def test_count_comparisons_refuse_mixed_units_naming_files_and_units(analysis):
    counts = _counts([D83, D949], ["d83", "d949"])
    with pytest.raises(UnitError) as caught:
        REFUSALS[analysis](counts)
    message = str(caught.value)
    assert "reads: 'd83' (" in message and str(D83) in message
    assert "templates: 'd949' (" in message and str(D949) in message
    assert "--unit FILE=UNIT" in message


def test_count_comparisons_work_once_the_units_are_declared():
    counts = _counts([D83, D949], ["d83", "d949"], units={"d83": "templates"})
    assert counts.unit == "templates"
    assert tt.tl.track(counts).unit == "templates"
    assert tt.tl.rarefy(counts, reference="d83", n=2).unit == "templates"
    # presence-level numbers do not change with the unit
    before = tt.tl.sharing(_counts([D83, D949], ["d83", "d949"]), reference="d83", ci=None)
    after = tt.tl.sharing(counts, reference="d83", ci=None)
    assert after.table[list(before.table.columns[:-2])].equals(before.table.iloc[:, :-2])


def test_units_of_clonotypes_are_checked():
    tables = lambda: tt.io.read_each([D83, LB6], samples=["d83", "lb6"])  # noqa: E731
    with pytest.raises(ParameterError, match=r"unknown sample\(s\) 'd84'; samples are: d83, lb6"):
        tt.tl.clonotypes(tables(), units={"d84": "reads"})
    with pytest.raises(ParameterError, match=r"unknown unit 'bananas' for sample 'd83'"):
        tt.tl.clonotypes(tables(), units={"d83": "bananas"})
    with pytest.raises(
        UnitError, match=r"lb6.csv.gz: sample 'lb6' is single-cell data .* 'reads' given"
    ):
        tt.tl.clonotypes(tables(), units={"lb6": "reads"})
    assert tt.tl.clonotypes(tables(), units={"lb6": "cells"}).units == ("reads", "cells")


def test_concat_keeps_each_samples_unit():
    joined = tt.pp.concat([tt.io.read(D83, sample="d83"), tt.io.read(D949, sample="d949")])
    assert joined.attrs[tt.schema.ATTRS_UNITS] == {"d83": "reads", "d949": "templates"}
    assert tt.tl.clonotypes(joined).units == ("reads", "templates")


def test_display_labels_each_value_with_its_unit():
    counts = _counts([READS, UMIS, LB6], ["ln6", "lt6", "lb6"])
    shown = tt.tl.sharing(counts, reference="ln6", ci=None).display_tables()
    assert list(shown["samples"].columns) == [
        "clonotypes",
        "units",
        "clonotypes shared with ln6",
        "units in shared clonotypes",
    ]
    tumour = naive_mixcr(UMIS)
    assert shown["samples"].loc["lt6", "units"] == f"{sum(tumour.values()):,} umis"
    assert shown["samples"].loc["lb6", "units in shared clonotypes"].endswith("cells = 3.27%")
    assert list(shown["reference"].columns) == ["ln6 clonotypes found", "ln6 reads found"]
    # samples in one unit, the reference in another: the columns name the samples' unit
    one = tt.tl.sharing(counts, reference="ln6", samples=["lt6"], ci=None).display_tables()
    assert "umis in shared clonotypes" in one["samples"].columns


# --- the command line ---------------------------------------------------------------------


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    return lines[0]


def test_share_of_mixed_units_on_the_command_line(capsys):
    assert main(["share", str(D83), str(D949), "-n", "d83", "-n", "d949", "-f", "json"]) == 0
    block = json.loads(capsys.readouterr().out)["patients"][0]
    assert block["units"] == {"d83": "reads", "d949": "templates"} and "unit" not in block
    (row,) = block["rows"]
    assert row["n_shared"] == 71 and row["unit"] == "templates" and row["reference_unit"] == "reads"
    assert main(["share", str(D83), str(D949), "-n", "d83", "-n", "d949"]) == 0
    text = capsys.readouterr().out
    assert "Reference: d83 (" in text and " reads)." in text
    assert (
        "Units differ: each sample's counts are in its own unit (d83: reads, d949: templates)"
        in text
    )
    assert "templates in shared clonotypes" in text and "d83 reads found" in text


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("track", []),
        ("share", ["--rarefy"]),
        ("overlap", ["--metric", "morisita_horn"]),
        ("overlap", ["--metric", "cosine"]),
        ("diversity", ["--depth", "min"]),
        ("persist", []),
    ],
    ids=[
        "track",
        "share-rarefy",
        "morisita_horn",
        "cosine",
        "diversity-depth",
        "persist",
    ],
)
def test_cli_refusals_name_files_units_and_fix(capsys, command, extra):
    assert main([command, str(D83), str(D949), *extra]) == 1
    line = _one_line_error(capsys)
    assert line.startswith("tcrtrack: error: ")
    assert f"reads: 'TRB_Unsorted_83' ({D83})" in line
    assert f"templates: 'TRB_Unsorted_949' ({D949})" in line
    assert "--unit FILE=UNIT" in line


@pytest.mark.parametrize(
    "declaration",
    [f"{D83}=templates", "TRB_Unsorted_83=templates", f"{D949}=reads"],
    ids=["file", "name", "the-other-file"],
)
def test_cli_unit_declared_by_file_or_name(capsys, declaration):
    assert main(["track", str(D83), str(D949), "--unit", declaration, "-f", "json"]) == 0
    block = json.loads(capsys.readouterr().out)["patients"][0]
    assert block["unit"] in ("templates", "reads")


def test_cli_unit_by_a_relative_path(capsys, monkeypatch):
    monkeypatch.chdir(BMT)
    args = ["share", "TRB_Unsorted_83.tsv.gz", str(D949), "--rarefy", "-f", "json"]
    assert main([*args, "--unit", "./TRB_Unsorted_83.tsv.gz=templates"]) == 0
    block = json.loads(capsys.readouterr().out)["patients"][0]
    assert block["unit"] == "templates"


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("nothing.tsv=reads", "--unit 'nothing.tsv=reads' names no input file or sample"),
        ("TRB_Unsorted_83=bananas", "unknown unit 'bananas'; use one of cells, templates"),
        ("reads", "give FILE=UNIT or NAME=UNIT"),
    ],
    ids=["no-input", "unknown-unit", "no-equals"],
)
def test_cli_bad_unit_is_a_usage_error_naming_the_option(capsys, declaration, message):
    assert main(["share", str(D83), str(D949), "--unit", declaration]) == 2
    err = capsys.readouterr().err
    assert message in err and "--unit" in err and "Traceback" not in err


def test_cli_two_units_for_one_sample_are_refused(capsys):
    args = [
        "share",
        str(D83),
        str(D949),
        "--unit",
        f"{D83}=reads",
        "--unit",
        "TRB_Unsorted_83=umis",
    ]
    assert main(args) == 2
    assert "gives sample 'TRB_Unsorted_83' two units (reads, umis)" in capsys.readouterr().err


def test_cli_impossible_unit_for_a_single_cell_file(capsys):
    assert main(["share", str(LB6), str(UMIS), "--unit", f"{LB6}=reads"]) == 1
    line = _one_line_error(capsys)
    assert f"{LB6}: sample 'lb6' is single-cell data" in line
    assert "'reads' given for it (units=/--unit)" in line and "leave the unit out" in line


def test_cli_single_cell_beside_bulk(capsys):
    assert main(["share", str(UMIS), str(LB6), "-f", "json", "--ci", "0"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["patients"][0]["rows"]
    blood, tumour = naive_10x(LB6), naive_mixcr(UMIS)
    assert row["n_shared"] == len(blood.keys() & tumour.keys())
    assert (row["unit"], row["reference_unit"]) == ("cells", "umis")
    assert row["n_cells"] == sum(blood.values())


def _sheet(folder: Path, unit83: str = "", unit949: str = "") -> Path:
    sheet = folder / f"sheet_{unit83}_{unit949}.tsv"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\treference\tunit\n"
        f"P1\td83\t83\t{D83}\ttrue\t{unit83}\n"
        f"P1\td949\t949\t{D949}\t\t{unit949}\n"
    )
    return sheet


def test_sheet_unit_column_and_unit_option_agree(tmp_path, capsys):
    sheet = _sheet(tmp_path)
    assert main(["share", "--samples", str(sheet), "-f", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["patients"][0]["rows"]
    assert row["n_shared"] == 71 and row["unit"] == "templates"
    assert main(["track", "--samples", str(sheet)]) == 1
    assert "reads: 'd83' (" in _one_line_error(capsys)
    outputs = []
    for args in (
        ["--samples", str(_sheet(tmp_path, unit83="templates"))],
        ["--samples", str(_sheet(tmp_path)), "--unit", "d83=templates"],
        ["--samples", str(_sheet(tmp_path)), "--unit", f"{D83}=templates"],
    ):
        assert main(["track", *args, "-f", "json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert main(["share", "--samples", str(sheet), "--unit", "d84=reads"]) == 2
    assert "--unit 'd84=reads' names no input" in capsys.readouterr().err


def test_persist_refuses_mixcr_reads_beside_umis_in_one_line(capsys):
    """persist's limits of detection set a reference clone's frequency against each sample's
    depth: a reads export beside a UMI export is refused, naming both files and units."""
    assert main(["persist", str(READS), str(UMIS)]) == 1
    line = _one_line_error(capsys)
    assert line.startswith("tcrtrack: error: persist (limits of detection")
    assert f"reads: 'ln6_mixcr_reads' ({READS})" in line
    assert f"umis: 'lt6_mixcr_umis' ({UMIS})" in line
    assert "--unit FILE=UNIT" in line


#: The report's sections that compare counts across samples, and the analysis each names.
COUNT_SECTIONS = {
    "rarefied": "rarefaction to a common depth",
    "track": "track (per-clone tests",
    "persistence": "persist (limits of detection",
    "overlap": "the morisita_horn overlap index",
}


def _sections(html: str) -> dict[str, str]:
    import re

    found = re.findall(r'<section id="(\w+)">(.*?)</section>', html, flags=re.S)
    return dict(found)


@pytest.mark.parametrize(
    ("paths", "listing"),
    [
        (
            [D83, D949],
            [f"reads: 'TRB_Unsorted_83' ({D83})", f"templates: 'TRB_Unsorted_949' ({D949})"],
        ),
        (
            [READS, UMIS],
            [f"reads: 'ln6_mixcr_reads' ({READS})", f"umis: 'lt6_mixcr_umis' ({UMIS})"],
        ),
    ],
    ids=["immunoseq-reads-templates", "mixcr-reads-umis"],
)
def test_report_of_mixed_units_keeps_presence_and_says_what_it_omits(
    capsys, tmp_path, paths, listing
):
    """``tcrtrack report`` on samples of different units writes the page: the presence-level
    sections as for one unit, each count-weighted section replaced by why it is omitted."""
    out = tmp_path / "r.html"
    assert main(["report", *map(str, paths), "-o", str(out)]) == 0
    assert "tcrtrack: wrote" in capsys.readouterr().err
    html = out.read_text()
    sections = _sections(html)
    # presence-level: sharing (its clonotype counts against a naive count) and the Venn diagram
    naive = naive_immunoseq if paths[0] == D83 else naive_mixcr
    ref, other = naive(paths[0]), naive(paths[1])
    shared = len(ref.keys() & other.keys())
    assert f"{shared:,}/{len(other):,} = " in sections["sharing"]
    assert "Omitted" not in sections["sharing"] and "Omitted" not in sections["regions"]
    assert "Venn diagram" in sections["regions"]
    assert "Omitted" not in sections["samples"]
    for key, analysis in COUNT_SECTIONS.items():
        text = sections[key]
        assert text.startswith("<h2>") and "<b>Omitted:</b> " + analysis in text, key
        for part in listing:
            assert part.replace("'", "&#x27;") in text, (key, part)
    # each sample's own diversity is shown; the common depth is omitted
    assert "Richness" in sections["diversity"]
    assert (
        "<b>Omitted:</b> cannot subsample to a common depth: samples counted in different units"
        in sections["diversity"]
    )


@pytest.mark.parametrize("paths", [[D83, D949], [READS, UMIS]], ids=["immunoseq", "mixcr"])
def test_report_prints_one_line_per_omitted_section_on_stderr(tmp_path, paths):
    """Each section the page omits is named on stderr with its reason, one line each, in
    page order, as the commands print their warnings; stdout stays empty."""
    from click.testing import CliRunner

    from tcrtrack.cli import cli

    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", *map(str, paths), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    warned = [x for x in lines if x.startswith("tcrtrack: warning: ")]
    headings = [
        "Diversity of each sample, at a common depth",
        *(tt.report._render.SECTIONS[key] for key in COUNT_SECTIONS),
    ]
    reasons = ["cannot subsample to a common depth", *COUNT_SECTIONS.values()]
    assert len(warned) == len(headings)
    for line, heading, reason in zip(warned, headings, reasons, strict=True):
        assert line.startswith(f"tcrtrack: warning: {out}: section {heading!r} omitted: {reason}")
        assert "different units" in line and "--unit FILE=UNIT" in line
    assert len(lines) == len(warned) + 1 and lines[0] == f"tcrtrack: wrote {out}"
    # the library's report lists the same sections and reasons
    page = tt.report.build(_counts(paths, ["a", "b"]), reference="a", top=5)
    assert list(page.omitted) == headings


def test_report_of_one_unit_prints_no_warning(tmp_path):
    from click.testing import CliRunner

    from tcrtrack.cli import cli

    out = tmp_path / "r.html"
    args = ["report", str(D83), str(D949), "--unit", f"{D83}=templates", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"tcrtrack: wrote {out}\n"


def test_report_of_one_unit_omits_nothing():
    counts = _counts([D83, D949], ["d83", "d949"], units={"d83": "templates"})
    report = tt.report.build(counts, reference="d83", top=5)
    html = report.html
    assert "Omitted" not in html
    assert "Rarefied sharing" in html and "Morisita" in html
    assert report.omitted == {}


def test_single_cell_beside_bulk_counts_as_each_alone():
    """One assembly for single-cell, bulk and both: a 10x sample beside a bulk one gives each
    the counts, cells and ledger it gets alone."""

    def by_clonotype(counts: tt.tl.CloneCounts, sample: str) -> dict[str, int]:
        long = counts.to_frame(layout="long")
        part = long[long["sample"] == sample]
        return dict(zip(part["clonotype"].astype(str), part["count"].astype(int), strict=True))

    both = _counts([LB6, READS], ["lb6", "ln6"])
    cells_alone = _counts([LB6], ["lb6"])
    bulk_alone = _counts([READS], ["ln6"])
    assert by_clonotype(both, "lb6") == by_clonotype(cells_alone, "lb6")
    assert by_clonotype(both, "ln6") == by_clonotype(bulk_alone, "ln6") == naive_mixcr(READS)
    assert by_clonotype(both, "lb6") == naive_10x(LB6)
    assert both.n_cells.tolist() == [int(cells_alone.n_cells[0]), 0]
    labels = both.clonotypes["clonotype"].astype(str).to_numpy()
    own = cells_alone.clonotypes["clonotype"].astype(str).to_numpy()

    def pairs(counts: tt.tl.CloneCounts, lab: object) -> list[tuple[str, str]]:
        cells = counts.cells
        ids = cells["cell_id"].astype(str)
        return sorted(zip(ids, lab[cells["clonotype"].to_numpy()], strict=True))  # type: ignore[index]

    assert pairs(both, labels) == pairs(cells_alone, own)
    for reason in ("cell_without_locus_chain", "non_productive"):
        assert tt.qc(both).count("lb6", reason=reason) == tt.qc(cells_alone).count(
            "lb6", reason=reason
        )
