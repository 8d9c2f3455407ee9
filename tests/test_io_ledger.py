"""The QC ledger: every row accounted for, on every real file, through every stage."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_translates_to
from tcrtrack import _qc
from tcrtrack.errors import TcrtrackWarning

DATA = Path(__file__).parent / "data"
REAL = sorted(
    [p for p in (DATA / "10x").iterdir() if p.name.endswith((".csv", ".csv.gz", ".tsv"))]
    + list((DATA / "airr").glob("*.tsv")),
    key=lambda p: p.name,
)
FILTER_REASONS = [
    _qc.NOT_A_CELL,
    _qc.LOW_CONFIDENCE,
    _qc.MULTI_LOCUS_CONTIG,
    _qc.NON_PRODUCTIVE,
    _qc.MISSING_JUNCTION,
    _qc.MALFORMED_JUNCTION,
]


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_read_equals_kept_plus_dropped(path):
    contigs = tt.io.read(path, sample="s")
    kept = tt.pp.filter_contigs(contigs)
    ledger = tt.qc(kept)
    read = ledger.count("s", action="read")
    dropped = sum(ledger.count("s", action="dropped", reason=r) for r in FILTER_REASONS)
    assert read == len(contigs)
    assert read == len(kept) + dropped
    summary = ledger.summary().loc["s"]
    assert summary["kept"] == len(kept)
    # every reason checked is visible, zeros included
    for reason in FILTER_REASONS:
        assert f"dropped_{reason}" in summary.index
    # and on to clonotypes: contigs of other loci and extra chains are counted too; a file
    # that loses more than 5% of its rows to a missing or malformed junction says so
    expected = [
        r for r in _qc.WARNED_REASONS if summary.get(f"dropped_{r}", 0) > _qc.LARGE_DROP * read
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counts = tt.tl.clonotypes(kept)
    warned = [str(w.message) for w in caught if issubclass(w.category, TcrtrackWarning)]
    assert len(warned) == len(expected), warned
    for reason, message in zip(expected, warned, strict=True):
        n = summary[f"dropped_{reason}"]
        assert f"{path} (sample 's'): {n:,} of {read:,} rows" in message
        assert f"dropped as {reason}" in message
    full = tt.qc(counts).summary().loc["s"]
    used = full["kept"]
    assert used == read - full["dropped"]
    assert full["dropped"] == sum(v for k, v in full.items() if k.startswith("dropped_"))
    if counts.unit == "cells":
        assert used == int(counts.totals()["s"])  # one chain per counted cell


def test_filter_reasons_against_naive_count():
    """Each row counted once, under the first reason that applies (a plain loop here)."""
    path = DATA / "10x" / "nsclc_lb6.csv.gz"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = dict.fromkeys(FILTER_REASONS, 0)
    nt = [None if v in ("", "None") else v for v in raw["cdr3_nt"]]
    aa = [None if v in ("", "None") else v for v in raw["cdr3"]]
    translated = [naive_translates_to(n, a) for n, a in zip(nt, aa, strict=True)]
    for i, row in enumerate(raw.to_dict("records")):
        if row["is_cell"] == "False":
            expected[_qc.NOT_A_CELL] += 1
        elif row["high_confidence"] == "False":
            expected[_qc.LOW_CONFIDENCE] += 1
        elif row["chain"] == "Multi":
            expected[_qc.MULTI_LOCUS_CONTIG] += 1
        elif row["productive"] != "True":
            expected[_qc.NON_PRODUCTIVE] += 1
        elif nt[i] is None:
            expected[_qc.MISSING_JUNCTION] += 1
        elif set(nt[i]) - set("ACGT") or len(nt[i]) % 3 or (aa[i] and not translated[i]):
            expected[_qc.MALFORMED_JUNCTION] += 1
    ledger = tt.qc(tt.pp.filter_contigs(tt.io.read_10x(path, sample="s")))
    got = {r: ledger.count("s", reason=r) for r in FILTER_REASONS}
    assert got == expected


def test_concat_emits_no_warning_and_keeps_dtypes():
    a = tt.io.read_10x(DATA / "10x" / "v6_all_contig_annotations_small.csv", sample="a")
    b = tt.io.read_10x(DATA / "10x" / "v3_filtered_contig_annotations_small.csv", sample="b")
    c = tt.io.read_10x(DATA / "10x" / "v2_no_cdr3_nt.csv", sample="c").drop(columns="clone_id")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = tt.pp.concat([a, b, c])
    assert len(both) == len(a) + len(b) + len(c)
    assert both["sample"].value_counts().to_dict() == {"a": 5, "b": 19, "c": 6}
    for col in ("productive", "is_cell"):
        assert both[col].dtype == "boolean"
    for col in ("junction", "cell_id"):
        assert both[col].dtype == pd.StringDtype("pyarrow")
    assert both["umi_count"].dtype == "Int64"
    assert isinstance(both["d_call"].dtype, pd.CategoricalDtype)
    # the column one table lacks is NA there, values of the others intact
    assert both["clone_id"].iloc[-6:].isna().all()
    assert both["clone_id"].iloc[5:24].tolist() == b["clone_id"].tolist()
    assert (
        both["junction"]
        .iloc[:24]
        .astype(object)
        .where(both["junction"].iloc[:24].notna(), None)
        .tolist()
        == pd.concat([a["junction"], b["junction"]])
        .astype(object)
        .where(pd.concat([a["junction"], b["junction"]]).notna(), None)
        .tolist()
    )
    ledger = tt.qc(both)
    assert [ledger.count(s, action="read") for s in "abc"] == [5, 19, 6]


def test_same_person_pair_reads_and_shares():
    """A same-person blood/lung pair (P19B, P19L): the data README states 349 shared TRB nt
    clonotypes counting every TRB; check it with a naive set intersection."""
    blood = tt.io.read_10x(DATA / "10x" / "ards_P19B.csv.gz", sample="P19B")
    lung = tt.io.read_10x(DATA / "10x" / "ards_P19L.csv", sample="P19L")

    def trb(path: Path) -> set[str]:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        return set(raw.loc[raw["chain"] == "TRB", "cdr3_nt"]) - {"None", ""}

    expected = trb(DATA / "10x" / "ards_P19B.csv.gz") & trb(DATA / "10x" / "ards_P19L.csv")
    both = tt.pp.concat([blood, lung])
    trb_rows = both[both["locus"] == "TRB"]
    per_sample = trb_rows.groupby("sample", observed=True)["junction"].agg(set)
    assert per_sample["P19B"] & per_sample["P19L"] == expected
    assert len(expected) == 349


def test_every_ledger_reason_is_described_and_documented():
    from pathlib import Path

    from tcrtrack import _qc

    docs = (Path(__file__).parents[1] / "docs" / "qc.md").read_text()
    reasons = [v for k, v in vars(_qc).items() if k.isupper() and isinstance(v, str)]
    assert len(reasons) >= 20
    for reason in reasons:
        assert _qc.DESCRIPTIONS.get(reason), f"{reason} has no description in _qc.DESCRIPTIONS"
        assert f"| `{reason}` |" in docs, f"{reason} is not in the table of docs/qc.md"
