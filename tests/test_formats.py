"""VDJtools / MiTCR tables, Cell Ranger ``clonotypes.csv`` and minimal AIRR tables.

The files in tests/data/formats were written from real public data by make_formats.py there
(sources: ``bulk/TRB-Pt-1-8_S150.clones.txt.gz`` and ``10x/nsclc_lb6.csv.gz``, both also in
tests/data). Every count is checked against a naive count of the written file (tests/naive.py)
and, where the two carry the same clones, against the source read by its own reader.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_10x_counts, naive_clonotypes_csv, naive_vdjtools

DATA = Path(__file__).parent / "data"
FORMATS = DATA / "formats"
VDJTOOLS = FORMATS / "vdjtools_Pt-1-8.txt"
MITCR = FORMATS / "mitcr_Pt-1-8_top200.txt"
CLONOTYPES = FORMATS / "lb6_clonotypes.csv.gz"
AIRR_BULK = FORMATS / "airr_minimal_bulk_Pt-1-8.tsv"
AIRR_CELLS = FORMATS / "airr_minimal_cells_lb6.tsv.gz"
MIXCR = DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz"
LB6 = DATA / "10x" / "nsclc_lb6.csv.gz"


def counts_of(counts: tt.tl.CloneCounts, sample: str) -> dict[str, int]:
    """Clonotype -> count of one sample."""
    long = counts.to_frame(layout="long")
    part = long[long["sample"] == sample]
    return dict(zip(part["clonotype"].astype(str), part["count"].astype(int), strict=True))


@pytest.mark.parametrize(
    "path, fmt",
    [
        (VDJTOOLS, "vdjtools"),
        (MITCR, "vdjtools"),
        (CLONOTYPES, "10x-clonotypes"),
        (AIRR_BULK, "airr"),
        (AIRR_CELLS, "airr"),
    ],
    ids=["vdjtools", "mitcr", "clonotypes_csv", "airr_minimal_bulk", "airr_minimal_cells"],
)
def test_detected(path, fmt):
    assert tt.io.detect(path).name == fmt


# VDJtools / MiTCR


@pytest.mark.parametrize("path", [VDJTOOLS, MITCR], ids=["vdjtools", "mitcr"])
def test_vdjtools_counts_equal_naive(path):
    rows = pd.read_csv(path, sep="\t")
    contigs = tt.io.read(path, sample="v")
    assert len(contigs) == len(rows)
    assert tt.qc(contigs).count("v", action="read") == len(rows)
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "reads"
    counts = tt.tl.clonotypes(contigs)
    assert counts.unit == "reads"
    want = naive_vdjtools(path)
    assert counts_of(counts, "v") == want
    non_productive = len(rows) - int(contigs["productive"].sum())
    assert tt.qc(counts).count("v", reason="non_productive") == non_productive
    assert len(want) == 585 if path == VDJTOOLS else len(want) == 166


def test_vdjtools_equals_its_mixcr_source():
    """Two loaders of the same clones (the VDJtools table was written from the MiXCR export)."""
    a = tt.tl.clonotypes(tt.io.read(VDJTOOLS, sample="s"))
    b = tt.tl.clonotypes(tt.io.read(MIXCR, sample="s"))
    assert counts_of(a, "s") == counts_of(b, "s")
    va = tt.io.read(VDJTOOLS, sample="s").set_index("junction")["v_call"].astype(str)
    vb = tt.io.read(MIXCR, sample="s").set_index("junction")["v_call"].astype(str)
    assert va.sort_index().tolist() == vb.sort_index().tolist()


def test_vdjtools_unit_declared():
    contigs = tt.io.read_vdjtools(MITCR, unit="umis")
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "umis"


def test_vdjtools_dots_are_missing_genes(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text(
        "count\tfreq\tcdr3nt\tcdr3aa\tv\td\tj\textra\n"
        "5\t0.5\tTGTGCCAGCAGTTTC\tCASSF\tTRBV9\t.\tTRBJ2-7\tx\n"
        "5\t0.5\tTGTGCCAGCAGTTTCTTT\tCASS~F\t.\t.\t.\ty\n"
    )
    contigs = tt.io.read(path, sample="s")
    assert contigs["d_call"].isna().all()
    assert contigs["v_call"].isna().tolist() == [False, True]
    assert contigs["productive"].tolist() == [True, False]
    assert contigs["locus"].astype(str).tolist() == ["TRB", "TRB"]  # the file's commonest


# 10x clonotypes.csv


@pytest.mark.parametrize("multichain", ["primary", "all", "drop"])
def test_clonotypes_csv_equals_naive(multichain):
    naive = naive_clonotypes_csv(CLONOTYPES, multichain)
    contigs = tt.io.read(CLONOTYPES, sample="c")
    assert len(contigs) == naive["ledger"]["contigs"] == 6680
    assert contigs["cell_id"].nunique() == naive["ledger"]["cells"] == 3891
    assert tt.qc(contigs).count("c", action="read") == 6680
    spec = tt.tl.ClonotypeSpec(multichain=multichain)
    counts = tt.tl.clonotypes(contigs, spec)
    assert counts.unit == "cells"
    assert counts_of(counts, "c") == naive["counts"]
    ledger = tt.qc(counts)
    assert ledger.count("c", reason="other_locus") == naive["ledger"]["other_locus"]
    assert ledger.count("c", reason="extra_chain") == naive["ledger"]["extra_chain"]
    assert (
        ledger.count("c", reason="cell_without_locus_chain", counted="cells")
        == naive["ledger"]["cell_without_locus_chain"]
    )
    assert (
        ledger.count("c", reason="cell_with_extra_chains", counted="cells")
        == naive["ledger"]["cell_with_extra_chains"]
    )


def test_clonotypes_csv_figures():
    """The figures of the written file, pinned (3,720 TRB clonotypes under ``primary``)."""
    naive = naive_clonotypes_csv(CLONOTYPES, "primary")
    rows = pd.read_csv(CLONOTYPES)
    assert len(rows) == 3835
    assert int((rows["cdr3s_nt"].str.count("TRB:") >= 2).sum()) == 247
    assert len(naive["counts"]) == 3720
    assert naive["ledger"]["extra_chain"] == 265
    assert naive_clonotypes_csv(CLONOTYPES, "drop")["ledger"]["cell_with_extra_chains"] == 247


def test_clonotypes_csv_paired_definition():
    """TRA+TRB pairs the primary (largest) TRA and TRB of each clonotype's cells; clonotypes
    without one of the two loci are left out."""
    contigs = tt.io.read(CLONOTYPES, sample="c")
    counts = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(locus="TRA+TRB"))
    want: dict[str, int] = {}
    for _, row in pd.read_csv(CLONOTYPES).iterrows():
        chains = [c.split(":", 1) for c in row["cdr3s_nt"].split(";")]
        tra = [seq for locus, seq in chains if locus == "TRA"]
        trb = [seq for locus, seq in chains if locus == "TRB"]
        if tra and trb:
            key = f"{max(tra)}+{max(trb)}"
            want[key] = want.get(key, 0) + int(row["frequency"])
    assert counts_of(counts, "c") == want
    assert sum(want.values()) == 2423


# minimal AIRR


def test_minimal_bulk_airr_equals_mixcr_source():
    contigs = tt.io.read(AIRR_BULK, sample="s")
    ledger = tt.qc(contigs)
    assert ledger.count("s", reason="locus_inferred_from_genes") == len(contigs)
    assert ledger.count("s", reason="productive_inferred") == len(contigs)
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "templates"
    a = tt.tl.clonotypes(contigs)
    b = tt.tl.clonotypes(tt.io.read(MIXCR, sample="s"))
    assert counts_of(a, "s") == counts_of(b, "s")
    raw = pd.read_csv(AIRR_BULK, sep="\t")
    assert int(contigs["productive"].sum()) == int(
        (
            ~raw["junction_aa"].str.contains(r"[*_]")
            & (raw["junction"].str.len() == 3 * raw["junction_aa"].str.len())
        ).sum()
    )


def test_minimal_bulk_airr_unit_declared():
    assert tt.io.read_airr(AIRR_BULK, unit="reads").attrs[tt.schema.ATTRS_UNIT] == "reads"


@pytest.mark.parametrize(
    "field, unit", [("umi_count", "umis"), ("consensus_count", "reads")], ids=["umis", "reads"]
)
def test_minimal_bulk_airr_count_field_gives_unit(field, unit, tmp_path):
    path = tmp_path / "b.tsv"
    path.write_text(AIRR_BULK.read_text().replace("duplicate_count", field, 1))
    contigs = tt.io.read(path, sample="b")
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == unit
    raw = pd.read_csv(AIRR_BULK, sep="\t")
    assert contigs["duplicate_count"].tolist() == raw["duplicate_count"].tolist()
    assert tt.qc(contigs).count("b", reason="count_from_other_field") == len(raw)


def test_minimal_bulk_airr_without_count(tmp_path):
    raw = pd.read_csv(AIRR_BULK, sep="\t").drop(columns=["duplicate_count"])
    path = tmp_path / "nocount.tsv"
    raw.to_csv(path, sep="\t", index=False)
    contigs = tt.io.read(path, sample="n")
    assert tt.qc(contigs).count("n", reason="count_missing") == len(raw)
    counts = tt.tl.clonotypes(contigs)
    assert counts.matrix.sum() == int(contigs["productive"].sum())


def test_minimal_cell_airr_equals_10x_source():
    """One row per contig with cell_id: the same clonotypes as the Cell Ranger file."""
    contigs = tt.io.read(AIRR_CELLS, sample="lb6")
    assert contigs.attrs[tt.schema.ATTRS_UNIT] == "cells"
    counts = tt.tl.clonotypes(contigs)
    want = {k[0]: n for k, n in naive_10x_counts(LB6).items()}
    assert counts_of(counts, "lb6") == want
    assert counts_of(tt.tl.clonotypes(tt.io.read(LB6, sample="lb6")), "lb6") == want
