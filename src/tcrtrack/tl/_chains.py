"""Which chains of a sample count: the per-sample rules both digests share.

Both the DataFrame digest (:func:`tcrtrack.tl._digest.digest`) and the Arrow engine
(:mod:`tcrtrack.tl._engine`) reduce one sample's rows of the clonotype's loci to integer codes
and hand them here: chain keys numbered by first appearance (:func:`chain_codes`), then, for
bulk data, one observation per row with a positive count (:func:`bulk_digest`), for single-cell
data the primary chain of each cell and locus (:func:`primary_order`) and the ``multichain``
rule (:func:`select_chains`), in :func:`cell_digest`. Everything here is numpy and Arrow (no
pandas), so the engine's path imports no pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import factorize, indices, to_numpy
from tcrtrack.errors import SchemaError
from tcrtrack.tl._spec import ClonotypeSpec


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


def chain_codes(seq_codes: np.ndarray, genes: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """The chain key of each row, numbered by first appearance: its sequence code (-1: NA)
    and, for definitions with genes, its gene columns as codes (-1 for NA, a value of its
    own) with their number of distinct values (:func:`tcrtrack._genes.key_gene_codes`)."""
    if genes or (len(seq_codes) and seq_codes.min() < 0):
        key = seq_codes.copy()
        for g_codes, size in genes:
            key = key * (size + 1) + (g_codes + 1)
        chain, _ = factorize(key)
        return chain
    # dictionary codes are already numbered by first appearance, as factorize does
    return seq_codes


def key_columns(spec: ClonotypeSpec) -> list[str]:
    """The columns of a digest's key table: sequence, (junction_aa), genes."""
    cols = [spec.sequence_column, *spec.gene_columns]
    if spec.sequence == "nt":
        cols.insert(1, s.JUNCTION_AA)
    return cols


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
        if len(seq_dict):
            codes = np.where(codes < 0, len(seq_dict) - 1, codes)  # NA: as rank[-1] would pick
            used = _sorted_unique(codes)
            rank_of_used = np.empty(len(used), dtype=np.int64)
            ranked = to_numpy(pc.sort_indices(seq_dict.take(indices(used))))
            rank_of_used[ranked] = np.arange(len(used))
            rank = rank_of_used[np.searchsorted(used, codes)]
        else:  # every sequence is NA (the filter was off): nothing breaks the tie
            rank = np.zeros(len(codes), dtype=np.int64)
        sub[at] = sub[at][np.lexsort((-rank, run[at]))]
    order[pos] = sub
    return order


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (a sort; ``np.unique`` itself loads ``numpy.ma``)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


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


@dataclass(frozen=True)
class Selected:
    """The observations :func:`select_chains` keeps (``keep``, over the rows in primary
    order), the drops it counts, and the cells dropped as ambiguous (``multichain="drop"``)."""

    keep: np.ndarray
    drops: tuple[tuple[str, np.ndarray, _qc.Counted], ...]
    n_ambiguous: int = 0


def select_chains(
    multichain: str, cell: np.ndarray, locus: np.ndarray, chain: np.ndarray
) -> Selected:
    """The ``multichain`` rule over rows in primary order (:func:`primary_order`; ``cell``,
    ``locus``, ``chain`` in that order): ``primary`` keeps the first row of each cell and
    locus; ``all`` keeps each distinct chain of a cell and locus once; ``drop`` keeps the
    first row of each cell and locus, except in cells with two different chains of a locus,
    which are dropped whole."""
    group_start = np.ones(len(cell), dtype=bool)
    group_start[1:] = (cell[1:] != cell[:-1]) | (locus[1:] != locus[:-1])
    if multichain == "primary":
        return Selected(group_start, ((_qc.EXTRA_CHAIN, ~group_start, "contigs"),))
    # rows of a cell and locus whose chain repeats (all) or differs (drop) from the previous
    o2 = np.lexsort((chain, locus, cell))
    c2, l2, k2 = cell[o2], locus[o2], chain[o2]
    same_group = (c2[1:] == c2[:-1]) & (l2[1:] == l2[:-1])
    if multichain == "all":  # a cell counts once per distinct chain
        dup = np.zeros(len(cell), dtype=bool)
        dup[o2[1:]] = same_group & (k2[1:] == k2[:-1])
        return Selected(~dup, ((_qc.EXTRA_CHAIN, dup, "contigs"),))
    # drop cells with two different chains of a locus
    differs = np.zeros(len(cell), dtype=bool)
    differs[o2[1:]] = same_group & (k2[1:] != k2[:-1])
    ambiguous = np.isin(cell, np.unique(cell[differs]))
    cell_first = np.ones(len(cell), dtype=bool)
    cell_first[1:] = cell[1:] != cell[:-1]
    drops: tuple[tuple[str, np.ndarray, _qc.Counted], ...] = (
        (_qc.CELL_WITH_EXTRA_CHAINS, ambiguous, "contigs"),
        (_qc.EXTRA_CHAIN, ~group_start & ~ambiguous, "contigs"),
        (_qc.CELL_WITH_EXTRA_CHAINS, ambiguous & cell_first, "cells"),
    )
    n_ambiguous = int((ambiguous & cell_first).sum())
    return Selected(group_start & ~ambiguous, drops, n_ambiguous)


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
    chain order (cells in the order of ``cell``'s codes) and the ``multichain`` rule
    (:func:`select_chains`).

    ``cell`` indexes ``barcodes``; ``seq_codes`` index ``seq_dict`` (the tie-break ranks the
    sequences); ``umis`` and ``reads`` are -1 where missing. Shared by the pandas digest and
    the polars engine (:mod:`tcrtrack.tl._engine`).
    """
    order = primary_order(cell, locus, len(spec.loci), umis, reads, seq_codes, seq_dict)
    del umis, reads, seq_codes
    cell_o, locus_o, chain_o = cell[order], locus[order], chain[order]
    selected = select_chains(spec.multichain, cell_o, locus_o, chain_o)
    entries.extend(
        _qc.QCEntry(sample, "clonotypes", "dropped", reason, int(mask.sum()), counted)
        for reason, mask, counted in selected.drops
    )
    keep = selected.keep
    return Digest(
        sample,
        tuple(entries),
        keys,
        chain_o[keep],
        locus_o[keep],
        cell=cell_o[keep],
        barcodes=barcodes,
        n_cells_before=n_cells_before,
        n_ambiguous=selected.n_ambiguous,
    )
