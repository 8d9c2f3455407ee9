"""The clonotype store: ``tt.cohort.build`` and ``tt.cohort.open_store``.

Layout of a store folder (format version 2)::

    tcrtrack-store.json        the manifest: format version, partitions, hash, clonotype
                               definition, one record per committed sample and per build batch
    part=007/b0003.parquet     the rows of build batch 3 whose junction_aa hashes to partition 7,
                               ordered by junction_aa (by its exact key, see below)
    qc/s1a2b....json           a sample's QC ledger
    .staging/s1a2b....arrow    a finished sample task's rows, one Arrow record batch per
                               partition, until its batch is committed
    .pending/s1a2b....json     the record of a finished sample task not yet committed

A build runs in two rounds of tasks. Round one, a task per sample file: read the file, define
its clonotypes, compute each row's partition and exact key (:mod:`tcrtrack.cohort._keys`) and
write the rows to ``.staging`` (grouped by partition), then the QC ledger, then, last,
the ``.pending`` record. Round two, a task per partition: merge the batch's staged rows of that
partition into one Parquet file ordered by key. Every file is written under a temporary name
and renamed into place when complete (a rename is atomic on a POSIX file system). The driver
commits the batch by rewriting the manifest (again a temporary file renamed into place) once
every task of both rounds has finished. So:

- readers see only the batch files of committed batches, never a half-written one; adding
  samples writes a new batch and never rewrites an older batch's files;
- a task that dies and is rerun (a killed Dask worker) rewrites the same names: harmless;
- a build that fails on bad input removes the uncommitted files of its batch and leaves the
  committed store as it was;
- a build killed outright leaves its finished sample tasks' ``.pending`` records and staged
  rows, and a rerun reuses them (the file must still have the same size and modification
  time), reads only what is left and merges the batch again; samples already committed are
  skipped.

Ordering the rows of a file by key puts the rows of one clonotype side by side and gives each
Parquet row group a narrow key range, so a query reads two integer columns to find its rows
(:func:`tcrtrack.cohort._query.query_partition`) and skips the row groups outside its keys.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import schema as s
from tcrtrack._version import __version__
from tcrtrack.errors import (
    ClusterError,
    EmptyError,
    FormatError,
    InputError,
    ParameterError,
    TcrtrackError,
)

#: What the manifest's ``format`` field says.
STORE_FORMAT: Final = "tcrtrack-cohort-store"
#: The store layout this version writes and reads; a store with another number is refused
#: (1: one Parquet file per sample and partition; 2: one per partition and build batch, rows
#: ordered by an exact junction key).
STORE_VERSION: Final = 2
MANIFEST: Final = "tcrtrack-store.json"
#: The lock file a build holds while it writes the store.
LOCK: Final = ".lock"
#: How a clonotype's partition is computed (recorded in the manifest).
HASH_NAME: Final = "splitmix64(fnv1a64(junction_aa utf-8)) mod partitions"
#: The exact key of a row's amino-acid junction (:mod:`tcrtrack.cohort._keys`), stored after
#: the row's columns; a file's rows are ordered by it.
KEY_HI: Final = "key_hi"
KEY_LO: Final = "key_lo"
#: Folder of staged sample rows (round one of a build) until their batch is committed.
STAGING: Final = ".staging"
#: Rows per Parquet row group of a batch file (each row group's key range is in its
#: statistics, so a query of few clonotypes reads few row groups).
ROW_GROUP_ROWS: Final = 65536
#: The columns of the rows of a store, in order.
ROW_COLUMNS: Final = (
    s.SAMPLE,
    "patient",
    s.JUNCTION,
    s.JUNCTION_AA,
    s.V_CALL,
    s.J_CALL,
    "count",
    "unit",
)
ROW_SCHEMA: Final = pa.schema(
    [
        (s.SAMPLE, pa.string()),
        ("patient", pa.string()),
        (s.JUNCTION, pa.string()),
        (s.JUNCTION_AA, pa.string()),
        (s.V_CALL, pa.string()),
        (s.J_CALL, pa.string()),
        ("count", pa.int64()),
        ("unit", pa.string()),
    ]
)
#: The columns of a batch file: the rows' columns and the key.
FILE_SCHEMA: Final = ROW_SCHEMA.append(pa.field(KEY_HI, pa.uint64())).append(
    pa.field(KEY_LO, pa.uint64())
)
#: The columns of a staged sample (round one; sample, patient and unit are in its record).
STAGE_SCHEMA: Final = pa.schema(
    [FILE_SCHEMA.field(c) for c in FILE_SCHEMA.names if c not in (s.SAMPLE, "patient", "unit")]
)
_DICTIONARY_COLUMNS: Final = [s.SAMPLE, "patient", s.V_CALL, s.J_CALL, "unit"]
_LOCI: Final = ("TRB", "TRA", "TRG", "TRD", "IGH")


@dataclass(frozen=True)
class StoreSample:
    """One committed sample of a store (a row of :attr:`Store.samples`)."""

    id: str
    sample: str
    patient: str
    timepoint: object
    reference: bool
    baseline: bool
    path: str
    unit: str
    n_clonotypes: int
    total: int
    partitions: tuple[int, ...]
    batch: int
    size: int = 0
    mtime_ns: int = 0


@dataclass(frozen=True, eq=False)
class Store:
    """An opened clonotype store (read-only view of its manifest).

    Attributes
    ----------
    path
        The store folder.
    partitions
        Number of hash partitions (fixed when the store was created).
    locus, multichain
        The chain and the rule for cells with two chains of it used to define clonotypes.
    samples
        One row per committed sample: ``id``, ``sample``, ``patient``, ``timepoint``,
        ``reference``, ``baseline``, ``path`` (the file read), ``unit``, ``n_clonotypes``
        (distinct junction + V + J), ``total`` (cells or bulk counts of the sample),
        ``batch`` (the build that added it).
    n_batches
        Number of builds committed.
    """

    path: Path
    partitions: int
    locus: str
    multichain: str
    samples: pd.DataFrame
    n_batches: int
    records: tuple[StoreSample, ...] = field(repr=False, default=())

    @property
    def n_samples(self) -> int:
        return len(self.records)

    @property
    def n_rows(self) -> int:
        """Rows of the store: one per sample × clonotype (junction, V, J)."""
        return int(sum(r.n_clonotypes for r in self.records))

    def files(self, partition: int) -> list[str]:
        """The Parquet files of ``partition``: one per committed build batch with rows in it."""
        batches = sorted({r.batch for r in self.records if partition in r.partitions})
        return [str(part_file(self.path, partition, b)) for b in batches]

    def qc(self, sample: str | None = None) -> Any:
        """The QC ledger of ``sample`` (all samples when None), a :class:`tcrtrack.QCLedger`."""
        from tcrtrack._qc import QCEntry, QCLedger

        entries: list[QCEntry] = []
        for r in self.records:
            if sample is None or r.sample == sample:
                data = json.loads((self.path / "qc" / f"{r.id}.json").read_text())
                entries.extend(QCEntry(**e) for e in data)
        return QCLedger(tuple(entries))

    def rows(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every row of the store as one table (small stores; tests and notebooks)."""
        tables = [read_partition(self, p, columns) for p in range(self.partitions)]
        return pa.concat_tables(tables).to_pandas()

    def __repr__(self) -> str:
        return (
            f"Store({str(self.path)!r}, {self.n_samples} samples of "
            f"{self.samples['patient'].nunique() if len(self.samples) else 0} patients, "
            f"{self.n_rows} rows, {self.partitions} partitions, {self.locus})"
        )

    def _repr_html_(self) -> str:
        return f"<p><b>{self!r}</b></p>" + self.samples.drop(columns=["path"]).to_html()


def part_file(store: Path, partition: int, batch: int) -> Path:
    """The file of build batch ``batch``'s rows of ``partition``."""
    return store / f"part={partition:03d}" / f"b{batch:04d}.parquet"


def staged_file(store: Path, sample_id: str) -> Path:
    """The staged rows of a sample whose batch is not committed yet."""
    return store / STAGING / f"{sample_id}.arrow"


def sample_id(name: str) -> str:
    """A short file-name-safe id of a sample name (stable across builds)."""
    return "s" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:16]


def read_partition(store: Store, partition: int, columns: Sequence[str] | None = None) -> pa.Table:
    """The rows of one partition (committed batches only)."""
    return read_files(store.files(partition), ROW_COLUMNS if columns is None else columns)


@contextlib.contextmanager
def store_file(path: str | os.PathLike[str]) -> Iterator[None]:
    """Around the reading of one of the store's Parquet files: a damaged, truncated or unreadable
    file is a :class:`FormatError` naming it and the fix, not Arrow's own message."""
    try:
        yield
    except (OSError, pa.ArrowException) as e:
        if isinstance(e, TcrtrackError):
            raise
        msg = (
            f"{path}: a file of the clonotype store is damaged, truncated or unreadable; "
            "restore it from a backup, or rebuild the store into a new folder "
            "(tcrtrack cohort build SHEET --out NEW_STORE)"
        )
        raise FormatError(msg) from None


def read_files(
    files: Sequence[str], columns: Sequence[str], samples: Sequence[str] | None = None
) -> pa.Table:
    """The ``columns`` of batch files, only the rows of ``samples`` when given."""
    import pyarrow.parquet as pq

    schema = pa.schema([FILE_SCHEMA.field(c) for c in columns])
    if not files:
        return schema.empty_table()
    wanted = list(dict.fromkeys([*columns, *([s.SAMPLE] if samples is not None else [])]))
    parts = []
    for f in files:
        with store_file(f):
            parts.append(pq.read_table(f, columns=wanted))
    table = pa.concat_tables(parts)
    if samples is not None:
        keep = pc.is_in(table.column(s.SAMPLE), value_set=pa.array(list(samples), pa.string()))
        table = table.filter(keep)
    return table.select(list(columns))


# ---------------------------------------------------------------- lock
@contextlib.contextmanager
def lock(root: Path) -> Any:
    """Hold the store's lock (``STORE/.lock``) for a build, or fail at once.

    An advisory ``flock`` on the lock file: the operating system releases it when the build's
    process ends, however it ends, so a killed build never leaves the store locked. A second
    build of the same store while the first runs would read the same manifest and commit over
    the first's samples; it is refused with an :class:`~tcrtrack.errors.InputError` naming the
    lock and the build holding it.
    """
    import fcntl
    import socket

    path = root / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            msg = (
                f"{root}: another build is writing this store (lock {path} held by {holder}); "
                "wait for it to finish and run this build again (samples it adds are then "
                "skipped), or build into another store"
            )
            raise InputError(msg) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}".encode(),
            0,
        )
        yield path
    finally:
        os.close(fd)  # closing the file releases the lock


# ---------------------------------------------------------------- manifest
def _manifest_path(store: Path) -> Path:
    return store / MANIFEST


def _read_manifest(store: Path) -> dict[str, Any] | None:
    path = _manifest_path(store)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        msg = f"{path}: cannot read the store's manifest ({e}); is {store} a tcrtrack store?"
        raise FormatError(msg) from None
    if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
        msg = f"{path}: not a tcrtrack clonotype store manifest (no format {STORE_FORMAT!r})"
        raise FormatError(msg)
    version = data.get("version")
    if not isinstance(version, int) or version > STORE_VERSION:
        msg = (
            f"{store}: the store has format version {version!r}, written by tcrtrack "
            f"{data.get('written_by', '?')}; this tcrtrack ({__version__}) reads versions up to "
            f"{STORE_VERSION}: upgrade tcrtrack (pip install -U tcrtrack)"
        )
        raise FormatError(msg)
    if version < STORE_VERSION:
        msg = (
            f"{store}: the store has format version {version!r} (one file per sample and "
            f"partition), written by tcrtrack {data.get('written_by', '?')}; this tcrtrack "
            f"({__version__}) reads version {STORE_VERSION} (one file per partition and build): "
            "rebuild it from its sheet into a new folder (tcrtrack cohort build SHEET --out "
            "NEW_STORE)"
        )
        raise FormatError(msg)
    return data


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default))
    os.replace(tmp, path)


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def open_store(path: str | os.PathLike[str]) -> Store:
    """Open a clonotype store written by :func:`build`.

    Raises
    ------
    tcrtrack.errors.InputError
        ``path`` is not a folder with a store manifest.
    tcrtrack.errors.FormatError
        The manifest is not a store's, or the store was written by a newer tcrtrack.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> tt.cohort.open_store("no/such/store")
    Traceback (most recent call last):
    ...
    tcrtrack.errors.InputError: no/such/store: no clonotype store here ...
    """
    root = Path(path)
    data = _read_manifest(root)
    if data is None:
        msg = (
            f"{root}: no clonotype store here (no {MANIFEST}); build one with "
            "tcrtrack cohort build SHEET --out STORE"
        )
        raise InputError(msg)
    return _store_from(root, data)


def _store_from(root: Path, data: dict[str, Any]) -> Store:
    records = tuple(
        StoreSample(**{**r, "partitions": tuple(r["partitions"])}) for r in data["samples"]
    )
    columns = [
        "id",
        "sample",
        "patient",
        "timepoint",
        "reference",
        "baseline",
        "path",
        "unit",
        "n_clonotypes",
        "total",
        "batch",
    ]
    table = pd.DataFrame([{c: getattr(r, c) for c in columns} for r in records], columns=columns)
    return Store(
        path=root,
        partitions=int(data["partitions"]),
        locus=str(data["locus"]),
        multichain=str(data["multichain"]),
        samples=table,
        n_batches=len(data["batches"]),
        records=records,
    )


# ---------------------------------------------------------------- the tasks
def ingest(job: dict[str, Any]) -> dict[str, Any]:
    """Round one of a build, a task per sample: read the sample's file, stage its rows for the
    merge and write its QC ledger; return its record.

    The file is parsed to an Arrow table by its format's reader and digested by the engine,
    with no pandas table of the rows (:func:`tcrtrack.cohort._rows.sample_rows`: a bulk
    file's rows straight from the digest, others through :func:`tcrtrack.tl.clonotypes`).
    Runs on a worker (local thread or process, or Dask). Memory: the one file.
    """
    from tcrtrack.cohort._keys import partitions_and_keys
    from tcrtrack.cohort._rows import sample_rows

    root = Path(job["store"])
    rows_of = sample_rows(job)
    unit, columns, values = rows_of.unit, rows_of.columns, rows_of.counts
    n = len(values)
    if n == 0:
        msg = (
            f"{job['path']}: sample {job['sample']!r} has no {job['locus']} clonotype after "
            "filtering; check the file (tcrtrack inspect), or leave it out of the sheet"
        )
        raise EmptyError(msg)
    part, hi, lo = partitions_and_keys(columns[s.JUNCTION_AA], job["partitions"])
    # the merge orders each partition by key; partitions (at most 4096) sort as 16-bit
    # integers, which numpy's stable sort sorts by radix (the same order)
    order = np.argsort(part.astype(np.int16), kind="stable")
    rows = pa.record_batch(
        [*columns.values(), pa.array(values), pa.array(hi), pa.array(lo)], schema=STAGE_SCHEMA
    ).take(pa.array(order))
    bounds = np.searchsorted(part[order], np.arange(job["partitions"] + 1))
    final = staged_file(root, job["id"])
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, STAGE_SCHEMA) as writer:
        for p in range(job["partitions"]):  # record batch p: the rows of partition p
            writer.write_batch(rows.slice(int(bounds[p]), int(bounds[p + 1] - bounds[p])))
    os.replace(tmp, final)
    (root / "qc").mkdir(exist_ok=True)
    _write_json(
        root / "qc" / f"{job['id']}.json",
        [dataclasses.asdict(e) for e in rows_of.qc.entries],
    )
    record = {
        "id": job["id"],
        "sample": job["sample"],
        "patient": job["patient"],
        "timepoint": job["timepoint"],
        "reference": job["reference"],
        "baseline": job["baseline"],
        "path": job["path"],
        "unit": unit,
        "n_clonotypes": n,
        "total": int(values.sum()),
        "partitions": np.flatnonzero(np.diff(bounds)).tolist(),
        "batch": job["batch"],
        "size": job["size"],
        "mtime_ns": job["mtime_ns"],
    }
    (root / ".pending").mkdir(exist_ok=True)
    _write_json(root / ".pending" / f"{job['id']}.json", record)
    return record


def merge(job: dict[str, Any]) -> int:
    """Round two of a build, a task per partition: the batch's staged rows of the partition,
    ordered by key (then by sample, in the batch's order), written as one Parquet file.
    Returns the rows written. Memory: one partition of one batch."""
    import pyarrow.parquet as pq

    root = Path(job["store"])
    p = int(job["partition"])
    table, sample = _staged_rows(root, [x[0] for x in job["samples"]], p)

    def labels(field: int) -> pa.DictionaryArray:
        names = [x[field] for x in job["samples"]]
        code = {name: i for i, name in enumerate(dict.fromkeys(names))}
        lut = np.array([code[x] for x in names], dtype=np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(lut[sample]), pa.array(list(code)))

    out = pa.table(
        {
            s.SAMPLE: labels(1),
            "patient": labels(2),
            **{c: table.column(c) for c in (s.JUNCTION, s.JUNCTION_AA, s.V_CALL, s.J_CALL)},
            "count": table.column("count"),
            "unit": labels(3),
            KEY_HI: table.column(KEY_HI),
            KEY_LO: table.column(KEY_LO),
        }
    )
    final = part_file(root, p, int(job["batch"]))
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    pq.write_table(
        out,
        tmp,
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=_DICTIONARY_COLUMNS,
        write_statistics=[s.JUNCTION_AA, KEY_HI, KEY_LO],
        # the keys, sorted, as deltas and not compressed: 4 times faster to read than with
        # snappy, for 3 bytes a row more (docs/performance.md, "The clonotype store")
        column_encoding={KEY_HI: "DELTA_BINARY_PACKED", KEY_LO: "DELTA_BINARY_PACKED"},
        compression={c: "none" if c in (KEY_HI, KEY_LO) else "snappy" for c in out.column_names},
        store_schema=False,  # sample, patient and unit read back as strings
    )
    os.replace(tmp, final)
    return out.num_rows


def _staged_rows(root: Path, ids: list[str], p: int) -> tuple[pa.Table, np.ndarray]:
    """The staged rows of partition ``p`` of the samples ``ids``, ordered by key (then by
    sample, in the order of ``ids``), and each row's sample (its position in ``ids``).

    The staged files are memory-mapped and closed before this returns: the one copy of their
    rows is the ordered table (``take``), and no array of the result refers to a map, so the
    commit can delete the staged files right after the merge (an open map blocks deletion on
    Windows)."""
    with contextlib.ExitStack() as maps:
        batches, owner = [], []
        for k, sid in enumerate(ids):
            source = maps.enter_context(pa.memory_map(str(staged_file(root, sid))))
            batch = pa.ipc.open_file(source).get_batch(p)
            if batch.num_rows:
                batches.append(batch)
                owner.append(np.full(batch.num_rows, k, dtype=np.int32))
        table = pa.Table.from_batches(batches, schema=STAGE_SCHEMA).combine_chunks()
        hi = to_numpy_u64(table.column(KEY_HI))
        lo = to_numpy_u64(table.column(KEY_LO))
        order = np.lexsort((lo, hi))  # stable: equal keys stay in the batch's sample order
        return table.take(pa.array(order)), np.concatenate(owner)[order]


def to_numpy_u64(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A uint64 column without nulls as a numpy array (no copy for one chunk)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.uint64)


# ---------------------------------------------------------------- build
@dataclass(frozen=True)
class BuildResult:
    """What :func:`build` did.

    Attributes
    ----------
    store
        The store after the build.
    added
        Samples read and committed by this build.
    resumed
        Samples of ``added`` whose files an earlier, interrupted build had already written.
    skipped
        Samples of the sheet already in the store (not read again).
    engine
        ``"local"`` or ``"dask"``.
    seconds
        Wall time of the build.
    """

    store: Store
    added: tuple[str, ...]
    resumed: tuple[str, ...]
    skipped: tuple[str, ...]
    engine: str
    seconds: float

    def __repr__(self) -> str:
        return (
            f"BuildResult({len(self.added)} added ({len(self.resumed)} resumed), "
            f"{len(self.skipped)} skipped, {self.engine}, {self.seconds:.1f} s; {self.store!r})"
        )


def build(
    sheet: Any,
    out: str | os.PathLike[str],
    *,
    partitions: int = 16,
    locus: str = "TRB",
    multichain: str = "primary",
    scheduler: str | None = None,
    workers: int | None = None,
) -> BuildResult:
    """Build or extend a clonotype store from the samples of a sheet.

    Every sample file becomes one task: read the file (any format :func:`tcrtrack.io.read`
    knows, single-cell or bulk), define clonotypes (the ``locus`` junction nucleotides with V
    and J genes, the amino-acid junction alongside; the default filters of
    :func:`tcrtrack.tl.clonotypes`), and write one row per clonotype — ``sample``,
    ``patient``, ``junction``, ``junction_aa``, ``v_call``, ``j_call``, ``count`` (cells or bulk
    counts) and ``unit`` — into Parquet files partitioned by a hash of ``junction_aa`` (so a
    clonotype, whether compared by nucleotides or amino acids, with or without genes, is
    always in one partition). Memory per task is bounded by one file.

    Samples already in the store are skipped; new samples add new files and never rewrite
    existing ones. Writes are atomic per file and the build is committed at its end (see
    the module notes): a failed build leaves the store as it was.

    Parameters
    ----------
    sheet
        A :class:`tcrtrack.io.SampleSheet` or the path of a sheet.
    out
        The store folder (created if needed).
    partitions
        Number of hash partitions of a new store (ignored when extending one).
    locus, multichain
        The chain and the rule for cells with two chains of it (see
        :class:`tcrtrack.tl.ClonotypeSpec`); an existing store's must match.
    scheduler
        The address of a Dask scheduler (``tcp://host:8786``); default
        ``$TCRTRACK_SCHEDULER``, else a local process pool.
    workers
        Processes of the local pool (default: one per core; 1 runs in this process).

    Returns
    -------
    :class:`BuildResult`

    Raises
    ------
    tcrtrack.errors.ClusterError
        The scheduler cannot be reached, or its workers died.
    tcrtrack.errors.FormatError
        The store was written by a newer tcrtrack, or a sample file cannot be read.
    tcrtrack.errors.ParameterError
        ``locus``/``multichain``/``partitions`` not allowed or not those of the store.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> sheet, data = os.path.join(folder, "sheet.tsv"), tt.datasets.path("pbmc3_t_filtered")
    >>> with open(sheet, "w") as fh:  # one file under two names, for two patients
    ...     _ = fh.write(f"patient\\tsample\\ttimepoint\\tpath\\nP1\\ta\\t0\\t{data}\\n"
    ...                  f"P2\\tb\\t0\\t{data}\\n")
    >>> result = tt.cohort.build(sheet, os.path.join(folder, "store"), partitions=4, workers=1)
    >>> result.store.n_samples, result.store.partitions
    (2, 4)
    >>> tt.cohort.build(sheet, os.path.join(folder, "store"), workers=1).skipped
    ('a', 'b')
    """
    from tcrtrack.cohort._engine import Engine
    from tcrtrack.io import SampleSheet, read_sheet

    start = time.perf_counter()
    if locus not in _LOCI:
        msg = f"a store holds one chain: locus must be one of {', '.join(_LOCI)}, got {locus!r}"
        raise ParameterError(msg)
    if multichain not in ("primary", "all", "drop"):
        msg = f"multichain must be primary, all or drop, got {multichain!r}"
        raise ParameterError(msg)
    if not isinstance(partitions, int) or not 1 <= partitions <= 4096:
        msg = f"partitions must be a whole number from 1 to 4096, got {partitions!r}"
        raise ParameterError(msg)
    sheet = sheet if isinstance(sheet, SampleSheet) else read_sheet(sheet, order="sheet")
    root = Path(out)
    if root.exists() and not root.is_dir():
        msg = f"{root}: exists and is not a folder; give --out a folder for the store"
        raise InputError(msg)
    _plan(sheet, root, locus, multichain, partitions)  # bad input fails before any connection
    with Engine(scheduler, workers=workers) as engine, contextlib.ExitStack() as stack:
        # an unreachable scheduler fails above; then the store is locked and read again
        root.mkdir(parents=True, exist_ok=True)
        stack.enter_context(lock(root))
        data, jobs, skipped = _plan(sheet, root, locus, multichain, partitions)
        if data is not None:
            partitions = int(data["partitions"])
        batch = (len(data["batches"]) if data is not None else 0) + 1
        done: dict[str, dict[str, Any]] = {}
        todo = []
        for job in jobs:
            previous = _pending(root, job)
            if previous is not None:
                done[job["sample"]] = previous
            else:
                todo.append(job)
        resumed = tuple(done)
        # a local pool of processes pays only for a large build: each process starts Python and
        # imports tcrtrack (seconds), while one file of 10,000 rows takes ~0.1 s in process
        engine.threads = sum(max(int(j["size"]), 0) for j in todo) < LOCAL_PROCESSES_MIN_BYTES
        failure: Exception | None = None
        records: list[dict[str, Any]] = []
        present: list[int] = []
        n_rows = 0
        try:
            for i, record in engine.map(ingest, todo):
                done[todo[i]["sample"]] = record
            records = [done[j["sample"]] for j in jobs]
            present = sorted({p for r in records for p in r["partitions"]})
            for _, rows in engine.map(merge, _merges(root, records, present, batch)):
                n_rows += rows
        except ClusterError:
            raise  # the finished tasks' records stay in .pending: a rerun resumes
        except Exception as e:
            failure = e
        if failure is not None:
            engine.close()  # the tasks still running end before their files are removed
            # bad input: nothing of this build stays (the committed store is untouched)
            _discard(root, jobs, batch)
            raise failure
        if jobs:
            new = dict(data) if data is not None else _new_manifest(partitions, locus, multichain)
            new["samples"] = [*new["samples"], *records]
            new["batches"] = [
                *new["batches"],
                {
                    "batch": batch,
                    "samples": len(records),
                    "rows": n_rows,
                    "partitions": present,
                    "written_by": __version__,
                },
            ]
            new["written_by"] = __version__
            _write_json(_manifest_path(root), new)
            data = new
            for job in jobs:
                for done_file in (
                    root / ".pending" / f"{job['id']}.json",
                    staged_file(root, job["id"]),
                ):
                    with contextlib.suppress(FileNotFoundError):
                        done_file.unlink()
            _remove_temporary(root, {j["id"] for j in jobs}, batch)
        elif data is None:
            data = _new_manifest(partitions, locus, multichain)
            _write_json(_manifest_path(root), data)
        kind = engine.kind
    return BuildResult(
        store=_store_from(root, data),
        added=tuple(j["sample"] for j in jobs),
        resumed=resumed,
        skipped=tuple(skipped),
        engine=kind,
        seconds=time.perf_counter() - start,
    )


#: A local build reads its files on a process pool only when they hold at least this many bytes
#: in all; below, on threads of the calling process (starting the processes would cost more
#: than they save: docs/performance.md, "The clonotype store").
LOCAL_PROCESSES_MIN_BYTES: Final = 64 * 2**20


def _plan(
    sheet: Any, root: Path, locus: str, multichain: str, partitions: int
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[str]]:
    """The store's manifest (None: a new store) and the build's jobs and skipped samples,
    checking that ``root`` is a store (or a new folder) of the same clonotype definition."""
    data = _read_manifest(root) if root.exists() else None
    if (
        data is None
        and root.exists()
        and any(p.name not in (".pending", STAGING, LOCK) for p in root.iterdir())
        and not (root / ".pending").exists()
    ):
        msg = (
            f"{root}: the folder is not empty and holds no clonotype store; give a new or "
            "empty folder"
        )
        raise InputError(msg)
    if data is not None:
        for name, value in (("locus", locus), ("multichain", multichain)):
            if data[name] != value:
                msg = (
                    f"{root}: the store was built with {name}={data[name]!r}, this build asks "
                    f"for {value!r}; build another store for another clonotype definition"
                )
                raise ParameterError(msg)
        partitions = int(data["partitions"])
    committed = {r["sample"] for r in data["samples"]} if data is not None else set()
    jobs: list[dict[str, Any]] = []
    skipped = []
    batch = (len(data["batches"]) if data is not None else 0) + 1
    for rec in sheet.table.itertuples(index=False):
        name = str(rec.sample)
        if name in committed:
            skipped.append(name)
            continue
        try:
            stat = os.stat(rec.path)
        except OSError:
            stat = None
        timepoint = rec.timepoint
        jobs.append(
            {
                "store": str(root),
                "id": sample_id(name),
                "sample": name,
                "patient": str(rec.patient),
                "timepoint": None if pd.isna(timepoint) else timepoint,
                "reference": bool(rec.reference),
                "baseline": bool(rec.baseline),
                "path": str(rec.path),
                "format": None if pd.isna(rec.format) else str(rec.format),
                "unit": None if pd.isna(rec.unit) else str(rec.unit),
                "locus": locus,
                "multichain": multichain,
                "partitions": partitions,
                "batch": batch,
                "size": stat.st_size if stat else -1,
                "mtime_ns": stat.st_mtime_ns if stat else -1,
            }
        )
    return data, jobs, skipped


def _new_manifest(partitions: int, locus: str, multichain: str) -> dict[str, Any]:
    return {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "written_by": __version__,
        "partitions": partitions,
        "hash": HASH_NAME,
        "locus": locus,
        "multichain": multichain,
        "columns": list(ROW_COLUMNS),
        "batches": [],
        "samples": [],
    }


def _pending(root: Path, job: dict[str, Any]) -> dict[str, Any] | None:
    """The record an interrupted build left for ``job``, if its file is unchanged."""
    path = root / ".pending" / f"{job['id']}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    same = (
        record.get("path") == job["path"]
        and record.get("size") == job["size"]
        and record.get("mtime_ns") == job["mtime_ns"]
        and record.get("sample") == job["sample"]
        and staged_file(root, job["id"]).exists()
    )
    if not same:
        return None
    record["batch"] = job["batch"]
    return dict(record)


def _merges(
    root: Path, records: list[dict[str, Any]], present: list[int], batch: int
) -> list[dict[str, Any]]:
    """The round-two tasks of a batch: one per partition with rows."""
    return [
        {
            "store": str(root),
            "partition": p,
            "batch": batch,
            "samples": [
                [r["id"], r["sample"], r["patient"], r["unit"]]
                for r in records
                if p in r["partitions"]
            ],
        }
        for p in present
    ]


def _remove_temporary(root: Path, ids: set[str], batch: int) -> None:
    """Remove temporary files of samples ``ids`` and of ``batch`` that dead tasks left (never
    a committed file)."""
    for folder in [*root.glob("part=*"), root / "qc", root / ".pending", root / STAGING]:
        for f in folder.glob(".*.tmp-*"):
            stem = f.name[1:].split(".")[0]
            if stem in ids or stem == f"b{batch:04d}":
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()


def _discard(root: Path, jobs: list[dict[str, Any]], batch: int) -> None:
    """Remove every file of the uncommitted ``jobs`` and ``batch`` (after a failed build)."""
    ids = {j["id"] for j in jobs}
    for folder in root.glob("part=*"):
        for f in folder.iterdir():
            if f.name.lstrip(".").split(".")[0] == f"b{batch:04d}":
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()  # a partition folder this build created, left empty
    for sub, suffix in (("qc", ".json"), (".pending", ".json"), (STAGING, ".arrow")):
        for i in ids:
            for f in (root / sub).glob(f"*{i}{suffix}*"):
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
