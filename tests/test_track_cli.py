"""`tcrtrack track` end to end: the printed table and files equal the library's result."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

import tcrtrack as tt
from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
LT, LB, LN = (str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6", "ln6"))


def _api(top):
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=n) for p, n in ((LT, "lt6"), (LB, "lb6"), (LN, "ln6"))])
    )
    return tt.tl.track(counts, top=top)


def test_track_table_lists_top_clones_with_classes(capsys):
    assert main(["track", LT, LB, LN, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Reference: lt6." in out
    assert "CASSGGGSGYNEQFF  212 (3.13%)" in out
    assert "contracted q=4.5e-49" in out
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
    assert table["class_ln6"].tolist() == expected["class_ln6"].astype(str).tolist()
    assert plot.stat().st_size > 1000


def test_track_json_meta(capsys):
    assert main(["track", LT, LB, "--top", "2", "-f", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["reference"] == "lt6" and payload["test"] == "fisher"
    assert len(payload["rows"]) == 2


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
