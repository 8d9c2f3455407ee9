"""Generic clone tables (immunarch tables and other exports whose columns are recognised by
name), read by ``tt.io.read_clone_table``.

The files in tests/data/clonetables were written by make_clone_tables.py there from two real
immunoSEQ v2 exports (days 83 and 949 of the BMT series, also in tests/data/stats): every count
is checked against a naive pandas count of the written file (tests/naive.py), and the
clonotypes and shared numbers against the immunoSEQ source read by its own reader.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import tcrtrack as tt
from naive import naive_clone_table
from tcrtrack.cli import cli
from tcrtrack.errors import FormatError
from tcrtrack.io import _detect, _registry

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TABLES = DATA / "clonetables"
STATS = DATA / "stats"
DAYS = ("83", "949")
#: layout -> (file name pattern, delimiter, junction, amino acids, count)
LAYOUTS = {
    "immunarch": ("immunarch_TRB_Unsorted_{}.tsv.gz", "\t", "CDR3.nt", "CDR3.aa", "Clones"),
    "vendor": (
        "vendor_TRB_Unsorted_{}.csv.gz",
        ",",
        "CDR3 nucleotide sequence",
        "CDR3 amino acid sequence",
        "Count",
    ),
}
#: The unit of each day's immunoSEQ export (the clone tables do not say it).
UNITS = {"83": "reads", "949": "templates"}


def _path(layout: str, day: str) -> Path:
    return TABLES / LAYOUTS[layout][0].format(day)


def _counts(counts: tt.tl.CloneCounts, sample: str) -> dict[str, int]:
    long = counts.to_frame(layout="long")
    part = long[long["sample"] == sample]
    return dict(zip(part["clonotype"].astype(str), part["count"].astype(int), strict=True))


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_detected_and_counts_equal_naive_pandas_count(layout, day):
    path = _path(layout, day)
    _, sep, junction, aa, count = LAYOUTS[layout]
    assert tt.io.detect(path).name == "clone-table"
    contigs = tt.io.read(path, sample="s")
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "templates"  # as AIRR duplicate_count
    counts = tt.tl.clonotypes(contigs)
    want = naive_clone_table(path, sep=sep, junction=junction, aa=aa, count=count)
    assert _counts(counts, "s") == want
    assert len(want) == {"83": 822, "949": 830}[day]
    assert tt.qc(counts).count("s", reason="non_productive") == len(contigs) - int(
        contigs["productive"].sum()
    )


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_same_clonotypes_as_the_immunoseq_source(layout, day):
    ours = tt.tl.clonotypes(tt.io.read(_path(layout, day), sample="s"))
    source = tt.tl.clonotypes(tt.io.read(STATS / f"TRB_Unsorted_{day}.tsv.gz", sample="s"))
    assert _counts(ours, "s") == _counts(source, "s")
    spec = tt.tl.ClonotypeSpec(genes="vj")
    with_genes = tt.tl.clonotypes(tt.io.read(_path(layout, day), sample="s"), spec)
    assert len(with_genes.clonotypes) > 0


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_share_gives_the_numbers_of_the_source_format(layout, tmp_path):
    """``tcrtrack share`` of the clone tables (units declared with --unit, names as the
    source's so that the sample-keyed bootstrap draws the same numbers) prints the table it
    prints for the immunoSEQ exports: days 83 and 949 share 71 clonotypes."""
    runner = CliRunner()
    names = [f"TRB_Unsorted_{day}" for day in DAYS]
    sources = [str(STATS / f"{name}.tsv.gz") for name in names]
    copies = []
    for day, name in zip(DAYS, names, strict=True):
        suffix = "".join(_path(layout, day).suffixes)
        copy = tmp_path / f"{name}{suffix}"
        shutil.copy(_path(layout, day), copy)
        copies.append(str(copy))
    units = [f"--unit={c}={UNITS[d]}" for c, d in zip(copies, DAYS, strict=True)]
    want = runner.invoke(cli, ["share", *sources, "--format", "tsv"])
    got = runner.invoke(cli, ["share", *copies, *units, "--format", "tsv"])
    assert want.exit_code == 0, want.output
    assert got.exit_code == 0, got.output
    assert got.output == want.output
    assert "\t71\t" in got.output


def test_every_other_fixture_keeps_its_format(monkeypatch):
    """Detection of the clone table never takes a file another format reads: every table in
    tests/data and examples/data is detected (or refused) as it is without the clone table."""
    files = [
        p
        for folder in (DATA, ROOT / "examples" / "data")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and any(s in p.suffixes for s in (".csv", ".tsv", ".txt"))
        and p.parent != TABLES
        and "golden" not in p.name
    ]
    assert len(files) > 30

    def outcome(path: Path) -> str:
        try:
            return tt.io.detect(path).name
        except FormatError:
            return "refused"

    with_table = {p: outcome(p) for p in files}
    without = tuple(f for f in _registry.formats() if f.name != "clone-table")
    monkeypatch.setattr(_detect, "formats", lambda: without)
    assert {p: outcome(p) for p in files} == with_table
    assert "clone-table" not in with_table.values()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_names_compared_without_case_genes_and_locus(tmp_path):
    path = _write(
        tmp_path,
        "tcr.csv",
        "read.count,cdr3.nucleotide.sequence,CDR3.amino.acid.sequence,V.gene,J.gene\n"
        "5,TGTGCCAGCAGTTTC,CASSF,TRBV9*01,TRBJ2-7\n"
        "3,TGTGCTGTGAGAGACTTC,CAVRDF,TRAV1-2,.\n",
    )
    contigs = tt.io.read(path, sample="s")
    assert contigs["locus"].astype(str).tolist() == ["TRB", "TRA"]
    assert contigs["v_call"].astype(str).tolist() == ["TRBV9*01", "TRAV1-2"]
    assert contigs["j_call"].isna().tolist() == [False, True]
    assert contigs["duplicate_count"].tolist() == [5, 3]


def test_without_amino_acids_the_junction_is_translated(tmp_path):
    path = _write(
        tmp_path,
        "nt_only.tsv",
        "Clones\tCDR3.nt\n5\tTGTGCCAGCAGTTTC\n2\tTGTGCCTAGAGTTTC\n4\tTGTGCCAGCAGTTTCA\n",
    )
    contigs = tt.io.read(path, sample="s")
    assert contigs["junction_aa"].astype(str).tolist() == ["CASSF", "CA*SF", "CASSF"]
    assert contigs["productive"].tolist() == [True, False, False]
    counts = tt.tl.clonotypes(contigs)
    assert _counts(counts, "s") == {"TGTGCCAGCAGTTTC": 5}


def test_declared_unit(tmp_path):
    path = _path("immunarch", "83")
    assert tt.io.read_clone_table(path, unit="reads").attrs[tt.schema.ATTRS_UNIT] == "reads"
    counts = tt.tl.clonotypes(tt.io.read(path, sample="s"), units={"s": "umis"})
    assert counts.unit == "umis"
