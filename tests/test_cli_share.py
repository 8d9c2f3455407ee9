"""`tcrtrack share` end to end: output, formats, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
LT, LB, LN = (str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6", "ln6"))


def test_share_table_shows_counts_beside_percentages(capsys):
    assert main(["share", LT, LB, LN]) == 0
    out = capsys.readouterr().out
    assert "Reference: lt6 (3,500 clonotypes, 6,775 cells)." in out
    assert "Clonotype: TRB junction nucleotides, multichain=primary." in out
    assert "95/3,721 = 2.55%" in out
    assert "464/2,682 = 17.30%" in out
    assert "[95% interval]: clopper-pearson for clonotype fractions" in out
    assert "lt6 clonotypes found" in out
    assert "380/6,775 = 5.61%" in out


def test_share_tsv_and_json_agree_with_the_api(capsys):
    import tcrtrack as tt

    assert main(["share", LT, LB, "-n", "tumour", "-n", "blood", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["command"] == "share" and payload["clonotype"].startswith("TRB junction")
    (block,) = payload["patients"]
    assert block["patient"] is None and block["reference"] == "tumour"
    (row,) = block["rows"]
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(LT, sample="tumour"), tt.io.read(LB, sample="blood")])
    )
    expected = tt.tl.sharing(counts, reference="tumour").table.loc["blood"]
    assert row["sample"] == "blood"
    assert row["n_shared"] == int(expected["n_shared"])
    assert row["frac_cells_shared"] == pytest.approx(float(expected["frac_cells_shared"]))

    assert main(["share", LT, LB, "--format", "tsv"]) == 0
    tsv = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    assert tsv.loc["lb6", "n_shared"] == 95


def test_share_writes_shared_clones(tmp_path, capsys):
    out = tmp_path / "shared.tsv"
    assert (
        main(["share", LT, LB, "--shared-clonotypes", str(out), "-o", str(tmp_path / "t.txt")]) == 0
    )
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 95
    assert list(table.columns[-3:]) == ["lt6", "lb6", "n_samples_found"]


def test_share_former_shared_clones_option_still_works(tmp_path, capsys):
    new, old = tmp_path / "new.tsv", tmp_path / "old.tsv"
    assert main(["share", LT, LB, "--shared-clonotypes", str(new), "-o", str(tmp_path / "a")]) == 0
    assert capsys.readouterr().err == (f"tcrtrack: wrote {tmp_path / 'a'}\ntcrtrack: wrote {new}\n")
    assert main(["share", LT, LB, "--shared-clones", str(old), "-o", str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert err == (
        "tcrtrack: warning: --shared-clones is deprecated; use --shared-clonotypes\n"
        f"tcrtrack: wrote {tmp_path / 'b'}\ntcrtrack: wrote {old}\n"
    )
    assert old.read_text() == new.read_text()
    both = ["--shared-clonotypes", str(new), "--shared-clones", str(old)]
    assert main(["share", LT, LB, *both]) == 2
    assert "give --shared-clonotypes once (--shared-clones is its former name)" in (
        capsys.readouterr().err
    )


def test_share_needs_a_sample(capsys):
    assert main(["share", LT]) == 2
    assert "at least one sample file" in capsys.readouterr().err


def test_share_rejects_duplicate_names(capsys):
    assert main(["share", LT, LT]) == 2
    assert "given twice" in capsys.readouterr().err


def test_sample_without_trb_is_a_clear_error(tmp_path, capsys):
    raw = pd.read_csv(LB, dtype=str, keep_default_na=False)
    only_tra = tmp_path / "tra_only.csv"
    raw[raw["chain"] == "TRA"].to_csv(only_tra, index=False)
    assert main(["share", LT, str(only_tra)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tcrtrack: error: ")
    assert "tra_only.csv: sample 'tra_only' has no TRB clonotype after filtering" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_exit_1(capsys):
    assert main(["share", LT, "/nonexistent/x.csv"]) == 1
    assert "/nonexistent/x.csv: no such file" in capsys.readouterr().err


def test_bad_venn_suffix_is_usage_error(capsys):
    assert main(["share", LT, LB, "--venn", "v.txt"]) == 2
    assert "must end in .png, .svg or .pdf" in capsys.readouterr().err
