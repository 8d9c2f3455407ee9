"""``tt.cohort`` and ``tcrtrack cohort``: every number of the store and of its queries equals a
plain recount of the files, and a build that fails leaves the store as it was.

The cohort: the bone-marrow-transplant series (10 immunoSEQ v2 files, patient BMT1) and the
lung-cancer patient's three 10x files (P6). The recounts start from the raw files
(``naive_immunoseq``, ``naive_10x`` of tests/naive.py: pandas, the junction cut by hand, the 10x
cell rules written out) and use Python sets and dicts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from naive import naive_10x, naive_immunoseq, naive_translate
from tcrtrack.cli import main
from tcrtrack.errors import ClusterError, FormatError, InputError

ROOT = Path(__file__).parents[1]
BMT = ROOT / "examples" / "data" / "bmt"
SHARING = Path(__file__).parent / "data" / "sharing"
BMT_SAMPLES = [
    "TRB_Unsorted_0",
    "TRB_Unsorted_32",
    "TRB_Unsorted_83",
    "TRB_CD8_CMV_369",
    "TRB_Unsorted_369",
    "TRB_CD4_949",
    "TRB_CD8_949",
    "TRB_Unsorted_949",
    "TRB_Unsorted_1320",
    "TRB_Unsorted_1496",
]
TENX = ["lb6", "ln6", "lt6"]


def write_sheet(
    folder: Path, samples: list[tuple[str, str, Path]], name: str = "sheet.tsv"
) -> Path:
    lines = ["patient\tsample\ttimepoint\tpath\tunit"]
    for i, (patient, sample, path) in enumerate(samples):
        unit = "reads" if patient == "BMT1" else ""
        lines.append(f"{patient}\t{sample}\t{i}\t{path}\t{unit}")
    sheet = folder / name
    sheet.write_text("\n".join(lines) + "\n")
    return sheet


def cohort_samples() -> list[tuple[str, str, Path]]:
    return [("BMT1", x, BMT / f"{x}.tsv.gz") for x in BMT_SAMPLES] + [
        ("P6", x, SHARING / f"{x}.csv.gz") for x in TENX
    ]


@pytest.fixture(scope="module")
def naive() -> dict[str, dict[str, int]]:
    """Per sample: junction nucleotides -> count (reads for BMT1, cells for P6)."""
    out = {x: naive_immunoseq(BMT / f"{x}.tsv.gz") for x in BMT_SAMPLES}
    out.update({x: naive_10x(SHARING / f"{x}.csv.gz") for x in TENX})
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tt.cohort.Store:
    folder = tmp_path_factory.mktemp("cohort")
    sheet = write_sheet(folder, cohort_samples())
    return tt.cohort.build(sheet, folder / "store", partitions=5, workers=1).store


def patient_of(sample: str) -> str:
    return "P6" if sample in TENX else "BMT1"


def sorted_rows(store: tt.cohort.Store) -> pd.DataFrame:
    rows = store.rows()
    return rows.sort_values(["sample", "junction", "v_call", "j_call"]).reset_index(drop=True)


# ------------------------------------------------------------------ the store
def test_every_row_of_the_store_equals_a_recount_of_the_files(built, naive):
    rows = built.rows()
    assert list(rows.columns) == [
        "sample",
        "patient",
        "junction",
        "junction_aa",
        "v_call",
        "j_call",
        "count",
        "unit",
    ]
    # one row per sample x clonotype (junction, V, J)
    assert not rows.duplicated(["sample", "junction", "v_call", "j_call"]).any()
    per = rows.groupby(["sample", "junction"])["count"].sum()
    for sample, counts in naive.items():
        assert per.loc[sample].to_dict() == counts, sample
    assert set(rows["sample"]) == set(naive)
    assert (rows["patient"] == rows["sample"].map(patient_of)).all()
    assert (rows["unit"] == rows["sample"].map(lambda x: "cells" if x in TENX else "reads")).all()
    assert all(
        naive_translate(nt) == aa
        for nt, aa in zip(rows["junction"], rows["junction_aa"], strict=False)
    )
    totals = built.samples.set_index("sample")["total"]
    assert totals.to_dict() == {x: sum(c.values()) for x, c in naive.items()}


def test_a_clonotype_lives_in_one_partition(built):
    seen: dict[str, int] = {}
    for p in range(built.partitions):
        for f in built.files(p):
            assert Path(f).parent.name == f"part={p:03d}"
            for aa in pd.read_parquet(f, columns=["junction_aa"])["junction_aa"]:
                assert seen.setdefault(aa, p) == p
    assert len(set(seen.values())) == built.partitions  # every partition is used


def test_the_qc_ledger_of_each_sample_is_kept(built):
    ledger = built.qc("TRB_Unsorted_0")
    direct = tt.tl.clonotypes(
        tt.io.read(BMT / "TRB_Unsorted_0.tsv.gz", sample="TRB_Unsorted_0"),
        tt.tl.ClonotypeSpec(genes="vj"),
    ).qc
    assert ledger.to_frame().equals(direct.to_frame())
    assert set(built.qc().samples()) == set(BMT_SAMPLES) | set(TENX)


def test_a_process_pool_builds_the_same_store(built, tmp_path):
    sheet = write_sheet(tmp_path, cohort_samples())
    pooled = tt.cohort.build(sheet, tmp_path / "store", partitions=5, workers=2)
    assert pooled.engine == "local"
    pd.testing.assert_frame_equal(sorted_rows(pooled.store), sorted_rows(built))


def test_a_small_build_runs_on_threads_a_large_one_on_processes(built, tmp_path, monkeypatch):
    import concurrent.futures

    from tcrtrack.cohort import _store

    started = []

    class Refused(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            started.append(args)
            raise RuntimeError("no process pool expected")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Refused)
    sheet = write_sheet(tmp_path, cohort_samples())
    small = tt.cohort.build(sheet, tmp_path / "small", partitions=5, workers=2)
    assert started == []  # the files hold far less than LOCAL_PROCESSES_MIN_BYTES
    pd.testing.assert_frame_equal(sorted_rows(small.store), sorted_rows(built))
    monkeypatch.setattr(_store, "LOCAL_PROCESSES_MIN_BYTES", 0)
    with pytest.raises(RuntimeError, match="no process pool expected"):
        tt.cohort.build(sheet, tmp_path / "large", partitions=5, workers=2)
    assert len(started) == 1


@pytest.mark.parametrize("genes", ["none", "v"])
def test_query_of_amino_acid_clonotypes_goes_to_their_partitions_only(built, genes):
    # every clonotype of one sample, asked by label: each goes to its own partition's task
    by_sample = tt.cohort.query(built, sample="lb6", genes=genes, workers=1)
    labels = [*by_sample.table["clonotype"].tolist()[::7], "CASSNOTINTHESTOREF"]
    if genes == "v":
        labels[-1] = "TRBV5-1|CASSNOTINTHESTOREF"
    asked = tt.cohort.query(built, clonotypes=labels, genes=genes, workers=2)
    expected = by_sample.table.set_index("clonotype").reindex(labels).fillna(0)
    got = asked.table.set_index("clonotype")
    assert got.index.tolist() == labels
    cols = ["n_repertoires", "n_patients", "max_frequency", "mean_frequency"]
    pd.testing.assert_frame_equal(got[cols], expected[cols], check_dtype=False)
    assert got.loc[labels[-1], "n_repertoires"] == 0
    from tcrtrack.cohort._query import _route

    routed = _route(built, labels, "aa", genes, exact=True)
    assert sum(len(v) for v in routed.values()) == len(labels)  # each to one partition


def test_query_labels_typed_with_alleles_or_reordered_ties_find_the_gene_level_rows(built):
    by_sample = tt.cohort.query(built, sample="lb6", genes="vj", workers=1).table
    plain = by_sample["clonotype"].head(40).tolist()

    def typed(label: str) -> str:  # as a user might copy it: an allele, the ties reversed
        v, seq, j = label.split("|")
        v = ",".join(f"{g}*01" for g in reversed(v.split(",")))
        return f"{v}|{seq}|{j}*02"

    asked = tt.cohort.query(built, clonotypes=[typed(x) for x in plain], genes="vj", workers=1)
    assert asked.table["clonotype"].tolist() == plain  # listed in the store's form
    cols = ["n_repertoires", "n_patients", "max_frequency"]
    expected = by_sample.set_index("clonotype").loc[plain, cols]
    pd.testing.assert_frame_equal(asked.table.set_index("clonotype")[cols], expected)
    assert (asked.table["n_repertoires"] >= 1).all()


def test_adding_samples_later_writes_new_files_only(built, tmp_path):
    first = write_sheet(tmp_path, cohort_samples()[:6], "first.tsv")
    store = tmp_path / "store"
    tt.cohort.build(first, store, partitions=5, workers=1)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.rglob("*.parquet")}
    both = write_sheet(tmp_path, cohort_samples(), "all.tsv")
    result = tt.cohort.build(both, store, workers=1)
    assert result.skipped == tuple(BMT_SAMPLES[:6])
    assert result.added == tuple(BMT_SAMPLES[6:] + TENX)
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.rglob("*.parquet")}
    assert all(after[p] == v for p, v in before.items())
    assert result.store.n_batches == 2
    pd.testing.assert_frame_equal(sorted_rows(result.store), sorted_rows(built))


# ------------------------------------------------------------------ queries
def naive_sets(naive, sequence):
    if sequence == "nt":
        return {x: set(c) for x, c in naive.items()}
    return {x: {naive_translate(nt) for nt in c} for x, c in naive.items()}


@pytest.mark.parametrize("sequence", ["nt", "aa"])
def test_overlap_equals_pairwise_set_intersections(built, naive, sequence):
    ov = tt.cohort.overlap(built, sequence=sequence, workers=1)
    sets = naive_sets(naive, sequence)
    for a in sets:
        for b in sets:
            inter = len(sets[a] & sets[b])
            assert ov.shared.loc[a, b] == inter, (a, b)
            assert ov.jaccard.loc[a, b] == pytest.approx(inter / len(sets[a] | sets[b]))
    assert ov.n_clonotypes.to_dict() == {x: len(v) for x, v in sets.items()}


def test_overlap_with_genes_counts_junction_and_v(built):
    rows = built.rows()
    keys = {
        x: set(zip(g["v_call"].fillna("NA"), g["junction_aa"], strict=False))
        for x, g in rows.groupby("sample")
    }
    ov = tt.cohort.overlap(built, genes="v", workers=1)
    for a in keys:
        for b in keys:
            assert ov.shared.loc[a, b] == len(keys[a] & keys[b])


def test_query_by_sample_counts_repertoires_patients_and_frequencies(built, naive):
    q = tt.cohort.query(built, sample="TRB_Unsorted_32", workers=1)
    aa = {x: {} for x in naive}
    for x, counts in naive.items():
        for nt, n in counts.items():
            key = naive_translate(nt)
            aa[x][key] = aa[x].get(key, 0) + n
    totals = {x: sum(c.values()) for x, c in naive.items()}
    assert set(q.table["clonotype"]) == set(aa["TRB_Unsorted_32"])
    for row in q.table.itertuples():
        holders = [x for x in aa if row.clonotype in aa[x]]
        freqs = [aa[x][row.clonotype] / totals[x] for x in holders]
        assert row.n_repertoires == len(holders)
        assert row.n_patients == len({patient_of(x) for x in holders})
        assert row.max_frequency == pytest.approx(max(freqs))
        assert row.mean_frequency == pytest.approx(sum(freqs) / len(freqs))
    # ordered by the sample's own count
    own = q.table["clonotype"].map(aa["TRB_Unsorted_32"])
    assert own.is_monotonic_decreasing


def test_query_file_of_clonotypes_nt_and_absent(built, naive, tmp_path):
    nts = [*sorted(naive["lb6"])[:5], "TGTGCCAGCAGTTTTTTT"]
    path = tmp_path / "q.tsv"
    pd.DataFrame({"junction": nts, "other": "x"}).to_csv(path, sep="\t", index=False)
    q = tt.cohort.query(built, clonotypes=path, sequence="nt", workers=1)
    assert q.table["clonotype"].tolist() == nts
    for row in q.table.itertuples():
        holders = [x for x in naive if row.clonotype in naive[x]]
        assert row.n_repertoires == len(holders)
    assert q.table.iloc[-1][["n_repertoires", "n_patients", "max_frequency"]].tolist() == [0, 0, 0]


def test_query_cli(built, tmp_path, capsys):
    out = tmp_path / "q.json"
    code = main(
        [
            "cohort",
            "query",
            str(built.path),
            "--sample",
            "lt6",
            "--workers",
            "1",
            "-f",
            "json",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert payload["command"] == "cohort query" and payload["patients"][0]["patient"] is None
    rows = payload["patients"][0]["rows"]
    direct = tt.cohort.query(built, sample="lt6", workers=1).table
    assert [r["n_repertoires"] for r in rows] == direct["n_repertoires"].tolist()
    assert main(["cohort", "query", str(built.path), "--sample", "nope", "--workers", "1"]) == 1
    assert "no sample(s) 'nope' in the store" in capsys.readouterr().err


def test_overlap_cli_tsv(built, tmp_path):
    out = tmp_path / "o.tsv"
    args = ["cohort", "overlap", str(built.path), "--metric", "shared", "--workers", "1"]
    assert main([*args, "-f", "tsv", "-o", str(out)]) == 0
    table = pd.read_csv(out, sep="\t", index_col=0)
    assert table.equals(tt.cohort.overlap(built, workers=1).shared)


# ------------------------------------------------------------------ bad input
def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the store but its lock (which names the last build that held it)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def small_store(tmp_path) -> Path:
    sheet = write_sheet(tmp_path, cohort_samples()[:3], "small.tsv")
    store = tmp_path / "store"
    tt.cohort.build(sheet, store, partitions=3, workers=1)
    return store


def test_a_store_from_a_newer_version_is_refused_and_left_alone(small_store, tmp_path, capsys):
    manifest = small_store / "tcrtrack-store.json"
    data = json.loads(manifest.read_text())
    data["version"] = 99
    manifest.write_text(json.dumps(data))
    before = snapshot(small_store)
    sheet = write_sheet(tmp_path, cohort_samples(), "more.tsv")
    assert main(["cohort", "build", str(sheet), "--out", str(small_store)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "format version 99" in err and "upgrade tcrtrack" in err
    assert snapshot(small_store) == before
    with pytest.raises(FormatError, match="format version 99"):
        tt.cohort.open_store(small_store)


def test_an_unreachable_scheduler_is_one_line_and_no_store(tmp_path, capsys, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr("tcrtrack.cohort._engine.CONNECT_TIMEOUT", 1)
    sheet = write_sheet(tmp_path, cohort_samples()[:2])
    store = tmp_path / "store"
    code = main(
        [
            "cohort",
            "build",
            str(sheet),
            "--out",
            str(store),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot reach the Dask scheduler at 'tcp://127.0.0.1:{port}'" in err
    assert not store.exists()
    monkeypatch.setenv("TCRTRACK_SCHEDULER", f"tcp://127.0.0.1:{port}")
    with pytest.raises(ClusterError, match="cannot reach"):
        tt.cohort.build(sheet, store, workers=1)


def test_a_sheet_path_missing_is_reported_before_any_write(small_store, tmp_path, capsys):
    samples = cohort_samples()
    samples[7] = ("BMT1", "gone", tmp_path / "gone.tsv.gz")
    sheet = write_sheet(tmp_path, samples, "gone.tsv")
    before = snapshot(small_store)
    assert main(["cohort", "build", str(sheet), "--out", str(small_store)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 9: file" in err and "gone.tsv.gz" in err
    assert snapshot(small_store) == before


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_vanishing_half_way_leaves_the_store_unchanged(small_store, tmp_path, workers):
    copies = tmp_path / "copies"
    copies.mkdir()
    samples = []
    for patient, name, path in cohort_samples():
        shutil.copy(path, copies / path.name)
        samples.append((patient, name, copies / path.name))
    sheet = tt.io.read_sheet(write_sheet(tmp_path, samples, "copies.tsv"))
    (copies / "TRB_Unsorted_949.tsv.gz").unlink()  # after the sheet was checked
    before = snapshot(small_store)
    with pytest.raises(InputError, match="TRB_Unsorted_949"):
        tt.cohort.build(sheet, small_store, workers=workers)
    assert snapshot(small_store) == before


def test_a_killed_build_resumes_from_its_finished_tasks(small_store, tmp_path):
    from tcrtrack.cohort import _store

    sheet = write_sheet(tmp_path, cohort_samples(), "all.tsv")
    # what a build killed after its first task leaves: one task's files and record
    job = {
        "store": str(small_store),
        "id": _store.sample_id("TRB_CD8_949"),
        "sample": "TRB_CD8_949",
        "patient": "BMT1",
        "timepoint": 6.0,
        "reference": False,
        "baseline": False,
        "path": str(BMT / "TRB_CD8_949.tsv.gz"),
        "format": None,
        "unit": "reads",
        "locus": "TRB",
        "multichain": "primary",
        "partitions": 3,
        "batch": 2,
        "size": os.stat(BMT / "TRB_CD8_949.tsv.gz").st_size,
        "mtime_ns": os.stat(BMT / "TRB_CD8_949.tsv.gz").st_mtime_ns,
    }
    _store.ingest(job)
    assert tt.cohort.open_store(small_store).n_samples == 3  # not committed
    result = tt.cohort.build(sheet, small_store, workers=1)
    assert result.resumed == ("TRB_CD8_949",)
    assert len(result.added) == 10
    rows = sorted_rows(result.store)
    fresh = tt.cohort.build(sheet, tmp_path / "fresh", partitions=3, workers=1).store
    pd.testing.assert_frame_equal(rows, sorted_rows(fresh))
    assert not (small_store / ".pending").exists() or not any((small_store / ".pending").iterdir())
