"""From contigs to clonotype counts: ``tt.tl.clonotypes``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import strings
from tcrtrack.errors import SchemaError
from tcrtrack.tl._counts import CloneCounts
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    pass

__all__ = ["CloneCounts", "clonotypes"]


def needed_columns(spec: ClonotypeSpec) -> tuple[str, ...]:
    """The contig-table columns :func:`clonotypes` (with its filter) reads for ``spec``.

    A reader given these columns only (``tt.io.read(..., columns=...)``) yields the same
    :class:`CloneCounts`, faster.
    """
    return (
        s.SAMPLE,
        s.CELL_ID,
        s.LOCUS,
        s.JUNCTION,
        s.JUNCTION_AA,
        s.PRODUCTIVE,
        s.IS_CELL,
        s.HIGH_CONFIDENCE,
        s.UMI_COUNT,
        s.CONSENSUS_COUNT,
        s.DUPLICATE_COUNT,
        *spec.gene_columns,
    )


def _factorize_strings(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (-1 for NA) and the dictionary of a string column, via Arrow."""
    return _encode(strings(series))


def _encode(array: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary codes (-1 for NA) and dictionary of a string array."""
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    indices = encoded.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    return np.asarray(indices, dtype=np.int64), encoded.dictionary


def _factorize_strings_at(series: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """:func:`_factorize_strings` of ``series.iloc[rows]`` (codes by first appearance)."""
    array = strings(series)
    if len(rows) != len(series):
        array = _take_chunked(array, rows)
    return _encode(array)


def _take_chunked(array: pa.ChunkedArray, rows: np.ndarray) -> pa.ChunkedArray:
    """``array.take(rows)`` for ascending ``rows``, chunk by chunk: Arrow neither concatenates
    the chunks first (a copy of the whole column) nor resolves each index's chunk."""
    bounds = np.cumsum([0] + [len(c) for c in array.chunks])
    cut = np.searchsorted(rows, bounds)
    parts = [
        chunk.take(pa.array(rows[cut[i] : cut[i + 1]] - bounds[i]))
        for i, chunk in enumerate(array.chunks)
        if cut[i + 1] > cut[i]
    ]
    return pa.chunked_array(parts, type=array.type)


def _category_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    cat = series.astype("category")
    return np.asarray(cat.cat.codes, dtype=np.int64), [str(c) for c in cat.cat.categories]


def _category_codes_at(series: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """:func:`_category_codes` of ``series.iloc[rows]`` (a categorical keeps its categories)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = np.asarray(series.cat.codes)[rows].astype(np.int64)
        return codes, [str(c) for c in series.cat.categories]
    return _category_codes(series.iloc[rows])


def _locus_codes_at(series: pd.Series, rows: np.ndarray, loci: tuple[str, ...]) -> np.ndarray:
    """Index of each row's locus in ``loci``, -1 for other loci and NA."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.array(
            [loci.index(str(c)) if str(c) in loci else -1 for c in series.cat.categories] + [-1],
            dtype=np.int64,
        )
        return lut[np.asarray(series.cat.codes)[rows]]  # code -1 (NA) picks the final -1
    values = series.iloc[rows].astype("string")
    return np.asarray(pd.Categorical(values, categories=list(loci)).codes, dtype=np.int64)


def _counts_at(contigs: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    """A count column at ``rows`` as int64, NA as -1 (0 when the column is absent)."""
    if column not in contigs:
        return np.zeros(len(rows), dtype=np.int64)
    col = contigs[column]
    if not isinstance(col.dtype, pd.Int64Dtype):
        col = col.astype("Int64")
    return col.to_numpy(dtype=np.int64, na_value=-1)[rows]


def _first_appearance(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
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


def _primary_order(
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
    codes = seq_codes[sub]
    codes = np.where(codes < 0, len(seq_dict) - 1, codes)  # NA: as rank[-1] would pick
    used = np.unique(codes)
    rank_of_used = np.empty(len(used), dtype=np.int64)
    rank_of_used[np.asarray(pc.sort_indices(seq_dict.take(pa.array(used))))] = np.arange(len(used))
    rank = rank_of_used[np.searchsorted(used, codes)]
    order[pos] = sub[np.lexsort((-rank, -reads[sub], -umis[sub], g[pos]))]
    return order


def _is_filtered(contigs: pd.DataFrame) -> bool:
    ledger = _qc.ledger_of(contigs)
    stages = {(e.sample, e.stage) for e in ledger.entries}
    samples = {e.sample for e in ledger.entries}
    return bool(samples) and all((x, "filter") in stages for x in samples)


def clonotypes(
    contigs: pd.DataFrame,
    spec: ClonotypeSpec | None = None,
    *,
    filter: bool = True,
) -> CloneCounts:
    """Group contigs into clonotypes and count them per sample.

    Parameters
    ----------
    contigs
        A contig table (from :mod:`tcrtrack.io`, possibly several samples joined with
        :func:`tcrtrack.pp.concat`).
    spec
        The clonotype definition; default :class:`ClonotypeSpec()`: exact TRB junction
        nucleotides, the primary chain of cells with two.
    filter
        Apply :func:`tcrtrack.pp.filter_contigs` (cells only, high confidence, productive,
        well-formed junction) first, unless the table's QC ledger shows it was filtered
        already. Pass ``False`` to use the rows as they are.

    Returns
    -------
    :class:`CloneCounts`. Cell counts are distinct cells. Its ledger adds, per sample, the
    contigs of other loci, the extra chains discarded by ``multichain`` and the cells without a
    chain of the locus.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> cc = tt.tl.clonotypes(contigs)
    >>> cc.n_samples, cc.unit, str(cc.spec)
    (1, 'cells', 'TRB junction nucleotides, multichain=primary')
    """
    from tcrtrack.pp._filter import check_contig_table, filter_masks

    spec = spec if spec is not None else ClonotypeSpec()
    check_contig_table(contigs)
    # The filter and the drop of other loci are counted in the ledger exactly as
    # filter_contigs and _qc.drop_rows would, but no filtered frame is built: ``rows`` indexes
    # the rows kept, and each column is read at those rows only when needed.
    ledger = _qc.ledger_of(contigs)
    unit = contigs.attrs.get(s.ATTRS_UNIT, s.UNIT_CELLS)
    if filter and not _is_filtered(contigs):
        masks = filter_masks(contigs, sequence=spec.sequence)
        entries_f, kept = _qc.count_drops(contigs[s.SAMPLE], masks, stage="filter")
        del masks
        ledger = ledger.extend(entries_f)
        rows = np.flatnonzero(kept)
    else:
        rows = np.arange(len(contigs))

    sample_codes, sample_names = _category_codes_at(contigs[s.SAMPLE], rows)
    cell_valid = contigs[s.CELL_ID].notna().to_numpy()[rows]
    single_cell = bool(cell_valid.any())
    if single_cell and not cell_valid.all():
        bad = int((~cell_valid).sum())
        msg = (
            f"{bad} contig(s) have no cell_id while others have one; a table must be "
            "all single-cell or all bulk; split it by sample"
        )
        raise SchemaError(msg)
    if spec.paired and not single_cell:
        msg = f"clonotype locus {spec.locus!r} pairs chains within cells; bulk data have no cells"
        raise SchemaError(msg)

    # contigs of other loci
    locus_codes = _locus_codes_at(contigs[s.LOCUS], rows, spec.loci)
    in_locus = locus_codes >= 0
    entries_l, _ = _qc.count_drops(
        contigs[s.SAMPLE].iloc[rows], [(_qc.OTHER_LOCUS, ~in_locus)], stage="clonotypes"
    )
    ledger = ledger.extend(entries_l)
    kept_rows_all = rows
    rows = rows[in_locus]
    sample_codes_all = sample_codes
    sample_codes = sample_codes[in_locus]
    locus_codes = locus_codes[in_locus]

    # the two string hashings (barcodes, sequences) run in parallel: Arrow releases the GIL
    with ThreadPoolExecutor(max_workers=2) as pool:
        barcodes = pool.submit(_encode, strings(contigs[s.CELL_ID])) if single_cell else None
        seq_codes, seq_dict = _factorize_strings_at(contigs[spec.sequence_column], rows)
        if barcodes is not None:
            all_cell_codes, cell_dict = barcodes.result()
    if single_cell:
        all_cell_codes = all_cell_codes[kept_rows_all]
        n_all_cells = len(cell_dict)
        cells_before = _distinct_cells(
            all_cell_codes, n_all_cells, sample_codes_all, len(sample_names)
        )
        all_cell_codes = all_cell_codes[in_locus]
    if spec.gene_columns or (len(seq_codes) and seq_codes.min() < 0):
        key = seq_codes.copy()
        for gene in spec.gene_columns:
            g_codes, g_names = _category_codes_at(contigs[gene], rows)
            key = key * (len(g_names) + 1) + (g_codes + 1)
        chain_codes, chain_keys = pd.factorize(key)
        chain_codes = chain_codes.astype(np.int64)
    else:  # dictionary codes are already numbered by first appearance, as factorize does
        chain_codes, chain_keys = seq_codes, np.arange(len(seq_dict))
    # representative row of each chain key, to label it
    first_row = np.full(len(chain_keys), -1, dtype=np.int64)
    first_row[chain_codes[::-1]] = np.arange(len(chain_codes))[::-1]
    chain_table = _chain_table(contigs, spec, rows[first_row])

    if not single_cell:
        frame = contigs.take(rows).reset_index(drop=True)
        return _bulk_counts(
            frame, spec, unit, ledger, sample_codes, sample_names, chain_codes, chain_table
        )

    cell_codes, cell_uniques = _first_appearance(all_cell_codes, n_all_cells)
    n_cell = len(cell_uniques)
    cell = sample_codes * max(n_cell, 1) + cell_codes  # distinct cells across samples
    umis = _counts_at(contigs, s.UMI_COUNT, rows)
    reads = _counts_at(contigs, s.CONSENSUS_COUNT, rows)
    order = _primary_order(cell, locus_codes, len(spec.loci), umis, reads, seq_codes, seq_dict)
    del umis, reads, cell_codes, all_cell_codes, seq_codes, first_row  # memory
    cell_o, locus_o, chain_o = cell[order], locus_codes[order], chain_codes[order]
    group_start = np.ones(len(order), dtype=bool)
    group_start[1:] = (cell_o[1:] != cell_o[:-1]) | (locus_o[1:] != locus_o[:-1])

    entries: list[_qc.QCEntry] = []
    samples_o = sample_codes[order]

    def record(reason: str, mask: np.ndarray, unit_: _qc.Unit, codes: np.ndarray) -> None:
        per = np.bincount(codes[mask], minlength=len(sample_names))
        entries.extend(
            _qc.QCEntry(name, "clonotypes", "dropped", reason, int(n), unit_)
            for name, n in zip(sample_names, per, strict=True)
        )

    if spec.multichain == "primary":
        keep = group_start
        record(_qc.EXTRA_CHAIN, ~keep, "contigs", samples_o)
    elif spec.multichain == "all":
        # a cell counts once per distinct clonotype chain
        dup = np.zeros(len(order), dtype=bool)
        o2 = np.lexsort((chain_o, locus_o, cell_o))
        c2, l2, k2 = cell_o[o2], locus_o[o2], chain_o[o2]
        dup[o2[1:]] = (c2[1:] == c2[:-1]) & (l2[1:] == l2[:-1]) & (k2[1:] == k2[:-1])
        keep = ~dup
        record(_qc.EXTRA_CHAIN, dup, "contigs", samples_o)
    else:  # drop cells with two different chains of a locus
        o2 = np.lexsort((chain_o, locus_o, cell_o))
        c2, l2, k2 = cell_o[o2], locus_o[o2], chain_o[o2]
        differs = np.zeros(len(order), dtype=bool)
        differs[o2[1:]] = (c2[1:] == c2[:-1]) & (l2[1:] == l2[:-1]) & (k2[1:] != k2[:-1])
        bad_cells = np.unique(cell_o[differs])
        ambiguous = np.isin(cell_o, bad_cells)
        keep = group_start & ~ambiguous
        record(_qc.AMBIGUOUS_CELL, ambiguous, "contigs", samples_o)
        record(_qc.EXTRA_CHAIN, ~group_start & ~ambiguous, "contigs", samples_o)
        cell_first = np.ones(len(order), dtype=bool)
        cell_first[1:] = cell_o[1:] != cell_o[:-1]
        record(_qc.AMBIGUOUS_CELL, ambiguous & cell_first, "cells", samples_o)

    kept_rows = order[keep]
    del cell_o, locus_o, chain_o, samples_o, group_start, order, keep  # memory
    if spec.paired:
        pairs = pd.DataFrame(
            {
                "cell": cell[kept_rows],
                "locus": locus_codes[kept_rows],
                "chain": chain_codes[kept_rows],
                "sample": sample_codes[kept_rows],
            }
        )
        first = pairs[pairs["locus"] == 0]
        second = pairs[pairs["locus"] == 1]
        merged = first.merge(second, on=["cell", "sample"], suffixes=("_a", "_b"))
        # cells lacking one of the loci
        paired_cells = set(merged["cell"].to_numpy().tolist())
        lonely_rows = ~pairs["cell"].isin(paired_cells).to_numpy()
        record(_qc.NO_CHAIN, lonely_rows, "contigs", pairs["sample"].to_numpy())
        pair_key = merged["chain_a"].to_numpy() * len(chain_keys) + merged["chain_b"].to_numpy()
        clone, pair_uniques = pd.factorize(pair_key)
        a_idx = pair_uniques // len(chain_keys)
        b_idx = pair_uniques % len(chain_keys)
        clone_table = _paired_table(chain_table, a_idx, b_idx, spec)
        cell_of = merged["cell"].to_numpy()
        sample_of = merged["sample"].to_numpy()
    else:
        clone, clone_keys = _first_appearance(chain_codes[kept_rows], len(chain_keys))
        clone_table = chain_table.iloc[clone_keys].reset_index(drop=True)
        cell_of = cell[kept_rows]
        sample_of = sample_codes[kept_rows]
        clone_table = _label(clone_table, spec)
    clone = np.asarray(clone, dtype=np.int64)
    n_clone = len(clone_table)
    from scipy import sparse

    counts = sparse.coo_array(
        (np.ones(len(clone), dtype=np.int64), (sample_of, clone)),
        shape=(len(sample_names), n_clone),
    ).tocsr()
    counts.sum_duplicates()
    cells = pd.DataFrame(
        {
            "sample": pd.Categorical.from_codes(sample_of, categories=sample_names),
            "cell_id": cell_of,
            "clonotype": clone,
        }
    )
    # barcode of each cell: its code among in-locus cells -> the dictionary of all barcodes
    barcode_codes = cell_uniques[cells["cell_id"].to_numpy() % max(n_cell, 1)]
    cells["cell_id"] = pd.arrays.ArrowStringArray(
        pa.chunked_array([cell_dict.take(pa.array(barcode_codes)).cast(pa.large_string())])
    )
    # cells with contigs after filtering but no clonotype: no chain of the locus (or, for a
    # paired definition, not both), excluding the cells dropped as ambiguous
    counted = _distinct_cells(
        cell_of % max(n_cell, 1), n_cell, cell_of // max(n_cell, 1), len(sample_names)
    )
    ambiguous_cells = {
        e.sample: e.n for e in entries if e.reason == _qc.AMBIGUOUS_CELL and e.unit == "cells"
    }
    assert cells_before is not None
    for i, name in enumerate(sample_names):
        n = int(cells_before[i] - counted[i] - ambiguous_cells.get(name, 0))
        entries.append(_qc.QCEntry(name, "clonotypes", "dropped", _qc.NO_CHAIN, n, "cells"))
    ledger = ledger.extend(entries)
    result = CloneCounts(
        counts=counts,
        samples=tuple(sample_names),
        clonotypes=clone_table,
        spec=spec,
        unit=unit,
        qc=ledger,
        cells=cells,
    )
    object.__setattr__(result, "_n_cells", counted.astype(np.int64))
    return result


def _counts(contigs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in contigs:
        return np.zeros(len(contigs), dtype=np.int64)
    return np.asarray(contigs[column].astype("Int64").fillna(-1), dtype=np.int64)


def _chain_table(contigs: pd.DataFrame, spec: ClonotypeSpec, rows: np.ndarray) -> pd.DataFrame:
    cols = [s.LOCUS, spec.sequence_column, *spec.gene_columns]
    if spec.sequence == "nt":
        cols.insert(2, s.JUNCTION_AA)
    table = pd.DataFrame({c: _take(contigs[c], rows) for c in cols})
    table[s.LOCUS] = table[s.LOCUS].astype("string")
    for gene in spec.gene_columns:
        table[gene] = table[gene].astype("string")
    return table


def _take(series: pd.Series, rows: np.ndarray) -> pd.Series:
    """``series.iloc[rows]`` with a fresh index; Arrow-backed strings are taken by Arrow from
    one contiguous array (faster than pandas' take over many chunks)."""
    if series.dtype == pd.StringDtype("pyarrow"):
        array = strings(series)
        if len(rows) and (np.diff(rows) >= 0).all():
            taken = pd.arrays.ArrowStringArray(_take_chunked(array, rows))
        else:
            taken = pd.arrays.ArrowStringArray(array.take(pa.array(rows)))
        return pd.Series(taken, name=series.name)
    return series.iloc[rows].reset_index(drop=True)


def _label(table: pd.DataFrame, spec: ClonotypeSpec) -> pd.DataFrame:
    parts = [table[c].astype("string").fillna("NA") for c in (*spec.gene_columns,)]
    label = table[spec.sequence_column].astype("string")
    if spec.genes == "v":
        label = parts[0] + "|" + label
    elif spec.genes == "vj":
        label = parts[0] + "|" + label + "|" + parts[1]
    out = table.drop(columns=[s.LOCUS]).copy()
    out.insert(0, "clonotype", label.to_numpy())
    return out


def _paired_table(
    chains: pd.DataFrame, a: np.ndarray, b: np.ndarray, spec: ClonotypeSpec
) -> pd.DataFrame:
    la, lb = spec.loci
    ta = _label(chains.iloc[a].reset_index(drop=True), spec)
    tb = _label(chains.iloc[b].reset_index(drop=True), spec)
    ta.columns = [f"{la}_{c}" for c in ta.columns]
    tb.columns = [f"{lb}_{c}" for c in tb.columns]
    out = pd.concat([ta, tb], axis=1)
    out.insert(0, "clonotype", (ta[f"{la}_clonotype"] + "+" + tb[f"{lb}_clonotype"]).to_numpy())
    return out.drop(columns=[f"{la}_clonotype", f"{lb}_clonotype"])


def _distinct_cells(
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


def _bulk_counts(
    contigs: pd.DataFrame,
    spec: ClonotypeSpec,
    unit: str,
    ledger: _qc.QCLedger,
    sample_codes: np.ndarray,
    sample_names: list[str],
    chain_codes: np.ndarray,
    chain_table: pd.DataFrame,
) -> CloneCounts:
    from scipy import sparse

    if s.DUPLICATE_COUNT in contigs:
        weight = np.asarray(contigs[s.DUPLICATE_COUNT].astype("Int64").fillna(0), dtype=np.int64)
    else:
        weight = np.ones(len(contigs), dtype=np.int64)
    zero = weight <= 0
    per = np.bincount(sample_codes[zero], minlength=len(sample_names))
    entries = [
        _qc.QCEntry(name, "clonotypes", "dropped", _qc.ZERO_COUNT, int(n), "rows")
        for name, n in zip(sample_names, per, strict=True)
    ]
    keep = ~zero
    clone, clone_keys = pd.factorize(chain_codes[keep])
    table = _label(chain_table.iloc[clone_keys].reset_index(drop=True), spec)
    counts = sparse.coo_array(
        (weight[keep], (sample_codes[keep], np.asarray(clone, dtype=np.int64))),
        shape=(len(sample_names), len(table)),
    ).tocsr()
    counts.sum_duplicates()
    return CloneCounts(
        counts=counts,
        samples=tuple(sample_names),
        clonotypes=table,
        spec=spec,
        unit=unit,
        qc=ledger.extend(entries),
        cells=None,
    )
