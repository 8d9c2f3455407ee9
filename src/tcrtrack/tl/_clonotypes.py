"""From contigs to clonotype counts: ``tt.tl.clonotypes``.

Each sample is reduced to integer codes on its own (:mod:`tcrtrack.tl._digest`); this module
joins the digests: one numbering of the chain keys across samples, clonotypes (paired chains
for ``TRA+TRB``), the counts matrix, the cells table and the ledger.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack._arrow import encode, factorize, indices, string_array, strings
from tcrtrack._memory import LARGE_ROWS, release_memory
from tcrtrack.errors import EmptyError, ParameterError, SchemaError, UnitError
from tcrtrack.tl import _engine
from tcrtrack.tl._counts import Arrays, CellArrays, CloneCounts
from tcrtrack.tl._digest import Digest, digest, first_appearance
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import pandas as pd
    from scipy import sparse

__all__ = ["CloneCounts", "clonotypes"]


def _is_frame(contigs: object) -> bool:
    """Whether ``contigs`` is one DataFrame (none exists unless pandas was imported)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(contigs, pd.DataFrame)


def _is_filtered(contigs: pd.DataFrame) -> bool:
    ledger = _qc.ledger_of(contigs)
    stages = {(e.sample, e.stage) for e in ledger.entries}
    samples = {e.sample for e in ledger.entries}
    return bool(samples) and all((x, "filter") in stages for x in samples)


def _by_sample(contigs: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each sample's rows (a slice when they are contiguous), in the order of the categories
    of the ``sample`` column (sorted names when it is not categorical)."""
    import pandas as pd

    col = contigs[s.SAMPLE]
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype("category")
    codes = np.asarray(col.cat.codes, dtype=np.int64)
    names = [str(c) for c in col.cat.categories]
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        msg = (
            f"{int((codes < 0).sum())} contig(s) have no sample name (first: row {row}); "
            "give every row a sample (tt.io.read(path, sample=...))"
        )
        raise SchemaError(msg)
    cut = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate([[0], cut]) if len(codes) else np.zeros(0, np.int64)
    stops = np.concatenate([cut, [len(codes)]]) if len(codes) else np.zeros(0, np.int64)
    run_code = codes[starts]
    contiguous = len(np.unique(run_code)) == len(run_code)
    span = {int(c): (int(a), int(b)) for c, a, b in zip(run_code, starts, stops, strict=True)}
    for k, name in enumerate(names):
        if contiguous:
            a, b = span.get(k, (0, 0))
            yield name, contigs.iloc[a:b]
        else:
            yield name, contigs.iloc[np.flatnonzero(codes == k)]


def clonotypes(
    contigs: pd.DataFrame | Iterable[pd.DataFrame],
    spec: ClonotypeSpec | None = None,
    *,
    filter: bool = True,
    units: Mapping[str, str] | None = None,
) -> CloneCounts:
    """Group contigs into clonotypes and count them per sample.

    Parameters
    ----------
    contigs
        A contig table (from :mod:`tcrtrack.io`, possibly several samples joined with
        :func:`tcrtrack.pp.concat`), or several contig tables, e.g. one per file. Tables are
        taken one at a time and reduced to integer codes before the next is asked for, so a
        generator such as ``(tt.io.read(p) for p in paths)`` holds only one file's rows in
        memory at a time. The result is the same as for the tables joined with
        :func:`tcrtrack.pp.concat`.
    spec
        The clonotype definition; default :class:`ClonotypeSpec()`: exact TRB junction
        nucleotides, the primary chain of cells with two.
    filter
        Apply :func:`tcrtrack.pp.filter_contigs` (cells only, high confidence, productive,
        well-formed junction) first, unless the table's QC ledger shows it was filtered
        already. Pass ``False`` to use the rows as they are.
    units
        The unit of some samples' counts (``{sample: unit}``, a unit of
        :data:`tcrtrack.schema.UNITS`), replacing the unit their reader detected or assumed
        (as ``--unit`` on the command line and a sample sheet's ``unit`` column do). Samples
        may count in different units (a templates export beside a reads export, single-cell
        beside bulk data): each keeps its own (:attr:`CloneCounts.units`).

    Returns
    -------
    :class:`CloneCounts`. Cell counts are distinct cells. Its ledger adds, per sample, the
    contigs of other loci, the extra chains discarded by ``multichain`` and the cells without a
    chain of the locus. Clonotypes are numbered in order of first appearance: samples in order,
    and within a sample cells in order of their first row.

    Raises
    ------
    tcrtrack.errors.UnitError
        A unit other than ``cells`` for a single-cell sample.
    tcrtrack.errors.ParameterError
        ``units`` names an unknown sample or unit.

    Warns
    -----
    tcrtrack.errors.TcrtrackWarning
        A reason that points at damaged data (``missing_junction``, ``malformed_junction``,
        ``zero_count``) dropped more than 5% of a file's rows; the message names the file,
        the reason, the count and what to check.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> cc = tt.tl.clonotypes(contigs)
    >>> cc.n_samples, cc.unit, str(cc.spec)
    (1, 'cells', 'TRB junction nucleotides, multichain=primary')

    One table per file, read one at a time:

    >>> path = tt.datasets.path("pbmc3_t_filtered")
    >>> two = tt.tl.clonotypes(tt.io.read_10x(path, sample=x) for x in ("a", "b"))
    >>> two.samples, two.n_clonotypes == cc.n_clonotypes
    (('a', 'b'), True)
    """
    from tcrtrack._contigs import check_contig_table, claim_sample
    from tcrtrack.io import ContigFiles

    spec = spec if spec is not None else ClonotypeSpec()
    tables: Iterable[pd.DataFrame | pa.Table]
    if isinstance(contigs, ContigFiles):
        tables = contigs.parsed()  # every file format: Arrow tables, to the engine
    else:
        tables = [contigs] if _is_frame(contigs) else contigs
    declared = _check_declared_units(units)
    digests: list[Digest] = []
    ledger = _qc.QCLedger()
    sample_units: dict[str, str] = {}
    n_tables = 0
    seen: dict[str, int] = {}
    i = -1
    for table in tables:  # not enumerate: its reused result tuple would keep the table alive
        i += 1
        n_tables += 1
        if _engine.is_parsed(table):
            table_ledger, unit = _engine.ledger_and_unit(table)
            ledger = ledger + table_ledger
            name = table_ledger.entries[0].sample
            claim_sample(seen, name, i)
            sample_units[name] = unit
            engine_filter = filter and not _engine.is_filtered(table_ledger)
            digests.append(_engine.digest_arrow(table, name, spec, filter=engine_filter))
            large = table.num_rows >= LARGE_ROWS
            del table
            if large:
                release_memory()
            continue
        check_contig_table(table, what=f"table {i}" if i else "contig table")
        unit = table.attrs.get(s.ATTRS_UNIT, s.UNIT_CELLS)
        per_sample = table.attrs.get(s.ATTRS_UNITS) or {}
        ledger = ledger + _qc.ledger_of(table)
        do_filter = filter and not _is_filtered(table)
        for name, part in _by_sample(table):
            claim_sample(seen, name, i)
            sample_units[name] = str(per_sample.get(name, unit))
            digests.append(digest(part, name, spec, filter=do_filter))
            del part
        del table  # before the next table is read: one file's rows in memory at a time
    if not n_tables:
        msg = "clonotypes needs at least one contig table, got none"
        raise EmptyError(msg)
    if not digests:
        msg = (
            "the contig table(s) have no rows and no sample names; nothing to count: "
            "read files with tt.io.read or tt.io.read_each"
        )
        raise SchemaError(msg)
    unknown = [x for x in declared if x not in sample_units]
    if unknown:
        msg = (
            f"units names unknown sample(s) {', '.join(map(repr, unknown))}; samples are: "
            f"{', '.join(sample_units)}"
        )
        raise ParameterError(msg)
    sample_units.update(declared)
    result = _assemble(digests, spec, [sample_units[d.sample] for d in digests], ledger, declared)
    for message in _qc.large_drops(result.qc):
        _qc.warn(message)
    return result


def _check_declared_units(units: Mapping[str, str] | None) -> dict[str, str]:
    """``units`` as a plain dict of known units (a :class:`ParameterError` otherwise)."""
    if units is None:
        return {}
    if not isinstance(units, Mapping):
        msg = f"units must map sample names to units, got {type(units).__name__}"
        raise ParameterError(msg)
    out = {}
    for name, unit in units.items():
        if unit not in s.UNITS:
            msg = f"unknown unit {unit!r} for sample {name!r}; use one of {', '.join(s.UNITS)}"
            raise ParameterError(msg)
        out[str(name)] = str(unit)
    return out


def _kinds(
    digests: list[Digest], units: list[str], ledger: _qc.QCLedger, declared: Mapping[str, str]
) -> list[bool]:
    """Per sample: single-cell (True) or bulk. A sample without a row left is single-cell when
    its unit is ``cells``. A single-cell sample counts cells: another unit given for it is an
    error naming the sample, its file and the unit."""
    kinds = []
    for d, unit in zip(digests, units, strict=True):
        single_cell = d.single_cell if d.single_cell is not None else unit == s.UNIT_CELLS
        if single_cell and unit != s.UNIT_CELLS:
            source = next(
                (e.source for e in ledger.entries if e.sample == d.sample and e.source), ""
            )
            where = f"{source}: " if source else ""
            how = "units=/--unit" if d.sample in declared else "a sample sheet's unit column"
            msg = (
                f"{where}sample {d.sample!r} is single-cell data (its rows have cell barcodes) "
                f"and counts cells; the unit {unit!r} given for it ({how}) does not apply: "
                "leave the unit out for this sample, or give it as cells"
            )
            raise UnitError(msg)
        kinds.append(single_cell)
    return kinds


@dataclass(frozen=True, eq=False)
class _KeyRows:
    """The distinct chain keys of all samples without copying them: row ``rows[i]`` of
    ``table`` (the samples' key tables one after the other) is key ``i``."""

    table: pa.Table
    rows: np.ndarray

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def take(self, keys: np.ndarray) -> pa.Table:
        """The key table at ``keys`` (key numbers)."""
        return self.table.take(indices(self.rows[keys]))


def _global_keys(digests: list[Digest], spec: ClonotypeSpec) -> tuple[list[np.ndarray], _KeyRows]:
    """One numbering of the chain keys of all samples (by first appearance): the map from
    each digest's key codes to it, and the keys (taken from the digests' key tables only when
    a table of clonotypes is asked for)."""
    keys = pa.concat_tables([d.keys for d in digests])
    columns = (spec.sequence_column, *spec.gene_columns)
    code: np.ndarray | None = None
    for col in columns:
        k, dictionary = encode(keys.column(col))
        code = k + 1 if code is None else code * (len(dictionary) + 1) + (k + 1)
    assert code is not None
    if len(code) >= LARGE_ROWS:
        release_memory(trim=False)  # the hash tables of the encoding
    if len(columns) == 1 and (not len(code) or code.min() > 0):
        gid = code - 1  # dictionary codes number the keys by first appearance already
    else:
        gid, _ = factorize(code)
    del code
    first = np.full(int(gid.max()) + 1 if len(gid) else 0, -1, dtype=np.int64)
    first[gid[::-1]] = np.arange(len(gid))[::-1]
    bounds = np.cumsum([0] + [d.keys.num_rows for d in digests])
    maps = [gid[bounds[i] : bounds[i + 1]] for i in range(len(digests))]
    return maps, _KeyRows(keys, first)


def _frame(keys: _KeyRows, rows: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    taken = keys.take(rows)
    return pd.DataFrame(
        {name: pd.arrays.ArrowStringArray(taken.column(name)) for name in taken.column_names}
    )


def _clonotype_table(keys: _KeyRows, rows: np.ndarray, spec: ClonotypeSpec) -> pd.DataFrame:
    """:attr:`CloneCounts.clonotypes` of a single-chain definition: the key table at ``rows``,
    labelled (built when first asked for)."""
    return _label(_frame(keys, rows), spec)


def _assemble(
    digests: list[Digest],
    spec: ClonotypeSpec,
    units: list[str],
    ledger: _qc.QCLedger,
    declared: Mapping[str, str],
) -> CloneCounts:
    """The counts of the digested samples, single-cell, bulk or both. Single-cell samples count
    cells (one observation per cell and chain; a paired definition pairs each cell's chains),
    bulk samples their clone sizes; the cells table holds the single-cell samples' cells."""
    names = [d.sample for d in digests]
    kinds = _kinds(digests, units, ledger, declared)
    for d in digests:
        ledger = ledger.extend(d.entries)
    maps, keys = _global_keys(digests, spec)
    chain = _concat([m[d.chain] for m, d in zip(maps, digests, strict=True)])
    sample_of = _concat([np.full(len(d.chain), i, dtype=np.int64) for i, d in enumerate(digests)])
    # cells: each single-cell sample's cell codes after those of the samples before it
    sizes = [len(d.barcodes) if d.barcodes is not None else 0 for d in digests]
    offset = np.cumsum([0, *sizes])
    cell = _concat([d.cell + offset[i] for i, d in enumerate(digests) if d.cell is not None])
    entries: list[_qc.QCEntry] = []
    clonotypes: Callable[[], pd.DataFrame]
    if spec.paired and all(kinds):
        clone, clonotypes, n_clones, cell, sample_of = _pairs(
            digests, keys, chain, cell, sample_of, spec, entries
        )
        csr = _csr_arrays(sample_of, clone, len(names), n_clones)
    else:
        clone, clone_keys = first_appearance(chain, keys.num_rows)
        clonotypes = partial(_clonotype_table, keys, clone_keys, spec)
        n_clones = len(clone_keys)
        if all(kinds):
            csr = _csr_arrays(sample_of, clone, len(names), n_clones)
        else:  # a bulk observation weighs its clone size, a cell's weighs 1
            weight = _concat(
                [
                    d.weight if d.weight is not None else np.ones(len(d.chain), np.int64)
                    for d in digests
                ]
            )
            csr = _csr_sum(sample_of, clone, weight, (len(names), n_clones))
    clone = np.asarray(clone, dtype=np.int64)
    shape = (len(names), n_clones)
    if not any(kinds):
        arrays = Arrays(csr=csr, shape=shape, clonotypes=clonotypes)
        return CloneCounts._from_arrays(
            arrays, samples=names, spec=spec, units=units, single_cell=kinds, qc=ledger
        )
    cells, counted = _cells(digests, kinds, sample_of, cell, clone, offset, entries)
    arrays = Arrays(csr=csr, shape=shape, clonotypes=clonotypes, cells=cells)
    return CloneCounts._from_arrays(
        arrays,
        samples=names,
        spec=spec,
        units=units,
        single_cell=kinds,
        qc=ledger.extend(entries),
        n_cells=counted,
    )


def _cells(
    digests: list[Digest],
    kinds: list[bool],
    sample_of: np.ndarray,
    cell: np.ndarray,
    clone: np.ndarray,
    offset: np.ndarray,
    entries: list[_qc.QCEntry],
) -> tuple[CellArrays, np.ndarray]:
    """The single-cell samples' cells and each sample's number of cells with a clonotype
    (0 for a bulk sample); the cells of each single-cell sample left without one are counted
    in ``entries`` (``cell_without_locus_chain``: no chain of the locus, or for a paired
    definition not both, the cells dropped as ambiguous excluded)."""
    is_cell = np.asarray(kinds, dtype=bool)[sample_of]
    barcodes = _chunked([d.barcodes for d in digests if d.barcodes is not None])
    cells = CellArrays(
        sample=sample_of[is_cell], cell=cell, clonotype=clone[is_cell], barcodes=barcodes
    )
    seen = np.zeros(int(offset[-1]) + 1, dtype=np.int64)
    seen[cell] = 1  # cell codes are distinct across samples
    counted = np.add.reduceat(seen, offset[:-1]) if len(digests) else np.zeros(0, np.int64)
    counted[np.diff(offset) == 0] = 0  # reduceat of an empty range gives the next value
    for d, single_cell, n_counted in zip(digests, kinds, counted, strict=True):
        if single_cell:
            n = d.n_cells_before - int(n_counted) - d.n_ambiguous
            entries.append(
                _qc.QCEntry(
                    d.sample, "clonotypes", "dropped", _qc.CELL_WITHOUT_LOCUS_CHAIN, n, "cells"
                )
            )
    return cells, counted.astype(np.int64)


def _pairs(
    digests: list[Digest],
    keys: _KeyRows,
    chain: np.ndarray,
    cell: np.ndarray,
    sample_of: np.ndarray,
    spec: ClonotypeSpec,
    entries: list[_qc.QCEntry],
) -> tuple[np.ndarray, Callable[[], pd.DataFrame], int, np.ndarray, np.ndarray]:
    """Paired clonotypes of single-cell samples: each cell's chain of the first locus with
    its chain of the second. Returns each pair's clonotype, the clonotype table (built when
    first asked for), their number, and each pair's cell and sample; cells without both loci
    are counted in ``entries``."""
    names = [d.sample for d in digests]
    locus = _concat([d.locus for d in digests])
    a, b = _cell_join(cell, locus)
    paired = np.zeros(int(cell.max()) + 1 if len(cell) else 0, dtype=bool)
    paired[cell[a]] = True
    lonely = ~paired[cell]
    per = np.bincount(sample_of[lonely], minlength=len(names))
    entries.extend(
        _qc.QCEntry(x, "clonotypes", "dropped", _qc.CELL_WITHOUT_LOCUS_CHAIN, int(n), "contigs")
        for x, n in zip(names, per, strict=True)
    )
    n_keys = keys.num_rows
    clone, pair_uniques = factorize(chain[a] * n_keys + chain[b])
    table = partial(_paired_table, keys, pair_uniques // n_keys, pair_uniques % n_keys, spec)
    return np.asarray(clone, dtype=np.int64), table, len(pair_uniques), cell[a], sample_of[a]


def _cell_join(cell: np.ndarray, locus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inner join of the chains of the first locus (``locus == 0``) with those of the
    second (``1``) on their cell: the row numbers of each pair's two chains. Ordered as the
    first locus' rows, a row with several partners (``multichain="all"``) followed by each
    in row order. Cell codes are distinct across samples, so the cell alone is the key."""
    first = np.flatnonzero(locus == 0)
    second = np.flatnonzero(locus == 1)
    second = second[np.argsort(cell[second], kind="stable")]
    lo = np.searchsorted(cell[second], cell[first], side="left")
    n = np.searchsorted(cell[second], cell[first], side="right") - lo
    start = np.cumsum(n) - n  # where each first-locus row's pairs begin in the result
    within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(start, n)
    return np.repeat(first, n), second[np.repeat(lo, n) + within]


def _chunked(arrays: list[pa.Array]) -> pa.ChunkedArray:
    """The samples' barcodes one after the other, without copying them when they share a
    type (at 3 x 1M cells a copy is ~120 MB at the peak of the command)."""
    if not arrays:
        return pa.chunked_array([string_array([], pa.large_string())])
    if len({a.type for a in arrays}) > 1:
        arrays = [a.cast(pa.large_string()) for a in arrays]
    return pa.chunked_array(arrays)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _label(table: pd.DataFrame, spec: ClonotypeSpec) -> pd.DataFrame:
    """``table`` with a first column ``clonotype``: the sequence, with genes ``V|seq`` or
    ``V|seq|J`` (a missing gene written ``NA``)."""
    import pandas as pd

    label = strings(table[spec.sequence_column])
    if spec.gene_columns:
        genes = [pc.fill_null(strings(table[c]), "NA") for c in spec.gene_columns]
        parts = [genes[0], label] if spec.genes == "v" else [genes[0], label, genes[1]]
        parts = [p.cast(pa.large_string()) for p in parts]
        label = pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))
    out = table.copy(deep=False)
    out.insert(0, "clonotype", pd.arrays.ArrowStringArray(label.cast(pa.large_string())))
    return out


CSR = tuple[np.ndarray, np.ndarray, np.ndarray]


def _csr_sum(
    rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
) -> CSR:
    """The CSR arrays (data, indices, indptr; sorted indices, duplicates summed) of the
    ``shape`` matrix with ``weights`` added at (``rows``, ``cols``)."""
    n_cols = max(shape[1], 1)
    key = np.asarray(rows, dtype=np.int64) * n_cols + np.asarray(cols, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else key
    data = np.add.reduceat(np.asarray(weights, dtype=np.int64)[order], start) if len(key) else key
    unique = key[start]
    indptr = np.searchsorted(unique // n_cols, np.arange(shape[0] + 1)).astype(np.int64)
    return data.astype(np.int64), (unique % n_cols).astype(np.int64), indptr


def _csr(
    sample_of: np.ndarray, clone: np.ndarray, n_samples: int, n_clones: int
) -> sparse.csr_array:
    """Samples × clonotypes matrix of observation counts (``scipy.sparse.csr_array``)."""
    from scipy import sparse

    arrays = _csr_arrays(sample_of, clone, n_samples, n_clones)
    return sparse.csr_array(arrays, shape=(n_samples, n_clones))


def _csr_arrays(sample_of: np.ndarray, clone: np.ndarray, n_samples: int, n_clones: int) -> CSR:
    """The CSR arrays of the samples × clonotypes matrix of observation counts."""
    grouped = not len(sample_of) or bool((np.diff(sample_of) >= 0).all())
    if not grouped or n_samples * n_clones > 8 * len(clone) + (1 << 22):
        ones = np.ones(len(clone), dtype=np.int64)
        return _csr_sum(sample_of, clone, ones, (n_samples, n_clones))
    # observations grouped by sample: one bincount per sample, no sort
    bounds = np.searchsorted(sample_of, np.arange(n_samples + 1))
    indices_, data = [], []
    for i in range(n_samples):
        per = np.bincount(clone[bounds[i] : bounds[i + 1]], minlength=n_clones)
        present = np.flatnonzero(per)
        indices_.append(present)
        data.append(per[present])
    indptr = np.concatenate([[0], np.cumsum([len(x) for x in indices_])]).astype(np.int64)
    return _concat(data).astype(np.int64), _concat(indices_).astype(np.int64), indptr


def _paired_table(
    keys: _KeyRows, a: np.ndarray, b: np.ndarray, spec: ClonotypeSpec
) -> pd.DataFrame:
    """:attr:`CloneCounts.clonotypes` of a paired definition: the key rows ``a`` of the first
    locus beside the rows ``b`` of the second, each labelled and prefixed with its locus."""
    import pandas as pd

    la, lb = spec.loci
    ta = _label(_frame(keys, a), spec)
    tb = _label(_frame(keys, b), spec)
    ta.columns = [f"{la}_{c}" for c in ta.columns]
    tb.columns = [f"{lb}_{c}" for c in tb.columns]
    out = pd.concat([ta, tb], axis=1)
    out.insert(0, "clonotype", (ta[f"{la}_clonotype"] + "+" + tb[f"{lb}_clonotype"]).to_numpy())
    return out.drop(columns=[f"{la}_clonotype", f"{lb}_clonotype"])
