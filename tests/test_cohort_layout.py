"""The store's layout (format version 2): one Parquet file per partition and build batch, rows
ordered by an exact junction key; queries that span batches equal a recount of the files; an
older store is refused with one line saying how to rebuild it."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import tcrtrack as tt
from naive import naive_translate
from tcrtrack.cli import main
from tcrtrack.cohort import _keys, _store
from tcrtrack.errors import FormatError
from test_cohort import (
    BMT_SAMPLES,
    TENX,
    cohort_samples,
    naive,  # noqa: F401  (a fixture)
    patient_of,
    snapshot,
    sorted_rows,
    write_sheet,
)


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory) -> tt.cohort.Store:
    """The cohort built in two batches: the first 6 samples, then the other 7."""
    folder = tmp_path_factory.mktemp("batches")
    store = folder / "store"
    tt.cohort.build(write_sheet(folder, cohort_samples()[:6], "a.tsv"), store, partitions=4)
    return tt.cohort.build(write_sheet(folder, cohort_samples(), "b.tsv"), store).store


def aa_counts(recount) -> dict[str, dict[str, int]]:
    """Per sample: amino-acid junction -> count, from the nucleotide recount."""
    out: dict[str, dict[str, int]] = {}
    for x, counts in recount.items():
        out[x] = {}
        for nt, n in counts.items():
            aa = naive_translate(nt)
            out[x][aa] = out[x].get(aa, 0) + n
    return out


def test_one_file_per_partition_and_batch(two_batches):
    assert two_batches.n_batches == 2
    files = sorted(p.relative_to(two_batches.path) for p in two_batches.path.rglob("*.parquet"))
    assert [str(f) for f in files] == [
        f"part={p:03d}/b{b:04d}.parquet" for p in range(4) for b in (1, 2)
    ]
    for p in range(4):
        assert [Path(f).name for f in two_batches.files(p)] == ["b0001.parquet", "b0002.parquet"]
    batches = json.loads((two_batches.path / "tcrtrack-store.json").read_text())["batches"]
    assert [b["samples"] for b in batches] == [6, 7]
    assert sum(b["rows"] for b in batches) == two_batches.n_rows == len(two_batches.rows())
    assert not (two_batches.path / ".staging").exists() or not any(
        (two_batches.path / ".staging").iterdir()
    )


def test_a_batch_file_holds_its_batch_samples_ordered_by_junction(two_batches):
    first = {x for _, x, _ in cohort_samples()[:6]}
    for p in range(4):
        for f, expected in zip(two_batches.files(p), (first, None), strict=True):
            table = pq.read_table(f).to_pandas()
            if expected is not None:
                assert set(table["sample"]) == expected
            else:
                assert not set(table["sample"]) & first
            aa = table["junction_aa"].tolist()
            assert aa == sorted(aa)  # the key orders rows by junction
            hi, lo, packed = _keys.junction_keys(aa)
            assert packed.all()
            assert (table["key_hi"].to_numpy(np.uint64) == hi).all()
            assert (table["key_lo"].to_numpy(np.uint64) == lo).all()


@pytest.mark.parametrize("genes", ["none", "v", "vj"])
def test_a_query_spanning_batches_equals_a_recount(two_batches, naive, genes):  # noqa: F811
    rows = two_batches.rows()
    labels = tt.cohort.query(two_batches, sample="lb6", genes=genes, workers=1).table
    wanted = [*labels["clonotype"].tolist()[::3], *rows["junction_aa"].head(20).tolist()]
    if genes != "none":  # labels of the BMT samples too (sample rows of batch 1)
        bmt = rows[rows["sample"] == BMT_SAMPLES[0]].head(20)
        extra = (
            bmt["v_call"].fillna("NA") + "|" + bmt["junction_aa"]
            if genes == "v"
            else bmt["v_call"].fillna("NA")
            + "|"
            + bmt["junction_aa"]
            + "|"
            + bmt["j_call"].fillna("NA")
        )
        wanted = [x for x in wanted if x.count("|") == (1 if genes == "v" else 2)]
        wanted += extra.tolist()
    wanted = list(dict.fromkeys([*wanted, "CASSNOTINTHESTOREF"]))
    q = tt.cohort.query(two_batches, clonotypes=wanted, genes=genes, workers=2)
    # the recount: the store's rows as pandas, labelled by hand
    key = rows["junction_aa"]
    if genes == "v":
        key = rows["v_call"].fillna("NA") + "|" + key
    elif genes == "vj":
        key = rows["v_call"].fillna("NA") + "|" + key + "|" + rows["j_call"].fillna("NA")
    totals = two_batches.samples.set_index("sample")["total"]
    for row in q.table.itertuples():
        held = rows[key == row.clonotype].groupby("sample")["count"].sum()
        assert row.n_repertoires == len(held), row.clonotype
        assert row.n_patients == len({patient_of(x) for x in held.index})
        freqs = held / totals.reindex(held.index)
        assert row.max_frequency == pytest.approx(freqs.max() if len(held) else 0.0)
    assert q.table.set_index("clonotype").loc["CASSNOTINTHESTOREF", "n_repertoires"] == 0


def test_two_batches_equal_one_and_a_recount(two_batches, naive, tmp_path):  # noqa: F811
    one = tt.cohort.build(
        write_sheet(tmp_path, cohort_samples()), tmp_path / "one", partitions=4
    ).store
    pd.testing.assert_frame_equal(sorted_rows(two_batches), sorted_rows(one))
    aa = aa_counts(naive)
    labels = sorted({c for x in aa.values() for c in x})[::11]
    q = tt.cohort.query(two_batches, clonotypes=labels, workers=1).table.set_index("clonotype")
    for c in labels:
        assert q.loc[c, "n_repertoires"] == sum(c in aa[x] for x in aa)
    ov = tt.cohort.overlap(two_batches, workers=1)
    sets = {x: set(v) for x, v in aa.items()}
    for a in sets:
        for b in sets:
            assert ov.shared.loc[a, b] == len(sets[a] & sets[b])
    # a subset of samples reads only their rows, though the files hold others
    sub = tt.cohort.overlap(two_batches, samples=["lb6", BMT_SAMPLES[0]], workers=1)
    assert sub.shared.loc["lb6", BMT_SAMPLES[0]] == len(sets["lb6"] & sets[BMT_SAMPLES[0]])
    assert sub.n_clonotypes.to_dict() == {
        "lb6": len(sets["lb6"]),
        BMT_SAMPLES[0]: len(sets[BMT_SAMPLES[0]]),
    }
    near = tt.cohort.overlap(two_batches, samples=["lb6", "ln6"], mismatches=1, workers=1)
    full = tt.cohort.overlap(two_batches, mismatches=1, workers=1)
    assert near.shared.loc["lb6", "ln6"] == full.shared.loc["lb6", "ln6"]


def test_adding_a_batch_leaves_every_older_file_as_it_was(tmp_path):
    store = tmp_path / "store"
    tt.cohort.build(write_sheet(tmp_path, cohort_samples()[:4], "a.tsv"), store, partitions=3)
    before = {
        p: (p.stat().st_mtime_ns, p.stat().st_size, p.read_bytes())
        for p in store.rglob("*")
        if p.is_file() and p.name not in (".lock", "tcrtrack-store.json")
    }
    result = tt.cohort.build(write_sheet(tmp_path, cohort_samples(), "b.tsv"), store)
    assert result.added == tuple(x for _, x, _ in cohort_samples()[4:])
    for p, value in before.items():
        assert (p.stat().st_mtime_ns, p.stat().st_size, p.read_bytes()) == value, p
    new = {p for p in store.rglob("*.parquet")} - set(before)
    assert {p.name for p in new} == {"b0002.parquet"}


def test_a_query_of_few_clonotypes_reads_few_row_groups(tmp_path, monkeypatch, naive):  # noqa: F811
    monkeypatch.setattr(_store, "ROW_GROUP_ROWS", 100)  # many small row groups
    sheet = write_sheet(tmp_path, cohort_samples())
    store = tt.cohort.build(sheet, tmp_path / "store", partitions=2).store
    from tcrtrack.cohort._query import _row_groups

    aa = aa_counts(naive)
    one = sorted(aa["lt6"])[5]
    f = store.files(_keys.partition_of([one], 2)[0])[0]
    parquet = pq.ParquetFile(f)
    assert parquet.metadata.num_row_groups > 20
    hi, _, _ = _keys.junction_keys([one])
    assert len(_row_groups(parquet, hi)) <= 2  # its key range: one group, two at a border
    q = tt.cohort.query(store, clonotypes=[one], workers=1).table
    assert q.loc[0, "n_repertoires"] == sum(one in aa[x] for x in aa)


def test_junctions_the_key_cannot_hold_are_compared_as_strings(two_batches, naive):  # noqa: F811
    aa = aa_counts(naive)
    some = sorted(aa["TRB_Unsorted_0"])[:30]
    long = "CASS" + "G" * 30 + "F"  # 35 letters: no exact key
    odd = "CASS1F"  # a character the key does not code
    q = tt.cohort.query(two_batches, clonotypes=[*some, long, odd], workers=1).table
    for row in q.itertuples():
        assert row.n_repertoires == sum(row.clonotype in aa[x] for x in aa)


def test_keys_are_exact_and_ordered():
    rng = np.random.default_rng(5)
    letters = np.array(list(string.ascii_uppercase + "*_"))
    words = [
        "".join(rng.choice(letters, size=int(k)))
        for k in rng.integers(0, _keys.KEY_MAX_LETTERS + 1, size=5000)
    ]
    words += ["CASSF", "CASSF", "CASS", "CASSFF", "C" * 24]
    hi, lo, packed = _keys.junction_keys(words)
    assert packed.all()
    order = np.lexsort((lo, hi))
    assert [words[i] for i in order] == sorted(words)
    assert len(set(zip(hi.tolist(), lo.tolist(), strict=True))) == len(set(words))
    _, lo2, packed2 = _keys.junction_keys(["C" * 25, "CASSxF", None])
    assert not packed2.any() and (lo2 == _keys.UNPACKED).all()
    parts = _keys.partition_of(words, 7)
    assert parts.min() >= 0 and parts.max() < 7
    assert (_keys.partition_of(words[:50], 7) == parts[:50]).all()  # a function of the junction


def test_a_store_of_the_older_layout_is_refused_with_the_fix(tmp_path, capsys):
    store = tmp_path / "store"
    tt.cohort.build(write_sheet(tmp_path, cohort_samples()[:2], "a.tsv"), store, partitions=3)
    manifest = store / "tcrtrack-store.json"
    data = json.loads(manifest.read_text())
    data["version"] = 1
    manifest.write_text(json.dumps(data))
    before = snapshot(store)
    sheet = write_sheet(tmp_path, cohort_samples()[:4], "b.tsv")
    assert main(["cohort", "build", str(sheet), "--out", str(store)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "format version 1" in err and "rebuild it" in err and "cohort build SHEET" in err
    assert snapshot(store) == before
    assert main(["cohort", "query", str(store), "--sample", "lb6"]) == 1
    assert "format version 1" in capsys.readouterr().err
    with pytest.raises(FormatError, match=r"format version 1 .*rebuild it"):
        tt.cohort.open_store(store)


def test_every_sample_and_unit_survives_the_merge(two_batches, naive):  # noqa: F811
    rows = two_batches.rows()
    assert set(rows["sample"]) == set(BMT_SAMPLES) | set(TENX)
    assert (rows["unit"] == rows["sample"].map(lambda x: "cells" if x in TENX else "reads")).all()
    per = rows.groupby(["sample", "junction"])["count"].sum()
    for sample, counts in naive.items():
        assert per.loc[sample].to_dict() == counts, sample


@pytest.mark.parametrize("query", [["--sample", "TRB_Unsorted_0"], ["--clonotypes", "CLONOTYPES"]])
def test_a_damaged_store_file_is_one_line_naming_it(tmp_path, capsys, query):
    store = tmp_path / "store"
    tt.cohort.build(write_sheet(tmp_path, cohort_samples()[:4], "a.tsv"), store, partitions=1)
    (damaged,) = store.rglob("*.parquet")
    damaged.write_bytes(damaged.read_bytes()[:100])  # a crashed copy
    labels = tmp_path / "clonotypes.tsv"
    labels.write_text("junction_aa\nCASSLGQAYEQYF\n")
    args = [str(labels) if a == "CLONOTYPES" else a for a in query]
    assert main(["cohort", "query", str(store), *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(damaged) in err and "damaged, truncated or unreadable" in err
    assert "rebuild the store" in err and "Parquet" not in err and "internal error" not in err


def _reference_keys(word: str | None, n: int) -> tuple[int, int, int]:
    """Partition, key_hi and key_lo of one junction, written out in plain Python."""
    mask = (1 << 64) - 1
    raw = (word or "").encode()
    h = 0xCBF29CE484222325
    for byte in raw:
        h = ((h ^ byte) * 0x100000001B3) & mask
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & mask
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & mask
    h ^= h >> 31
    codes = [_keys.KEY_LETTERS.find(c) + 1 for c in (word or "")]
    if word is None or len(word) > _keys.KEY_MAX_LETTERS or 0 in codes:
        return h % n, h, int(_keys.UNPACKED)
    words = [0, 0]
    for j, code in enumerate(codes):
        words[j // 12] |= code << (59 - 5 * (j % 12))
    return h % n, words[0], words[1]


@pytest.mark.parametrize("kind", ["list", "string", "large_string", "sliced", "chunked"])
def test_partition_and_key_equal_a_plain_python_count(kind):
    """The column-at-a-time numpy code routes and keys every junction as the byte-by-byte
    definition does (a changed partition would send queries of an older store's clonotypes
    to the wrong files): lengths 0 to 30, letters outside the key's alphabet, NA."""
    import pyarrow as pa

    rng = np.random.default_rng(11)
    alphabet = np.array(list(string.ascii_uppercase + "*_" + "ax Ä"))
    words: list[str | None] = [
        "".join(rng.choice(alphabet, size=int(k))) for k in rng.integers(0, 31, size=3000)
    ]
    words[::97] = [None] * len(words[::97])
    data: object = words
    if kind in ("string", "large_string"):
        data = pa.array(words, getattr(pa, kind)())
    elif kind == "sliced":
        data, words = pa.array(words, pa.string()).slice(7, 2000), words[7:2007]
    elif kind == "chunked":
        data = pa.chunked_array([pa.array(words[:1000]), pa.array(words[1000:])])
    part, hi, lo = _keys.partitions_and_keys(data, 13)
    expected = np.array([_reference_keys(w, 13) for w in words], dtype=np.uint64)
    assert (part == expected[:, 0].astype(np.int64)).all()
    assert (hi == expected[:, 1]).all() and (lo == expected[:, 2]).all()
    assert (_keys.partition_of(data, 13) == part).all()
    assert part.dtype == np.int64 and hi.dtype == lo.dtype == np.uint64


def test_the_merge_closes_the_staged_files_it_maps(tmp_path, monkeypatch, naive):  # noqa: F811
    """Every staged file the merge memory-maps is closed when the merge is done (an open map
    blocks its deletion on Windows), and the store holds the same rows."""
    import pyarrow as pa

    opened = []
    memory_map = pa.memory_map

    def recording(path, *args, **kwargs):
        mapped = memory_map(path, *args, **kwargs)
        opened.append((path, mapped))
        return mapped

    monkeypatch.setattr(pa, "memory_map", recording)
    store = tmp_path / "store"
    sheet = write_sheet(tmp_path, cohort_samples()[:4], "a.tsv")
    built = tt.cohort.build(sheet, store, partitions=4, workers=1).store  # one process
    monkeypatch.undo()
    assert opened and all(str(path).endswith(".arrow") for path, _ in opened)
    assert [path for path, mapped in opened if not mapped.closed] == []
    assert not list(store.rglob("*.arrow"))  # deleted at the commit
    rows = built.rows()
    per = rows.groupby(["sample", "junction"])["count"].sum()
    for sample in set(rows["sample"]):
        assert per.loc[sample].to_dict() == naive[sample], sample
