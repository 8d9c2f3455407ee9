"""`tcrtrack share --ci / --rarefy`: the printed intervals equal the library's."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
LT, LB, LN = (str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6", "ln6"))


def _counts():
    return tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=n) for p, n in ((LT, "lt6"), (LB, "lb6"), (LN, "ln6"))])
    )


def test_share_prints_intervals_beside_fractions(capsys):
    assert main(["share", LT, LB, LN]) == 0
    out = capsys.readouterr().out
    # 95 of 3,721: Clopper–Pearson 95% interval 2.07–3.11%
    assert "95/3,721 = 2.55% [2.07-3.11%]" in out


def test_share_tsv_intervals_equal_api_and_ci_zero_removes_them(capsys):
    assert main(["share", LT, LB, LN, "-f", "tsv", "--ci", "0.9", "--seed", "3"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    expected = tt.tl.sharing(_counts(), reference="lt6", ci=0.9, seed=3).table
    for col in (
        "frac_clonotypes_shared_low",
        "frac_cells_shared_high",
        "frac_reference_cells_detected_low",
    ):
        assert table[col].tolist() == pytest.approx(expected[col].astype(float).tolist())
    assert main(["share", LT, LB, "-f", "tsv", "--ci", "0"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    assert not any(c.endswith("_low") for c in table.columns)


def test_share_rarefy_adds_columns_equal_api(capsys):
    assert (
        main(["share", LT, LB, LN, "--rarefy", "--depth", "1000", "--seed", "5", "-f", "csv"]) == 0
    )
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    expected = tt.tl.rarefy(_counts(), reference="lt6", depth=1000, seed=5).table
    assert (table["rarefied_depth"] == 1000).all()
    assert table["rarefied_frac_clonotypes_shared"].tolist() == pytest.approx(
        expected["frac_clonotypes_shared"].tolist()
    )
    assert main(["share", LT, LB, LN, "--rarefy"]) == 0
    out = capsys.readouterr().out
    assert "Rarefied: every sample subsampled to 3,820 without replacement, 100 times" in out


def test_share_depth_needs_rarefy_and_fits(capsys):
    assert main(["share", LT, LB, "--depth", "10"]) == 2
    assert "--depth applies to --rarefy" in capsys.readouterr().err
    assert main(["share", LT, LB, "--rarefy", "--depth", "100000"]) == 1
    assert "has 3,820 cells, fewer than depth=100,000" in capsys.readouterr().err
