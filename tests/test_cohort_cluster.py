"""``tt.cohort`` on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1 (separate processes, as on a SLURM allocation), never an in-process mock.

The cluster run must give the same store and the same query results as the local run, and a
worker killed in the middle of a build must leave no half-written partition: the build still
completes (Dask reruns the lost tasks on the other worker) and nothing written is lost.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import tcrtrack as tt
from tcrtrack.cli import main
from test_cohort import cohort_samples, sorted_rows, write_sheet

DASK = [sys.executable, "-m", "dask"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def start_worker(self) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        args = [*DASK, "worker", self.address, "--nthreads", "1", "--name", f"w{n}"]
        with (self.logs / f"worker{n}.log").open("wb") as log:
            proc = subprocess.Popen(
                [*args, "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(proc)
        return proc

    def n_workers(self) -> int:
        from distributed import Client

        with Client(self.address, timeout=10, set_as_default=False) as client:
            return len(client.scheduler_info()["workers"])

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.n_workers() >= n:
                return
            time.sleep(0.3)
        logs = "\n".join(p.read_text() for p in self.logs.glob("*.log"))
        raise RuntimeError(f"the Dask workers did not start:\n{logs}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    with (logs / "scheduler.log").open("wb") as log:
        scheduler = subprocess.Popen(
            [*DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    c = Cluster(address, scheduler, [], logs)
    try:
        c.start_worker()
        c.start_worker()
        c.wait_for_workers(2)
        yield c
    finally:
        for proc in [*c.workers, scheduler]:
            stop(proc)


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> tt.cohort.Store:
    folder = tmp_path_factory.mktemp("local")
    sheet = write_sheet(folder, cohort_samples())
    return tt.cohort.build(sheet, folder / "store", partitions=5, workers=1).store


@pytest.fixture(scope="module")
def remote(cluster, tmp_path_factory) -> tt.cohort.Store:
    folder = tmp_path_factory.mktemp("remote")
    sheet = write_sheet(folder, cohort_samples())
    result = tt.cohort.build(sheet, folder / "store", partitions=5, scheduler=cluster.address)
    assert result.engine == "dask"
    return result.store


def test_the_cluster_builds_the_same_store(local, remote):
    pd.testing.assert_frame_equal(sorted_rows(remote), sorted_rows(local))
    cols = ["sample", "patient", "n_clonotypes", "total", "unit"]
    pd.testing.assert_frame_equal(remote.samples[cols], local.samples[cols])
    assert remote.qc().to_frame().equals(local.qc().to_frame())


@pytest.mark.parametrize(("sequence", "genes"), [("aa", "none"), ("nt", "vj")])
def test_the_cluster_overlap_equals_the_local_one(local, remote, cluster, sequence, genes):
    a = tt.cohort.overlap(local, sequence=sequence, genes=genes, workers=1)
    b = tt.cohort.overlap(remote, sequence=sequence, genes=genes, scheduler=cluster.address)
    pd.testing.assert_frame_equal(a.shared, b.shared)
    pd.testing.assert_frame_equal(a.jaccard, b.jaccard)


def test_the_cluster_query_equals_the_local_one(local, remote, cluster, monkeypatch):
    a = tt.cohort.query(local, sample="TRB_Unsorted_949", workers=1)
    monkeypatch.setenv("TCRTRACK_SCHEDULER", cluster.address)  # the environment's way
    b = tt.cohort.query(remote, sample="TRB_Unsorted_949")
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.hits, b.hits)


@pytest.mark.parametrize(("sequence", "genes"), [("aa", "none"), ("nt", "v")])
def test_the_cluster_near_overlap_equals_the_local_one(local, remote, cluster, sequence, genes):
    # the two-family shuffle runs as two rounds of tasks on the workers
    a = tt.cohort.overlap(local, sequence=sequence, genes=genes, mismatches=1, workers=1)
    b = tt.cohort.overlap(
        remote, sequence=sequence, genes=genes, mismatches=1, scheduler=cluster.address
    )
    pd.testing.assert_frame_equal(a.shared, b.shared)
    exact = tt.cohort.overlap(local, sequence=sequence, genes=genes, workers=1).shared
    assert (a.shared.to_numpy() > exact.to_numpy()).any()
    assert not (remote.path / ".scratch").exists()


def test_the_cluster_near_query_equals_the_local_one(local, remote, cluster):
    a = tt.cohort.query(local, sample="TRB_Unsorted_949", mismatches=1, workers=1)
    b = tt.cohort.query(remote, sample="TRB_Unsorted_949", mismatches=1, scheduler=cluster.address)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.hits, b.hits)


def test_the_cli_runs_on_the_cluster(remote, cluster, tmp_path, capsys):
    out = tmp_path / "o.tsv"
    args = ["cohort", "overlap", str(remote.path), "--scheduler", cluster.address]
    assert main([*args, "-f", "tsv", "-o", str(out)]) == 0
    local = tt.cohort.overlap(remote, workers=1).jaccard.round(6)
    assert pd.read_csv(out, sep="\t", index_col=0).equals(local)


def test_a_worker_killed_mid_build_loses_nothing(cluster, local, tmp_path):
    # three copies of the cohort under other names: enough tasks to kill a worker among them
    samples = [
        (patient, f"{name}_{k}", path) for k in range(3) for patient, name, path in cohort_samples()
    ]
    sheet = write_sheet(tmp_path, samples)
    store = tmp_path / "store"
    victim = cluster.workers[0]
    code = [
        "import tcrtrack as tt",
        f"tt.cohort.build({str(sheet)!r}, {str(store)!r}, partitions=5,",
        f"                scheduler={cluster.address!r})",
    ]
    build = subprocess.Popen([sys.executable, "-c", "\n".join(code)], stderr=subprocess.PIPE)
    pending = store / ".pending"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (pending.exists() and any(pending.iterdir())):
        time.sleep(0.05)
    n_done_at_kill = len(list(pending.iterdir()))
    os.killpg(victim.pid, signal.SIGKILL)  # the worker dies without a word, mid-task
    victim.wait(timeout=10)
    _, err = build.communicate(timeout=300)
    assert build.returncode == 0, err.decode()
    assert n_done_at_kill < len(samples)  # the kill happened while tasks remained
    result = tt.cohort.open_store(store)
    assert result.n_samples == len(samples)
    rows = result.rows()
    # every committed file is whole (it was read), and the store holds each copy exactly
    for k in range(3):
        copy = rows[rows["sample"].str.endswith(f"_{k}")].copy()
        copy["sample"] = copy["sample"].str.rsplit("_", n=1).str[0]
        copy = copy.sort_values(["sample", "junction", "v_call", "j_call"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(copy, sorted_rows(local))
    assert not list(store.rglob(".*.tmp-*"))  # no temporary file left behind
    cluster.start_worker()  # back to two workers for any later test
    cluster.wait_for_workers(2)
