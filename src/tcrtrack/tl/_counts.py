"""The result of :func:`tcrtrack.tl.clonotypes`: :class:`CloneCounts`."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from tcrtrack import _qc
from tcrtrack import schema as s
from tcrtrack.errors import NotFoundError, ParameterError, UnitError
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import anndata
    import pandas as pd
    import scipy.sparse as sp

__all__ = ["CloneCounts"]


@dataclass(frozen=True, eq=False, init=False)
class CloneCounts:
    """Clonotype counts per sample: the one object every tcrtrack number is computed from.

    Samples may count in different units (a templates export beside a reads export, a 10x
    sample beside a bulk one): every presence-level result (clonotype counts, sharing, Venn and
    UpSet, set overlap indices) and each sample's own fractions work on them, and the analyses
    that compare counts across samples (per-clone tests, rarefaction to a common depth,
    count-weighted overlap) refuse them with a :class:`~tcrtrack.errors.UnitError` naming the
    samples, their files and units.

    Attributes
    ----------
    matrix
        ``scipy.sparse.csr_array`` of shape samples × clonotypes: cells (single-cell data) or
        templates, reads or UMIs (bulk data) of each clonotype in each sample (formerly
        ``counts``, now a deprecated alias).
    samples
        Sample names, in the order of the rows of ``matrix``.
    clonotypes
        One row per clonotype (column of ``matrix``): the sequence(s) and genes that define
        it, and ``clonotype``, a readable label.
    spec
        The :class:`ClonotypeSpec` used.
    units
        What each sample's row of ``matrix`` counts (in the order of ``samples``): ``cells``,
        ``templates``, ``reads`` or ``umis``. :attr:`unit` is the one unit of them all.
    qc
        The QC ledger from file to clonotypes.
    cells
        Single-cell samples only: one row per cell and clonotype (``sample``, ``cell_id``,
        ``clonotype`` = column index of ``matrix``); ``None`` when every sample is bulk.
    n_cells
        Single-cell data: the distinct cells with a clonotype in each sample (in the order of
        ``samples``), as :func:`~tcrtrack.tl.clonotypes` counted them on the way; ``None``
        when not given, and :meth:`totals` counts them from ``cells``.
    single_cell
        Per sample (in the order of ``samples``): whether it is single-cell data (its cells
        are in ``cells``) or bulk data.

    The counts of :func:`~tcrtrack.tl.clonotypes` hold CSR arrays and cell arrays inside and
    build :attr:`matrix` (scipy), :attr:`clonotypes` and :attr:`cells` (pandas) on first
    access, so that a command which only prints numbers (``tcrtrack share``) imports neither
    pandas nor scipy; every attribute and method answers the same either way.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> counts = tt.tl.clonotypes(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered")))
    >>> counts.unit, counts.units, counts.single_cell
    ('cells', ('cells',), (True,))
    """

    matrix: sp.csr_array
    samples: tuple[str, ...]
    clonotypes: pd.DataFrame
    spec: ClonotypeSpec
    units: tuple[str, ...]
    qc: _qc.QCLedger
    cells: pd.DataFrame | None
    n_cells: np.ndarray | None = field(repr=False)
    single_cell: tuple[bool, ...]
    #: the arrays of counts built by tt.tl.clonotypes (None: given as pandas and scipy objects)
    _arrays: ClassVar[Arrays | None] = None

    def __init__(
        self,
        matrix: sp.csr_array,
        samples: Sequence[str],
        clonotypes: pd.DataFrame,
        spec: ClonotypeSpec,
        unit: str | None = None,
        qc: _qc.QCLedger | None = None,
        cells: pd.DataFrame | None = None,
        n_cells: np.ndarray | None = None,
        *,
        units: Sequence[str] | None = None,
        single_cell: Sequence[bool] | None = None,
    ) -> None:
        samples = tuple(samples)
        if units is None:
            if unit is None:
                msg = "CloneCounts needs the unit of its counts (unit=, or units= per sample)"
                raise ParameterError(msg)
            units = (unit,) * len(samples)
        units = tuple(str(u) for u in units)
        if len(units) != len(samples) or (unit is not None and set(units) != {unit}):
            msg = f"units {units!r} do not match the {len(samples)} sample(s)" + (
                "" if unit is None else f" and unit={unit!r}"
            )
            raise ParameterError(msg)
        if single_cell is None:
            single_cell = (cells is not None,) * len(samples)
        set_ = object.__setattr__
        set_(self, "matrix", matrix)
        set_(self, "samples", samples)
        set_(self, "clonotypes", clonotypes)
        set_(self, "spec", spec)
        set_(self, "units", units)
        set_(self, "qc", qc if qc is not None else _qc.QCLedger())
        set_(self, "cells", cells)
        set_(self, "n_cells", n_cells)
        set_(self, "single_cell", tuple(bool(x) for x in single_cell))

    @classmethod
    def _from_arrays(
        cls,
        arrays: Arrays,
        *,
        samples: Sequence[str],
        spec: ClonotypeSpec,
        units: Sequence[str],
        single_cell: Sequence[bool],
        qc: _qc.QCLedger,
        n_cells: np.ndarray | None = None,
    ) -> CloneCounts:
        """Counts whose :attr:`matrix`, :attr:`clonotypes` and :attr:`cells` are built from
        ``arrays`` on first access (what :func:`tcrtrack.tl.clonotypes` returns)."""
        self = cls.__new__(cls)
        set_ = object.__setattr__
        set_(self, "samples", tuple(samples))
        set_(self, "spec", spec)
        set_(self, "units", tuple(str(u) for u in units))
        set_(self, "qc", qc)
        set_(self, "n_cells", n_cells)
        set_(self, "single_cell", tuple(bool(x) for x in single_cell))
        set_(self, "_arrays", arrays)
        if arrays.cells is None:
            set_(self, "cells", None)
        return self

    def __getattr__(self, name: str) -> Any:
        # called only for attributes not set yet: the ones built from the arrays
        arrays = self.__dict__.get("_arrays")
        if arrays is None or name not in ("matrix", "clonotypes", "cells"):
            msg = f"'CloneCounts' object has no attribute {name!r}"
            raise AttributeError(msg)
        value = arrays.build(name, self.samples)
        object.__setattr__(self, name, value)
        return value

    @property
    def unit(self) -> str:
        """What ``matrix`` counts when every sample counts in one unit.

        Raises
        ------
        tcrtrack.errors.UnitError
            The samples count in different units (the message names them); ask
            :attr:`units` or :meth:`unit_of` instead.
        """
        if not self.mixed_units:
            return self.units[0] if self.units else s.UNIT_CELLS
        msg = (
            f"the samples count in different units ({self.unit_listing()}); there is no one "
            "unit: ask CloneCounts.units or CloneCounts.unit_of(sample) for each sample's"
        )
        raise UnitError(msg)

    @property
    def mixed_units(self) -> bool:
        """Whether the samples count in different units."""
        return len(set(self.units)) > 1

    def unit_of(self, sample: str) -> str:
        """The unit of one sample's counts."""
        return self.units[self.index(sample)]

    def is_single_cell(self, sample: str) -> bool:
        """Whether ``sample`` is single-cell data (its cells are in :attr:`cells`)."""
        return self.single_cell[self.index(sample)]

    def sources(self) -> dict[str, str]:
        """Sample -> the file it was read from (as the QC ledger records it; the sample name
        when the ledger has no file)."""
        found: dict[str, str] = {}
        for e in self.qc.entries:
            if e.source and e.sample not in found:
                found[e.sample] = e.source
        return {x: found.get(x, x) for x in self.samples}

    def unit_listing(self, samples: Sequence[str] | None = None) -> str:
        """``templates: 'd0' (d0.tsv); reads: 'd32' (d32.tsv)``: the samples (default: all)
        grouped by unit, each with its file, for messages."""
        names = list(self.samples) if samples is None else list(samples)
        sources = self.sources()
        by_unit: dict[str, list[str]] = {}
        for x in names:
            where = f"{x!r} ({sources[x]})" if sources[x] != x else repr(x)
            by_unit.setdefault(self.unit_of(x), []).append(where)
        return "; ".join(f"{u}: {', '.join(xs)}" for u, xs in by_unit.items())

    def require_one_unit(self, analysis: str, samples: Sequence[str] | None = None) -> str:
        """The one unit of ``samples`` (default: all), for an ``analysis`` that compares counts
        across them; a :class:`~tcrtrack.errors.UnitError` naming each sample, its file and
        unit, and the fix, when they differ.

        Examples
        --------
        >>> import tcrtrack as tt
        >>> path = tt.datasets.path("pbmc3_t_filtered")
        >>> counts = tt.tl.clonotypes(tt.io.read_10x(path, sample=x) for x in ("a", "b"))
        >>> counts.require_one_unit("rarefaction")
        'cells'
        """
        names = list(self.samples) if samples is None else list(samples)
        units = {self.unit_of(x) for x in names}
        if len(units) <= 1:
            return next(iter(units), self.units[0] if self.units else s.UNIT_CELLS)
        msg = (
            f"{analysis} compares counts across samples, but they count in different units "
            f"({self.unit_listing(names)}); a count in one unit is not a count in another: "
            "declare the unit each file really counts with --unit FILE=UNIT (units= in "
            "Python, a sample sheet's unit column) if the counts are comparable, or restrict "
            "the analysis to samples of one unit"
        )
        raise UnitError(msg)

    @property
    def counts(self) -> sp.csr_array:
        """Deprecated alias of :attr:`matrix` (``counts`` names the whole object elsewhere)."""
        msg = "CloneCounts.counts is renamed CloneCounts.matrix"
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return self.matrix

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    @property
    def n_clonotypes(self) -> int:
        if self._arrays is not None:
            return int(self._arrays.shape[1])
        return int(self.matrix.shape[1])

    def index(self, sample: str) -> int:
        """Row of ``sample`` in :attr:`matrix`; raises ``KeyError`` naming the samples known."""
        try:
            return self.samples.index(sample)
        except ValueError:
            msg = f"unknown sample {sample!r}; samples are: {', '.join(self.samples)}"
            raise NotFoundError(msg) from None

    def dense(self) -> np.ndarray:
        """:attr:`matrix` as a dense ``int64`` array."""
        if self._arrays is not None:
            return self._arrays.dense()
        return np.asarray(self.matrix.toarray(), dtype=np.int64)

    def presence(self) -> np.ndarray:
        """Boolean samples × clonotypes array: is the clonotype found in the sample."""
        return self.dense() > 0

    def totals(self) -> pd.Series:
        """Per sample: cells (distinct cells with a clonotype) or summed bulk counts, each in
        the sample's own unit (the Series is named after the unit, ``count`` when the samples
        count in different units)."""
        import pandas as pd

        if self._arrays is not None:
            return pd.Series(
                self._totals_array(), index=list(self.samples), name=self._unit_label()
            )
        sums = np.asarray(self.matrix.sum(axis=1)).ravel().astype(np.int64)
        if self.cells is not None:
            n = self.n_cells
            if n is None:
                n = _distinct_per_sample(self.cells, list(self.samples))
            sums = np.where(np.asarray(self.single_cell, dtype=bool), n, sums).astype(np.int64)
        return pd.Series(sums, index=list(self.samples), name=self._unit_label())

    def count_in(self, sample: str, clonotype_mask: np.ndarray) -> int:
        """The cells of ``sample`` (distinct cells: a cell in two clonotypes counts once), or
        its summed bulk counts, in the clonotypes selected by the boolean ``clonotype_mask``
        (one entry per column of :attr:`matrix`), in the sample's own unit."""
        if self._arrays is not None:
            is_cell = np.asarray(self.single_cell, dtype=bool)
            n_cells = int(self._totals_array()[is_cell].sum())
            row = self.index(sample)
            return self._arrays.count_in(row, clonotype_mask, n_cells, self.single_cell[row])
        if self.is_single_cell(sample):
            assert self.cells is not None
            cells = self.cells
            sel = (cells["sample"] == sample).to_numpy() & clonotype_mask[
                cells["clonotype"].to_numpy()
            ]
            single = [x for x in self.samples if self.is_single_cell(x)]
            if len(cells) == int(self.totals()[single].sum()):
                # one row per cell (every definition but multichain="all"): rows are cells
                return int(sel.sum())
            return int(cells.loc[sel, "cell_id"].nunique())
        row = self.matrix[[self.index(sample)]].toarray().ravel()
        return int(row[clonotype_mask].sum())

    def _unit_label(self) -> str:
        """The unit, or ``count`` when the samples count in different units."""
        return "count" if self.mixed_units else self.unit

    def n_clonotypes_per_sample(self) -> pd.Series:
        """Per sample: the number of distinct clonotypes found."""
        import pandas as pd

        if self._arrays is not None:
            n_found = self._arrays.n_clonotypes()
            return pd.Series(n_found, index=list(self.samples), name="clonotypes")
        n = np.diff(self.matrix.indptr) if self.matrix.has_canonical_format else None
        if n is None:
            n = (self.dense() > 0).sum(axis=1)
        return pd.Series(np.asarray(n, dtype=np.int64), index=list(self.samples), name="clonotypes")

    def n_clonotypes_of(self, sample: str) -> int:
        """The number of distinct clonotypes found in ``sample`` (one entry of
        :meth:`n_clonotypes_per_sample`, without building the Series).

        Examples
        --------
        >>> import tcrtrack as tt
        >>> counts = tt.tl.clonotypes(tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered")))
        >>> counts.n_clonotypes_of(counts.samples[0]) == counts.n_clonotypes
        True
        """
        if self._arrays is not None:
            return int(self._arrays.n_clonotypes()[self.index(sample)])
        return int(self.n_clonotypes_per_sample().iloc[self.index(sample)])

    def total_of(self, sample: str) -> int:
        """The cells (or summed bulk counts) of ``sample``, in its own unit (one entry of
        :meth:`totals`, without building the Series)."""
        if self._arrays is not None:
            return int(self._totals_array()[self.index(sample)])
        return int(self.totals().iloc[self.index(sample)])

    def _totals_array(self) -> np.ndarray:
        """:meth:`totals` as an array (from the arrays, when the counts have them)."""
        if self._arrays is None:
            return np.asarray(self.totals().to_numpy(), dtype=np.int64)
        sums = self._arrays.row_sums()
        if self._arrays.cells is not None:
            n = self.n_cells
            if n is None:
                n = self._arrays.distinct_cells(len(self.samples))
            sums = np.where(np.asarray(self.single_cell, dtype=bool), n, sums)
        return np.asarray(sums, dtype=np.int64)

    def select(self, samples: Sequence[str]) -> CloneCounts:
        """The counts of ``samples`` only (in that order), keeping clonotypes found in them."""
        import pandas as pd

        rows = [self.index(x) for x in samples]
        sub = self.matrix[rows]
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
            matrix=sub[:, keep].tocsr(),
            samples=tuple(samples),
            clonotypes=self.clonotypes.iloc[keep].reset_index(drop=True),
            spec=self.spec,
            qc=self.qc.select(samples),
            cells=cells,
            n_cells=None if self.n_cells is None else self.n_cells[rows],
            units=tuple(self.units[i] for i in rows),
            single_cell=tuple(self.single_cell[i] for i in rows),
        )

    def to_frame(self, *, layout: Literal["wide", "long"] = "wide") -> pd.DataFrame:
        """The counts as a table.

        ``wide``: one row per clonotype, its defining columns, then a count per sample.
        ``long``: one row per sample and clonotype found in it (``sample``, the clonotype's
        columns, ``count``), zeros omitted, by sample and then by decreasing count.
        """
        import pandas as pd

        if layout == "wide":
            counts = pd.DataFrame(self.dense().T, columns=list(self.samples))
            return pd.concat([self.clonotypes.reset_index(drop=True), counts], axis=1)
        if layout != "long":
            msg = f"unknown layout {layout!r}; use 'wide' or 'long'"
            raise ParameterError(msg)
        coo = self.matrix.tocoo()
        rows = self.clonotypes.iloc[coo.col].reset_index(drop=True)
        rows.insert(0, "sample", np.asarray(self.samples, dtype=object)[coo.row])
        rows["count"] = coo.data.astype("int64")
        frame = rows.sort_values(["sample", "count"], ascending=[True, False], kind="stable")
        return frame.reset_index(drop=True)

    def to_anndata(self) -> anndata.AnnData:
        """An AnnData with obs = samples, var = clonotypes, X = counts (sparse)."""
        import anndata
        import pandas as pd

        var = self.clonotypes.copy()
        var.index = var["clonotype"].astype(str).to_numpy()
        obs = pd.DataFrame(index=list(self.samples))
        obs[self._unit_label()] = self.totals().to_numpy()
        uns: dict[str, object] = {"spec": str(self.spec), "unit": self._unit_label()}
        if self.mixed_units:  # each sample's unit
            obs["unit"] = list(self.units)
            uns["units"] = list(self.units)
        return anndata.AnnData(
            X=self.matrix.astype(np.float32).tocsr(),
            obs=obs,
            var=var.drop(columns=["clonotype"]),
            uns={"tcrtrack": uns},
        )

    def summary(self) -> pd.DataFrame:
        """Per sample: clonotypes and cells (or bulk units)."""
        import pandas as pd

        table = pd.DataFrame(
            {"clonotypes": self.n_clonotypes_per_sample(), self._unit_label(): self.totals()}
        )
        if self.mixed_units:
            table["unit"] = list(self.units)
        return table

    def __repr__(self) -> str:
        return (
            f"CloneCounts({self.n_samples} samples × {self.n_clonotypes} clonotypes, "
            f"{self._unit_repr()}, spec='{self.spec}')"
        )

    def _unit_repr(self) -> str:
        if not self.mixed_units:
            return f"unit={self.unit!r}"
        return f"units={dict(zip(self.samples, self.units, strict=True))!r}"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>CloneCounts</b>: {self.n_samples} samples × {self.n_clonotypes} clonotypes "
            f"({'/'.join(dict.fromkeys(self.units))}); clonotype = {self.spec}</p>"
            + self.summary().to_html()
        )


def _distinct_per_sample(cells: pd.DataFrame, samples: list[str]) -> np.ndarray:
    """Distinct non-NA ``cell_id`` per sample of a cells table, in the order of ``samples``."""
    import pandas as pd

    from tcrtrack._arrow import encode, strings
    from tcrtrack.tl._chains import distinct_cells

    sample = cells["sample"]
    if not isinstance(sample.dtype, pd.CategoricalDtype):
        sample = sample.astype("category")
    lut = np.array(
        [samples.index(str(c)) if str(c) in samples else -1 for c in sample.cat.categories] + [-1],
        dtype=np.int64,
    )
    sample_codes = lut[np.asarray(sample.cat.codes, dtype=np.int64)]
    codes, names = encode(strings(cells["cell_id"]))
    keep = (sample_codes >= 0) & (codes >= 0)
    return distinct_cells(codes[keep], len(names), sample_codes[keep], len(samples))


@dataclass(frozen=True)
class CellArrays:
    """The cells of single-cell counts as arrays, one entry per cell and clonotype:
    ``sample`` (row of the matrix), ``cell`` (a number per distinct cell, an index into
    ``barcodes``) and ``clonotype`` (column of the matrix)."""

    sample: np.ndarray
    cell: np.ndarray
    clonotype: np.ndarray
    barcodes: pa.Array | pa.ChunkedArray

    def frame(self, samples: Sequence[str]) -> pd.DataFrame:
        """:attr:`CloneCounts.cells`: ``sample`` (categorical), ``cell_id``, ``clonotype``."""
        import pandas as pd

        from tcrtrack._arrow import indices

        taken = self.barcodes.take(indices(self.cell)).cast(pa.large_string())
        cell_id = taken if isinstance(taken, pa.ChunkedArray) else pa.chunked_array([taken])
        return pd.DataFrame(
            {
                "sample": pd.Categorical.from_codes(self.sample, categories=list(samples)),
                "cell_id": pd.arrays.ArrowStringArray(cell_id),
                "clonotype": self.clonotype,
            }
        )


@dataclass(frozen=True, eq=False)
class Arrays:
    """What :func:`tcrtrack.tl.clonotypes` counts, as arrays: the samples × clonotypes matrix
    as CSR arrays (``data``, ``indices``, ``indptr``; sorted, no duplicates) of ``shape``, a
    function building :attr:`CloneCounts.clonotypes`, and the cells (single-cell data)."""

    csr: tuple[np.ndarray, np.ndarray, np.ndarray]
    shape: tuple[int, int]
    clonotypes: Callable[[], pd.DataFrame]
    cells: CellArrays | None = None

    def build(self, name: str, samples: Sequence[str]) -> Any:
        """The attribute ``name`` of :class:`CloneCounts` (``matrix``, ``clonotypes``,
        ``cells``) built from the arrays."""
        if name == "matrix":
            from scipy import sparse

            return sparse.csr_array(self.csr, shape=self.shape)
        if name == "clonotypes":
            return self.clonotypes()
        return None if self.cells is None else self.cells.frame(samples)

    def dense(self) -> np.ndarray:
        data, indices, indptr = self.csr
        out = np.zeros(self.shape, dtype=np.int64)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(indptr))
        out[rows, indices] = data
        return out

    def n_clonotypes(self) -> np.ndarray:
        """Per sample: the clonotypes with a non-zero count."""
        data, _, indptr = self.csr
        nonzero = np.concatenate([[0], np.cumsum(data != 0)])
        return (nonzero[indptr[1:]] - nonzero[indptr[:-1]]).astype(np.int64)

    def row_sums(self) -> np.ndarray:
        """Per sample: the summed counts of its row."""
        data, _, indptr = self.csr
        sums = np.concatenate([[0], np.cumsum(data)])
        return (sums[indptr[1:]] - sums[indptr[:-1]]).astype(np.int64)

    def distinct_cells(self, n_samples: int) -> np.ndarray:
        """Per sample: its distinct cells (0 for a bulk sample)."""
        if self.cells is None:
            return np.zeros(n_samples, dtype=np.int64)
        a = self.cells
        n = len(a.barcodes) + 1
        seen = np.unique(a.sample * n + a.cell) // n
        return np.bincount(seen, minlength=n_samples).astype(np.int64)

    def count_in(self, row: int, clonotype_mask: np.ndarray, cells: int, single_cell: bool) -> int:
        """Distinct cells of sample ``row`` in the clonotypes selected by ``clonotype_mask``, or
        its summed counts in them for a bulk sample; ``cells``: the cells of all single-cell
        samples (one row per cell when the cell arrays have that many)."""
        a = self.cells
        if a is None or not single_cell:
            data, indices, indptr = self.csr
            lo, hi = indptr[row], indptr[row + 1]
            return int(data[lo:hi][clonotype_mask[indices[lo:hi]]].sum())
        sel = (a.sample == row) & clonotype_mask[a.clonotype]
        if len(a.cell) == cells:
            return int(sel.sum())  # one row per cell
        return len(np.unique(a.cell[sel]))
