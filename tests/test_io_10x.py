"""Cell Ranger readers against an independent, naive count of the same files."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError

DATA = Path(__file__).parent / "data" / "10x"
REAL_10X = [
    "v3_filtered_contig_annotations_small.csv",
    "v6_all_contig_annotations_small.csv",
    "ards_P19B.csv.gz",
    "ards_P19L.csv",
    "nsclc_lb6.csv.gz",
    "covid_C146_filtered_contig_annotations.csv.gz",
]
NA_STRINGS = {"", "None"}
TRUE_STRINGS = {"True", "TRUE", "true"}


def naive_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dictionaries of strings, with the csv module."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


def naive_counts(path: Path) -> dict[str, object]:
    """Cells, contigs per locus and productive contigs counted with plain Python."""
    rows = naive_rows(path)
    loci: dict[str, int] = {}
    for r in rows:
        key = "NA" if r["chain"] in NA_STRINGS else r["chain"]
        loci[key] = loci.get(key, 0) + 1
    return {
        "contigs": len(rows),
        "barcodes": len({r["barcode"] for r in rows}),
        "cells": len({r["barcode"] for r in rows if r["is_cell"] in TRUE_STRINGS}),
        "loci": loci,
        "productive": sum(r["productive"] in TRUE_STRINGS for r in rows),
        "trb_per_cell": _per_cell(rows, "TRB"),
    }


def _per_cell(rows: list[dict[str, str]], locus: str) -> dict[str, int]:
    cells = {r["barcode"] for r in rows if r["is_cell"] in TRUE_STRINGS}
    n = dict.fromkeys(cells, 0)
    for r in rows:
        if r["chain"] == locus and r["barcode"] in n:
            n[r["barcode"]] += 1
    return {
        "0": sum(v == 0 for v in n.values()),
        "1": sum(v == 1 for v in n.values()),
        "2plus": sum(v >= 2 for v in n.values()),
    }


@pytest.mark.parametrize("name", REAL_10X)
def test_read_10x_counts_equal_naive_count(name):
    path = DATA / name
    expected = naive_counts(path)
    contigs = tt.io.read_10x(path, sample="s")
    assert len(contigs) == expected["contigs"]
    assert contigs["cell_id"].nunique() == expected["barcodes"]
    got_loci = contigs["locus"].astype("string").fillna("NA").value_counts().to_dict()
    assert got_loci == expected["loci"]
    assert int(contigs["productive"].fillna(False).sum()) == expected["productive"]
    qc = tt.pp.chain_qc(contigs).loc["s"]
    assert qc["cells"] == expected["cells"]
    assert qc["barcodes"] == expected["barcodes"]
    assert qc["productive"] == expected["productive"]
    for k, v in expected["trb_per_cell"].items():
        assert qc[f"cells_{k}_TRB"] == v
    assert tt.qc(contigs).count("s", action="read") == expected["contigs"]


@pytest.mark.parametrize("name", REAL_10X)
def test_read_10x_values_equal_naive_values(name):
    """Every mapped column holds the file's value, NA where the file says None or nothing."""
    path = DATA / name
    rows = naive_rows(path)
    contigs = tt.io.read_10x(path)
    mapping = {
        "barcode": "cell_id",
        "contig_id": "sequence_id",
        "chain": "locus",
        "v_gene": "v_call",
        "d_gene": "d_call",
        "j_gene": "j_call",
        "c_gene": "c_call",
        "cdr3": "junction_aa",
        "cdr3_nt": "junction",
        "raw_clonotype_id": "clone_id",
    }
    for column, field in mapping.items():
        expected = [None if r[column] in NA_STRINGS else r[column] for r in rows]
        got = [None if pd.isna(v) else v for v in contigs[field].astype(object)]
        assert got == expected, column
    for column, field in {"umis": "umi_count", "reads": "consensus_count"}.items():
        assert contigs[field].tolist() == [int(r[column]) for r in rows]
    for column in ("productive", "is_cell", "high_confidence", "full_length"):
        expected_b = [None if r[column] in NA_STRINGS else r[column] in TRUE_STRINGS for r in rows]
        got_b = [None if pd.isna(v) else bool(v) for v in contigs[column].astype(object)]
        assert got_b == expected_b, column


def test_dtypes_follow_schema():
    contigs = tt.io.read_10x(DATA / "v6_all_contig_annotations_small.csv")
    for col in ("sample", "locus", "v_call", "d_call", "j_call", "c_call"):
        assert isinstance(contigs[col].dtype, pd.CategoricalDtype), col
    for col in ("productive", "is_cell", "high_confidence", "full_length"):
        assert contigs[col].dtype == "boolean", col
    for col in ("umi_count", "consensus_count"):
        assert contigs[col].dtype == "Int64", col
    for col in ("cell_id", "junction", "junction_aa", "sequence_id", "clone_id"):
        assert contigs[col].dtype == pd.StringDtype("pyarrow"), col
    # v6 writes NA as an empty field: real NA, never the string
    assert contigs["d_call"].isna().all()
    assert not (contigs.astype(str) == "None").any().any()


def test_v6_booleans_upper_case():
    contigs = tt.io.read_10x(DATA / "v6_all_contig_annotations_small.csv")
    assert contigs["is_cell"].tolist() == [False, False, True, True, True]
    assert contigs["high_confidence"].tolist() == [False, False, True, True, True]


def test_gzip_equals_plain(tmp_path):
    plain = tmp_path / "P19L.csv"
    shutil.copy(DATA / "ards_P19L.csv", plain)
    packed = tmp_path / "P19L.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a = tt.io.read_10x(plain, sample="x")
    b = tt.io.read_10x(packed, sample="x")
    pd.testing.assert_frame_equal(a, b)


def test_default_sample_name_strips_extensions():
    contigs = tt.io.read_10x(DATA / "ards_P19B.csv.gz")
    assert contigs["sample"].cat.categories.tolist() == ["ards_P19B"]


def test_no_cdr3_nt_gives_missing_junction():
    path = DATA / "v2_no_cdr3_nt.csv"
    contigs = tt.io.read_10x(path, sample="v2")
    assert contigs["junction"].isna().all()
    assert contigs["junction_aa"].notna().sum() == 5
    kept = tt.pp.filter_contigs(contigs)
    ledger = tt.qc(kept)
    # 6 rows: 1 Multi, 1 non-productive, the 4 others lack the junction
    assert ledger.count("v2", reason="multi_locus_contig") == 1
    assert ledger.count("v2", reason="non_productive") == 1
    assert ledger.count("v2", reason="missing_junction") == 4
    assert len(kept) == 0
    # the amino-acid definition still works on such files
    aa = tt.pp.filter_contigs(contigs, sequence="aa")
    assert len(aa) == 4


def test_multi_chain_kept_until_filtered():
    contigs = tt.io.read_10x(DATA / "v3_filtered_contig_annotations_small.csv", sample="v3")
    assert (contigs["locus"] == "Multi").sum() == 2
    kept = tt.pp.filter_contigs(contigs)
    assert (kept["locus"] == "Multi").sum() == 0
    assert tt.qc(kept).count("v3", reason="multi_locus_contig") == 2


def test_all_contig_annotations_non_cells_dropped_and_counted():
    contigs = tt.io.read_10x(DATA / "v6_all_contig_annotations_small.csv", sample="all")
    kept = tt.pp.filter_contigs(contigs)
    assert tt.qc(kept).count("all", reason="not_a_cell") == 2
    assert kept["is_cell"].all()


def test_cellranger_airr_rearrangement_equals_contig_annotations():
    """Two loaders of the same cells give equal tables (the AIRR file lists T-cell rows)."""
    airr = tt.io.read_10x(DATA / "cellranger_airr_rearrangement.tsv", sample="s")
    tenx = tt.io.read_10x(DATA / "v3_filtered_contig_annotations_small.csv", sample="s")
    tenx = tenx[tenx["locus"].isin(["TRA", "TRB"])].reset_index(drop=True)
    assert len(airr) == len(tenx) == 15
    for col in (
        "cell_id",
        "sequence_id",
        "junction",
        "junction_aa",
        "umi_count",
        "consensus_count",
        "productive",
        "clone_id",
    ):
        assert airr[col].astype(object).tolist() == tenx[col].astype(object).tolist(), col
    for col in ("locus", "v_call", "d_call", "j_call", "c_call"):
        got = airr[col].astype(object).where(airr[col].notna(), None).tolist()
        want = tenx[col].astype(object).where(tenx[col].notna(), None).tolist()
        assert got == want, col
    assert airr.attrs["tcrtrack_unit"] == "cells"
    assert tt.qc(airr).count("s", reason="locus_inferred_from_genes") == 15


def test_read_detects_10x_and_cellranger_airr():
    assert tt.io.detect(DATA / "ards_P19L.csv").name == "10x"
    assert tt.io.detect(DATA / "v6_all_contig_annotations_small.csv").name == "10x"
    assert tt.io.detect(DATA / "cellranger_airr_rearrangement.tsv").name == "airr"


def test_tab_separated_10x_table_is_read(tmp_path):
    source = DATA / "v3_filtered_contig_annotations_small.csv"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    tsv = tmp_path / "contigs.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    a = tt.io.read_10x(source, sample="x")
    b = tt.io.read_10x(tsv, sample="x")
    pd.testing.assert_frame_equal(a, b)


def test_unparseable_boolean_names_column_and_line(tmp_path):
    text = (DATA / "v3_filtered_contig_annotations_small.csv").read_text().splitlines()
    fields = text[3].split(",")
    fields[11] = "maybe"
    text[3] = ",".join(fields)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(FormatError, match=r"bad.csv: column 'productive', line 4: .*'maybe'"):
        tt.io.read_10x(path)


def test_naive_counter_agrees_with_pandas():
    """The naive counter itself, against pandas on one file (guards the guard)."""
    path = DATA / "ards_P19L.csv"
    frame = pd.read_csv(io.StringIO(path.read_text()), dtype=str, keep_default_na=False)
    assert naive_counts(path)["contigs"] == len(frame)
    assert naive_counts(path)["barcodes"] == frame["barcode"].nunique()


def test_windows_saved_file_with_bom_and_crlf(tmp_path):
    source = DATA / "v3_filtered_contig_annotations_small.csv"
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + source.read_bytes().replace(b"\n", b"\r\n"))
    a = tt.io.read(source, sample="x")
    b = tt.io.read(path, sample="x")
    pd.testing.assert_frame_equal(a, b)
    assert b["cell_id"].iloc[0] == "AAACCTGAGATAGCAT-1"
