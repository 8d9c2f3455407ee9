"""``tcrtrack inspect``: golden table, machine formats, counts equal to a naive pandas count."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from naive import naive_10x, naive_immunoseq, naive_mixcr_keys, naive_vdjtools
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
    words = ("sample", "format", "kind", "unit")
    numeric = [r for r in rows if len(r) == 2 and r[0] not in words and r[0][0].islower()]
    assert len(numeric) > 20
    for label, value in numeric:
        pattern = r"\d\.\d{3}" if label == "productive_fraction" else r"\d+"
        assert re.fullmatch(pattern, value), (label, value)
    assert re.search(r"^contigs\s+5011$", out, flags=re.M)
    assert re.search(r"^format\s+10x$", out, flags=re.M)
    assert re.search(r"^kind\s+single-cell$", out, flags=re.M)


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
    # bulk data have no cells: empty, not 0
    assert pd.isna(table.loc["immundata_tcrb_200", "cells"])
    assert pd.isna(table.loc["immundata_tcrb_200", "cells_0_TRB"])
    assert pd.isna(table.loc["immundata_tcrb_200", "qc_cells_cell_without_locus_chain"])
    assert table.loc["v6_all_contig_annotations_small", "cells"] == 2
    assert table.loc["immundata_tcrb_200", "kind"] == "bulk"
    assert table.loc["immundata_tcrb_200", "qc_changed_locus_renamed"] == 200
    assert table.loc["v6_all_contig_annotations_small", "qc_changed_locus_renamed"] == 0


def test_help_mentions_formats(capsys):
    assert main(["inspect", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--format" in out and "tsv" in out and "--output" in out


# what was found (issue 14, item 11): format, kind, unit, total, clonotypes, against naive counts
BULK = Path(__file__).parent / "data" / "bulk"
FORMATS = Path(__file__).parent / "data" / "formats"


def _naive_airr_bulk(path: Path) -> dict[str, int]:
    """Summed duplicate_count per productive junction of a minimal bulk AIRR table (productive
    inferred: no ``*``/``_`` in junction_aa, junction 3 × as long), counts of 0 left out."""
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    out: dict[str, int] = {}
    for nt, aa, n in zip(raw["junction"], raw["junction_aa"], raw["duplicate_count"], strict=True):
        if re.search(r"[*_]", aa) or len(nt) != 3 * len(aa) or int(n) == 0:
            continue
        out[nt] = out.get(nt, 0) + int(n)
    return out


FOUND = [
    (DATA / "nsclc_lb6.csv.gz", "10x", "single-cell", "cells", naive_10x),
    (V3, "10x", "single-cell", "cells", naive_10x),
    (BULK / "TRB_Unsorted_0.tsv", "immunoseq-v2", "bulk", "templates", naive_immunoseq),
    (
        BULK / "TRB-Pt-1-8_S150.clones.txt.gz",
        "mixcr",
        "bulk",
        "reads",
        lambda p: {k[0]: n for k, n in naive_mixcr_keys(p).items()},
    ),
    (FORMATS / "airr_minimal_bulk_Pt-1-8.tsv", "airr", "bulk", "templates", _naive_airr_bulk),
    (FORMATS / "vdjtools_Pt-1-8.txt", "vdjtools", "bulk", "reads", naive_vdjtools),
]


@pytest.mark.parametrize(
    "path, fmt, kind, unit, naive", FOUND, ids=[f"{f[1]}-{f[0].name}" for f in FOUND]
)
def test_found_equals_naive_count(path, fmt, kind, unit, naive, capsys):
    out = run(["inspect", str(path), "-n", "s", "-f", "tsv"], capsys)
    row = pd.read_csv(io.StringIO(out), sep="\t", index_col=0).loc["s"]
    want = naive(path)
    assert (row["format"], row["kind"], row["unit"]) == (fmt, kind, unit)
    assert row["clonotypes"] == len(want)
    assert row["total"] == sum(want.values())
    single_cell = {c for c in row.index if c in ("barcodes", "cells") or c.startswith("cells_")}
    assert bool(single_cell) == (kind == "single-cell")


@pytest.mark.parametrize("path", [f[0] for f in FOUND if f[2] == "bulk"], ids=lambda p: p.name)
def test_bulk_file_prints_no_single_cell_rows(path, capsys):
    out = run(["inspect", str(path)], capsys)
    labels = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert not [x for x in labels if x in ("barcodes", "cells") or x.startswith("cells_")]
    assert re.search(r"^kind\s+bulk$", out, flags=re.M)
    assert "all contigs, or bulk rows, as read" in out


def test_json_rows_say_what_was_found(capsys):
    mixcr = BULK / "TRB-Pt-1-8_S150.clones.txt.gz"
    payload = json.loads(
        run(["inspect", str(V3), str(mixcr), "-n", "v3", "-n", "m", "-f", "json"], capsys)
    )
    assert set(payload) == {"command", "clonotype", "patients"}
    assert payload["command"] == "inspect"
    (block,) = payload["patients"]
    assert block["patient"] is None
    rows = {r["sample"]: r for r in block["rows"]}
    assert (rows["v3"]["format"], rows["v3"]["unit"], rows["v3"]["total"]) == ("10x", "cells", 4)
    assert rows["m"]["format"] == "mixcr" and rows["m"]["kind"] == "bulk"
    assert rows["m"]["cells"] is None and rows["m"]["barcodes"] is None  # not 0
    assert rows["v3"]["cells"] == 5


def test_sheet_blocks_say_what_was_found(tmp_path, capsys):
    sheet = tmp_path / "sheet.tsv"
    mixcr = BULK / "TRB-Pt-1-8_S150.clones.txt.gz"
    sheet.write_text(
        "patient\tsample\ttimepoint\tpath\tformat\n"
        f"P1\tcells\t0\t{V3}\t\nP1\tclones\t1\t{mixcr}\tmixcr\n"
    )
    out = run(["inspect", "--samples", str(sheet), "-f", "tsv"], capsys)
    table = pd.read_csv(io.StringIO(out), sep="\t", index_col=1)
    assert table.loc["cells", "format"] == "10x"
    assert table.loc["clones", "format"] == "mixcr"
    assert table.loc["clones", "clonotypes"] == len(naive_mixcr_keys(mixcr))
