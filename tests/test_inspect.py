"""``tcrtrack inspect``: golden table, machine formats, counts equal to a naive pandas count."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "10x"
V3 = DATA / "v3_filtered_contig_annotations_small.csv"
V6 = DATA / "v6_all_contig_annotations_small.csv"
GOLDEN = DATA / "inspect_v3_v6.golden.txt"
REAL_10X = [
    "v3_filtered_contig_annotations_small.csv",
    "v6_all_contig_annotations_small.csv",
    "v2_no_cdr3_nt.csv",
    "ards_P19B.csv.gz",
    "ards_P19L.csv",
    "nsclc_lb6.csv.gz",
    "covid_C146_filtered_contig_annotations.csv.gz",
]


#: Files that lose more than 5% of their rows to a missing junction: a warning line on stderr.
WARNED = {"v2_no_cdr3_nt.csv": "4 of 6 rows (66.7%) dropped as missing_junction"}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(args)
    out, err = capsys.readouterr()
    assert status == 0, err
    warned = [w for f, w in WARNED.items() if any(a.endswith(f) for a in args)]
    if warned:
        assert err.startswith("tcrtrack: warning: ") and err.count("\n") == 1, err
        assert warned[0] in err
    else:
        assert err == ""
    return out


def test_table_matches_golden_file(capsys):
    out = run(["inspect", str(V3), str(V6), "-n", "v3", "-n", "v6"], capsys)
    assert out == GOLDEN.read_text()


def test_table_shows_integers_as_integers(capsys):
    out = run(["inspect", str(DATA / "ards_P19L.csv")], capsys)
    rows = [line.split() for line in out.splitlines()]
    numeric = [r for r in rows if len(r) == 2 and r[0] != "sample" and r[0][0].islower()]
    assert len(numeric) > 20
    for label, value in numeric:
        pattern = r"\d\.\d{3}" if label == "productive_fraction" else r"\d+"
        assert re.fullmatch(pattern, value), (label, value)
    assert re.search(r"^contigs\s+5011$", out, flags=re.M)


@pytest.mark.parametrize("name", REAL_10X)
def test_tsv_counts_equal_naive_pandas_count(name, capsys):
    path = DATA / name
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = run(["inspect", str(path), "--format", "tsv", "-n", "s"], capsys)
    table = pd.read_csv(io.StringIO(out), sep="\t", index_col=0)
    row = table.loc["s"]
    is_cell = raw["is_cell"].isin(["True", "TRUE", "true"])
    assert row["contigs"] == len(raw)
    assert row["barcodes"] == raw["barcode"].nunique()
    assert row["cells"] == raw.loc[is_cell, "barcode"].nunique()
    chain = raw["chain"].where(~raw["chain"].isin(["", "None"]), "NA")
    for locus, n in chain.value_counts().items():
        assert row[f"contigs_{locus}"] == n, locus
    productive = raw["productive"].isin(["True", "TRUE", "true"])
    assert row["productive"] == productive.sum()
    assert row["productive_fraction"] == pytest.approx(productive.mean())
    trb = raw[is_cell & (raw["chain"] == "TRB")].groupby("barcode").size()
    cells = raw.loc[is_cell, "barcode"].nunique()
    assert row["cells_1_TRB"] == (trb == 1).sum()
    assert row["cells_2plus_TRB"] == (trb >= 2).sum()
    assert row["cells_0_TRB"] == cells - len(trb)
    # the ledger balances
    dropped = [c for c in table.columns if c.startswith("qc_dropped_")]
    assert row["qc_read"] == len(raw)
    assert row["qc_read"] == row["qc_kept"] + row[dropped].sum()


def test_json_and_csv_agree_with_tsv(capsys):
    args = ["inspect", str(V3), str(V6), "-n", "v3", "-n", "v6"]
    tsv = pd.read_csv(io.StringIO(run([*args, "-f", "tsv"], capsys)), sep="\t", index_col=0)
    csv = pd.read_csv(io.StringIO(run([*args, "-f", "csv"], capsys)), index_col=0)
    payload = json.loads(run([*args, "-f", "json"], capsys))
    (block,) = payload["patients"]
    from_json = pd.DataFrame(block["rows"]).set_index("sample")
    pd.testing.assert_frame_equal(tsv, csv)
    pd.testing.assert_frame_equal(tsv, from_json, check_names=False)
    assert isinstance(block["rows"][0]["contigs"], int)
    assert tsv.loc["v6", "qc_dropped_not_a_cell"] == 2


def test_output_file(tmp_path, capsys):
    out_file = tmp_path / "qc.tsv"
    assert main(["inspect", str(V6), "-f", "tsv", "-o", str(out_file)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"tcrtrack: wrote {out_file}\n")
    table = pd.read_csv(out_file, sep="\t", index_col=0)
    assert table.loc["v6_all_contig_annotations_small", "contigs"] == 5


def test_mixed_single_cell_and_bulk_files(capsys):
    """Each file is inspected on its own, so 10x and bulk AIRR files can be listed together."""
    airr = Path(__file__).parent / "data" / "airr" / "immundata_tcrb_200.tsv"
    out = run(["inspect", str(V6), str(airr), "-f", "tsv"], capsys)
    table = pd.read_csv(io.StringIO(out), sep="\t", index_col=0)
    assert table.loc["immundata_tcrb_200", "contigs"] == 200
    assert table.loc["immundata_tcrb_200", "cells"] == 0
    assert table.loc["immundata_tcrb_200", "qc_changed_locus_renamed"] == 200
    assert table.loc["v6_all_contig_annotations_small", "qc_changed_locus_renamed"] == 0


def test_help_mentions_formats(capsys):
    assert main(["inspect", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--format" in out and "tsv" in out and "--output" in out
