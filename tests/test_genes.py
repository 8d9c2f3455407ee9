"""Gene calls compared as genes (issue 14, item 10): gene level by default, alleles on request,
tied genes as a set; every normalisation counted in the ledger; figures against naive counts."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from naive import naive_gene_set, naive_immunoseq_keys, naive_mixcr_keys
from tcrtrack._genes import canonical_call, compare_form
from tcrtrack.cli import main
from tcrtrack.errors import ParameterError

DATA = Path(__file__).parent / "data"
DAY_83 = DATA / "stats" / "TRB_Unsorted_83.tsv.gz"
DAY_949 = DATA / "stats" / "TRB_Unsorted_949.tsv.gz"
MIXCR = DATA / "bulk" / "TRB-Pt-1-8_S150.clones.txt.gz"


@pytest.mark.parametrize(
    "call, alleles, want",
    [
        ("TRBV14*01", False, "TRBV14"),
        ("TRBV14*01", True, "TRBV14*01"),
        ("TRBV14", False, "TRBV14"),
        ("TRBV12-4,TRBV12-3", False, "TRBV12-3,TRBV12-4"),
        ("TRBV12-3,TRBV12-4", False, "TRBV12-3,TRBV12-4"),
        ("TRBV12-3*01,TRBV12-3*02", False, "TRBV12-3"),
        ("TRBV12-3*02,TRBV12-3*01", True, "TRBV12-3*01,TRBV12-3*02"),
        ("TRBV12-3, TRBV6-2", False, "TRBV6-2,TRBV12-3"),
        ("TRAV29/DV5*01", False, "TRAV29/DV5"),
        ("unresolved", False, "unresolved"),
    ],
    ids=[
        "allele-removed",
        "allele-kept",
        "gene",
        "ties-reordered",
        "ties-sorted-already",
        "alleles-of-one-gene-merge",
        "allele-ties-sorted",
        "numbers-in-numeric-order",
        "slash-is-part-of-the-name",
        "unresolved-kept",
    ],
)
def test_canonical_call(call, alleles, want):
    assert canonical_call(call, alleles=alleles)[0] == want


_GENES = st.sampled_from(["TRBV6-2", "TRBV6-3", "TRBV12-3", "TRBV12-4", "TRBV20-1", "TRAV29/DV5"])
_CALLS = st.lists(
    st.tuples(_GENES, st.sampled_from(["", "*01", "*02"])), min_size=1, max_size=3
).map(lambda parts: ",".join(g + a for g, a in parts))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _CALLS), max_size=30), st.booleans())
def test_compare_form_equals_naive(calls, alleles):
    (out,), changed = compare_form([pa.array(calls, pa.string())], alleles=alleles)
    got = out.to_pylist()
    # two calls get the same form exactly when their gene sets are equal
    for a, fa in zip(calls, got, strict=True):
        assert (fa is None) == (a is None)
        for b, fb in zip(calls, got, strict=True):
            if a is not None and b is not None:
                same = naive_gene_set(a, alleles=alleles) == naive_gene_set(b, alleles=alleles)
                assert (fa == fb) == same
    removed = sum(1 for c in calls if c is not None and not alleles and "*" in c)
    assert changed["allele_removed"] == removed
    for c, f in zip(calls, got, strict=True):
        if c is not None:
            assert set(f.split(",")) == naive_gene_set(c, alleles=alleles)


def test_spec_alleles_needs_genes():
    with pytest.raises(ParameterError, match=r"alleles=True .* genes is 'none'; set genes='v'"):
        tt.tl.ClonotypeSpec(alleles=True)
    assert str(tt.tl.ClonotypeSpec(genes="vj", alleles=True)) == (
        "TRB junction nucleotides + V and J alleles, multichain=primary"
    )


def _keys(path: Path, spec: tt.tl.ClonotypeSpec, sample: str) -> set[str]:
    counts = tt.tl.clonotypes(tt.io.read(path, sample=sample), spec)
    return set(counts.clonotypes["clonotype"])


def _naive_shared(a: dict, b: dict) -> int:
    return len(set(a) & set(b))


# two exports of one immunoSEQ series: day 83 without alleles, day 949 with (TCRBV14-01*01)
@pytest.mark.parametrize(
    "genes, alleles, want",
    [("none", False, 71), ("v", False, 64), ("vj", False, 64), ("vj", True, 0)],
    ids=["junction", "v", "vj", "vj-alleles"],
)
def test_immunoseq_series_shares_at_gene_level(genes, alleles, want):
    spec = tt.tl.ClonotypeSpec(genes=genes, alleles=alleles)
    shared = len(_keys(DAY_83, spec, "d83") & _keys(DAY_949, spec, "d949"))
    naive = _naive_shared(
        naive_immunoseq_keys(DAY_83, genes=genes, alleles=alleles),
        naive_immunoseq_keys(DAY_949, genes=genes, alleles=alleles),
    )
    assert shared == naive == want


def test_immunoseq_series_unmatched_are_different_calls():
    """The 7 junctions shared but not under --genes vj: 5 whose V is a tied set on one day and
    one of its genes on the other (sets match only when equal), 2 with different V genes."""
    a = naive_immunoseq_keys(DAY_83, genes="v")
    b = naive_immunoseq_keys(DAY_949, genes="v")
    by_junction_a = {k[0]: k[1] for k in a}
    pairs = [(by_junction_a[k[0]], k[1]) for k in b if k[0] in by_junction_a and k not in a]
    assert len(pairs) == 7
    subset = [p for p in pairs if p[0] < p[1] or p[1] < p[0]]
    assert len(subset) == 5


def test_immunoseq_ledger_counts_allele_removed():
    contigs = tt.io.read(DAY_949, sample="d949")
    counts = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(genes="vj"))
    ledger = tt.qc(counts)
    rows = _naive_rows_kept(DAY_949)
    removed = sum(1 for r in rows if "*" in r["vMaxResolved"] + r["jMaxResolved"])
    assert ledger.count("d949", reason="allele_removed") == removed == 831
    assert ledger.count("d949", reason="allele_removed", action="dropped") == 0
    # gene level is the default, alleles on request: nothing removed then
    alleles = tt.tl.clonotypes(contigs, tt.tl.ClonotypeSpec(genes="vj", alleles=True))
    assert tt.qc(alleles).count("d949", reason="allele_removed") == 0
    # no gene compared: no gene entry at all
    assert tt.qc(tt.tl.clonotypes(contigs)).count("d949", reason="allele_removed") == 0


def _naive_rows_kept(path: Path, *, productive: bool = True) -> list[dict[str, str]]:
    """The rows of an immunoSEQ v2 export the clonotype stage sees: productive (``In``)."""
    import csv

    text = gzip.decompress(path.read_bytes()).decode().splitlines()
    rows = list(csv.DictReader(text, delimiter="\t"))
    return [r for r in rows if r["sequenceStatus"] == "In" or not productive]


def test_immunoseq_unresolved_v_becomes_its_tied_genes():
    contigs = tt.io.read(DAY_949, sample="d949")
    rows = {r["nucleotide"]: r for r in _naive_rows_kept(DAY_949)}
    assert "unresolved" not in set(contigs["v_call"].dropna().astype(str))
    tied = contigs[contigs["v_call"].astype(str).str.contains(",")]
    assert len(tied) > 0
    assert set(tied["v_call"].astype(str)) >= {"TRBV3-1,TRBV3-2", "TRBV6-2,TRBV6-3"}
    unresolved = [r for r in rows.values() if r["vMaxResolved"] == "unresolved"]
    assert all(r["vGeneNameTies"] for r in unresolved)
    ledger = tt.qc(contigs)
    all_rows = _naive_rows_kept(DAY_949, productive=False)
    from_ties = sum(
        1
        for r in all_rows
        if any(r[f"{s}MaxResolved"] == "unresolved" and r[f"{s}GeneNameTies"] for s in "vdj")
    )
    assert ledger.count("d949", reason="gene_from_ties") == from_ties == 433


# MiXCR lists tied hits in an order that varies between runs
def _reversed_hits(tmp_path: Path) -> Path:
    """The real MiXCR export with every hit list in reverse order (another run's order)."""
    lines = gzip.decompress(MIXCR.read_bytes()).decode().splitlines()
    header = lines[0].split("\t")
    at = [header.index(c) for c in ("allVHits", "allDHits", "allJHits", "allVGenes")]
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split("\t")
        for k in at:
            fields[k] = ",".join(reversed(fields[k].split(",")))
        out.append("\t".join(fields))
    path = tmp_path / "reversed.clones.txt"
    path.write_text("\n".join(out) + "\n")
    return path


def test_mixcr_tied_hits_in_any_order_match(tmp_path):
    other = _reversed_hits(tmp_path)
    spec = tt.tl.ClonotypeSpec(genes="vj")
    a, b = _keys(MIXCR, spec, "a"), _keys(other, spec, "b")
    naive = naive_mixcr_keys(MIXCR, genes="vj")
    assert naive == naive_mixcr_keys(other, genes="vj")
    assert a == b
    assert len(a) == len(naive) == 585
    # the first hit alone (the former rule) loses the clones whose ties come in another order
    first = [_first_hits(path) for path in (MIXCR, other)]
    assert len(first[0] & first[1]) == FIRST_HIT_SHARED


#: Clonotypes the two orders share when each call is its first hit (the former rule).
FIRST_HIT_SHARED = 482


def _first_hits(path: Path) -> set[tuple[str, str, str]]:
    """Productive (junction, first V hit, first J hit) of a MiXCR export, by hand."""
    import csv

    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode().splitlines()
    out = set()
    for r in csv.DictReader(text, delimiter="\t"):
        nt, aa = r["nSeqCDR3"], r["aaSeqCDR3"]
        if not re.search(r"[*_]", aa) and len(nt) == 3 * len(aa):
            out.add((nt, r["allVHits"].split(",")[0], r["allJHits"].split(",")[0]))
    return out


def test_mixcr_ledger_counts_ties_sorted(tmp_path):
    other = _reversed_hits(tmp_path)
    spec = tt.tl.ClonotypeSpec(genes="vj")
    for path in (MIXCR, other):
        contigs = tt.io.read(path, sample="m")
        counts = tt.tl.clonotypes(contigs, spec)
        kept = tt.pp.filter_contigs(contigs)
        want = 0
        for v, j in zip(kept["v_call"].astype(str), kept["j_call"].astype(str), strict=True):
            want += any(
                call.split(",") != sorted(set(call.split(",")), key=_natural) for call in (v, j)
            )
        assert tt.qc(counts).count("m", reason="gene_ties_sorted") == want > 0


def _natural(gene: str) -> list[object]:
    return [(1, int(p)) if p.isdigit() else (0, p) for p in re.split(r"(\d+)", gene)]


def test_vdjtools_and_mixcr_of_the_same_clones_agree_with_genes():
    spec = tt.tl.ClonotypeSpec(genes="vj")
    a = tt.tl.clonotypes(tt.io.read(DATA / "formats" / "vdjtools_Pt-1-8.txt", sample="s"), spec)
    b = tt.tl.clonotypes(tt.io.read(MIXCR, sample="s"), spec)
    assert a.clonotypes["clonotype"].tolist() == b.clonotypes["clonotype"].tolist()
    assert (a.matrix != b.matrix).nnz == 0


def test_cli_alleles(tmp_path, capsys):
    other = _reversed_hits(tmp_path)
    args = ["share", str(MIXCR), str(other), "--format", "tsv"]
    assert main([*args, "--genes", "vj"]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = rows[0].split("\t")
    assert rows[1].split("\t")[header.index("n_shared")] == "585"
    assert main([*args, "--genes", "vj", "--alleles"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[1].split("\t")[header.index("n_shared")] == "585"  # MiXCR *00: no allele
    assert main([*args, "--alleles"]) == 2
    err = capsys.readouterr().err
    assert "--alleles compares the alleles of gene calls: add --genes v or vj" in err


def test_cohort_store_holds_the_compared_form(tmp_path):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        f"patient\tsample\ttimepoint\tpath\nP1\td83\t83\t{DAY_83}\nP1\td949\t949\t{DAY_949}\n"
    )
    store = tt.cohort.build(sheet, tmp_path / "store", partitions=4, workers=1).store
    for genes, want in (("none", 71), ("vj", 64)):
        overlap = tt.cohort.overlap(store, sequence="nt", genes=genes, workers=1)
        assert int(overlap.shared.loc["d83", "d949"]) == want
    # a query file with alleles finds the clonotypes stored at gene level
    hits = tt.cohort.query(store, sample="d949", sequence="nt", genes="vj", workers=1).hits
    row = hits[hits["sample"] == "d949"].iloc[0]
    v, junction, j = row["clonotype"].split("|")
    query = tmp_path / "q.tsv"
    query.write_text(f"junction\tv_call\tj_call\n{junction}\t{v}*01\t{j}*01\n")
    found = tt.cohort.query(store, clonotypes=query, sequence="nt", genes="vj", workers=1)
    assert found.table["clonotype"].tolist() == [row["clonotype"]]
    assert int(found.table["n_repertoires"].iloc[0]) >= 1


def test_background_store_refuses_alleles(tmp_path):
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(f"patient\tsample\ttimepoint\tpath\nP1\td83\t83\t{DAY_83}\n")
    store = tt.cohort.build(sheet, tmp_path / "store", partitions=2, workers=1).store
    counts = tt.tl.clonotypes(
        tt.io.read(DAY_949, sample="d949"), tt.tl.ClonotypeSpec(genes="vj", alleles=True)
    )
    with pytest.raises(ParameterError, match=r"at gene level .*\(leave out --alleles\)"):
        tt.cohort.background(counts, reference="d949", store=store, workers=1)


def test_compared_codes_are_compare_form_and_number_chains_alike():
    import numpy as np

    from tcrtrack._genes import compared_codes
    from tcrtrack.tl._chains import chain_codes

    v = pa.array(["TRBV14*01", "TRBV12-4,TRBV12-3", None, "TRBV14", "TRBV12-3,TRBV12-4*01"])
    j = pa.array(["TRBJ1-1*01", "TRBJ2-7", "TRBJ2-7", "TRBJ1-1", None])
    (v2, j2), changed = compare_form([v, j])
    coded, changed_codes = compared_codes([v, j])
    assert changed_codes == changed
    (v_codes, v_names), (j_codes, j_names) = coded
    assert v_names == ["TRBV14", "TRBV12-3,TRBV12-4"]  # merged forms once each
    assert [v_names[c] if c >= 0 else None for c in v_codes] == v2.to_pylist()
    assert [j_names[c] if c >= 0 else None for c in j_codes] == j2.to_pylist()
    seq = np.array([0, 1, 1, 0, 1])
    by_codes = chain_codes(seq, [(v_codes, len(v_names)), (j_codes, len(j_names))])
    assert by_codes.tolist() == [0, 1, 2, 0, 3]
