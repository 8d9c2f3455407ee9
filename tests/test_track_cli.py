"""`tcrtrack track` end to end: the printed table and files equal the library's result."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
LT, LB, LN = (str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6", "ln6"))


def _api(top):
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=n) for p, n in ((LT, "lt6"), (LB, "lb6"), (LN, "ln6"))])
    )
    return tt.tl.track(counts, top=top)


def _api2(top):
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=n) for p, n in ((LT, "lt6"), (LB, "lb6"))])
    )
    return tt.tl.track(counts, top=top)


def _reads_pair(tmp_path):
    """Two read-count immunoSEQ files: a real day-32 sample (reads) and a binomial thinning
    of it to half its reads (the same repertoire)."""
    source = Path(__file__).parent / "data" / "bulk" / "TRB_Unsorted_32.tsv"
    raw = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False)
    column = "count (templates/reads)"
    rng = np.random.default_rng(0)
    thinned = raw.copy()
    thinned[column] = rng.binomial(raw[column].astype(int), 0.5).astype(str)
    thinned = thinned[thinned[column] != "0"]
    first, second = tmp_path / "d32.tsv", tmp_path / "d32_half.tsv"
    raw.to_csv(first, sep="\t", index=False)
    thinned.to_csv(second, sep="\t", index=False)
    return str(first), str(second)


def test_reads_default_to_the_betabinomial_and_fisher_warns(tmp_path, capsys):
    first, second = _reads_pair(tmp_path)
    assert main(["track", first, second, "--top", "0", "-f", "json"]) == 0
    captured = capsys.readouterr()
    (payload,) = json.loads(captured.out)["patients"]
    assert payload["unit"] == "reads" and payload["test"] == "betabinomial"
    assert payload["dispersion"]["d32_half"] >= 1
    assert captured.err == ""
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(first, sample="d32"), tt.io.read(second, sample="d32_half")])
    )
    expected = tt.tl.track(counts).to_frame()
    got = pd.DataFrame(payload["rows"]).set_index("clonotype")
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["pvalue_d32_half"], expected["pvalue_d32_half"], rtol=1e-9)
    # a thinning of one sample: nothing changed
    assert (got["change_d32_half"] != "expanded").all()
    assert main(["track", first, second, "--test", "fisher", "--top", "2"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("tcrtrack: warning: Fisher's test on reads: its p-values are not")
    assert len(err.strip().splitlines()) == 1


def test_track_table_lists_top_clones_with_classes(capsys):
    assert main(["track", LT, LB, LN, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Reference: lt6." in out
    assert "CASSGGGSGYNEQFF  212 (3.13%)" in out
    # presence and change call apart, with the p-value and the q-value
    assert "shared, contracted p=1.6e-52 q=4.5e-49" in out
    assert "lost, contracted p=2.6e-42 q=1.9e-38" in out
    assert "shared, not significant p=0.22 q=0.98" in out
    assert len(out.strip().splitlines()) == 1 + 1 + 3


def test_track_tsv_equals_api_and_plot_is_written(tmp_path, capsys):
    plot = tmp_path / "clones.png"
    out = tmp_path / "t.tsv"
    assert (
        main(["track", LT, LB, LN, "--top", "5", "-f", "tsv", "-o", str(out), "--plot", str(plot)])
        == 0
    )
    table = pd.read_csv(out, sep="\t", index_col=0)
    expected = _api(5).to_frame()
    assert list(table.index) == list(expected.index)
    assert table["count_ln6"].tolist() == expected["count_ln6"].tolist()
    for key in ("presence_ln6", "change_ln6"):
        assert table[key].tolist() == expected[key].astype(str).tolist()
    for key in ("pvalue_ln6", "qvalue_lb6"):
        assert table[key].tolist() == pytest.approx(expected[key].tolist(), rel=1e-12)
    assert plot.stat().st_size > 1000


def test_track_json_meta(capsys):
    assert main(["track", LT, LB, "--top", "2", "-f", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    (block,) = payload["patients"]
    assert payload["command"] == "track" and block["patient"] is None
    assert block["reference"] == "lt6" and block["test"] == "fisher"
    assert block["dispersion"] == {"lb6": None}
    assert len(block["rows"]) == 2
    expected = _api2(2).to_frame()
    for row, (key, want) in zip(block["rows"], expected.iterrows(), strict=True):
        assert row["clonotype"] == key
        assert row["pvalue_lb6"] == pytest.approx(want["pvalue_lb6"], rel=1e-9)
        assert row["qvalue_lb6"] == pytest.approx(want["qvalue_lb6"], rel=1e-9)
        assert (row["presence_lb6"], row["change_lb6"]) == (
            want["presence_lb6"],
            want["change_lb6"],
        )


def test_track_usage_errors(capsys):
    assert main(["track", LT]) == 2
    assert "at least one later sample" in capsys.readouterr().err
    assert main(["track", LT, LB, "--plot", "x.txt"]) == 2
    assert "--plot file 'x.txt' must end in .png, .svg or .pdf" in capsys.readouterr().err
    assert main(["track", LT, LB, "--test", "t"]) == 2


def test_track_missing_file_is_one_line(capsys):
    assert main(["track", LT, "/nonexistent/x.csv"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tcrtrack: error: ") and len(err.strip().splitlines()) == 1


def test_track_top_zero_is_every_clone(capsys):
    assert main(["track", LT, LB, "--top", "0", "-f", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(LT, sample="lt6"), tt.io.read(LB, sample="lb6")])
    )
    assert len(table) == counts.n_clonotypes


# two nucleotide clonotypes with the same amino acids (synonymous codons)
NT_1 = "TGTGCCAGCAGCTTAGGACAGGAGACCCAGTACTTC"
NT_2 = "TGCGCCAGCAGTCTAGGACAGGAGACCCAGTACTTC"
AA_12 = "CASSLGQETQYF"
NT_3 = "TGTGCCAGCAGTGACTCGACCGTCGGGGAGCTGTTTTTT"
AA_3 = "CASSDSTVGELFF"
HEADER = (
    "barcode,is_cell,contig_id,high_confidence,length,chain,v_gene,d_gene,j_gene,c_gene,"
    "full_length,productive,cdr3,cdr3_nt,reads,umis,raw_clonotype_id,raw_consensus_id"
)


def _tenx(path: Path, clones: list[tuple[str, str, int]]) -> str:
    """A 10x contig file with one productive TRB contig per cell: (nt, aa, cells) per clone."""
    lines = [HEADER]
    k = 0
    for nt, aa, cells in clones:
        for _ in range(cells):
            k += 1
            barcode = f"AAAC{k:012d}-1"
            lines.append(
                f"{barcode},True,{barcode}_contig_1,True,500,TRB,TRBV7-9,None,TRBJ2-5,TRBC2,"
                f"True,True,{aa},{nt},1000,10,clonotype{k},None"
            )
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_nucleotide_clonotypes_sharing_amino_acids_are_two_labelled_clones(tmp_path, capsys):
    # the bug: the table labelled nucleotide clonotypes by their amino acids, so NT_1 (lost)
    # and NT_2 (new) looked like one clone listed twice ("lost q=1", "new q=0")
    ref = _tenx(tmp_path / "ref.csv", [(NT_1, AA_12, 6), (NT_3, AA_3, 10)])
    later = _tenx(tmp_path / "later.csv", [(NT_2, AA_12, 6), (NT_3, AA_3, 10)])
    assert main(["track", ref, later, "-n", "r", "-n", "s", "--top", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[1]: line.split() for line in lines[2:]}
    assert set(rows) == {NT_1, NT_2, NT_3}  # keyed by the junction, each once
    assert rows[NT_1][2] == AA_12 and rows[NT_2][2] == AA_12 and rows[NT_3][2] == AA_3
    assert rows[NT_1][7] == "lost," and rows[NT_2][7] == "new,"
    assert lines[1].split()[:2] == ["clonotype", "junction_aa"]
    # the machine-readable table is keyed by the junction too, with the amino acids beside
    assert main(["track", ref, later, "-n", "r", "-n", "s", "--top", "0", "-f", "tsv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    assert sorted(table.index) == sorted([NT_1, NT_2, NT_3])
    assert table.loc[NT_1, "junction_aa"] == table.loc[NT_2, "junction_aa"] == AA_12
    assert table.loc[NT_1, "count_r"] == 6 and table.loc[NT_1, "count_s"] == 0
    assert table.loc[NT_2, "count_r"] == 0 and table.loc[NT_2, "count_s"] == 6
    # under an amino-acid clonotype definition they are one clone, found in both
    assert main(["track", ref, later, "-n", "r", "-n", "s", "--sequence", "aa"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in out[2:]] == [AA_3, AA_12]
    assert "junction_aa" not in out[1]
