"""The simulator writes what its ground truth says, checked by a naive pandas count."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from tcrtrack._translate import translate

SAMPLES = ("infusion", "pbmc_3m", "pbmc_6m")
VENN = {"100": 40, "010": 60, "001": 70, "110": 8, "101": 12, "011": 25, "111": 5}
CELLS = {"infusion": 300, "pbmc_3m": 150, "pbmc_6m": 400}


def naive_primary_trb(path: Path) -> pd.DataFrame:
    """One row per cell with a productive TRB: its primary TRB junction, by plain pandas.

    Filters as tcrtrack's defaults: cells only, high confidence, productive; the primary chain
    has most UMIs, then most reads, then the lexicographically larger junction.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = (
        (raw["is_cell"] == "True")
        & (raw["high_confidence"] == "True")
        & (raw["productive"] == "True")
        & (raw["chain"] == "TRB")
        & (raw["cdr3_nt"] != "None")
    )
    trb = raw[keep].copy()
    trb["umis"] = trb["umis"].astype(int)
    trb["reads"] = trb["reads"].astype(int)
    trb = trb.sort_values(["barcode", "umis", "reads", "cdr3_nt"], ascending=[True] + [False] * 3)
    return trb.drop_duplicates("barcode")[["barcode", "cdr3_nt"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> tt.datasets.SimulatedPatient:
    out = tmp_path_factory.mktemp("patient")
    return tt.datasets.simulate_patient(
        out,
        samples=SAMPLES,
        venn=VENN,
        cells=CELLS,
        seed=7,
        frac_two_trb=0.2,
        frac_two_tra=0.2,
        frac_non_productive=0.2,
        frac_tra_only=0.1,
        frac_no_tra=0.1,
    )


def test_truth_counts_follow_the_request(patient: tt.datasets.SimulatedPatient) -> None:
    expected_clones = {
        x: sum(n for key, n in VENN.items() if key[i] == "1") for i, x in enumerate(SAMPLES)
    }
    assert patient.n_clonotypes == expected_clones
    assert patient.n_cells == CELLS
    assert {"".join("1" if m else "0" for m in k): n for k, n in patient.regions.items()} == VENN
    assert patient.shared_with("infusion", "pbmc_3m") == 8 + 5
    frame = patient.to_frame()
    assert frame.loc["pbmc_6m", "cells"] == 400


def test_files_match_truth_by_naive_count(patient: tt.datasets.SimulatedPatient) -> None:
    per_sample = {x: naive_primary_trb(patient.paths[x]) for x in SAMPLES}
    sets = {x: set(df["cdr3_nt"]) for x, df in per_sample.items()}
    for x in SAMPLES:
        assert len(sets[x]) == patient.n_clonotypes[x]
        assert len(per_sample[x]) == patient.n_cells[x]
    for key in itertools.product((False, True), repeat=3):
        if not any(key):
            continue
        inside = set.union(*sets.values())
        for x, m in zip(SAMPLES, key, strict=True):
            inside = inside & sets[x] if m else inside - sets[x]
        assert len(inside) == patient.regions[key], key
    # the true clonotype of every cell
    truth = patient.cells
    for x in SAMPLES:
        naive = per_sample[x].set_index("barcode")["cdr3_nt"].sort_index()
        mine = truth[truth["sample"] == x].set_index("cell_id")["junction"].sort_index()
        assert naive.index.tolist() == mine.index.tolist()
        assert naive.tolist() == mine.astype(str).tolist()
    # and the clonotype ids point at the right junctions
    junction_of = patient.clonotypes.set_index("clonotype")["junction"]
    assert (junction_of.loc[truth["clonotype"]].to_numpy() == truth["junction"].to_numpy()).all()


def test_tcrtrack_counts_equal_truth(patient: tt.datasets.SimulatedPatient) -> None:
    contigs = tt.pp.concat([tt.io.read_10x(patient.paths[x]) for x in SAMPLES])
    assert set(contigs["sample"].astype(str)) == set(SAMPLES)  # file stem = sample name
    counts = tt.tl.clonotypes(contigs)
    summary = counts.summary()
    for x in SAMPLES:
        assert summary.loc[x, "clonotypes"] == patient.n_clonotypes[x]
        assert summary.loc[x, "cells"] == patient.n_cells[x]
    regions = tt.tl.venn_regions(counts, list(SAMPLES))
    assert regions.regions == patient.regions


def test_realistic_contigs(patient: tt.datasets.SimulatedPatient) -> None:
    raw = pd.read_csv(patient.paths["infusion"], dtype=str, keep_default_na=False)
    header = Path(__file__).parent / "data" / "simulate" / "filtered_contig_annotations_header.csv"
    assert raw.columns.tolist() == header.read_text().strip().split(",")
    prod = raw[raw["productive"] == "True"]
    nt = prod["cdr3_nt"]
    assert nt.str.match(r"^(TGT|TGC)").all()
    assert nt.str.match(r".*(TTT|TTC|TGG)$").all()
    assert (nt.str.len() % 3 == 0).all()
    assert (nt.str.len() >= 33).all()
    aa = translate(pa.array(nt.tolist())).to_pylist()
    assert aa == prod["cdr3"].tolist()
    assert not prod["cdr3"].str.contains(r"\*").any()
    assert prod["cdr3"].str.startswith("C").all()
    trb_ends = prod.loc[prod["chain"] == "TRB", "cdr3"].str[-1]
    assert set(trb_ends) == {"F"}
    # non-productive contigs: out of frame, no amino acids
    nonprod = raw[raw["productive"] == "False"]
    assert len(nonprod) > 0
    assert (nonprod["cdr3"] == "None").all()
    assert (nonprod["cdr3_nt"].str.len() % 3 != 0).all()
    # cells with two productive TRB: the true chain wins on UMIs, then reads
    trb = prod[prod["chain"] == "TRB"].copy()
    trb["umis"] = trb["umis"].astype(int)
    trb["reads"] = trb["reads"].astype(int)
    two = trb[trb.duplicated("barcode", keep=False)]
    assert two["barcode"].nunique() > 0
    true_nt = set(patient.clonotypes["junction"])
    winners = two.sort_values(["barcode", "umis", "reads"], ascending=[True, False, False])
    assert winners.drop_duplicates("barcode")["cdr3_nt"].isin(true_nt).all()
    losers = winners[winners.duplicated("barcode")]
    assert not losers["cdr3_nt"].isin(true_nt).any()
    tied = winners.groupby("barcode")["umis"].nunique() == 1
    assert tied.any()  # some are decided by reads
    # cells with two TRA, and TRA-only cells (chain dropout)
    tra = prod[prod["chain"] == "TRA"]
    assert tra["barcode"].duplicated().any()
    tra_only = set(raw["barcode"]) - set(trb["barcode"])
    assert len(tra_only) > 0
    # every barcode a cell, every contig high confidence; contig ids numbered per cell
    assert (raw["is_cell"] == "True").all() and (raw["high_confidence"] == "True").all()
    assert (raw["contig_id"].str.replace(r"_contig_\d+$", "", regex=True) == raw["barcode"]).all()
    assert raw["barcode"].is_monotonic_increasing


def test_distinct_junctions_and_skewed_sizes(patient: tt.datasets.SimulatedPatient) -> None:
    clones = patient.clonotypes
    assert clones["junction"].is_unique
    assert clones["tra_junction"].is_unique
    sizes = clones["infusion"][clones["infusion"] > 0]
    assert sizes.sum() == CELLS["infusion"]
    assert sizes.max() >= 5 * sizes.mean()
    assert (sizes == 1).mean() > 0.3


def test_deterministic_by_seed(tmp_path: Path) -> None:
    kwargs = {"samples": ("a", "b"), "venn": {"10": 20, "01": 30, "11": 5}, "seed": 3}
    one = tt.datasets.simulate_patient(tmp_path / "one", **kwargs)
    two = tt.datasets.simulate_patient(tmp_path / "two", **kwargs)
    other = tt.datasets.simulate_patient(tmp_path / "three", **{**kwargs, "seed": 4})
    for x in ("a", "b"):
        assert one.paths[x].read_bytes() == two.paths[x].read_bytes()
        assert one.paths[x].read_bytes() != other.paths[x].read_bytes()
    pd.testing.assert_frame_equal(one.cells, two.cells)


def test_all_contig_layout_is_filtered_back_to_truth(tmp_path: Path) -> None:
    truth = tt.datasets.simulate_patient(
        tmp_path,
        samples=("a", "b"),
        venn={(True, False): 30, (False, True): 25, (True, True): 10},
        cells=[90, 70],
        seed=11,
        layout="all",
        compress=False,
    )
    assert truth.paths["a"].name == "a.csv"
    raw = pd.read_csv(truth.paths["a"], dtype=str, keep_default_na=False)
    assert (raw["is_cell"] == "False").any()
    assert ((raw["is_cell"] == "True") & (raw["high_confidence"] == "False")).any()
    naive = naive_primary_trb(truth.paths["a"])
    assert naive["cdr3_nt"].nunique() == 40 and len(naive) == 90
    counts = tt.tl.clonotypes(tt.pp.concat([tt.io.read_10x(truth.paths[x]) for x in "ab"]))
    assert counts.summary().to_dict() == {
        "clonotypes": {"a": 40, "b": 35},
        "cells": {"a": 90, "b": 70},
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"venn": {"1x": 3}}, "string of 2 '0'/'1'", id="bad-key"),
        pytest.param({"venn": {(True,): 3}}, "has 1 entries; expected 2", id="short-tuple"),
        pytest.param({"venn": {"00": 3}}, "belongs to no sample", id="empty-region"),
        pytest.param({"venn": {"10": -1, "01": 2}}, "count >= 0, got -1", id="negative"),
        pytest.param(
            {"venn": {"10": 5, "01": 5}, "cells": [3, 9]},
            "3 cells cannot hold 5 clonotypes",
            id="too-few-cells",
        ),
        pytest.param(
            {"venn": {"10": 5, "01": 5}, "cells": {"c": 9}}, "unknown sample", id="unknown-sample"
        ),
        pytest.param({"venn": {"10": 5}}, "'b' has no clonotype", id="empty-sample"),
        pytest.param(
            {"venn": {"10": 5, "01": 5}, "frac_two_trb": 1.5},
            r"frac_two_trb must be a fraction in \[0, 1\], got 1.5",
            id="fraction",
        ),
        pytest.param({"venn": {"10": 5, "01": 5}, "layout": "raw"}, "layout must be", id="layout"),
        pytest.param(
            {"venn": {"10": 5, "01": 5}, "cells": "many"}, "cells must be a number", id="cells-str"
        ),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tt.datasets.simulate_patient(tmp_path, samples=("a", "b"), **kwargs)


def test_one_number_of_cells_for_every_sample(tmp_path: Path) -> None:
    truth = tt.datasets.simulate_patient(
        tmp_path, samples=("a", "b"), venn={"10": 5, "01": 4, "11": 2}, cells=20, seed=1
    )
    assert truth.n_cells == {"a": 20, "b": 20}
    assert truth.cells.groupby("sample", observed=True).size().to_dict() == {"a": 20, "b": 20}


def test_default_patient_and_repr(tmp_path: Path) -> None:
    truth = tt.datasets.simulate_patient(tmp_path, seed=0)
    assert truth.samples == SAMPLES
    assert sum(truth.regions.values()) == len(truth.clonotypes)
    assert "SimulatedPatient(seed=0; infusion: 420 clonotypes" in repr(truth)
    assert "<table" in truth._repr_html_()
    assert np.array_equal(
        truth.regions_frame()["clonotypes"].to_numpy(), np.array(list(truth.regions.values()))
    )


def test_scirpy_primary_chain_agrees_with_truth(tmp_path: Path) -> None:
    """scirpy's own primary TRB (VDJ_1) of every cell is the simulated clone's junction."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import scirpy as ir

        truth = tt.datasets.simulate_patient(
            tmp_path,
            samples=("a", "b"),
            venn={"10": 60, "01": 50, "11": 15},
            cells=[300, 200],
            seed=5,
            frac_two_trb=0.3,
            frac_non_productive=0.3,
        )
        adata = ir.io.read_10x_vdj(str(truth.paths["a"]))
        ir.pp.index_chains(adata)
        primary = ir.get.airr(adata, ["junction"], ["VDJ_1"])["VDJ_1_junction"]
    primary = primary.dropna().astype(str)
    expected = truth.cells[truth.cells["sample"] == "a"].set_index("cell_id")["junction"]
    assert sorted(primary.index) == sorted(expected.index)
    assert (primary.reindex(expected.index) == expected.astype(str)).all()
    assert primary.nunique() == truth.n_clonotypes["a"] == 75


@st.composite
def requests(draw: st.DrawFn) -> tuple[tuple[str, ...], dict[str, int], list[int], int]:
    k = draw(st.integers(2, 4))
    samples = tuple(f"s{i}" for i in range(k))
    keys = ["".join(b) for b in itertools.product("01", repeat=k) if "1" in b]
    venn = {key: draw(st.integers(0, 12)) for key in keys}
    for i in range(k):  # every sample needs a clonotype
        own = "".join("1" if j == i else "0" for j in range(k))
        venn[own] = max(venn[own], 1)
    n_clones = [sum(n for key, n in venn.items() if key[i] == "1") for i in range(k)]
    cells = [n + draw(st.integers(0, 40)) for n in n_clones]
    return samples, venn, cells, draw(st.integers(0, 2**32 - 1))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_any_request_is_met_exactly(tmp_path: Path, request: tuple) -> None:
    samples, venn, cells, seed = request
    out = tmp_path / f"run{seed}"
    truth = tt.datasets.simulate_patient(out, samples=samples, venn=venn, cells=cells, seed=seed)
    contigs = tt.pp.concat([tt.io.read_10x(truth.paths[x]) for x in samples])
    counts = tt.tl.clonotypes(contigs)
    summary = counts.summary()
    assert summary["cells"].reindex(list(samples)).tolist() == cells
    presence = counts.presence()[[counts.index(x) for x in samples]]
    for key, n in venn.items():
        member = np.array([c == "1" for c in key])
        inside = (presence[member].all(axis=0) & ~presence[~member].any(axis=0)).sum()
        assert inside == n, key
