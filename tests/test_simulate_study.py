"""The bundled study data (examples/data/patient1, patient2) give the published numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

import tcrtrack as tt
from tcrtrack.cli import cli
from test_simulate import naive_primary_trb

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SAMPLES = ("infusion", "pbmc_3m", "pbmc_6m")

# the study's table: clones, cells, clones shared with the infusion product, sharing (%)
PUBLISHED = {
    "patient1": {
        "infusion": (3287, 8675, None, None),
        "pbmc_3m": (6560, 9440, 640, "9.76"),
        "pbmc_6m": (7475, 10772, 785, "10.50"),
    },
    "patient2": {
        "infusion": (2448, 7465, None, None),
        "pbmc_3m": (3827, 8723, 139, "3.63"),
        "pbmc_6m": (3333, 8380, 134, "4.02"),
    },
}


def paths(patient: str) -> list[Path]:
    return [EXAMPLES / "data" / patient / f"{x}.csv.gz" for x in SAMPLES]


@pytest.mark.parametrize("patient", ["patient1", "patient2"])
def test_api_reproduces_the_published_table(patient: str) -> None:
    contigs = tt.pp.concat([tt.io.read_10x(p) for p in paths(patient)])
    counts = tt.tl.clonotypes(contigs)
    summary = counts.summary()
    table = tt.tl.sharing(counts, reference="infusion").to_frame()
    for sample, (clones, cells, shared, percent) in PUBLISHED[patient].items():
        assert summary.loc[sample, "clonotypes"] == clones
        assert summary.loc[sample, "cells"] == cells
        if shared is None:
            continue
        assert table.loc[sample, "n_clonotypes"] == clones
        assert table.loc[sample, "n_cells"] == cells
        assert table.loc[sample, "n_shared"] == shared
        assert f"{100 * table.loc[sample, 'frac_clonotypes_shared']:.2f}" == percent


@pytest.mark.parametrize("patient", ["patient1", "patient2"])
def test_naive_count_reproduces_the_published_table(patient: str) -> None:
    sets = {
        x: set(naive_primary_trb(p)["cdr3_nt"])
        for x, p in zip(SAMPLES, paths(patient), strict=True)
    }
    cells = {x: len(naive_primary_trb(p)) for x, p in zip(SAMPLES, paths(patient), strict=True)}
    for sample, (clones, n_cells, shared, percent) in PUBLISHED[patient].items():
        assert len(sets[sample]) == clones
        assert cells[sample] == n_cells
        if shared is not None:
            both = len(sets[sample] & sets["infusion"])
            assert both == shared
            assert f"{100 * both / clones:.2f}" == percent


def test_cli_prints_the_published_numbers() -> None:
    result = CliRunner().invoke(cli, ["share", *map(str, paths("patient1"))])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Reference: infusion (3,287 clonotypes, 8,675 cells).")
    # the first table (each sample's view) holds the study's numbers
    lines = {line.split()[0]: line for line in out.split("\n\n")[1].splitlines() if line.strip()}
    assert "640/6,560 = 9.76%" in lines["pbmc_3m"] and "9,440" in lines["pbmc_3m"]
    assert "785/7,475 = 10.50%" in lines["pbmc_6m"] and "10,772" in lines["pbmc_6m"]


def test_regenerating_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_study_data", EXAMPLES / "make_study_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    truths = module.make(tmp_path)
    for patient, truth in truths.items():
        for sample in SAMPLES:
            fresh = truth.paths[sample].read_bytes()
            committed = (EXAMPLES / "data" / patient / f"{sample}.csv.gz").read_bytes()
            assert fresh == committed, (patient, sample)
