"""Regenerate ``examples/data/patient1`` and ``patient2``: simulated to the study's summary.

The reference study (TIL + anti-PD-1 in advanced liver cancer) reports, per patient, TRB clone
and cell counts of the infusion product and of blood at 3 and 6 months, and how many blood
clones were shared with the infusion product. Its raw data are not public; these files are
simulated (``tt.datasets.simulate_patient``) so that tcrtrack's default clonotype definition
(exact TRB CDR3 nucleotides, primary chain per cell, default filters) gives exactly those
numbers. The 3-way split (clones in all three samples, in 3 m and 6 m only, ...) is not
published; the values below are our choice (see docs/reproduce-study.md).

Run from the repository root::

    python examples/make_study_data.py

The output is deterministic: the same bytes on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tcrtrack as tt

HERE = Path(__file__).resolve().parent
SAMPLES = ("infusion", "pbmc_3m", "pbmc_6m")

#: Region keys: membership in (infusion, pbmc_3m, pbmc_6m) as "0"/"1".
PATIENTS = {
    "patient1": {
        "seed": 20240101,
        "cells": {"infusion": 8675, "pbmc_3m": 9440, "pbmc_6m": 10772},
        "venn": {
            "100": 2282,  # infusion only
            "010": 4770,  # 3 months only
            "001": 5540,  # 6 months only
            "110": 220,  # infusion and 3 months, not 6 months
            "101": 365,  # infusion and 6 months, not 3 months
            "011": 1150,  # 3 and 6 months, not infusion
            "111": 420,  # all three
        },
    },
    "patient2": {
        "seed": 20240102,
        "cells": {"infusion": 7465, "pbmc_3m": 8723, "pbmc_6m": 8380},
        "venn": {
            "100": 2260,
            "010": 2988,
            "001": 2499,
            "110": 54,
            "101": 49,
            "011": 700,
            "111": 85,
        },
    },
}

#: The study's published numbers, which the files must reproduce.
PUBLISHED = {
    "patient1": {
        "infusion": (3287, 8675, None),
        "pbmc_3m": (6560, 9440, 640),
        "pbmc_6m": (7475, 10772, 785),
    },
    "patient2": {
        "infusion": (2448, 7465, None),
        "pbmc_3m": (3827, 8723, 139),
        "pbmc_6m": (3333, 8380, 134),
    },
}


def make(outdir: Path = HERE / "data") -> dict[str, tt.datasets.SimulatedPatient]:
    """Write both patients under ``outdir`` and check them against the published numbers."""
    truths = {}
    for name, spec in PATIENTS.items():
        truth = tt.datasets.simulate_patient(
            outdir / name,
            samples=SAMPLES,
            venn=spec["venn"],
            cells=spec["cells"],
            seed=spec["seed"],
        )
        for sample, (clones, cells, shared) in PUBLISHED[name].items():
            assert truth.n_clonotypes[sample] == clones, (name, sample)
            assert truth.n_cells[sample] == cells, (name, sample)
            if shared is not None:
                assert truth.shared_with("infusion", sample) == shared, (name, sample)
        truths[name] = truth
    return truths


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data"
    for name, truth in make(out).items():
        print(name, truth)
