"""Where the cohort tasks run: a local process pool, or a Dask cluster.

Both engines take the same picklable task function and arguments and yield ``(index,
result)`` pairs as tasks finish, so the local run is the test of the cluster run. A task
raising a :class:`~tcrtrack.errors.TcrtrackError` re-raises it in the caller unchanged (Dask
pickles the exception); a worker lost in the middle of a task is Dask's business (it reruns
the task elsewhere, up to its ``allowed-failures``), and the tasks are written so a rerun is
harmless (:mod:`tcrtrack.cohort._store`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tcrtrack.errors import ClusterError, ParameterError

#: Environment variable naming the Dask scheduler when ``scheduler`` is not given.
SCHEDULER_ENV = "TCRTRACK_SCHEDULER"
#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 10


def scheduler_address(scheduler: str | None) -> str | None:
    """``scheduler``, else ``$TCRTRACK_SCHEDULER``, else None (the local pool)."""
    if scheduler:
        return scheduler
    return os.environ.get(SCHEDULER_ENV) or None


class Engine:
    """Run tasks on a local process pool (``scheduler`` None) or a Dask cluster.

    Use as a context manager; the connection to the cluster (or the pool) is opened on entry,
    so an unreachable scheduler fails before any work is done.
    """

    def __init__(
        self, scheduler: str | None = None, *, workers: int | None = None, threads: bool = False
    ) -> None:
        if workers is not None and workers < 1:
            msg = f"workers must be at least 1, got {workers!r}"
            raise ParameterError(msg)
        self.address = scheduler_address(scheduler)
        self.workers = workers
        #: run local tasks on threads of this process instead of a process pool: for tasks
        #: that spend their time in Arrow (which releases the GIL) and finish in milliseconds,
        #: where starting processes would cost more than the work (queries)
        self.threads = threads
        self._client: Any = None
        self._pool: Any = None

    @property
    def kind(self) -> str:
        return "dask" if self.address else "local"

    def __enter__(self) -> Engine:
        if self.address:
            self._client = connect(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection or the pool; a pool waits for its running tasks."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def map(self, func: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """``(i, func(items[i]))`` for every item, in the order the tasks finish."""
        if not items:
            return
        if self._client is not None:
            yield from self._map_dask(func, items)
            return
        n = min(self.workers or os.cpu_count() or 1, len(items))
        if n == 1:  # one worker: run in this process, nothing to start
            for i, item in enumerate(items):
                yield i, func(item)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed

        if self._pool is None:
            self._pool = (
                ThreadPoolExecutor(n)
                if self.threads
                else ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
            )
        futures = {self._pool.submit(func, item): i for i, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def _map_dask(
        self, func: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        futures = self._client.map(func, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            with self._client.as_current():
                finished = as_completed(futures)
            for future in finished:
                try:
                    result = future.result()
                except KilledWorker as e:
                    msg = (
                        f"Dask scheduler {self.address}: workers died while running a task "
                        f"({e}); check the workers' memory limit and logs, then rerun (work "
                        "already written is kept)"
                    )
                    raise ClusterError(msg) from None
                yield index[future.key], result
        finally:
            self._client.cancel(futures)


def connect(address: str) -> Any:
    """A ``distributed.Client`` connected to ``address``, or a :class:`ClusterError`."""
    try:
        from distributed import Client
    except ImportError:
        msg = (
            f"a Dask scheduler was given ({address}) but dask.distributed is not installed; "
            "pip install 'tcrtrack[cohort]', or unset --scheduler / TCRTRACK_SCHEDULER to run "
            "on local processes"
        )
        raise ClusterError(msg) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        msg = (
            f"cannot reach the Dask scheduler at {address!r} ({type(e).__name__}: {e}); start "
            "one (dask scheduler), check the address and port, or unset --scheduler / "
            f"{SCHEDULER_ENV} to run on local processes"
        )
        raise ClusterError(msg) from None
