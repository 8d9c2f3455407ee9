"""From contigs to clonotype counts: ``tt.tl.clonotypes`` and :class:`CloneCounts`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import strings
from tcrtrack.errors import SchemaError
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import anndata
    import scipy.sparse as sp

__all__ = ["CloneCounts", "clonotypes"]


@dataclass(frozen=True, eq=False)
class CloneCounts:
    """Clonotype counts per sample: the one object every tcrtrack number is computed from.

    Attributes
    ----------
    counts
        ``scipy.sparse.csr_array`` of shape samples × clonotypes: cells (single-cell data) or
        templates, reads or UMIs (bulk data) of each clonotype in each sample.
    samples
        Sample names, in the order of the rows of ``counts``.
    clonotypes
        One row per clonotype (column of ``counts``): the sequence(s) and genes that define
        it, and ``clonotype``, a readable label.
    spec
        The :class:`ClonotypeSpec` used.
    unit
        What ``counts`` counts: ``cells``, ``templates``, ``reads`` or ``umis``.
    qc
        The QC ledger from file to clonotypes.
    cells
        Single-cell data only: one row per cell and clonotype (``sample``, ``cell_id``,
        ``clonotype`` = column index of ``counts``); ``None`` for bulk data.
    """

    counts: sp.csr_array
    samples: tuple[str, ...]
    clonotypes: pd.DataFrame
    spec: ClonotypeSpec
    unit: str
    qc: _qc.QCLedger = field(default_factory=_qc.QCLedger)
    cells: pd.DataFrame | None = None

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    @property
    def n_clonotypes(self) -> int:
        return int(self.counts.shape[1])

    def index(self, sample: str) -> int:
        """Row of ``sample`` in :attr:`counts`; raises ``KeyError`` naming the samples known."""
        try:
            return self.samples.index(sample)
        except ValueError:
            msg = f"unknown sample {sample!r}; samples are: {', '.join(self.samples)}"
            raise KeyError(msg) from None

    def dense(self) -> np.ndarray:
        """:attr:`counts` as a dense ``int64`` array."""
        return np.asarray(self.counts.toarray(), dtype=np.int64)

    def presence(self) -> np.ndarray:
        """Boolean samples × clonotypes array: is the clonotype found in the sample."""
        return self.dense() > 0

    def totals(self) -> pd.Series:
        """Per sample: cells (distinct cells with a clonotype) or summed bulk counts."""
        if self.cells is not None:
            n = self.cells.groupby("sample", observed=False)["cell_id"].nunique()
            return n.reindex(list(self.samples)).fillna(0).astype("int64").rename(self.unit)
        sums = np.asarray(self.counts.sum(axis=1)).ravel().astype(np.int64)
        return pd.Series(sums, index=list(self.samples), name=self.unit)

    def n_clonotypes_per_sample(self) -> pd.Series:
        """Per sample: the number of distinct clonotypes found."""
        n = np.diff(self.counts.indptr) if self.counts.has_canonical_format else None
        if n is None:
            n = (self.dense() > 0).sum(axis=1)
        return pd.Series(np.asarray(n, dtype=np.int64), index=list(self.samples), name="clonotypes")

    def select(self, samples: Sequence[str]) -> CloneCounts:
        """The counts of ``samples`` only (in that order), keeping clonotypes found in them."""
        rows = [self.index(x) for x in samples]
        sub = self.counts[rows]
        keep = np.flatnonzero(np.asarray((sub > 0).sum(axis=0)).ravel())
        new_index = np.full(self.n_clonotypes, -1, dtype=np.int64)
        new_index[keep] = np.arange(len(keep))
        cells = None
        if self.cells is not None:
            cells = self.cells[self.cells["sample"].isin(list(samples))].copy()
            cells["sample"] = pd.Categorical(cells["sample"].astype(str), categories=list(samples))
            cells["clonotype"] = new_index[cells["clonotype"].to_numpy()]
            cells = cells.reset_index(drop=True)
        return CloneCounts(
            counts=sub[:, keep].tocsr(),
            samples=tuple(samples),
            clonotypes=self.clonotypes.iloc[keep].reset_index(drop=True),
            spec=self.spec,
            unit=self.unit,
            qc=QCLedgerView.select(self.qc, samples),
            cells=cells,
        )

    def to_frame(self) -> pd.DataFrame:
        """Wide table: one row per clonotype, its defining columns, then a count per sample."""
        counts = pd.DataFrame(self.dense().T, columns=list(self.samples))
        return pd.concat([self.clonotypes.reset_index(drop=True), counts], axis=1)

    def to_anndata(self) -> anndata.AnnData:
        """An AnnData with obs = samples, var = clonotypes, X = counts (sparse)."""
        import anndata

        var = self.clonotypes.copy()
        var.index = var["clonotype"].astype(str).to_numpy()
        obs = pd.DataFrame(index=list(self.samples))
        obs[self.unit] = self.totals().to_numpy()
        return anndata.AnnData(
            X=self.counts.astype(np.float32).tocsr(),
            obs=obs,
            var=var.drop(columns=["clonotype"]),
            uns={"tcrtrack": {"spec": str(self.spec), "unit": self.unit}},
        )

    def summary(self) -> pd.DataFrame:
        """Per sample: clonotypes and cells (or bulk units)."""
        return pd.DataFrame(
            {"clonotypes": self.n_clonotypes_per_sample(), self.unit: self.totals()}
        )

    def __repr__(self) -> str:
        return (
            f"CloneCounts({self.n_samples} samples × {self.n_clonotypes} clonotypes, "
            f"unit={self.unit!r}, spec='{self.spec}')"
        )

    def _repr_html_(self) -> str:
        return (
            f"<p><b>CloneCounts</b>: {self.n_samples} samples × {self.n_clonotypes} clonotypes "
            f"({self.unit}); clonotype = {self.spec}</p>" + self.summary().to_html()
        )


class QCLedgerView:
    """Helpers on ledgers used by :class:`CloneCounts`."""

    @staticmethod
    def select(ledger: _qc.QCLedger, samples: Sequence[str]) -> _qc.QCLedger:
        keep = set(samples)
        return _qc.QCLedger(tuple(e for e in ledger.entries if e.sample in keep))


def _factorize_strings(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (-1 for NA) and the dictionary of a string column, via Arrow."""
    encoded = pc.dictionary_encode(strings(series)).combine_chunks()
    codes = np.asarray(encoded.indices.fill_null(-1), dtype=np.int64)
    return codes, encoded.dictionary


def _category_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    cat = series.astype("category")
    return np.asarray(cat.cat.codes, dtype=np.int64), [str(c) for c in cat.cat.categories]


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
    from tcrtrack.pp._filter import check_contig_table, filter_contigs

    spec = spec if spec is not None else ClonotypeSpec()
    check_contig_table(contigs)
    if filter and not _is_filtered(contigs):
        contigs = filter_contigs(contigs, sequence=spec.sequence)
    unit = contigs.attrs.get(s.ATTRS_UNIT, s.UNIT_CELLS)

    sample_codes, sample_names = _category_codes(contigs[s.SAMPLE])
    cell_valid = contigs[s.CELL_ID].notna().to_numpy()
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

    cells_before = (
        _distinct_cells(contigs, sample_codes, len(sample_names)) if single_cell else None
    )
    # contigs of other loci
    locus = contigs[s.LOCUS].astype("string")
    in_locus = np.asarray(locus.isin(spec.loci).fillna(False), dtype=bool)
    contigs = _qc.drop_rows(contigs, [(_qc.OTHER_LOCUS, ~in_locus)], stage="clonotypes")
    ledger = _qc.ledger_of(contigs)
    sample_codes = sample_codes[in_locus]

    seq_codes, seq_dict = _factorize_strings(contigs[spec.sequence_column])
    key = seq_codes.copy()
    for gene in spec.gene_columns:
        g_codes, g_names = _category_codes(contigs[gene])
        key = key * (len(g_names) + 1) + (g_codes + 1)
    chain_codes, chain_keys = pd.factorize(key)
    chain_codes = chain_codes.astype(np.int64)
    # representative row of each chain key, to label it
    first_row = np.full(len(chain_keys), -1, dtype=np.int64)
    first_row[chain_codes[::-1]] = np.arange(len(chain_codes))[::-1]
    chain_table = _chain_table(contigs, spec, first_row)

    if not single_cell:
        return _bulk_counts(
            contigs, spec, unit, ledger, sample_codes, sample_names, chain_codes, chain_table
        )

    cell_codes, _ = _factorize_strings(contigs[s.CELL_ID])
    n_cell = int(cell_codes.max()) + 1 if len(cell_codes) else 0
    cell = sample_codes * max(n_cell, 1) + cell_codes  # distinct cells across samples
    locus_codes = np.asarray(
        pd.Categorical(contigs[s.LOCUS].astype("string"), categories=list(spec.loci)).codes,
        dtype=np.int64,
    )
    # rank of each sequence in lexicographic order, for the tie-break
    seq_rank = np.empty(len(seq_dict), dtype=np.int64)
    seq_rank[np.asarray(pc.sort_indices(seq_dict))] = np.arange(len(seq_dict))
    rank = seq_rank[seq_codes]
    umis = _counts(contigs, s.UMI_COUNT)
    reads = _counts(contigs, s.CONSENSUS_COUNT)
    order = np.lexsort((-rank, -reads, -umis, locus_codes, cell))
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
        clone, clone_keys = pd.factorize(chain_codes[kept_rows])
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
    cells = _attach_barcodes(cells, contigs, cell, sample_names)
    # cells with contigs after filtering but no clonotype: no chain of the locus (or, for a
    # paired definition, not both), excluding the cells dropped as ambiguous
    counted = np.bincount(np.unique(cell_of) // max(n_cell, 1), minlength=len(sample_names))
    ambiguous_cells = {
        e.sample: e.n for e in entries if e.reason == _qc.AMBIGUOUS_CELL and e.unit == "cells"
    }
    assert cells_before is not None
    for i, name in enumerate(sample_names):
        n = int(cells_before[i] - counted[i] - ambiguous_cells.get(name, 0))
        entries.append(_qc.QCEntry(name, "clonotypes", "dropped", _qc.NO_CHAIN, n, "cells"))
    ledger = ledger.extend(entries)
    return CloneCounts(
        counts=counts,
        samples=tuple(sample_names),
        clonotypes=clone_table,
        spec=spec,
        unit=unit,
        qc=ledger,
        cells=cells,
    )


def _counts(contigs: pd.DataFrame, column: str) -> np.ndarray:
    if column not in contigs:
        return np.zeros(len(contigs), dtype=np.int64)
    return np.asarray(contigs[column].astype("Int64").fillna(-1), dtype=np.int64)


def _chain_table(contigs: pd.DataFrame, spec: ClonotypeSpec, rows: np.ndarray) -> pd.DataFrame:
    cols = [s.LOCUS, spec.sequence_column, *spec.gene_columns]
    if spec.sequence == "nt":
        cols.insert(2, s.JUNCTION_AA)
    table = contigs[cols].iloc[rows].reset_index(drop=True)
    table[s.LOCUS] = table[s.LOCUS].astype("string")
    for gene in spec.gene_columns:
        table[gene] = table[gene].astype("string")
    return table


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


def _attach_barcodes(
    cells: pd.DataFrame, contigs: pd.DataFrame, cell: np.ndarray, sample_names: list[str]
) -> pd.DataFrame:
    """Replace internal cell codes by the barcodes they stand for."""
    first = np.full(int(cell.max()) + 1 if len(cell) else 0, -1, dtype=np.int64)
    first[cell[::-1]] = np.arange(len(cell))[::-1]
    rows = first[cells["cell_id"].to_numpy()]
    barcodes = contigs[s.CELL_ID].iloc[rows].to_numpy()
    out = cells.copy()
    out["cell_id"] = pd.array(barcodes, dtype=pd.StringDtype("pyarrow"))
    return out


def _distinct_cells(contigs: pd.DataFrame, sample_codes: np.ndarray, n_samples: int) -> np.ndarray:
    codes, _ = _factorize_strings(contigs[s.CELL_ID])
    n = int(codes.max()) + 1 if len(codes) else 1
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
