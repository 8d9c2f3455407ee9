"""AIRR Rearrangement reader and writer: quirks repaired and counted, round trip lossless."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError

DATA = Path(__file__).parent / "data"
QUIRKS = DATA / "airr" / "quirks.tsv"
IMMUNDATA = DATA / "airr" / "immundata_tcrb_200.tsv"
CODE = {
    a + b + c: "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"[
        16 * i + 4 * j + k
    ]
    for i, a in enumerate("TCAG")
    for j, b in enumerate("TCAG")
    for k, c in enumerate("TCAG")
}


def naive_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def naive_translate(nt: str) -> str:
    return "".join(CODE.get(nt[i : i + 3], "X") for i in range(0, len(nt) - 2, 3))


def naive_junction(row: dict[str, str]) -> str | None:
    """The junction rebuilt with a plain loop: fwr3[-3:] + cdr3 + fwr4[:3], checked."""
    if row["junction"] not in ("", "NA"):
        return row["junction"].upper()
    parts = [row.get(c, "NA") for c in ("fwr3", "cdr3", "fwr4")]
    if any(p in ("", "NA") for p in parts):
        return None
    fwr3, cdr3, fwr4 = (p.upper() for p in parts)
    if len(fwr3) < 3 or len(fwr4) < 3 or len(cdr3) == 0 or len(cdr3) % 3:
        return None
    junction = fwr3[-3:] + cdr3 + fwr4[:3]
    if set(junction) - set("ACGT"):
        return None
    aa = naive_translate(junction)
    if aa[0] != "C" or aa[-1] not in "FW":
        return None
    if row.get("cdr3_aa", "NA") not in ("", "NA") and aa[1:-1] != row["cdr3_aa"].upper():
        return None
    if row["junction_aa"] not in ("", "NA") and aa != row["junction_aa"].upper():
        return None
    return junction


def test_quirks_repaired_and_counted():
    contigs = tt.io.read_airr(QUIRKS, sample="q")
    ledger = tt.qc(contigs)
    assert contigs["locus"].astype(str).tolist() == [
        "TRB",
        "TRB",
        "TRA",
        "TRB",
        "TRB",
        "TRB",
        "TRB",
    ]
    assert ledger.count("q", reason="locus_renamed") == 6  # TCRB x5, tcra x1
    assert ledger.count("q", reason="sequence_uppercased") == 1
    assert contigs.loc[1, "junction"] == "TGTGCCAGCAGTGTCCACCCCCAGTACTTC"
    assert contigs["productive"].tolist() == [True, True, False, True, True, True, True]
    # only r4 is consistent: r5 disagrees with cdr3_aa, r6 is out of frame, r7 ends in Gly
    assert contigs["junction"].notna().tolist() == [True, True, True, True, False, False, False]
    assert contigs.loc[3, "junction"] == "TGTGCCAGTAGGGCGGGAGCAGGTACCGGGGAGCTGTTTTTT"
    assert contigs.loc[3, "junction_aa"] == "CASRAGAGTGELFF"
    assert ledger.count("q", reason="junction_derived_from_regions") == 1
    assert contigs["duplicate_count"].tolist() == [5, 3, 1, 2, 4, 0, 1]
    assert ledger.count("q", reason="count_from_nonstandard_column") == 7
    assert contigs.attrs["tcrtrack_unit"] == "templates"


@pytest.mark.parametrize("path", [QUIRKS, IMMUNDATA], ids=["quirks", "immundata"])
def test_junction_derivation_equals_naive_loop(path):
    rows = naive_tsv(path)
    contigs = tt.io.read_airr(path, sample="s")
    expected = [naive_junction(r) for r in rows]
    got = [None if pd.isna(v) else v for v in contigs["junction"].astype(object)]
    assert got == expected
    pairs = zip(rows, expected, strict=True)
    derived = sum(r["junction"] in ("", "NA") and j is not None for r, j in pairs)
    assert tt.qc(contigs).count("s", reason="junction_derived_from_regions") == derived


def test_immundata_file_counts():
    rows = naive_tsv(IMMUNDATA)
    contigs = tt.io.read_airr(IMMUNDATA, sample="s")
    ledger = tt.qc(contigs)
    assert len(contigs) == len(rows) == 200
    assert ledger.count("s", reason="locus_renamed") == sum(r["locus"] == "TCRB" for r in rows)
    assert contigs["duplicate_count"].sum() == sum(int(r["counts"]) for r in rows)
    assert int(contigs["productive"].sum()) == sum(r["productive"] == "TRUE" for r in rows)


def test_duplicate_count_wins_over_counts(tmp_path):
    text = QUIRKS.read_text().replace("\tcounts\n", "\tduplicate_count\n", 1)
    lines = text.splitlines()
    header = lines[0] + "\tcounts"
    body = [line + "\t99" for line in lines[1:]]
    path = tmp_path / "both.tsv"
    path.write_text("\n".join([header, *body]) + "\n")
    contigs = tt.io.read_airr(path, sample="b")
    assert contigs["duplicate_count"].tolist() == [5, 3, 1, 2, 4, 0, 1]
    assert tt.qc(contigs).count("b", reason="count_from_nonstandard_column") == 0


def test_missing_required_field_is_named(tmp_path):
    rows = QUIRKS.read_text().splitlines()
    cols = rows[0].split("\t")
    drop = cols.index("v_cigar")
    kept = ["\t".join(f for i, f in enumerate(r.split("\t")) if i != drop) for r in rows]
    path = tmp_path / "no_cigar.tsv"
    path.write_text("\n".join(kept) + "\n")
    with pytest.raises(FormatError, match=r"no_cigar.tsv: missing required column\(s\) v_cigar"):
        tt.io.read_airr(path, strict=True)
    # by default only what the analysis needs is required
    assert len(tt.io.read_airr(path)) == 7
    assert len(tt.io.read_airr(path, strict=False)) == 7


def test_comma_separated_airr_is_rejected(tmp_path):
    path = tmp_path / "airr.csv"
    pd.read_csv(QUIRKS, sep="\t", dtype=str).to_csv(path, index=False)
    with pytest.raises(FormatError, match=r"airr.csv: AIRR Rearrangement files are tab-separated"):
        tt.io.read_airr(path)


ROUND_TRIP = [
    "10x/v3_filtered_contig_annotations_small.csv",
    "10x/v6_all_contig_annotations_small.csv",
    "10x/v2_no_cdr3_nt.csv",
    "10x/ards_P19L.csv",
    "10x/nsclc_lb6.csv.gz",
]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_10x_airr_is_lossless(name, tmp_path):
    before = tt.io.read_10x(DATA / name, sample="s")
    out = tmp_path / "s.tsv"
    tt.io.write_airr(before, out)
    after = tt.io.read_airr(out, sample="s")
    assert list(after.columns) == list(before.columns)
    for col in before.columns:
        assert after[col].dtype == before[col].dtype, col
        pd.testing.assert_series_equal(after[col], before[col], check_exact=True, obj=col)
    assert after.attrs["tcrtrack_unit"] == before.attrs["tcrtrack_unit"]


def test_written_file_is_valid_airr(tmp_path):
    contigs = tt.io.read_10x(DATA / "10x/v3_filtered_contig_annotations_small.csv")
    out = tmp_path / "s.tsv"
    tt.io.write_airr(contigs, out)
    rows = naive_tsv(out)
    from tcrtrack.io._airr import AIRR_REQUIRED

    assert set(AIRR_REQUIRED) <= set(rows[0])
    assert {r["productive"] for r in rows} <= {"T", "F", ""}
    assert all(r["rev_comp"] == "F" for r in rows)
    assert "None" not in {v for r in rows for v in r.values()}
