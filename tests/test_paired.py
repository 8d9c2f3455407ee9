"""One-row-per-cell paired tables, against plain pandas counts of the real files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.errors import FormatError

PAIRED = Path(__file__).parent / "data" / "paired"
FILES = ["UV019_a_Aqueous.csv", "UV027_a_Aqueous.csv"]


@pytest.mark.parametrize("name", FILES)
def test_melted_into_two_contigs_per_cell(name):
    raw = pd.read_csv(PAIRED / name)
    contigs = tt.io.read(PAIRED / name, sample="s")
    assert tt.io.detect(PAIRED / name).name == "paired"
    assert len(contigs) == 2 * len(raw)
    assert contigs["productive"].all()
    trb = contigs[contigs["locus"] == "TRB"].set_index("cell_id")
    assert trb.loc[raw["barcode"], "junction"].tolist() == raw["TCRB_cdr3nt"].tolist()
    assert trb.loc[raw["barcode"], "v_call"].astype(str).tolist() == raw["TCRB_vgene"].tolist()
    tra = contigs[contigs["locus"] == "TRA"].set_index("cell_id")
    assert tra.loc[raw["barcode"], "junction_aa"].tolist() == raw["TCRA_cdr3aa"].tolist()
    assert tt.qc(contigs).count("s", action="read") == 2 * len(raw)


@pytest.mark.parametrize("name", FILES)
def test_clonotype_counts_equal_pandas(name):
    raw = pd.read_csv(PAIRED / name)
    contigs = tt.io.read(PAIRED / name, sample="s")
    trb = tt.tl.clonotypes(contigs).to_frame().set_index("clonotype")["s"]
    want = raw["TCRB_cdr3nt"].value_counts()
    assert trb.sort_index().tolist() == want.sort_index().tolist()
    paired = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(locus="TRA+TRB")).to_frame()
    want_pairs = raw.groupby(["TCRA_cdr3nt", "TCRB_cdr3nt"]).size()
    assert len(paired) == len(want_pairs)
    assert sorted(paired["s"].tolist()) == sorted(want_pairs.tolist())


def test_missing_chain_gives_one_contig(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "barcode,TCRA_cdr3aa,TCRA_cdr3nt,TCRB_cdr3aa,TCRB_cdr3nt\n"
        "c1,CAF,TGTGCCTTC,CASSF,TGTGCCAGCAGTTTC\n"
        "c2,,,CASSF,TGTGCCAGCAGTTTC\n"
    )
    contigs = tt.io.read(path)
    assert contigs[["cell_id", "locus"]].astype(str).values.tolist() == [
        ["c1", "TRA"],
        ["c1", "TRB"],
        ["c2", "TRB"],
    ]
    assert int(tt.tl.clonotypes(contigs).totals().iloc[0]) == 2


def test_cell_listed_twice(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("barcode,TCRA_cdr3aa,TCRB_cdr3aa\nc1,CAF,CASSF\nc1,CAW,CASSF\n")
    with pytest.raises(FormatError, match=r"p.csv: cell 'c1' has more than one row"):
        tt.io.read(path)
