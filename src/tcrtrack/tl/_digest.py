"""One sample's contigs reduced to integer codes: the per-sample half of ``tt.tl.clonotypes``.

:func:`digest` filters one sample's contigs, keeps the chains of the clonotype's loci, picks
the chains that count (``multichain``) and returns what is left as integer arrays plus the
small tables that name the codes (distinct chain keys, barcodes). The string columns are not
needed afterwards, so a caller reading many files can digest each file as it is read and let
its table go (see :func:`tcrtrack.tl.clonotypes`). :mod:`tcrtrack.tl._clonotypes` joins the
digests of all samples into one :class:`~tcrtrack.tl.CloneCounts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _genes, _qc
from tcrtrack import schema as s
from tcrtrack._arrow import encode, factorize, indices, strings, take_chunked, to_numpy
from tcrtrack.errors import SchemaError
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)
class Digest:
    """One sample after filtering and chain selection.

    ``chain``, ``locus``, ``cell`` and ``weight`` have one entry per *observation*: a chain
    that counts towards a clonotype (single-cell: one per kept cell and chain, ordered by cell
    then locus; bulk: one per row with a positive count, in row order).
    """

    sample: str
    #: the filter's and the clonotype stage's drops (not yet ``no_chain``, counted on joining)
    entries: tuple[_qc.QCEntry, ...]
    #: distinct chain keys in order of first appearance: sequence column, ``junction_aa``
    #: (nucleotide definitions) and gene columns, from the key's first row
    keys: pa.Table
    chain: np.ndarray
    locus: np.ndarray
    #: single-cell only: the cell of each observation, an index into ``barcodes``
    cell: np.ndarray | None = None
    barcodes: pa.Array | None = None
    #: single-cell only: distinct cells left by the filter (all loci), and cells dropped as
    #: ambiguous (``multichain="drop"``)
    n_cells_before: int = 0
    n_ambiguous: int = 0
    #: bulk only: the count of each observation
    weight: np.ndarray | None = None

    @property
    def single_cell(self) -> bool | None:
        """True for single-cell data, False for bulk, None when no row was left."""
        if self.cell is not None:
            return True
        return False if self.weight is not None else None


def strings_at(series: pd.Series, rows: np.ndarray) -> pa.ChunkedArray:
    """A column at ascending ``rows`` as Arrow strings (no copy when ``rows`` is every row)."""
    import pandas as pd

    if len(rows) != len(series) and series.dtype != pd.StringDtype("pyarrow"):
        return strings(series.iloc[rows])  # convert only the rows needed
    array = strings(series)
    return array if len(rows) == len(series) else take_chunked(array, rows)


def first_appearance(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of integers in ``0 .. size - 1``, in linear time: (codes, uniques)."""
    n = len(values)
    first = np.full(size, n, dtype=np.int64)
    first[values[::-1]] = np.arange(n - 1, -1, -1)
    present = first[first < n]
    is_first = np.zeros(n, dtype=bool)
    is_first[present] = True
    new = np.full(size, -1, dtype=np.int64)
    new[values[is_first]] = np.arange(int(is_first.sum()))
    return new[values], values[is_first]


def primary_order(
    cell: np.ndarray,
    locus: np.ndarray,
    n_loci: int,
    umis: np.ndarray,
    reads: np.ndarray,
    seq_codes: np.ndarray,
    seq_dict: pa.Array,
) -> np.ndarray:
    """``np.lexsort((-rank, -reads, -umis, locus, cell))``, with ``rank`` the lexicographic rank
    of each row's sequence, computed faster: a stable sort by (cell, locus), then the
    tie-break sort only of the rows that share a cell and locus with another row."""
    group = cell * n_loci + locus
    order = np.argsort(group, kind="stable")
    g = group[order]
    start = np.ones(len(g), dtype=bool)
    start[1:] = g[1:] != g[:-1]
    group_id = np.cumsum(start) - 1
    pos = np.flatnonzero(np.bincount(group_id)[group_id] > 1)
    if len(pos) == 0:
        return order
    sub = order[pos]
    sub = sub[np.lexsort((-reads[sub], -umis[sub], g[pos]))]
    # the sequences' rank only breaks ties of cell, locus, UMIs and reads
    gs, us, rs = group[sub], umis[sub], reads[sub]
    same = (gs[1:] == gs[:-1]) & (us[1:] == us[:-1]) & (rs[1:] == rs[:-1])
    if same.any():
        tied = np.zeros(len(sub), dtype=bool)
        tied[1:] |= same
        tied[:-1] |= same
        run = np.cumsum(np.concatenate([[True], ~same]))
        at = np.flatnonzero(tied)
        codes = seq_codes[sub[at]]
        codes = np.where(codes < 0, len(seq_dict) - 1, codes)  # NA: as rank[-1] would pick
        used = _sorted_unique(codes)
        rank_of_used = np.empty(len(used), dtype=np.int64)
        ranked = to_numpy(pc.sort_indices(seq_dict.take(indices(used))))
        rank_of_used[ranked] = np.arange(len(used))
        rank = rank_of_used[np.searchsorted(used, codes)]
        sub[at] = sub[at][np.lexsort((-rank, run[at]))]
    order[pos] = sub
    return order


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (a sort; ``np.unique`` itself loads ``numpy.ma``)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def distinct_cells(
    codes: np.ndarray, n_codes: int, sample_codes: np.ndarray, n_samples: int
) -> np.ndarray:
    """Distinct cells (sample, barcode code) per sample."""
    n = max(n_codes, 1)
    if n_samples * n <= 4 * len(codes) + (1 << 20):  # a bitmap, no sort
        seen = np.zeros(n_samples * n, dtype=bool)
        seen[sample_codes * n + codes] = True
        return seen.reshape(n_samples, n).sum(axis=1).astype(np.int64)
    distinct = np.unique(sample_codes * n + codes) // n
    return np.bincount(distinct, minlength=n_samples)


def check_single_cell(sample: str, cell_valid: np.ndarray, spec: ClonotypeSpec) -> bool:
    """Whether the kept contigs of ``sample`` are single-cell (``cell_valid``: has a cell id);
    a sample mixing contigs with and without cells, or bulk data under a paired clonotype
    definition, is an error naming the sample and the fix."""
    single_cell = bool(cell_valid.any())
    if single_cell and not cell_valid.all():
        bad = int((~cell_valid).sum())
        msg = (
            f"sample {sample!r}: {bad} contig(s) have no cell_id while others have one; a "
            "sample must be all single-cell or all bulk; split it into two samples"
        )
        raise SchemaError(msg)
    if spec.paired and not single_cell and len(cell_valid):
        msg = f"clonotype locus {spec.locus!r} pairs chains within cells; bulk data have no cells"
        raise SchemaError(msg)
    return single_cell


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


def key_columns(spec: ClonotypeSpec) -> list[str]:
    """The columns of a digest's key table: sequence, (junction_aa), genes."""
    cols = [spec.sequence_column, *spec.gene_columns]
    if spec.sequence == "nt":
        cols.insert(1, s.JUNCTION_AA)
    return cols


def _key_table(contigs: pd.DataFrame, spec: ClonotypeSpec, rows: np.ndarray) -> pa.Table:
    """The key columns at ``rows`` (ascending), as Arrow strings, genes in their compared
    form (:mod:`tcrtrack._genes`)."""
    keys = pa.table(
        {c: strings_at(contigs[c], rows).cast(pa.large_string()) for c in key_columns(spec)}
    )
    return _genes.key_table(keys, spec.gene_columns, alleles=spec.alleles)


def encode_at(
    encoded: tuple[np.ndarray, pa.Array], rows: np.ndarray
) -> tuple[np.ndarray, pa.Array]:
    """:func:`encode` of a column at ``rows``, from the encoding of the whole column: the same
    codes (by first appearance among ``rows``, -1 for NA) and dictionary."""
    all_codes, all_dict = encoded
    sub = all_codes[rows]
    present = sub >= 0
    if present.all():
        codes, uniques = first_appearance(sub, len(all_dict))
    else:
        codes = np.full(len(sub), -1, dtype=np.int64)
        codes[present], uniques = first_appearance(sub[present], len(all_dict))
    return codes, all_dict.take(indices(uniques))


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
    genes, changed = _genes.key_genes(
        [strings_at(contigs[gene], rows) for gene in spec.gene_columns],
        alleles=spec.alleles,
        sample=sample,
        counted=counted,
    )
    return chain_codes(seq_codes, genes), seq_codes, seq_dict, changed


def chain_codes(seq_codes: np.ndarray, genes: Sequence[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """The chain key of each row, numbered by first appearance: its sequence code (-1: NA)
    and, for definitions with genes, its gene columns (NA a value of its own)."""
    if genes or (len(seq_codes) and seq_codes.min() < 0):
        key = seq_codes.copy()
        for gene in genes:
            g_codes, g_dict = encode(gene)
            key = key * (len(g_dict) + 1) + (g_codes + 1)
        chain, _ = factorize(key)
        return chain
    # dictionary codes are already numbered by first appearance, as factorize does
    return seq_codes


def digest(contigs: pd.DataFrame, sample: str, spec: ClonotypeSpec, *, filter: bool) -> Digest:
    """Reduce the contigs of one sample (every row belongs to ``sample``) to a :class:`Digest`.

    ``filter`` applies :func:`tcrtrack.pp.filter_masks` first, counting each drop as
    :func:`tcrtrack.pp.filter_contigs` would.
    """
    import pandas as pd

    from tcrtrack._contigs import filter_masks

    n = len(contigs)
    entries: list[_qc.QCEntry] = []
    samples = pd.Series(pd.Categorical.from_codes(np.zeros(n, np.int8), [sample]))

    def count(reason: str, mask: np.ndarray, counted: _qc.Counted = "contigs") -> None:
        entries.append(
            _qc.QCEntry(sample, "clonotypes", "dropped", reason, int(mask.sum()), counted)
        )

    # Barcodes are hashed in a second thread while this one hashes the sequences and runs the
    # filter's checks once per distinct sequence (Arrow and numpy release the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        barcode_job = pool.submit(encode, strings(contigs[s.CELL_ID]))
        sequences_all = encode(strings(contigs[spec.sequence_column]))
        if filter:
            masks = filter_masks(contigs, sequence=spec.sequence, encoded=sequences_all)
            found, kept = _qc.count_drops(samples, masks, stage="filter")
            del masks
            entries.extend(found)
            rows = np.flatnonzero(kept)
        else:
            rows = np.arange(n)
        cell_all, barcodes = barcode_job.result()  # codes: -1 where there is no cell_id

    single_cell = check_single_cell(sample, cell_all[rows] >= 0, spec)

    locus_all = _locus_codes_at(contigs[s.LOCUS], rows, spec.loci)
    in_locus = locus_all >= 0
    count(_qc.OTHER_LOCUS, ~in_locus)
    kept_rows, rows = rows, rows[in_locus]
    locus = locus_all[in_locus]

    counted: _qc.Counted = "contigs" if single_cell else "rows"
    chain, seq_codes, seq_dict, changed = _chain_keys(
        contigs, spec, rows, sequences_all, sample, counted
    )
    entries.extend(changed)
    del sequences_all
    first_row = np.full(int(chain.max()) + 1 if len(chain) else 0, -1, dtype=np.int64)
    first_row[chain[::-1]] = np.arange(len(chain))[::-1]
    keys = _key_table(contigs, spec, rows[first_row])

    if not len(kept_rows):
        return Digest(sample, tuple(entries), keys, chain, locus)
    if not single_cell:
        weight = _counts_at(contigs, s.DUPLICATE_COUNT, rows, na=0)
        if s.DUPLICATE_COUNT not in contigs:
            weight += 1
        return bulk_digest(sample, entries, keys, chain, locus, weight)

    n_cells_before = int(distinct_cells(cell_all[kept_rows], len(barcodes), np.zeros(1, int), 1)[0])
    cell = cell_all[rows]
    del cell_all
    umis = _counts_at(contigs, s.UMI_COUNT, rows, na=-1)
    reads = _counts_at(contigs, s.CONSENSUS_COUNT, rows, na=-1)
    return cell_digest(
        sample,
        entries,
        keys,
        spec,
        chain=chain,
        locus=locus,
        cell=cell,
        barcodes=barcodes,
        umis=umis,
        reads=reads,
        seq_codes=seq_codes,
        seq_dict=seq_dict,
        n_cells_before=n_cells_before,
    )


def bulk_digest(
    sample: str,
    entries: list[_qc.QCEntry],
    keys: pa.Table,
    chain: np.ndarray,
    locus: np.ndarray,
    weight: np.ndarray,
) -> Digest:
    """The digest of a bulk sample: one observation per row with a positive count."""
    positive = weight > 0
    entries.append(
        _qc.QCEntry(sample, "clonotypes", "dropped", _qc.ZERO_COUNT, int((~positive).sum()), "rows")
    )
    return Digest(
        sample, tuple(entries), keys, chain[positive], locus[positive], weight=weight[positive]
    )


def cell_digest(
    sample: str,
    entries: list[_qc.QCEntry],
    keys: pa.Table,
    spec: ClonotypeSpec,
    *,
    chain: np.ndarray,
    locus: np.ndarray,
    cell: np.ndarray,
    barcodes: pa.Array,
    umis: np.ndarray,
    reads: np.ndarray,
    seq_codes: np.ndarray,
    seq_dict: pa.Array,
    n_cells_before: int,
) -> Digest:
    """The digest of a single-cell sample from its rows of the clonotype's loci: the primary
    chain order (cells in the order of ``cell``'s codes) and the ``multichain`` rule.

    ``cell`` indexes ``barcodes``; ``seq_codes`` index ``seq_dict`` (the tie-break ranks the
    sequences); ``umis`` and ``reads`` are -1 where missing. Shared by the pandas digest and
    the polars engine (:mod:`tcrtrack.tl._engine`).
    """

    def count(reason: str, mask: np.ndarray, counted: _qc.Counted = "contigs") -> None:
        entries.append(
            _qc.QCEntry(sample, "clonotypes", "dropped", reason, int(mask.sum()), counted)
        )

    order = primary_order(cell, locus, len(spec.loci), umis, reads, seq_codes, seq_dict)
    del umis, reads, seq_codes
    cell_o, locus_o, chain_o = cell[order], locus[order], chain[order]
    group_start = np.ones(len(order), dtype=bool)
    group_start[1:] = (cell_o[1:] != cell_o[:-1]) | (locus_o[1:] != locus_o[:-1])
    n_ambiguous = 0
    if spec.multichain == "primary":
        keep = group_start
        count(_qc.EXTRA_CHAIN, ~keep)
    else:
        # rows of a cell and locus whose chain repeats (all) or differs (drop) from the previous
        o2 = np.lexsort((chain_o, locus_o, cell_o))
        c2, l2, k2 = cell_o[o2], locus_o[o2], chain_o[o2]
        same_group = (c2[1:] == c2[:-1]) & (l2[1:] == l2[:-1])
        if spec.multichain == "all":  # a cell counts once per distinct chain
            dup = np.zeros(len(order), dtype=bool)
            dup[o2[1:]] = same_group & (k2[1:] == k2[:-1])
            keep = ~dup
            count(_qc.EXTRA_CHAIN, dup)
        else:  # drop cells with two different chains of a locus
            differs = np.zeros(len(order), dtype=bool)
            differs[o2[1:]] = same_group & (k2[1:] != k2[:-1])
            ambiguous = np.isin(cell_o, np.unique(cell_o[differs]))
            keep = group_start & ~ambiguous
            count(_qc.CELL_WITH_EXTRA_CHAINS, ambiguous)
            count(_qc.EXTRA_CHAIN, ~group_start & ~ambiguous)
            cell_first = np.ones(len(order), dtype=bool)
            cell_first[1:] = cell_o[1:] != cell_o[:-1]
            n_ambiguous = int((ambiguous & cell_first).sum())
            count(_qc.CELL_WITH_EXTRA_CHAINS, ambiguous & cell_first, "cells")
    return Digest(
        sample,
        tuple(entries),
        keys,
        chain_o[keep],
        locus_o[keep],
        cell=cell_o[keep],
        barcodes=barcodes,
        n_cells_before=n_cells_before,
        n_ambiguous=n_ambiguous,
    )
