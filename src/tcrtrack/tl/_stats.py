"""Intervals and resampling shared by the statistics of ``tt.tl``.

Everything here works on arrays (no loop over rows) and is deterministic for a given seed.

A sample is represented for resampling by *units* (cells for single-cell data, one unit per
clonotype for bulk data) with a weight each (1 per cell; the clone size for bulk data) and a
sparse 0/1 membership matrix ``units × clonotypes`` (a cell may belong to two clonotypes under
``multichain="all"``). Subsampling ``d`` of the sample's cells (or templates) without replacement
is then a multivariate hypergeometric draw on the weights, and a bootstrap resample is a
multinomial draw; both give new weights, from which clonotype counts follow as
``weights @ membership``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from tcrtrack.errors import ParameterError

if TYPE_CHECKING:
    import scipy.sparse as sp

    from tcrtrack.tl._counts import CloneCounts

__all__ = [
    "BinomialMethod",
    "Units",
    "binomial_interval",
    "check_ci",
    "percentile_interval",
    "sample_rng",
    "units_of",
]

BinomialMethod = Literal["clopper-pearson", "wilson"]
BINOMIAL_METHODS = ("clopper-pearson", "wilson")


def check_ci(ci: float) -> float:
    """``ci`` as a float strictly between 0 and 1, else a ``ValueError`` saying so."""
    value = float(ci)
    if not 0.0 < value < 1.0:
        msg = f"ci must be a confidence level between 0 and 1 (e.g. 0.95), got {ci!r}"
        raise ParameterError(msg)
    return value


def sample_rng(seed: int, sample: str, *labels: str) -> np.random.Generator:
    """The random stream of one sample (and purpose, ``labels``): derived from ``seed`` and the
    sample's name, so a sample's draws do not change when other samples are added, removed or
    given in another order.

    Examples
    --------
    >>> a = sample_rng(1, "pbmc_3m").integers(1000, size=3)
    >>> b = sample_rng(1, "pbmc_3m").integers(1000, size=3)
    >>> bool((a == b).all())
    True
    """
    import zlib

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a non-negative whole number, got {seed!r}"
        raise ParameterError(msg)
    keys = tuple(zlib.crc32(x.encode("utf-8")) for x in (sample, *labels))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=keys))


def binomial_interval(
    k: np.ndarray | int,
    n: np.ndarray | int,
    *,
    ci: float = 0.95,
    method: BinomialMethod = "clopper-pearson",
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a proportion ``k / n``, vectorised over arrays.

    ``clopper-pearson`` (exact): with :math:`\\alpha = 1 - ci`,
    :math:`low = B^{-1}(\\alpha/2;\\, k,\\, n-k+1)` (0 when :math:`k = 0`) and
    :math:`high = B^{-1}(1-\\alpha/2;\\, k+1,\\, n-k)` (1 when :math:`k = n`), where
    :math:`B^{-1}` is the Beta quantile. ``wilson`` (score interval): with
    :math:`z = \\Phi^{-1}(1-\\alpha/2)` and :math:`\\hat p = k/n`,
    :math:`(\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}) / (1 + z^2/n)`.
    These equal :meth:`scipy.stats.binomtest(k, n).proportion_ci
    <scipy.stats._result_classes.BinomTestResult.proportion_ci>` with ``method="exact"`` and
    ``"wilson"`` (the Beta quantile is :func:`tcrtrack.tl._beta.beta_quantile`, within 1e-12 of
    scipy's ``betaincinv``). Where ``n = 0`` both bounds are NaN.

    Examples
    --------
    >>> from tcrtrack.tl._stats import binomial_interval
    >>> low, high = binomial_interval(95, 3721)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0207, 0.0311)
    """
    ci = check_ci(ci)
    if method not in BINOMIAL_METHODS:
        msg = f"method must be one of {', '.join(BINOMIAL_METHODS)}, got {method!r}"
        raise ParameterError(msg)
    k_arr = np.asarray(k, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    k_arr, n_arr = np.broadcast_arrays(k_arr, n_arr)
    if np.any((k_arr < 0) | (k_arr > n_arr)):
        msg = "binomial_interval needs 0 <= k <= n for every pair"
        raise ParameterError(msg)
    alpha = 1.0 - ci
    valid = n_arr > 0
    nn = np.where(valid, n_arr, 1.0)
    kk = np.where(valid, k_arr, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "clopper-pearson":
            # the Beta quantile of tcrtrack.tl._beta, not scipy's betaincinv: importing scipy
            # would double the start-up of a small run (docs/design.md)
            from tcrtrack.tl._beta import clopper_pearson_arrays

            low, high = clopper_pearson_arrays(kk, nn, ci)
        else:
            from scipy import special  # ndtri: the normal quantile

            z = special.ndtri(1 - alpha / 2)
            p = kk / nn
            denom = 1 + z**2 / nn
            centre = (p + z**2 / (2 * nn)) / denom
            half = z * np.sqrt(p * (1 - p) / nn + z**2 / (4 * nn**2)) / denom
            low = np.clip(centre - half, 0.0, 1.0)
            high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(valid, low, np.nan)
    high = np.where(valid, high, np.nan)
    return low, high


def percentile_interval(
    values: np.ndarray, *, ci: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The central ``ci`` range of ``values`` along ``axis``: the ``(1-ci)/2`` and
    ``(1+ci)/2`` quantiles (linear interpolation, NaNs ignored)."""
    ci = check_ci(ci)
    with np.errstate(all="ignore"):
        # rounded so that ci=0.9 gives exactly the 0.05 and 0.95 quantiles
        low = np.nanquantile(values, round((1 - ci) / 2, 12), axis=axis)
        high = np.nanquantile(values, round((1 + ci) / 2, 12), axis=axis)
    return np.asarray(low), np.asarray(high)


@dataclass(frozen=True, eq=False)
class Units:
    """One sample as resampling units: ``weights`` (per unit) and ``membership``
    (``units × clonotypes``, 0/1, csr)."""

    weights: np.ndarray
    membership: sp.csr_array

    @property
    def total(self) -> int:
        return int(self.weights.sum())

    def clone_counts(self, weights: np.ndarray) -> np.ndarray:
        """Clonotype counts (``replicates × clonotypes``) for a ``replicates × units`` array
        of unit weights."""
        w = np.atleast_2d(weights).astype(np.float64)
        return np.asarray((self.membership.T @ w.T).T)

    def weight_in(self, weights: np.ndarray, clonotype_sets: np.ndarray) -> np.ndarray:
        """Per replicate, the summed weight of units in any clonotype of the replicate's set.

        ``weights`` is ``replicates × units``; ``clonotype_sets`` is a boolean
        ``replicates × clonotypes`` array.
        """
        w = np.atleast_2d(weights).astype(np.float64)
        hits = np.asarray(self.membership @ np.atleast_2d(clonotype_sets).T.astype(np.float64))
        return (w * (hits.T > 0)).sum(axis=1)

    def subsample(self, depth: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of ``depth`` cells (or bulk units) without replacement: new weights,
        ``n × units`` (a multivariate hypergeometric draw on the weights)."""
        if depth > self.total:
            msg = f"cannot subsample {depth} from a sample of {self.total}"
            raise ParameterError(msg)
        if np.all(self.weights == 1):
            # cells: choose ``depth`` distinct cells per replicate
            keys = rng.random((n, len(self.weights)))
            if depth == len(self.weights):
                return np.ones((n, len(self.weights)), dtype=np.int64)
            cut = np.partition(keys, depth - 1, axis=1)[:, depth - 1 : depth]
            return (keys <= cut).astype(np.int64)
        return rng.multivariate_hypergeometric(
            self.weights.astype(np.int64), depth, size=n, method="marginals"
        )

    def bootstrap(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` bootstrap resamples of the units' cells (or bulk units) with replacement:
        multinomial weights, ``n × units``."""
        total = self.total
        if total == 0:
            return np.zeros((n, len(self.weights)), dtype=np.int64)
        return rng.multinomial(total, self.weights / total, size=n)


def units_of(counts: CloneCounts, sample: str) -> Units:
    """The resampling units of ``sample``: its distinct cells (single-cell data, from
    ``counts.cells``) or its clonotypes weighted by their size (bulk data)."""
    import pandas as pd
    from scipy import sparse

    k = counts.n_clonotypes
    if counts.is_single_cell(sample):
        assert counts.cells is not None
        cells = counts.cells
        mine = cells[(cells["sample"] == sample).to_numpy()]
        cell_codes, _ = pd.factorize(mine["cell_id"])
        n_units = int(cell_codes.max()) + 1 if len(cell_codes) else 0
        membership = sparse.csr_array(
            (
                np.ones(len(mine), dtype=np.float64),
                (np.asarray(cell_codes, dtype=np.int64), mine["clonotype"].to_numpy()),
            ),
            shape=(n_units, k),
        )
        membership.sum_duplicates()
        membership.data[:] = 1.0
        return Units(weights=np.ones(n_units, dtype=np.int64), membership=membership)
    row = counts.matrix[[counts.index(sample)]].toarray().ravel().astype(np.int64)
    present = np.flatnonzero(row)
    # units in an order of the sample's own (a hash of each clonotype's label), not of the
    # clonotype numbers, which depend on the other samples and their order: draws from a
    # sample's random stream then give the same subsample whatever the other samples
    labels = counts.clonotypes["clonotype"].to_numpy()[present]
    keys = pd.util.hash_array(np.asarray(labels, dtype=object))
    present = present[np.argsort(keys, kind="stable")]
    membership = sparse.csr_array(
        (np.ones(len(present)), (np.arange(len(present)), present)), shape=(len(present), k)
    )
    return Units(weights=row[present], membership=membership)


#: Fractions of :func:`tcrtrack.tl.sharing` weighted by cells (bootstrap intervals).
CELL_FRACTIONS = ("frac_cells_shared", "frac_reference_cells_detected")
#: Fractions of :func:`tcrtrack.tl.sharing` over clonotypes (binomial intervals).
CLONOTYPE_FRACTIONS = ("frac_clonotypes_shared", "frac_reference_clonotypes_detected")
#: Every fraction of :func:`tcrtrack.tl.sharing`.
FRACTIONS = (
    "frac_clonotypes_shared",
    "frac_cells_shared",
    "frac_reference_clonotypes_detected",
    "frac_reference_cells_detected",
)


def sharing_replicates(
    sample: Units, sample_weights: np.ndarray, reference: Units, reference_weights: np.ndarray
) -> dict[str, np.ndarray]:
    """The sharing counts and fractions for each replicate (row) of resampled weights.

    Same definitions as :func:`tcrtrack.tl.sharing`: a clonotype is in a sample when its
    count is positive; a cell is in the shared set when any of its clonotypes is shared.
    """
    s_counts = sample.clone_counts(sample_weights) > 0
    r_counts = reference.clone_counts(reference_weights) > 0
    shared = s_counts & r_counts
    n_clono = s_counts.sum(axis=1)
    n_ref = r_counts.sum(axis=1)
    n_shared = shared.sum(axis=1)
    n_cells = np.atleast_2d(sample_weights).sum(axis=1).astype(np.float64)
    n_ref_cells = np.atleast_2d(reference_weights).sum(axis=1).astype(np.float64)
    cells_shared = sample.weight_in(sample_weights, shared)
    ref_cells = reference.weight_in(reference_weights, shared)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "n_clonotypes": n_clono,
            "n_shared": n_shared,
            "n_reference_clonotypes": n_ref,
            "frac_clonotypes_shared": np.where(n_clono > 0, n_shared / n_clono, np.nan),
            "frac_cells_shared": np.where(n_cells > 0, cells_shared / n_cells, np.nan),
            "frac_reference_clonotypes_detected": np.where(n_ref > 0, n_shared / n_ref, np.nan),
            "frac_reference_cells_detected": np.where(
                n_ref_cells > 0, ref_cells / n_ref_cells, np.nan
            ),
        }


def bootstrap_fraction(
    k: np.ndarray,
    n: np.ndarray,
    *,
    ci: float,
    n_boot: int,
    rng: np.random.Generator | None = None,
    rngs: list[np.random.Generator] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of a cell-weighted fraction ``k / n``.

    The fraction is the mean of a 0/1 indicator over the ``n`` cells (is the cell in a
    shared clonotype). Resampling the cells with replacement and recounting gives a
    resampled ``k*`` that is exactly Binomial(``n``, ``k/n``)-distributed, so the
    ``n_boot`` replicates are drawn from that distribution directly (the same distribution
    as a loop over resampled cells, at the cost of one draw). Where ``n = 0``: NaN. Where
    ``k = 0`` or ``k = n`` every resample gives the same fraction, and a zero-width interval
    would claim certainty: those get the exact (Clopper-Pearson) interval instead. ``rngs``
    gives one random stream per entry (:func:`sample_rng`), so an entry's interval does not
    depend on the others; else ``rng`` draws for all.
    """
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    safe = np.maximum(n, 1)
    if rngs is not None:
        columns = [
            g.binomial(int(m), float(x / m), size=int(n_boot))
            for g, x, m in zip(rngs, k, safe, strict=True)
        ]
        draws = np.stack(columns, axis=1) if columns else np.zeros((int(n_boot), 0))
    else:
        if rng is None:
            rng = np.random.default_rng()
        draws = rng.binomial(safe[None, :], (k / safe)[None, :], size=(int(n_boot), len(n)))
    low, high = percentile_interval(draws / safe[None, :], ci=ci, axis=0)
    edge = (n > 0) & ((k == 0) | (k == n))
    if edge.any():
        exact_low, exact_high = binomial_interval(k, safe, ci=ci, method="clopper-pearson")
        low = np.where(edge, exact_low, low)
        high = np.where(edge, exact_high, high)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def interval_columns(fraction: str) -> tuple[str, str]:
    """The names of the interval columns of ``fraction``: ``<fraction>_low``, ``_high``."""
    return f"{fraction}_low", f"{fraction}_high"


def add_sharing_intervals(
    table: dict[str, np.ndarray],
    samples: list[str],
    *,
    ci: float,
    method: BinomialMethod,
    n_boot: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """The columns of :func:`tcrtrack.tl.sharing` (one entry per sample of ``samples``) with
    ``*_low`` / ``*_high`` after each fraction: binomial intervals for clonotype fractions,
    bootstrap for cell fractions; NaN (NA) where the fraction is NA."""
    ci = check_ci(ci)
    if int(n_boot) < 1:
        msg = f"n_boot must be a positive number of bootstrap replicates, got {n_boot!r}"
        raise ParameterError(msg)
    bounds: dict[str, np.ndarray] = {}
    for frac, den in (
        ("frac_clonotypes_shared", "n_clonotypes"),
        ("frac_reference_clonotypes_detected", "n_reference_clonotypes"),
    ):
        low, high = binomial_interval(table["n_shared"], table[den], ci=ci, method=method)
        bounds[f"{frac}_low"], bounds[f"{frac}_high"] = low, high
    for frac, num, den in (
        ("frac_cells_shared", "n_cells_shared", "n_cells"),
        ("frac_reference_cells_detected", "n_reference_cells_detected", "n_reference_cells"),
    ):
        # one stream per sample and fraction: a sample's interval does not depend on the
        # other samples or their order
        rngs = [sample_rng(seed, str(name), frac) for name in samples]
        low, high = bootstrap_fraction(table[num], table[den], ci=ci, n_boot=int(n_boot), rngs=rngs)
        bounds[f"{frac}_low"], bounds[f"{frac}_high"] = low, high
    out: dict[str, np.ndarray] = {}
    for col, values in table.items():
        out[col] = values
        if col in FRACTIONS:
            na = np.isnan(values)
            for extra in interval_columns(col):
                out[extra] = np.where(na, np.nan, np.asarray(bounds[extra], dtype=np.float64))
    return out
