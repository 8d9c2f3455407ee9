"""Two builds of one store at the same time: the second is refused with one line naming the
lock (``STORE/.lock``), the store is left as the first build makes it, and nothing is lost."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

import tcrtrack as tt
from tcrtrack.cli import main
from test_cohort import cohort_samples, sorted_rows, write_sheet

HOLD = """
import sys
from pathlib import Path
from tcrtrack.cohort._store import lock
with lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_a_build_while_another_holds_the_lock_is_refused(tmp_path, capsys):
    samples = cohort_samples()
    store = tmp_path / "store"
    tt.cohort.build(write_sheet(tmp_path, samples[:2], "a.tsv"), store, partitions=3, workers=1)
    manifest = (store / "tcrtrack-store.json").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        sheet = write_sheet(tmp_path, samples[:4], "b.tsv")
        assert main(["cohort", "build", str(sheet), "--out", str(store), "--workers", "1"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "another build is writing this store" in err
        assert f"lock {store / '.lock'} held by pid {holder.pid}" in err
        assert (store / "tcrtrack-store.json").read_bytes() == manifest  # left alone
        assert tt.cohort.open_store(store).n_samples == 2
    finally:
        holder.communicate("")  # the holder ends; its lock goes with it
    result = tt.cohort.build(sheet, store, workers=1)
    assert result.added == tuple(x for _, x, _ in samples[2:4])


def test_two_builds_at_once_never_lose_a_sample(tmp_path):
    samples = cohort_samples()
    store = tmp_path / "store"
    halves = [samples[: len(samples) // 2], samples[len(samples) // 2 :]]
    sheets = [write_sheet(tmp_path, h, f"half{k}.tsv") for k, h in enumerate(halves)]
    args = ["cohort", "build", "--out", str(store), "--partitions", "3", "--workers", "1"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tcrtrack", *args, str(sheet)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for sheet in sheets
    ]
    results = [(p.communicate(timeout=600)[1], p.returncode) for p in procs]
    results = [(code, err) for err, code in results]
    built = []
    for (code, err), half in zip(results, halves, strict=True):
        assert code in (0, 1), err
        if code == 1:
            assert "another build is writing this store" in err
            assert err.count("\n") == 1
        else:
            built += [x for _, x, _ in half]
    st = tt.cohort.open_store(store)
    assert sorted(st.samples["sample"]) == sorted(built)  # every committed build is whole
    st.rows()  # every file the manifest lists is there and readable
    for (code, _), sheet in zip(results, sheets, strict=True):
        if code == 1:  # the refused build, run again, adds its samples
            tt.cohort.build(sheet, store, workers=1)
    both = tt.cohort.open_store(store)
    one_go = tt.cohort.build(
        write_sheet(tmp_path, samples, "all.tsv"), tmp_path / "one", partitions=3, workers=1
    ).store
    pd.testing.assert_frame_equal(sorted_rows(both), sorted_rows(one_go))
