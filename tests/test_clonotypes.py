"""Clonotype definitions (locus, sequence, genes, multichain) against a naive implementation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcrtrack as tt

DATA = Path(__file__).parent / "data" / "sharing"
PATH = tt.datasets.path("pbmc3_t_filtered")


def usable_rows(path: Path, column: str = "cdr3_nt") -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    ok = (
        raw["is_cell"].str.lower().eq("true")
        & raw["high_confidence"].str.lower().eq("true")
        & raw["productive"].str.lower().eq("true")
        & ~raw[column].isin(["", "None"])
    )
    rows = raw[ok].copy()
    rows["umis"] = rows["umis"].astype(int)
    rows["reads"] = rows["reads"].astype(int)
    return rows


def naive_primary(rows: pd.DataFrame, locus: str, key: list[str]) -> dict[str, tuple]:
    """barcode -> key of its primary chain of ``locus`` (most UMIs, reads, larger sequence)."""
    out = {}
    seq = key[0]
    for barcode, group in rows[rows["chain"] == locus].groupby("barcode"):
        best = max(
            group.itertuples(index=False),
            key=lambda r: (r.umis, r.reads, getattr(r, seq)),
        )
        out[barcode] = tuple(getattr(best, k) for k in key)
    return out


def counts_by_label(cc: tt.tl.CloneCounts, sample: str) -> Counter:
    row = cc.dense()[cc.index(sample)]
    labels = cc.clonotypes["clonotype"].to_numpy()
    return Counter({labels[i]: int(n) for i, n in enumerate(row) if n})


@pytest.mark.parametrize(
    ("locus", "sequence", "genes"),
    [
        ("TRB", "nt", "none"),
        ("TRA", "nt", "none"),
        ("TRB", "aa", "none"),
        ("TRB", "nt", "v"),
        ("TRB", "aa", "vj"),
    ],
    ids=["trb-nt", "tra-nt", "trb-aa", "trb-nt-v", "trb-aa-vj"],
)
def test_single_locus_definitions_equal_naive(locus, sequence, genes):
    column = "cdr3_nt" if sequence == "nt" else "cdr3"
    rows = usable_rows(PATH, column)
    key = [column] + {"none": [], "v": ["v_gene"], "vj": ["v_gene", "j_gene"]}[genes]
    primary = naive_primary(rows, locus, key)

    def label(k: tuple) -> str:
        if genes == "none":
            return k[0]
        if genes == "v":
            return f"{k[1]}|{k[0]}"
        return f"{k[1]}|{k[0]}|{k[2]}"

    expected = Counter(label(k) for k in primary.values())
    spec = tt.tl.ClonotypeSpec(locus=locus, sequence=sequence, genes=genes)
    cc = tt.tl.clonotypes(tt.io.read_10x(PATH, sample="s"), spec)
    assert counts_by_label(cc, "s") == expected
    assert int(cc.totals()["s"]) == len(primary)
    # the cells table agrees with the counts
    assert set(cc.cells["cell_id"]) == set(primary)


def test_paired_definition_equals_naive():
    rows = usable_rows(PATH)
    tra = naive_primary(rows, "TRA", ["cdr3_nt"])
    trb = naive_primary(rows, "TRB", ["cdr3_nt"])
    both = sorted(set(tra) & set(trb))
    expected = Counter(f"{tra[b][0]}+{trb[b][0]}" for b in both)
    cc = tt.tl.clonotypes(tt.io.read_10x(PATH, sample="s"), tt.tl.ClonotypeSpec(locus="TRA+TRB"))
    assert counts_by_label(cc, "s") == expected
    assert int(cc.totals()["s"]) == len(both)
    # cells lacking one of the two chains are counted in the ledger
    filtered_cells = tt.pp.filter_contigs(tt.io.read_10x(PATH, sample="s"))["cell_id"].nunique()
    without = cc.qc.count("s", reason="cell_without_locus_chain", counted="cells")
    assert without == filtered_cells - len(both)
    assert without >= len(set(tra) ^ set(trb))


def test_multichain_drop_excludes_cells_with_two_different_chains():
    rows = usable_rows(PATH)
    trb = rows[rows["chain"] == "TRB"]
    distinct = trb.groupby("barcode")["cdr3_nt"].nunique()
    kept = distinct[distinct == 1].index
    cc = tt.tl.clonotypes(tt.io.read_10x(PATH, sample="s"), tt.tl.ClonotypeSpec(multichain="drop"))
    assert int(cc.totals()["s"]) == len(kept)
    assert cc.qc.count("s", reason="cell_with_extra_chains", counted="cells") == int(
        (distinct > 1).sum()
    )


@pytest.mark.parametrize("multichain", ["primary", "all", "drop"])
def test_ledger_accounts_for_every_contig_and_cell(multichain):
    contigs = tt.io.read_10x(PATH, sample="s")
    cc = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(multichain=multichain))
    summary = cc.qc.summary().loc["s"]
    dropped = sum(int(v) for k, v in summary.items() if k.startswith("dropped_"))
    assert int(summary["read"]) == len(contigs) == int(summary["kept"]) + dropped
    # every barcode that is a cell is either counted or dropped for a stated reason
    cells_with_contigs = tt.pp.filter_contigs(contigs)["cell_id"].nunique()
    accounted = int(cc.totals()["s"]) + sum(
        int(v) for k, v in summary.items() if k.startswith("cells_")
    )
    assert accounted == cells_with_contigs


def test_spec_rejects_unknown_values_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"locus must be one of .*; got 'TRX'"):
        tt.tl.ClonotypeSpec(locus="TRX")  # type: ignore[arg-type]


def test_bulk_table_cannot_be_paired(tmp_path):
    contigs = tt.io.read_10x(PATH, sample="s")
    bulk = contigs.assign(cell_id=pd.array([pd.NA] * len(contigs), dtype="string[pyarrow]"))
    bulk.attrs = contigs.attrs
    with pytest.raises(tt.errors.SchemaError, match="bulk data have no cells"):
        tt.tl.clonotypes(bulk, tt.tl.ClonotypeSpec(locus="TRA+TRB"))


def test_select_keeps_counts_and_cells_consistent():
    tables = [tt.io.read_10x(DATA / f"{x}.csv.gz", sample=x) for x in ("lt6", "lb6", "ln6")]
    cc = tt.tl.clonotypes(tt.pp.concat(tables))
    sub = cc.select(["ln6", "lt6"])
    assert sub.samples == ("ln6", "lt6")
    for x in sub.samples:
        assert counts_by_label(sub, x) == counts_by_label(cc, x)
        assert int(sub.totals()[x]) == int(cc.totals()[x])
    assert sub.n_clonotypes == len(
        set(counts_by_label(cc, "ln6")) | set(counts_by_label(cc, "lt6"))
    )
    adata = sub.to_anndata()
    assert adata.shape == (2, sub.n_clonotypes)
    assert adata.X.sum() == sub.dense().sum()


@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 2)), max_size=60),
)
@settings(max_examples=300, deadline=None)
def test_cell_join_pairs_each_first_locus_chain_with_its_cells_second_in_row_order(rows):
    """The pairing of a paired definition is the inner join on the cell, ordered as the
    first locus' rows, each followed by its partners in row order (a plain double loop)."""
    import numpy as np

    from tcrtrack.tl._clonotypes import _cell_join

    cell = np.array([c for c, _ in rows], dtype=np.int64)
    locus = np.array([x for _, x in rows], dtype=np.int64)
    expected = [
        (i, j)
        for i, (ci, li) in enumerate(rows)
        if li == 0
        for j, (cj, lj) in enumerate(rows)
        if lj == 1 and cj == ci
    ]
    a, b = _cell_join(cell, locus)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == expected
