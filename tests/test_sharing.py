"""Sharing, shared clonotypes and Venn regions against independent naive computations."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcrtrack as tt

DATA = Path(__file__).parent / "data" / "sharing"
SAMPLES = ["lt6", "lb6", "ln6"]


# ---------------------------------------------------------------- a naive second implementation
def naive_cells(raw: pd.DataFrame, multichain: str = "primary") -> dict[str, set[str]]:
    """cell barcode -> set of TRB cdr3_nt clonotypes, from raw 10x rows, with plain pandas."""
    ok = (
        raw["is_cell"].astype(str).str.lower().eq("true")
        & raw["high_confidence"].astype(str).str.lower().eq("true")
        & raw["productive"].astype(str).str.lower().eq("true")
        & raw["chain"].eq("TRB")
        & raw["cdr3_nt"].notna()
        & ~raw["cdr3_nt"].isin(["None", ""])
    )
    trb = raw[ok].copy()
    trb["umis"] = trb["umis"].astype(int)
    trb["reads"] = trb["reads"].astype(int)
    out: dict[str, set[str]] = {}
    for barcode, group in trb.groupby("barcode"):
        seqs = set(group["cdr3_nt"])
        if multichain == "all":
            out[barcode] = seqs
        elif multichain == "drop":
            if len(seqs) == 1:
                out[barcode] = seqs
        else:
            best = max(zip(group["umis"], group["reads"], group["cdr3_nt"], strict=True))
            out[barcode] = {best[2]}
    return out


def naive_sharing(cells: dict[str, dict[str, set[str]]], ref: str, sample: str) -> dict[str, int]:
    def clones(x: str) -> set[str]:
        return set().union(*cells[x].values()) if cells[x] else set()

    cr, cs = clones(ref), clones(sample)
    shared = cr & cs
    return {
        "n_clonotypes": len(cs),
        "n_cells": len(cells[sample]),
        "n_shared": len(shared),
        "n_cells_shared": sum(1 for v in cells[sample].values() if v & shared),
        "n_reference_clonotypes": len(cr),
        "n_reference_cells": len(cells[ref]),
        "n_reference_cells_detected": sum(1 for v in cells[ref].values() if v & cs),
    }


def read_raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def real_counts() -> tt.tl.CloneCounts:
    tables = [tt.io.read_10x(DATA / f"{x}.csv.gz", sample=x) for x in SAMPLES]
    return tt.tl.clonotypes(tt.pp.concat(tables))


@pytest.mark.parametrize("multichain", ["primary", "all", "drop"])
def test_sharing_on_real_files_equals_naive(multichain: str):
    tables = [tt.io.read_10x(DATA / f"{x}.csv.gz", sample=x) for x in SAMPLES]
    spec = tt.tl.ClonotypeSpec(multichain=multichain)
    counts = tt.tl.clonotypes(tt.pp.concat(tables), spec)
    result = tt.tl.sharing(counts, reference="lt6")
    cells = {x: naive_cells(read_raw(DATA / f"{x}.csv.gz"), multichain) for x in SAMPLES}
    for sample in ["lb6", "ln6"]:
        expected = naive_sharing(cells, "lt6", sample)
        row = result.table.loc[sample]
        for key, value in expected.items():
            assert int(row[key]) == value, (sample, key)
        assert row["frac_clonotypes_shared"] == pytest.approx(
            expected["n_shared"] / expected["n_clonotypes"]
        )
        assert row["frac_cells_shared"] == pytest.approx(
            expected["n_cells_shared"] / expected["n_cells"]
        )
        assert row["frac_reference_cells_detected"] == pytest.approx(
            expected["n_reference_cells_detected"] / expected["n_reference_cells"]
        )


def test_same_person_samples_share_and_numbers_are_stable(real_counts):
    # pinned from the naive implementation above (see test_sharing_on_real_files_equals_naive)
    table = tt.tl.sharing(real_counts, reference="lt6").table
    assert table.loc["lb6", ["n_clonotypes", "n_cells", "n_shared"]].tolist() == [3721, 3820, 95]
    assert table.loc["ln6", ["n_clonotypes", "n_cells", "n_shared"]].tolist() == [2682, 5956, 464]


def test_a_sample_shares_everything_with_itself(real_counts):
    table = tt.tl.sharing(real_counts, reference="lb6", samples=["lb6"]).table
    assert table.loc["lb6", "frac_clonotypes_shared"] == 1.0
    assert table.loc["lb6", "frac_cells_shared"] == 1.0
    assert table.loc["lb6", "frac_reference_cells_detected"] == 1.0


def test_unknown_reference_names_the_known_samples(real_counts):
    with pytest.raises(KeyError, match=r"unknown sample 'infusion'; samples are: lt6, lb6, ln6"):
        tt.tl.sharing(real_counts, reference="infusion")


def test_reference_alone_is_an_error(real_counts):
    one = real_counts.select(["lt6"])
    with pytest.raises(ValueError, match="nothing to compare with the reference 'lt6'"):
        tt.tl.sharing(one, reference="lt6")


def test_shared_clonotypes_table(real_counts):
    table = tt.tl.shared_clonotypes(real_counts, reference="lt6")
    dense = real_counts.dense()
    ref, lb, ln = (dense[real_counts.index(x)] for x in SAMPLES)
    expected = set(np.flatnonzero((ref > 0) & ((lb > 0) | (ln > 0))))
    labels = real_counts.clonotypes["clonotype"].to_numpy()
    assert set(table["clonotype"]) == {labels[i] for i in expected}
    # largest in the reference first
    assert table["lt6"].is_monotonic_decreasing
    one = table.iloc[0]
    i = int(np.flatnonzero(labels == one["clonotype"])[0])
    assert (one["lt6"], one["lb6"], one["ln6"]) == (ref[i], lb[i], ln[i])
    assert one["n_samples_found"] == int(lb[i] > 0) + int(ln[i] > 0)


@pytest.mark.parametrize("samples", [SAMPLES, ["lt6", "lb6"], ["ln6", "lt6"]], ids=["3", "2", "2b"])
def test_venn_regions_equal_set_operations(real_counts, samples):
    v = tt.tl.venn_regions(real_counts, samples)
    labels = real_counts.clonotypes["clonotype"].to_numpy()
    sets = {x: set(labels[real_counts.dense()[real_counts.index(x)] > 0]) for x in samples}
    for key, n in v.regions.items():
        inside = set.intersection(*(sets[x] for x, k in zip(samples, key, strict=True) if k))
        outside = set().union(*(sets[x] for x, k in zip(samples, key, strict=True) if not k))
        assert n == len(inside - outside), key
    for x in samples:
        assert v.totals[x] == len(sets[x])
        assert sum(n for key, n in v.regions.items() if key[samples.index(x)]) == len(sets[x])
    assert len(v.to_frame()) == 2 ** len(samples) - 1


def test_venn_needs_two_or_three_samples(real_counts):
    with pytest.raises(ValueError, match="needs 2 or 3 samples, got 1"):
        tt.tl.venn_regions(real_counts, ["lt6"])


# ---------------------------------------------------------------- random tables (hypothesis)
POOL = ["TGTGCCAGCAGC" + "".join(p) + "TTC" for p in itertools.product("ACGT", repeat=3)][:12]

contig = st.tuples(
    st.integers(0, 2),  # sample
    st.integers(0, 7),  # cell
    st.sampled_from(["TRB", "TRB", "TRA"]),
    st.sampled_from(POOL),
    st.integers(1, 4),  # umis
    st.integers(1, 50),  # reads
)


def write_10x(rows: list[tuple], path: Path, sample: int) -> bool:
    mine = [r for r in rows if r[0] == sample]
    if not mine:
        return False
    frame = pd.DataFrame(
        {
            "barcode": [f"C{r[1]}-1" for r in mine],
            "is_cell": "True",
            "contig_id": [f"C{r[1]}-1_contig_{i}" for i, r in enumerate(mine)],
            "high_confidence": "True",
            "length": 500,
            "chain": [r[2] for r in mine],
            "v_gene": "TRBV1",
            "d_gene": "None",
            "j_gene": "TRBJ1-1",
            "c_gene": "TRBC1",
            "full_length": "True",
            "productive": "True",
            "cdr3": [tt_translate(r[3]) for r in mine],
            "cdr3_nt": [r[3] for r in mine],
            "reads": [r[5] for r in mine],
            "umis": [r[4] for r in mine],
            "raw_clonotype_id": "None",
            "raw_consensus_id": "None",
        }
    )
    frame.to_csv(path, index=False)
    return True


def tt_translate(nt: str) -> str:
    import pyarrow as pa

    from tcrtrack._translate import translate

    return translate(pa.array([nt])).to_pylist()[0]


def naive_from_rows(rows: list[tuple], sample: int, multichain: str) -> dict[str, set[str]]:
    by_cell: dict[str, list[tuple]] = {}
    for r in rows:
        if r[0] == sample and r[2] == "TRB":
            by_cell.setdefault(f"C{r[1]}-1", []).append(r)
    out = {}
    for cell, group in by_cell.items():
        seqs = {r[3] for r in group}
        if multichain == "all":
            out[cell] = seqs
        elif multichain == "drop":
            if len(seqs) == 1:
                out[cell] = seqs
        else:
            out[cell] = {max((r[4], r[5], r[3]) for r in group)[2]}
    return out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(contig, min_size=1, max_size=40),
    multichain=st.sampled_from(["primary", "all", "drop"]),
)
def test_sharing_equals_naive_on_random_tables(tmp_path_factory, rows, multichain):
    tmp = tmp_path_factory.mktemp("random")
    tables, names = [], []
    for i in range(3):
        path = tmp / f"s{i}.csv"
        if write_10x(rows, path, i):
            tables.append(tt.io.read_10x(path, sample=f"s{i}"))
            names.append(i)
    counts = tt.tl.clonotypes(tt.pp.concat(tables), tt.tl.ClonotypeSpec(multichain=multichain))
    cells = {f"s{i}": naive_from_rows(rows, i, multichain) for i in names}
    for i in names:
        assert int(counts.totals()[f"s{i}"]) == len(cells[f"s{i}"])
    if len(names) < 2:
        return
    ref = f"s{names[0]}"
    result = tt.tl.sharing(counts, reference=ref).table
    for i in names[1:]:
        expected = naive_sharing(cells, ref, f"s{i}")
        got = {k: int(result.loc[f"s{i}", k]) for k in expected}
        assert got == expected
    # the QC ledger balances: every row read is kept or dropped for one reason
    summary = counts.qc.summary()
    for name in summary.index:
        row = summary.loc[name]
        dropped = sum(int(row[c]) for c in summary.columns if c.startswith("dropped_"))
        assert int(row["read"]) == int(row["kept"]) + dropped
