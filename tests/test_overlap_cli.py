"""`tcrtrack overlap` end to end."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.cli import main

DATA = Path(__file__).parent / "data" / "sharing"
FILES = [str(DATA / f"{x}.csv.gz") for x in ("lt6", "lb6", "ln6")]


@pytest.mark.parametrize("metric", ["jaccard", "morisita_horn", "cosine"])
def test_overlap_tsv_equals_api(metric, capsys):
    assert main(["overlap", *FILES, "--metric", metric, "-f", "tsv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", index_col=0)
    counts = tt.tl.clonotypes(
        tt.pp.concat([tt.io.read(p, sample=Path(p).name.split(".")[0]) for p in FILES])
    )
    expected = tt.tl.overlap(counts, metric=metric)
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy())


def test_overlap_table_and_plot(tmp_path, capsys):
    plot = tmp_path / "o.svg"
    assert main(["overlap", *FILES, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Overlap (jaccard). Clonotype: TRB junction nucleotides")
    assert plot.read_text().startswith("<?xml")


def test_overlap_needs_two_files(capsys):
    assert main(["overlap", FILES[0]]) == 2
    assert "at least two files" in capsys.readouterr().err
    assert main(["overlap", *FILES, "--metric", "dice"]) == 2
