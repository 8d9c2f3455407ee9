"""A sample file's clonotype rows for the store: round one of a build, before the staging.

:func:`sample_rows` reads one file with the reader of its format and defines its clonotypes
as :func:`tcrtrack.tl.clonotypes` does (same filters, same QC ledger, same numbering by first
appearance). For a bulk file — no cell barcodes: every kept row is an observation with its
count — it takes :func:`tcrtrack.tl.bulk_clonotypes` (the engine's digest of the file, the
counts summed per clonotype), skipping what a one-sample :class:`~tcrtrack.tl.CloneCounts`
adds on top: a second dictionary encoding of the keys across samples (one sample's keys are
distinct already), a sparse matrix, a pandas table of the clonotypes and their labels, and the
conversion of its columns back to Arrow. Single-cell
files, and readers that return a pandas table, go through :func:`tcrtrack.tl.clonotypes`
itself. ``tests/test_cohort_rows.py`` checks that both give the same rows, counts, unit and
ledger on every bulk file of ``tests/data``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from tcrtrack import _qc
from tcrtrack import schema as s

#: The store's string columns of a clonotype, in order.
KEY_COLUMNS = (s.JUNCTION, s.JUNCTION_AA, s.V_CALL, s.J_CALL)


@dataclass(frozen=True, eq=False)
class SampleRows:
    """One sample's clonotypes: the string columns of :data:`KEY_COLUMNS` (one row per
    clonotype, in order of first appearance), each one's count, the unit and the ledger."""

    columns: dict[str, pa.Array]
    counts: np.ndarray
    unit: str
    qc: _qc.QCLedger


def sample_rows(job: dict[str, Any]) -> SampleRows:
    """The clonotypes of the sample file of a build job (see the module notes)."""
    import tcrtrack as tt

    spec = tt.tl.ClonotypeSpec(locus=job["locus"], genes="vj", multichain=job["multichain"])
    if job["format"] is None:
        fmt = tt.io.detect(job["path"])
    else:  # a name the sheet checked against the known formats
        fmt = {f.name: f for f in tt.io.known_formats()}[job["format"]]
    parse = fmt.parse if fmt.parse is not None else fmt.reader
    table = parse(job["path"], sample=job["sample"], columns=spec.columns)
    if is_bulk(table, job["unit"]):
        return bulk_rows(table, spec, job["unit"])
    return counted_rows(table, spec, job["sample"], job["unit"])


def is_bulk(table: Any, declared: str | None) -> bool:
    """Whether :func:`bulk_rows` takes ``table``: what :func:`tcrtrack.tl.bulk_clonotypes`
    takes (:func:`tcrtrack.tl.is_bulk_table`: a reader's finished Arrow table without a cell
    barcode; the engine's own checks, asked through its public predicate rather than restated
    here, since the cohort imports no private module of ``tl``), and a known declared unit
    (an unknown one is :func:`tcrtrack.tl.clonotypes`'s error to raise)."""
    from tcrtrack.tl import is_bulk_table

    return is_bulk_table(table) and (declared is None or declared in s.UNITS)


def counted_rows(table: Any, spec: Any, sample: str, declared: str | None) -> SampleRows:
    """:func:`sample_rows` through :func:`tcrtrack.tl.clonotypes` (any table)."""
    import tcrtrack as tt
    from tcrtrack._arrow import strings

    units = {sample: declared} if declared else None
    counts = tt.tl.clonotypes([table], spec, units=units)
    del table
    keys = counts.clonotypes
    return SampleRows(
        columns={c: strings(keys[c]).combine_chunks().cast(pa.string()) for c in KEY_COLUMNS},
        counts=np.asarray(counts.matrix.toarray()[0], dtype=np.int64),
        unit=counts.unit,
        qc=counts.qc,
    )


def bulk_rows(table: pa.Table, spec: Any, declared: str | None) -> SampleRows:
    """:func:`sample_rows` of a bulk file's finished Arrow table, through
    :func:`tcrtrack.tl.bulk_clonotypes` (the engine's digest, the clonotypes numbered and
    their counts summed as ``tt.tl.clonotypes`` numbers and sums them)."""
    from tcrtrack.tl import bulk_clonotypes

    got = bulk_clonotypes(table, spec, unit=declared)
    del table
    return SampleRows(
        columns={c: got.keys.column(c).combine_chunks().cast(pa.string()) for c in KEY_COLUMNS},
        counts=got.counts,
        unit=got.unit,
        qc=got.qc,
    )
