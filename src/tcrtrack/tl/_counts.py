"""The result of :func:`tcrtrack.tl.clonotypes`: :class:`CloneCounts`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tcrtrack import _qc
from tcrtrack.errors import NotFoundError, ParameterError
from tcrtrack.tl._spec import ClonotypeSpec

if TYPE_CHECKING:
    import anndata
    import scipy.sparse as sp

__all__ = ["CloneCounts"]


@dataclass(frozen=True, eq=False)
class CloneCounts:
    """Clonotype counts per sample: the one object every tcrtrack number is computed from.

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
    unit
        What ``counts`` counts: ``cells``, ``templates``, ``reads`` or ``umis``.
    qc
        The QC ledger from file to clonotypes.
    cells
        Single-cell data only: one row per cell and clonotype (``sample``, ``cell_id``,
        ``clonotype`` = column index of ``matrix``); ``None`` for bulk data.
    n_cells
        Single-cell data: the distinct cells with a clonotype in each sample (in the order of
        ``samples``), as :func:`~tcrtrack.tl.clonotypes` counted them on the way; ``None``
        when not given, and :meth:`totals` counts them from ``cells``.
    """

    matrix: sp.csr_array
    samples: tuple[str, ...]
    clonotypes: pd.DataFrame
    spec: ClonotypeSpec
    unit: str
    qc: _qc.QCLedger = field(default_factory=_qc.QCLedger)
    cells: pd.DataFrame | None = None
    n_cells: np.ndarray | None = field(default=None, repr=False)

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
        return np.asarray(self.matrix.toarray(), dtype=np.int64)

    def presence(self) -> np.ndarray:
        """Boolean samples × clonotypes array: is the clonotype found in the sample."""
        return self.dense() > 0

    def totals(self) -> pd.Series:
        """Per sample: cells (distinct cells with a clonotype) or summed bulk counts."""
        if self.cells is not None:
            n = self.n_cells
            if n is None:
                n = _distinct_per_sample(self.cells, list(self.samples))
            return pd.Series(n, index=list(self.samples), name=self.unit)
        sums = np.asarray(self.matrix.sum(axis=1)).ravel().astype(np.int64)
        return pd.Series(sums, index=list(self.samples), name=self.unit)

    def n_clonotypes_per_sample(self) -> pd.Series:
        """Per sample: the number of distinct clonotypes found."""
        n = np.diff(self.matrix.indptr) if self.matrix.has_canonical_format else None
        if n is None:
            n = (self.dense() > 0).sum(axis=1)
        return pd.Series(np.asarray(n, dtype=np.int64), index=list(self.samples), name="clonotypes")

    def select(self, samples: Sequence[str]) -> CloneCounts:
        """The counts of ``samples`` only (in that order), keeping clonotypes found in them."""
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
            unit=self.unit,
            qc=self.qc.select(samples),
            cells=cells,
            n_cells=None if self.n_cells is None else self.n_cells[rows],
        )

    def to_frame(self, *, layout: Literal["wide", "long"] = "wide") -> pd.DataFrame:
        """The counts as a table.

        ``wide``: one row per clonotype, its defining columns, then a count per sample.
        ``long``: one row per sample and clonotype found in it (``sample``, the clonotype's
        columns, ``count``), zeros omitted, by sample and then by decreasing count.
        """
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

        var = self.clonotypes.copy()
        var.index = var["clonotype"].astype(str).to_numpy()
        obs = pd.DataFrame(index=list(self.samples))
        obs[self.unit] = self.totals().to_numpy()
        return anndata.AnnData(
            X=self.matrix.astype(np.float32).tocsr(),
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


def _distinct_per_sample(cells: pd.DataFrame, samples: list[str]) -> np.ndarray:
    """Distinct non-NA ``cell_id`` per sample of a cells table, in the order of ``samples``."""
    from tcrtrack._arrow import encode, strings
    from tcrtrack.tl._digest import distinct_cells

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
