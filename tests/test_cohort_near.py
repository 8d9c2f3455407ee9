"""Near matches (``mismatches=1``): every pair the deletion-neighbourhood join finds, and every
count of the store's overlap and query, equals the count of a comparison of all pairs
(``naive_hamming_pairs``, ``naive_near_overlap`` of tests/naive.py), on random cohorts
(hypothesis: short junctions over three letters, so near pairs abound and land in different
hash partitions) and on the real cohort of test_cohort.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcrtrack as tt
from naive import naive_hamming_pairs, naive_hamming_pairs_np, naive_near_overlap
from tcrtrack.cli import main
from tcrtrack.cohort import _near
from test_cohort import cohort_samples, write_sheet

junctions = st.lists(st.text(alphabet="ACG", min_size=1, max_size=5), max_size=25)


@settings(max_examples=150, deadline=None)
@given(left=junctions, right=junctions)
def test_near_pairs_are_the_pairs_at_hamming_distance_at_most_one(left, right):
    li, ri = _near.near_pairs(pa.array(left), None, pa.array(right), None)
    found = set(zip(li.tolist(), ri.tolist(), strict=True))
    assert len(found) == len(li)  # each pair once
    assert found == naive_hamming_pairs(left, right)


@settings(max_examples=100, deadline=None)
@given(
    left=st.lists(st.tuples(st.sampled_from("VW"), st.text("AC", min_size=1, max_size=4))),
    right=st.lists(st.tuples(st.sampled_from("VW"), st.text("AC", min_size=1, max_size=4))),
)
def test_near_pairs_with_genes_require_the_same_gene(left, right):
    li, ri = _near.near_pairs(
        pa.array([s for _, s in left], pa.string()),
        pa.array([g for g, _ in left], pa.string()),
        pa.array([s for _, s in right], pa.string()),
        pa.array([g for g, _ in right], pa.string()),
    )
    expected = {
        (i, j)
        for i, j in naive_hamming_pairs([s for _, s in left], [s for _, s in right])
        if left[i][0] == right[j][0]
    }
    assert set(zip(li.tolist(), ri.tolist(), strict=True)) == expected


@settings(max_examples=150, deadline=None)
@given(
    samples=st.lists(
        st.lists(st.text(alphabet="ACG", min_size=1, max_size=6), unique=True, max_size=20),
        min_size=1,
        max_size=4,
    )
)
def test_the_two_families_count_every_pair_once(samples):
    seqs = [x for s in samples for x in s]
    sample = np.repeat(np.arange(len(samples)), [len(s) for s in samples])
    n = len(samples)
    a = _near.pair_counts(pa.array(seqs, pa.string()), None, sample, n, family="A")
    b = _near.pair_counts(pa.array(seqs, pa.string()), None, sample, n, family="B")
    whole = _near.pair_counts(pa.array(seqs, pa.string()), None, sample, n)
    expected = np.array(naive_near_overlap(samples))
    off = ~np.eye(n, dtype=bool)
    assert (whole[off] == expected[off]).all()
    assert ((a + b)[off] == expected[off]).all()


def assert_pair_counts_are_all_pairs(sets: list[list[str]]) -> None:
    """pair_counts of the samples ``sets`` (whole, and families A + B) off the diagonal equal
    the comparison of all pairs."""
    seqs = [x for s in sets for x in s]
    n = len(sets)
    sample = np.repeat(np.arange(n), [len(s) for s in sets])
    expected = np.array(naive_near_overlap(sets))
    off = ~np.eye(n, dtype=bool)
    counts = _near.pair_counts(pa.array(seqs), None, sample, n)
    assert (counts[off] == expected[off]).all()
    family = sum(_near.pair_counts(pa.array(seqs), None, sample, n, family=f) for f in "AB")
    assert (family[off] == expected[off]).all()


def test_a_hash_collision_is_caught_by_the_verification(monkeypatch):
    # weights all 1: a key is the sum of the letters, so anagrams collide
    monkeypatch.setattr(_near, "_WEIGHTS", np.ones(4096, dtype=np.uint64))
    rng = np.random.default_rng(0)
    sets = [sorted({"".join(rng.choice(list("ACGT"), 5)) for _ in range(60)}) for _ in range(3)]
    assert_pair_counts_are_all_pairs(sets)
    li, ri = _near.near_pairs(pa.array(sets[0]), None, pa.array(sets[1]), None)
    assert set(zip(li.tolist(), ri.tolist(), strict=True)) == naive_hamming_pairs(*sets[:2])


@pytest.mark.parametrize("small", [0, 2, 64], ids=["all-sparse", "mixed", "all-listed"])
def test_large_and_small_groups_are_counted_alike(monkeypatch, small):
    # junctions of four letters over "AC" in four samples: groups of up to 4 × 2 members per
    # deletion key and of 4 per identical junction; below `small` members a group's pairs are
    # listed and counted by bincount, above it by a sparse product
    monkeypatch.setattr(_near, "_SMALL_GROUP", small)
    rng = np.random.default_rng(1)
    sets = [sorted({"".join(rng.choice(list("AC"), 4)) for _ in range(12)}) for _ in range(4)]
    assert_pair_counts_are_all_pairs(sets)


# ------------------------------------------------------------------ random stores
CODONS = {"A": ("GCT", "GCC"), "G": ("GGT", "GGC"), "S": ("TCT", "AGC")}
AIRR_HEADER = (
    "sequence_id\tsequence\trev_comp\tproductive\tv_call\td_call\tj_call\tsequence_alignment\t"
    "germline_alignment\tjunction\tjunction_aa\tv_cigar\td_cigar\tj_cigar\tlocus\tduplicate_count"
)

clonotype = st.tuples(
    st.lists(st.tuples(st.sampled_from("AGS"), st.integers(0, 1)), min_size=1, max_size=5),
    st.sampled_from(["TRBV1", "TRBV2"]),
    st.integers(1, 9),
)


def write_airr(path: Path, rows: list[tuple[list[tuple[str, int]], str, int]]) -> None:
    lines = [AIRR_HEADER]
    for k, (letters, v, count) in enumerate(rows):
        aa = "".join(a for a, _ in letters)
        nt = "".join(CODONS[a][c] for a, c in letters)
        lines.append(f"r{k}\t\tF\tT\t{v}\t\tTRBJ1\t\t\t{nt}\t{aa}\t\t\t\tTRB\t{count}")
    path.write_text("\n".join(lines) + "\n")


def naive_sets(rows: pd.DataFrame, names: list[str], seq: str, genes: bool) -> list[list[str]]:
    key = (rows["v_call"] + "#" + rows[seq]) if genes else rows[seq]
    return [sorted(set(key[rows["sample"] == x])) for x in names]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cohort=st.lists(st.lists(clonotype, min_size=1, max_size=25), min_size=2, max_size=4),
    partitions=st.integers(1, 7),
)
def test_store_overlap_and_query_equal_all_pairs(tmp_path_factory, cohort, partitions):
    folder = tmp_path_factory.mktemp("near")
    entries = []
    for i, rows in enumerate(cohort):
        write_airr(folder / f"s{i}.tsv", rows)
        entries.append((f"P{i % 2}", f"s{i}", folder / f"s{i}.tsv"))
    sheet = write_sheet(folder, entries)
    store = tt.cohort.build(sheet, folder / "store", partitions=partitions, workers=1).store
    rows = store.rows()
    names = list(store.samples["sample"])
    for sequence, genes in [("aa", "none"), ("nt", "none"), ("aa", "v")]:
        column = "junction_aa" if sequence == "aa" else "junction"
        ov = tt.cohort.overlap(store, sequence=sequence, genes=genes, mismatches=1, workers=1)
        expected = naive_near_overlap(naive_sets(rows, names, column, genes == "v"))
        assert ov.shared.to_numpy().tolist() == expected, (sequence, genes)
        assert ov.n_clonotypes.tolist() == [expected[i][i] for i in range(len(names))]
    assert not (store.path / ".scratch").exists()  # the shuffle's files are removed
    # query: the first sample's clonotypes, each against every sample's rows
    q = tt.cohort.query(store, sample="s0", mismatches=1, workers=1)
    totals = store.samples.set_index("sample")["total"]
    own = sorted(set(rows.loc[rows["sample"] == "s0", "junction_aa"]))
    assert sorted(q.table["clonotype"]) == own
    for c in own:
        near = rows[[bool(naive_hamming_pairs([x], [c])) for x in rows["junction_aa"]]]
        per = near.groupby("sample")["count"].sum()
        got = q.hits[q.hits["clonotype"] == c].set_index("sample")
        assert got["count"].to_dict() == per.to_dict()
        assert np.allclose(got["frequency"], per / totals[per.index])
        line = q.table.set_index("clonotype").loc[c]
        assert line["n_repertoires"] == len(per)
        assert line["n_patients"] == near["patient"].nunique()


# ------------------------------------------------------------------ the real cohort
@pytest.fixture(scope="module")
def real(tmp_path_factory) -> tt.cohort.Store:
    folder = tmp_path_factory.mktemp("near-real")
    sheet = write_sheet(folder, cohort_samples())
    return tt.cohort.build(sheet, folder / "store", partitions=5, workers=1).store


@pytest.mark.parametrize(("sequence", "genes"), [("aa", "none"), ("nt", "v"), ("aa", "vj")])
def test_real_cohort_near_overlap_equals_all_pairs(real, sequence, genes):
    rows = real.rows()
    names = list(real.samples["sample"])
    column = "junction_aa" if sequence == "aa" else "junction"
    if genes == "vj":
        rows = rows.assign(v_call=rows["v_call"].fillna("NA") + "|" + rows["j_call"].fillna("NA"))
    else:
        rows = rows.assign(v_call=rows["v_call"].fillna("NA"))
    ov = tt.cohort.overlap(real, sequence=sequence, genes=genes, mismatches=1, workers=1)
    expected = naive_near_overlap(naive_sets(rows, names, column, genes != "none"))
    assert ov.shared.to_numpy().tolist() == expected
    exact = tt.cohort.overlap(real, sequence=sequence, genes=genes, workers=1).shared
    assert (ov.shared.to_numpy() > exact.to_numpy()).any()  # near pairs exist in real data


def test_real_cohort_near_query_counts_neighbours(real, tmp_path):
    rows = real.rows()
    query = ["CASSLGQAYEQYF", "CASSPAGAYYNEQFF", "CASSLQGREKLFF"]
    q = tt.cohort.query(real, clonotypes=query, mismatches=1, workers=1)
    aa = rows["junction_aa"].tolist()
    for c in query:
        hits = {i for i, _ in naive_hamming_pairs(aa, [c])}
        near = rows.iloc[sorted(hits)]
        line = q.table.set_index("clonotype").loc[c]
        assert line["n_repertoires"] == near["sample"].nunique()
        assert line["n_patients"] == near["patient"].nunique()
    # the same through the command line, as JSON
    out = tmp_path / "q.json"
    path = tmp_path / "clonotypes.tsv"
    path.write_text("junction_aa\n" + "\n".join(query) + "\n")
    args = ["cohort", "query", str(real.path), "--clonotypes", str(path), "--mismatches", "1"]
    assert main([*args, "--workers", "1", "-f", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert "1 mismatch" in json.dumps(data)
    assert "CASSLGQAYEQYF" in json.dumps(data)


def test_overlap_cli_near_matches_and_jaccard_refused(real, tmp_path, capsys):
    out = tmp_path / "near.tsv"
    args = ["cohort", "overlap", str(real.path), "--mismatches", "1", "--workers", "1"]
    assert main([*args, "-f", "tsv", "-o", str(out)]) == 0
    api = tt.cohort.overlap(real, mismatches=1, workers=1).shared
    assert pd.read_csv(out, sep="\t", index_col=0).equals(api)
    assert main([*args, "--metric", "jaccard"]) != 0
    assert "--metric shared" in capsys.readouterr().err


# ------------------------------------------------------------------ share --mismatches 1
def naive_near_share(ref: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    """The *_1mm counts of a sample against the reference, comparing every pair."""
    r, o = list(ref), list(other)
    pairs = naive_hamming_pairs_np(o, r)
    shared = {o[i] for i, _ in pairs}
    detected = {r[j] for _, j in pairs}
    return {
        "n_shared_1mm": len(shared),
        "n_cells_shared_1mm": sum(other[x] for x in shared),
        "n_reference_clonotypes_detected_1mm": len(detected),
        "n_reference_cells_detected_1mm": sum(ref[x] for x in detected),
    }


@pytest.mark.parametrize("sequence", ["nt", "aa"])
def test_share_mismatches_counts_every_pair_as_a_recount_does(sequence, tmp_path):
    from naive import naive_10x, naive_translate
    from test_cohort import SHARING, TENX

    counts = {x: naive_10x(SHARING / f"{x}.csv.gz") for x in TENX}
    if sequence == "aa":  # cells of the nucleotide clonotypes with one translation, added
        counts = {
            x: pd.Series(c).groupby(lambda nt: naive_translate(nt)).sum().to_dict()
            for x, c in counts.items()
        }
    out = tmp_path / "share.json"
    files = [str(SHARING / f"{x}.csv.gz") for x in TENX]
    args = ["share", *files, "--sequence", sequence, "--mismatches", "1", "--ci", "0"]
    assert main([*args, "-f", "json", "-o", str(out)]) == 0
    (block,) = json.loads(out.read_text())["patients"]
    rows = {r["sample"]: r for r in block["rows"]}
    ref = counts[TENX[0]]
    for name in TENX[1:]:
        expected = naive_near_share(ref, counts[name])
        got = {k: rows[name][k] for k in expected}
        assert got == expected, name
        assert rows[name]["n_shared_1mm"] > rows[name]["n_shared"]  # near pairs exist
        n = rows[name]["n_clonotypes"]
        assert rows[name]["frac_clonotypes_shared_1mm"] == pytest.approx(got["n_shared_1mm"] / n)
