"""One sample's contigs reduced to integer codes: the per-sample half of ``tt.tl.clonotypes``.

:func:`digest` filters one sample's contigs (:func:`_filtered`), keeps the chains of the
clonotype's loci (:func:`_in_loci`), numbers the chain keys (:func:`_chain_keys`) and, for bulk
data, counts each row's clone size (:func:`_bulk`), for single-cell data picks the chains that
count (:func:`_cells`, the rules of :mod:`tcrtrack.tl._chains`). What is left is integer arrays
plus the small tables that name the codes (distinct chain keys, barcodes). The string columns
are not needed afterwards, so a caller reading many files can digest each file as it is read and
let its table go (see :func:`tcrtrack.tl.clonotypes`). :mod:`tcrtrack.tl._clonotypes` joins the
digests of all samples into one :class:`~tcrtrack.tl.CloneCounts`; the Arrow engine
(:mod:`tcrtrack.tl._engine`) does the same for a Cell Ranger file's Arrow table.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from tcrtrack import _genes, _qc
from tcrtrack import schema as s
from tcrtrack._arrow import encode, strings, take_chunked
from tcrtrack.tl._chains import (
    Digest,
    bulk_digest,
    cell_digest,
    chain_codes,
    check_single_cell,
    distinct_cells,
    encode_at,
    first_appearance,
    key_columns,
    primary_order,
)
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Digest",
    "bulk_digest",
    "cell_digest",
    "chain_codes",
    "check_single_cell",
    "digest",
    "distinct_cells",
    "encode_at",
    "first_appearance",
    "key_columns",
    "primary_order",
]


def strings_at(series: pd.Series, rows: np.ndarray) -> pa.ChunkedArray:
    """A column at ascending ``rows`` as Arrow strings (no copy when ``rows`` is every row)."""
    import pandas as pd

    if len(rows) != len(series) and series.dtype != pd.StringDtype("pyarrow"):
        return strings(series.iloc[rows])  # convert only the rows needed
    array = strings(series)
    return array if len(rows) == len(series) else take_chunked(array, rows)


def _locus_codes_at(series: pd.Series, rows: np.ndarray, loci: tuple[str, ...]) -> np.ndarray:
    """Index of each row's locus in ``loci``, -1 for other loci and NA."""
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.array(
            [loci.index(str(c)) if str(c) in loci else -1 for c in series.cat.categories] + [-1],
            dtype=np.int64,
        )
        return lut[np.asarray(series.cat.codes)[rows]]  # code -1 (NA) picks the final -1
    values = series.iloc[rows].astype("string")
    return np.asarray(pd.Categorical(values, categories=list(loci)).codes, dtype=np.int64)


def _counts_at(contigs: pd.DataFrame, column: str, rows: np.ndarray, na: int) -> np.ndarray:
    """A count column at ``rows`` as int64, NA as ``na`` (0 when the column is absent)."""
    import pandas as pd

    if column not in contigs:
        return np.zeros(len(rows), dtype=np.int64)
    col = contigs[column]
    if not isinstance(col.dtype, pd.Int64Dtype):
        col = col.astype("Int64")
    return col.to_numpy(dtype=np.int64, na_value=na)[rows]


def _key_table(contigs: pd.DataFrame, spec: ClonotypeSpec, rows: np.ndarray) -> pa.Table:
    """The key columns at ``rows`` (ascending), as Arrow strings, genes in their compared
    form (:mod:`tcrtrack._genes`)."""
    keys = pa.table(
        {c: strings_at(contigs[c], rows).cast(pa.large_string()) for c in key_columns(spec)}
    )
    return _genes.key_table(keys, spec.gene_columns, alleles=spec.alleles)


@dataclass(frozen=True, eq=False)
class _Filtered:
    """One sample after the filter: the ``rows`` kept (ascending), the filter's ledger
    ``entries``, the dictionary encoding of the whole sequence column, and each row's cell
    (its barcode's code, -1 without one) with the ``barcodes`` the codes index."""

    rows: np.ndarray
    entries: list[_qc.QCEntry]
    sequences: tuple[np.ndarray, pa.Array]
    cell: np.ndarray
    barcodes: pa.Array


def _filtered(
    contigs: pd.DataFrame, sample: str, spec: ClonotypeSpec, *, filter: bool
) -> _Filtered:
    """Apply :func:`tcrtrack.pp.filter_masks` (when ``filter``), counting each drop as
    :func:`tcrtrack.pp.filter_contigs` would. The barcodes are hashed in a second thread
    while this one hashes the sequences and runs the filter's checks once per distinct
    sequence (Arrow and numpy release the GIL)."""
    import pandas as pd

    from tcrtrack._contigs import filter_masks

    n = len(contigs)
    entries: list[_qc.QCEntry] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        barcode_job = pool.submit(encode, strings(contigs[s.CELL_ID]))
        sequences = encode(strings(contigs[spec.sequence_column]))
        if filter:
            samples = pd.Series(pd.Categorical.from_codes(np.zeros(n, np.int8), [sample]))
            masks = filter_masks(contigs, sequence=spec.sequence, encoded=sequences)
            found, kept = _qc.count_drops(samples, masks, stage="filter")
            del masks
            entries.extend(found)
            rows = np.flatnonzero(kept)
        else:
            rows = np.arange(n)
        cell, barcodes = barcode_job.result()  # codes: -1 where there is no cell_id
    return _Filtered(rows, entries, sequences, cell, barcodes)


def _in_loci(
    contigs: pd.DataFrame, rows: np.ndarray, spec: ClonotypeSpec, sample: str
) -> tuple[np.ndarray, np.ndarray, _qc.QCEntry]:
    """The ``rows`` of the clonotype's loci, each one's locus (index into ``spec.loci``), and
    the ledger entry of the rows of other loci."""
    locus = _locus_codes_at(contigs[s.LOCUS], rows, spec.loci)
    in_locus = locus >= 0
    n_other = int((~in_locus).sum())
    entry = _qc.QCEntry(sample, "clonotypes", "dropped", _qc.OTHER_LOCUS, n_other, "contigs")
    return rows[in_locus], locus[in_locus], entry


def _chain_keys(
    contigs: pd.DataFrame,
    spec: ClonotypeSpec,
    rows: np.ndarray,
    sequences: tuple[np.ndarray, pa.Array],
    sample: str,
    counted: _qc.Counted,
) -> tuple[np.ndarray, np.ndarray, pa.Array, list[_qc.QCEntry]]:
    """Chain key of each of ``rows`` (numbered by first appearance), the sequence codes and
    the sequence dictionary (for the primary chain's tie-break); ``sequences`` is the
    :func:`encode` of the whole sequence column. Genes are compared in their canonical form
    (:mod:`tcrtrack._genes`); the last item is the ledger entries of the rows it changed."""
    seq_codes, seq_dict = encode_at(sequences, rows)
    genes, changed = _genes.key_gene_codes(
        [strings_at(contigs[gene], rows) for gene in spec.gene_columns],
        alleles=spec.alleles,
        sample=sample,
        counted=counted,
    )
    chain = chain_codes(seq_codes, [(codes, len(names)) for codes, names in genes])
    return chain, seq_codes, seq_dict, changed


def _bulk(
    contigs: pd.DataFrame,
    sample: str,
    entries: list[_qc.QCEntry],
    keys: pa.Table,
    rows: np.ndarray,
    chain: np.ndarray,
    locus: np.ndarray,
) -> Digest:
    """A bulk sample's digest: each row weighs its ``duplicate_count`` (1 without the column)."""
    weight = _counts_at(contigs, s.DUPLICATE_COUNT, rows, na=0)
    if s.DUPLICATE_COUNT not in contigs:
        weight += 1
    return bulk_digest(sample, entries, keys, chain, locus, weight)


def _cells(
    contigs: pd.DataFrame,
    sample: str,
    spec: ClonotypeSpec,
    entries: list[_qc.QCEntry],
    keys: pa.Table,
    filtered: _Filtered,
    rows: np.ndarray,
    chains: tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array],
) -> Digest:
    """A single-cell sample's digest: its cells, their UMIs and reads, and the chain selection
    of :func:`tcrtrack.tl._chains.cell_digest`. ``chains``: each row's locus, chain key,
    sequence code, and the sequence dictionary."""
    locus, chain, seq_codes, seq_dict = chains
    cell_all, barcodes = filtered.cell, filtered.barcodes
    zero = np.zeros(1, int)
    n_cells_before = int(distinct_cells(cell_all[filtered.rows], len(barcodes), zero, 1)[0])
    return cell_digest(
        sample,
        entries,
        keys,
        spec,
        chain=chain,
        locus=locus,
        cell=cell_all[rows],
        barcodes=barcodes,
        umis=_counts_at(contigs, s.UMI_COUNT, rows, na=-1),
        reads=_counts_at(contigs, s.CONSENSUS_COUNT, rows, na=-1),
        seq_codes=seq_codes,
        seq_dict=seq_dict,
        n_cells_before=n_cells_before,
    )


def digest(contigs: pd.DataFrame, sample: str, spec: ClonotypeSpec, *, filter: bool) -> Digest:
    """Reduce the contigs of one sample (every row belongs to ``sample``) to a :class:`Digest`.

    ``filter`` applies :func:`tcrtrack.pp.filter_masks` first, counting each drop as
    :func:`tcrtrack.pp.filter_contigs` would.
    """
    filtered = _filtered(contigs, sample, spec, filter=filter)
    entries = list(filtered.entries)
    single_cell = check_single_cell(sample, filtered.cell[filtered.rows] >= 0, spec)
    rows, locus, other_locus = _in_loci(contigs, filtered.rows, spec, sample)
    entries.append(other_locus)
    counted: _qc.Counted = "contigs" if single_cell else "rows"
    chain, seq_codes, seq_dict, changed = _chain_keys(
        contigs, spec, rows, filtered.sequences, sample, counted
    )
    entries.extend(changed)
    first_row = np.full(int(chain.max()) + 1 if len(chain) else 0, -1, dtype=np.int64)
    first_row[chain[::-1]] = np.arange(len(chain))[::-1]
    keys = _key_table(contigs, spec, rows[first_row])
    if not len(filtered.rows):
        return Digest(sample, tuple(entries), keys, chain, locus)
    if not single_cell:
        return _bulk(contigs, sample, entries, keys, rows, chain, locus)
    chains = (locus, chain, seq_codes, seq_dict)
    return _cells(contigs, sample, spec, entries, keys, filtered, rows, chains)
