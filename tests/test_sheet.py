"""Sample sheets: validation with line numbers, per-patient loading, --samples in the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_immunoseq
from tcrtrack.cli import main
from tcrtrack.errors import FormatError, UnitError

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "bmt_sheet.tsv"
BULK = Path(__file__).parent / "data" / "bulk"
PAIRED = Path(__file__).parent / "data" / "paired"
HEADER = "patient\tsample\ttimepoint\tpath\treference\tformat\n"


@pytest.fixture
def folder(tmp_path):
    shutil.copy(BULK / "TRB_Unsorted_0.tsv", tmp_path / "d0.tsv")
    shutil.copy(BULK / "twin_immunoseq_v2.tsv", tmp_path / "twin.tsv")
    shutil.copy(PAIRED / "UV019_a_Aqueous.csv", tmp_path / "uv019.csv")
    shutil.copy(PAIRED / "UV027_a_Aqueous.csv", tmp_path / "uv027.csv")
    return tmp_path


def write(folder: Path, body: str, name: str = "sheet.tsv") -> Path:
    path = folder / name
    path.write_text(HEADER + body)
    return path


def test_read_and_load(folder):
    sheet = tt.io.read_sheet(
        write(
            folder,
            "P1\td0\t0\td0.tsv\ttrue\t\n"
            "P1\ttwin\t30\ttwin.tsv\t\timmunoseq-v2\n"
            "P2\tuv19\t0\tuv019.csv\tyes\t\n"
            "P2\tuv27\t7\tuv027.csv\tno\tpaired\n",
        )
    )
    assert sheet.patients == ["P1", "P2"]
    assert sheet.reference("P1") == "d0" and sheet.reference("P2") == "uv19"
    assert sheet.samples("P2") == ["uv19", "uv27"]
    assert sheet.timepoints("P1").to_dict() == {"d0": 0.0, "twin": 30.0}
    assert sheet.table["line"].tolist() == [2, 3, 4, 5]
    p1 = sheet.load("P1")
    direct = tt.pp.concat(
        [tt.io.read(folder / "d0.tsv", sample="d0"), tt.io.read(folder / "twin.tsv", sample="twin")]
    )
    pd.testing.assert_frame_equal(p1, direct)
    p2 = sheet.load("P2")
    assert set(p2["sample"]) == {"uv19", "uv27"}
    assert len(p2) == 2 * (
        len(pd.read_csv(folder / "uv019.csv")) + len(pd.read_csv(folder / "uv027.csv"))
    )
    with pytest.raises(KeyError, match="no patient 'P3' in the sheet; patients: P1, P2"):
        sheet.load("P3")


def test_comments_and_csv(folder):
    path = folder / "sheet.csv"
    path.write_text("# a comment\npatient,sample,timepoint,path\n\nP1,d0,0,d0.tsv\n")
    sheet = tt.io.read_sheet(path)
    assert sheet.table["line"].tolist() == [4]
    assert sheet.reference("P1") is None


@pytest.mark.parametrize(
    "body, message",
    [
        ("P1\td0\t0\tmissing.tsv\ttrue\t\n", r"line 2: file 'missing.tsv' not found"),
        (
            "P1\td0\t0\td0.tsv\ttrue\t\nP1\ttwin\t1\ttwin.tsv\ttrue\t\n",
            r"lines 2, 3: patient 'P1' has 2 references \(d0, twin\); mark one",
        ),
        (
            "P1\td0\t0\td0.tsv\t\tadaptive\n",
            r"line 2: unknown format 'adaptive'; known formats: 10x",
        ),
        (
            "P1\td0\t0\td0.tsv\t\t\nP2\td0\t0\ttwin.tsv\t\t\n",
            r"lines 2, 3: sample 'd0' named twice",
        ),
        ("P1\td0\t0\td0.tsv\tmaybe\t\n", r"line 2: reference 'maybe' is not a yes/no value"),
        ("P1\t\t0\td0.tsv\t\t\n", r"line 2: empty 'sample'"),
        ("P1\td0\t0\n", r"line 2: 3 field\(s\) where the header has 6"),
    ],
    ids=[
        "missing-file",
        "two-references",
        "unknown-format",
        "duplicate-sample",
        "bad-reference",
        "empty-sample",
        "short-row",
    ],
)
def test_invalid_sheet(folder, body, message):
    with pytest.raises(FormatError, match=r"sheet.tsv: invalid sample sheet: .*" + message):
        tt.io.read_sheet(write(folder, body))


def test_all_problems_reported_together(folder):
    body = "P1\td0\t0\tnope.tsv\ttrue\t\nP1\td1\t0\td0.tsv\ttrue\tfoo\n"
    with pytest.raises(FormatError) as info:
        tt.io.read_sheet(write(folder, body))
    text = str(info.value)
    assert "line 2: file 'nope.tsv' not found" in text
    assert "line 3: unknown format 'foo'" in text
    assert "lines 2, 3: patient 'P1' has 2 references" in text


def test_missing_column(folder):
    path = folder / "s.tsv"
    path.write_text("patient\tsample\tpath\nP1\td0\td0.tsv\n")
    with pytest.raises(
        FormatError, match=r"s.tsv, line 1: the sample sheet lacks column\(s\) timepoint"
    ):
        tt.io.read_sheet(path)


def test_duplicated_column_is_refused(folder):
    # two path columns (a spreadsheet paste): which one holds the file cannot be known
    path = folder / "s.tsv"
    path.write_text("patient\tsample\ttimepoint\tpath\tPath\nP1\td0\t0\td0.tsv\tx.tsv\n")
    with pytest.raises(
        FormatError, match=r"s.tsv: column 'path' occurs twice in the header \(columns 4 and 5\)"
    ):
        tt.io.read_sheet(path)


def test_mixed_units_are_kept_per_sample_then_declared(folder):
    shutil.copy(BULK / "TRB_Unsorted_32.tsv", folder / "d32.tsv")
    sheet = tt.io.read_sheet(write(folder, "P1\td0\t0\td0.tsv\ttrue\t\nP1\td32\t32\td32.tsv\t\t\n"))
    loaded = sheet.load("P1")
    assert loaded.attrs[tt.schema.ATTRS_UNITS] == {"d0": "templates", "d32": "reads"}
    counts = tt.tl.clonotypes(loaded)
    assert counts.units == ("templates", "reads")
    with pytest.raises(UnitError, match=r"templates: 'd0' \(\S+d0.tsv\); reads: 'd32'"):
        tt.tl.track(counts)
    path = folder / "units.tsv"
    path.write_text(
        "patient\tsample\ttimepoint\tpath\tunit\nP1\td0\t0\td0.tsv\treads\nP1\td32\t32\td32.tsv\treads\n"
    )
    loaded = tt.io.read_sheet(path).load("P1")
    assert loaded.attrs[tt.schema.ATTRS_UNIT] == "reads"


def naive_bmt_clonotypes(path: Path) -> set[str]:
    """Productive junctions of an immunoSEQ v2 file, cut by hand."""
    raw = pd.read_csv(path, sep="\t")
    prod = raw[raw["sequenceStatus"] == "In"]
    return {
        nt[v : v + 3 * len(aa)]
        for nt, v, aa in zip(prod["nucleotide"], prod["vIndex"], prod["aminoAcid"], strict=True)
    }


def test_example_sheet_share_cli(capsys):
    """The transplant series runs by sample sheet; numbers equal a hand count of the files."""
    assert main(["share", "--samples", str(EXAMPLE), "-f", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [p["patient"] for p in payload["patients"]] == ["BMT1"]
    block = payload["patients"][0]
    assert block["reference"] == "TRB_Unsorted_0" and block["unit"] == "reads"
    rows = {r["sample"]: r for r in block["rows"]}
    sheet = tt.io.read_sheet(EXAMPLE)
    assert set(rows) == set(sheet.samples("BMT1")) - {"TRB_Unsorted_0"}
    paths = dict(zip(sheet.table["sample"], sheet.table["path"], strict=True))
    ref = naive_bmt_clonotypes(Path(paths["TRB_Unsorted_0"]))
    for name, row in rows.items():
        mine = naive_bmt_clonotypes(Path(paths[name]))
        assert row["n_clonotypes"] == len(mine), name
        assert row["n_shared"] == len(mine & ref), name


def test_inspect_cli_by_sheet(folder, capsys):
    path = write(folder, "P1\td0\t0\td0.tsv\ttrue\t\nP2\tuv19\t0\tuv019.csv\t\t\n")
    assert main(["inspect", "--samples", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== Patient P1 ==")
    assert "\n== Patient P2 ==\n" in out
    assert main(["inspect", "--samples", str(path), "-f", "tsv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert table[["patient", "sample"]].values.tolist() == [["P1", "d0"], ["P2", "uv19"]]
    assert table["qc_read"].tolist() == [1000, 2 * 205]


def test_cli_sheet_errors(folder, capsys):
    bad = write(folder, "P1\td0\t0\tmissing.tsv\t\t\n")
    assert main(["inspect", "--samples", str(bad)]) == 1
    assert "line 2: file 'missing.tsv' not found" in capsys.readouterr().err
    good = write(folder, "P1\td0\t0\td0.tsv\t\t\n", name="good.tsv")
    assert main(["inspect", str(folder / "d0.tsv"), "--samples", str(good)]) == 2
    assert "either FILE arguments or --samples" in capsys.readouterr().err
    assert main(["share", "--samples", str(good)]) == 2
    assert "have no reference row" in capsys.readouterr().err


def test_time_order(folder):
    path = folder / "t.tsv"
    path.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        "P1\tlate\t100\td0.tsv\t\nP1\tinf\t0\td0.tsv\tx\nP1\tearly\t9\td0.tsv\t\n"
    )
    sheet = tt.io.read_sheet(path)
    # one order everywhere: the reference first, then by numeric time point
    assert sheet.samples("P1") == ["inf", "early", "late"]
    assert sheet.samples("P1", order="sheet") == ["inf", "late", "early"]
    by_rows = tt.io.read_sheet(path, order="sheet")
    assert by_rows.samples("P1") == ["inf", "late", "early"]


def test_numeric_time_points_order_numerically_not_as_text(folder):
    # '-7' < '0' < '28' < '182' numerically; as text '182' < '28' and '-7' first anyway
    path = folder / "t.tsv"
    path.write_text(
        "patient\tsample\ttimepoint\tpath\treference\tbaseline\ttimepoint_unit\n"
        "P1\tm6\t182\td0.tsv\t\t\tdays\n"
        "P1\tinf\t0\td0.tsv\tyes\t\tdays\n"
        "P1\tw4\t28\td0.tsv\t\t\tdays\n"
        "P1\tpre\t-7\td0.tsv\t\tyes\tdays\n"
    )
    sheet = tt.io.read_sheet(path)
    assert sheet.samples("P1") == ["inf", "pre", "w4", "m6"]
    assert sheet.baseline("P1") == "pre"
    assert sheet.reference("P1") == "inf"
    assert sheet.later("P1") == ["w4", "m6"]
    assert sheet.timepoint_unit("P1") == "days"
    assert sheet.timepoint_labels("P1") == {"m6": "182", "inf": "0", "w4": "28", "pre": "-7"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "P1\tinf\t0\td0.tsv\tyes\t\nP1\tb1\t-7\td0.tsv\t\tyes\nP1\tb2\t-3\td0.tsv\t\tyes\n",
            r"lines 3, 4: patient 'P1' has 2 baselines \(b1, b2\); mark one",
        ),
        (
            "P1\tinf\t0\td0.tsv\tyes\tyes\n",
            r"line 2: sample 'inf' is marked both reference and baseline",
        ),
        (
            "P1\tinf\t0\td0.tsv\tyes\t\nP1\tw4\t4W\td0.tsv\t\t\n",
            r"line 3: time point '4W' is not a number; .*--sheet-order",
        ),
        (
            "P1\tinf\t0\td0.tsv\tyes\t\nP1\tw4\t28\td0.tsv\t\tmaybe\n",
            r"line 3: baseline 'maybe' is not a yes/no value",
        ),
    ],
    ids=["two-baselines", "baseline-is-reference", "text-timepoint", "bad-baseline-flag"],
)
def test_bad_roles_and_time_points_name_sheet_and_line(folder, rows, message):
    path = folder / "bad.tsv"
    path.write_text("patient\tsample\ttimepoint\tpath\treference\tbaseline\n" + rows)
    with pytest.raises(FormatError, match=message) as err:
        tt.io.read_sheet(path)
    assert str(path) in str(err.value)


def test_text_time_points_allowed_in_sheet_order(folder):
    path = folder / "t.tsv"
    path.write_text(
        "patient\tsample\ttimepoint\tpath\treference\n"
        "P1\tinf\tproduct\td0.tsv\tyes\nP1\tw4\t4W\td0.tsv\t\nP1\tfu1\tFU1\td0.tsv\t\n"
    )
    sheet = tt.io.read_sheet(path, order="sheet")
    assert sheet.samples("P1") == ["inf", "w4", "fu1"]
    assert sheet.timepoint_labels("P1") == {"inf": "product", "w4": "4W", "fu1": "FU1"}


def test_share_by_sheet_per_patient_files(folder, capsys):
    shutil.copy(BULK / "TRB_Unsorted_0.tsv", folder / "d0b.tsv")
    path = write(
        folder,
        "P1\td0\t0\td0.tsv\ttrue\t\nP1\ttwin\t30\ttwin.tsv\t\t\n"
        "P2\tuv19\t0\tuv019.csv\ttrue\t\nP2\tuv27\t7\tuv027.csv\t\t\n",
    )
    shared = folder / "shared.tsv"
    code = main(
        [
            "share",
            "--samples",
            str(path),
            "-f",
            "tsv",
            "--shared-clonotypes",
            str(shared),
            "--venn",
            str(folder / "venn.png"),
        ]
    )
    assert code == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    assert table[["patient", "sample", "n_shared"]].values.tolist() == [
        ["P1", "twin", 1],
        [
            "P2",
            "uv27",
            len(
                set(pd.read_csv(folder / "uv019.csv")["TCRB_cdr3nt"])
                & set(pd.read_csv(folder / "uv027.csv")["TCRB_cdr3nt"])
            ),
        ],
    ]
    for patient in ("P1", "P2"):
        assert (folder / f"shared_{patient}.tsv").exists()
        assert (folder / f"venn_{patient}.png").stat().st_size > 0
    p1 = pd.read_csv(folder / "shared_P1.tsv", sep="\t")
    assert p1["clonotype"].tolist() == ["TGTGCCAGCAGCCCCGTGAGCAATGAGCAGTTCTTC"]


def test_example_sheet_track_cli(tmp_path, capsys):
    """The transplant series runs through `tcrtrack track` by sample sheet, every count equal
    to a hand count of the files, samples in time order."""
    out = tmp_path / "track.tsv"
    plot = tmp_path / "clones.png"
    args = ["track", "--samples", str(EXAMPLE), "--top", "0", "-f", "tsv", "-o", str(out)]
    assert main([*args, "--plot", str(plot)]) == 0
    table = pd.read_csv(out, sep="\t")
    assert set(table["patient"]) == {"BMT1"}
    sheet = tt.io.read_sheet(EXAMPLE)
    order = [c.removeprefix("count_") for c in table.columns if c.startswith("count_")]
    assert order == [
        "TRB_Unsorted_0", "TRB_Unsorted_32", "TRB_Unsorted_83", "TRB_CD8_CMV_369",
        "TRB_Unsorted_369", "TRB_CD4_949", "TRB_CD8_949", "TRB_Unsorted_949",
        "TRB_Unsorted_1320", "TRB_Unsorted_1496",
    ]  # fmt: skip
    paths = dict(zip(sheet.table["sample"], sheet.table["path"], strict=True))
    all_junctions: set[str] = set()
    for sample in order:
        want = naive_immunoseq(Path(paths[sample]))
        all_junctions |= set(want)
        got = table.set_index("junction")[f"count_{sample}"]
        got = got[got > 0]
        assert got.to_dict() == want, sample
    assert set(table["junction"]) == all_junctions
    assert (tmp_path / "clones_BMT1.png").stat().st_size > 0


def test_example_sheet_overlap_cli(capsys):
    assert main(["overlap", "--samples", str(EXAMPLE), "-f", "tsv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t")
    matrix = table.drop(columns="patient").set_index("sample")
    sheet = tt.io.read_sheet(EXAMPLE)
    paths = dict(zip(sheet.table["sample"], sheet.table["path"], strict=True))
    a = set(naive_immunoseq(Path(paths["TRB_Unsorted_1320"])))
    b = set(naive_immunoseq(Path(paths["TRB_Unsorted_1496"])))
    jaccard = len(a & b) / len(a | b)
    assert matrix.loc["TRB_Unsorted_1320", "TRB_Unsorted_1496"] == pytest.approx(jaccard)


def test_names_with_sheet_is_a_usage_error(folder, capsys):
    good = write(folder, "P1\td0\t0\td0.tsv\ttrue\t\n")
    assert main(["inspect", "--samples", str(good), "-n", "x"]) == 2
    assert "-n/--name does not apply with --samples" in capsys.readouterr().err
