"""One bulk sample's clonotypes as plain columns: :func:`bulk_clonotypes`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import indices
from tcrtrack.errors import SchemaError
from tcrtrack.tl import _engine
from tcrtrack.tl._chains import first_appearance
from tcrtrack.tl._clonotypes import _check_declared_units
from tcrtrack.tl._spec import ClonotypeSpec


@dataclass(frozen=True, eq=False)
class BulkClonotypes:
    """The clonotypes of one bulk sample (what :func:`bulk_clonotypes` returns).

    Attributes
    ----------
    sample
        The sample's name.
    keys
        One row per clonotype, in order of first appearance: the clonotype's sequence column,
        ``junction_aa`` (nucleotide definitions) and gene columns, genes in their compared form.
    counts
        Each clonotype's count (int64): the sum of the counts of its rows.
    unit
        What the counts count (``templates``, ``reads``, ``umis``).
    qc
        The sample's QC ledger, as :func:`tcrtrack.tl.clonotypes` gives it.
    """

    sample: str
    keys: pa.Table
    counts: np.ndarray
    unit: str
    qc: _qc.QCLedger

    def _repr_html_(self) -> str:
        return (
            f"<p><b>BulkClonotypes</b> of {self.sample!r}: {len(self.counts)} clonotypes, "
            f"{int(self.counts.sum())} {self.unit}</p>"
        )


def is_bulk_table(table: object) -> bool:
    """Whether :func:`bulk_clonotypes` takes ``table``: the Arrow table of a reader's
    ``parse`` (:attr:`tcrtrack.io.Format.parse`, its QC ledger and unit in the schema
    metadata) of a sample without cell barcodes (a ``cell_id`` column all NA).

    The one statement of what :func:`bulk_clonotypes` checks before it digests a table (it
    raises :class:`~tcrtrack.errors.SchemaError` with the reason where this is ``False``),
    public so that a caller choosing between it and :func:`clonotypes` (the clonotype store)
    asks the same question instead of restating the checks.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> path = tt.datasets.path("pbmc3_t_filtered")
    >>> tt.tl.is_bulk_table(tt.io.detect(path).parse(path, sample="s"))  # cell barcodes
    False
    """
    return _refusal(table) is None


def _refusal(table: object) -> str | None:
    """Why :func:`bulk_clonotypes` refuses ``table`` (``None``: it takes it)."""
    if not isinstance(table, pa.Table) or not _engine.is_parsed(table):
        return (
            "bulk_clonotypes takes the Arrow table of a reader's parse (tcrtrack.io.Format.parse)"
        )
    if s.CELL_ID not in table.column_names:
        return f"bulk_clonotypes takes a bulk sample; this table has no {s.CELL_ID} column"
    if table.column(s.CELL_ID).null_count != table.num_rows:
        return "bulk_clonotypes takes a bulk sample; this table has cell barcodes: use clonotypes"
    return None


def bulk_clonotypes(
    table: pa.Table, spec: ClonotypeSpec | None = None, *, unit: str | None = None
) -> BulkClonotypes:
    """The clonotypes of one bulk sample's contig table as a reader parsed it, without a
    :class:`CloneCounts`.

    ``table`` is the Arrow table of a reader's ``parse`` (:attr:`tcrtrack.io.Format.parse`:
    the QC ledger and unit in its schema metadata) of a file without cell barcodes. The
    filters, QC ledger, warnings, numbering of the clonotypes (by first appearance among the
    rows with a positive count) and their counts (the sums of their rows' counts) are those of
    :func:`clonotypes` for the same table; the clonotype store builds its rows from this
    (a one-sample :class:`CloneCounts` would add a second encoding of the keys, a sparse matrix
    and a pandas table of the clonotypes).

    Parameters
    ----------
    table
        A reader's finished Arrow table of one bulk sample.
    spec
        The clonotype definition (default :class:`ClonotypeSpec()`); a paired one is refused.
    unit
        The unit of the counts, replacing the one the reader detected (as ``units=`` of
        :func:`clonotypes`).

    Returns
    -------
    :class:`BulkClonotypes`

    Raises
    ------
    tcrtrack.errors.SchemaError
        ``table`` is not a reader's finished Arrow table, or it has cell barcodes
        (:func:`is_bulk_table` is ``False``).
    tcrtrack.errors.ParameterError
        ``unit`` is not one of the known units.

    Examples
    --------
    >>> import tcrtrack as tt, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "bulk.tsv")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("junction\\tjunction_aa\\tv_call\\tj_call\\tduplicate_count\\n"
    ...                  "TGTGCCAGCAGTTTTTTT\\tCASSFF\\tTRBV2\\tTRBJ1-1\\t3\\n"
    ...                  "TGTGCCAGCAGTTTTTTT\\tCASSFF\\tTRBV2\\tTRBJ1-1\\t4\\n")
    >>> got = tt.tl.bulk_clonotypes(tt.io.detect(path).parse(path, sample="s"))
    >>> got.keys.column("junction_aa").to_pylist(), got.counts.tolist(), got.unit
    (['CASSFF'], [7], 'templates')
    """
    spec = spec if spec is not None else ClonotypeSpec()
    msg = _refusal(table)
    if msg is not None:
        raise SchemaError(msg)
    ledger, detected = _engine.ledger_and_unit(table)
    name = ledger.entries[0].sample
    if unit is not None:  # the check of clonotypes' units=: one of the known units
        _check_declared_units({name: unit})
    digest = _engine.digest_arrow(table, name, spec, filter=not _engine.is_filtered(ledger))
    del table
    ledger = ledger.extend(digest.entries)
    for message in _qc.large_drops(ledger):
        _qc.warn(message)
    if digest.weight is None:  # no row left: no clonotype
        clone_keys = np.zeros(0, dtype=np.int64)
        counts = np.zeros(0, dtype=np.int64)
    else:
        clone, clone_keys = first_appearance(digest.chain, digest.keys.num_rows)
        counts = np.zeros(len(clone_keys), dtype=np.int64)
        np.add.at(counts, clone, digest.weight.astype(np.int64, copy=False))
    every = len(clone_keys) == digest.keys.num_rows and bool(
        (clone_keys == np.arange(len(clone_keys))).all()
    )  # each key in its order (the usual case): no copy of the keys
    return BulkClonotypes(
        sample=name,
        keys=digest.keys if every else digest.keys.take(indices(clone_keys)),
        counts=counts,
        unit=unit or detected,
        qc=ledger,
    )
