"""Per-clone tests of change between two samples: the beta-binomial test for overdispersed
counts (reads, UMIs) and its dispersion estimate. Fisher's exact test lives in
:mod:`tcrtrack.tl._track`.

Why a beta-binomial, and which one. Reads (or UMIs) are sampled in two steps: cells from the
blood, then molecules from those cells. Reads of one cell are not independent draws, so a
clone's read count varies more than a binomial (or hypergeometric) of the reads allows, and
Fisher's test, which treats each read as an independent draw, calls nearly every clone changed.
Given a clone's total :math:`k = a + b` over the two samples (:math:`a` in *R*, :math:`b` in
*S*) and :math:`\\pi = N_R / (N_R + N_S)`, the test takes

.. math::

    a \\mid k \\sim \\mathrm{BetaBinomial}(k,\\ \\pi\\nu_k,\\ (1-\\pi)\\nu_k),
    \\qquad \\nu_k = \\frac{k}{\\varphi - 1},

whose mean is :math:`k\\pi` and variance
:math:`k\\pi(1-\\pi)\\,\\frac{k\\varphi}{k + \\varphi - 1}`: a single read
(:math:`k = 1`) is a Bernoulli draw, and a large clone's variance is :math:`\\varphi` times the
binomial one — the variance inflation of two-step sampling,
:math:`\\varphi \\approx E[r^2]/E[r]` for :math:`r` reads per cell. (A beta-binomial with one
intraclass correlation :math:`\\rho` for every clone would inflate the variance by
:math:`1 + (k-1)\\rho`, growing without bound with the clone's size, which two-step sampling
does not do.) :math:`\\varphi = 1` is the binomial test.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tcrtrack.errors import ParameterError

__all__ = ["betabinomial_two_sided", "estimate_dispersion"]

#: Largest number of pmf terms evaluated at once (memory bound of the tail sums).
_CHUNK: Final = 1 << 22
_LEVEL = 0.5


def _check(a: np.ndarray, b: np.ndarray, na: np.ndarray, nb: np.ndarray) -> None:
    if np.any((a < 0) | (b < 0) | (a > na) | (b > nb)):
        msg = "the beta-binomial test needs 0 <= count <= total for every clone"
        raise ParameterError(msg)


def _shapes(
    k: np.ndarray, pi: np.ndarray, dispersion: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Beta-binomial shapes ``(alpha, beta)`` of each clone; ``None`` for the binomial."""
    if dispersion <= 1.0:
        return None
    nu = k / (dispersion - 1.0)
    return pi * nu, (1.0 - pi) * nu


def _logpmf(
    x: np.ndarray, k: np.ndarray, pi: np.ndarray, shapes: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    from scipy.stats import betabinom, binom

    if shapes is None:
        return np.asarray(binom.logpmf(x, k, pi))
    return np.asarray(betabinom.logpmf(x, k, shapes[0], shapes[1]))


def _tails(
    a: np.ndarray, k: np.ndarray, pi: np.ndarray, dispersion: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per clone (``k > 0``): ``P(X <= a)``, ``P(X >= a)`` and ``P(X = a)``.

    The tail on ``a``'s side of the mean is summed from the pmf over its support, in log
    space, in chunks of at most ``_CHUNK`` terms; the other is ``1 - tail + P(a)``.
    """
    from scipy.special import logsumexp

    lower = a <= k * pi
    lens = np.where(lower, a + 1, k - a + 1)
    start = np.where(lower, 0, a)
    log_tail = np.empty(len(a))
    bounds = np.cumsum(lens)
    first = 0
    while first < len(a):
        # clones first..last-1: at most _CHUNK terms (at least one clone)
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] - lens[first] + _CHUNK)))
        sel = slice(first, last)
        n = lens[sel]
        owner = np.repeat(np.arange(last - first), n)
        x = start[sel][owner] + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        kk, pp = k[sel][owner], pi[sel][owner]
        terms = _logpmf(x, kk, pp, _shapes(kk.astype(np.float64), pp, dispersion))
        cut = np.concatenate([[0], np.cumsum(n)[:-1]])
        peak = np.maximum.reduceat(terms, cut)
        summed = np.bincount(owner, weights=np.exp(terms - peak[owner]), minlength=last - first)
        with np.errstate(divide="ignore"):
            log_tail[sel] = peak + np.log(summed)
        first = last
    log_at = _logpmf(a, k, pi, _shapes(k.astype(np.float64), pi, dispersion))
    tail = np.minimum(np.exp(log_tail), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.clip(
            np.exp(logsumexp(np.stack([np.zeros_like(log_at), log_at]), axis=0)) - tail, 0.0, 1.0
        )
    pmf = np.exp(log_at)
    return np.where(lower, tail, other), np.where(lower, other, tail), pmf


def _prepare(
    a: np.ndarray, b: np.ndarray, total_a: np.ndarray | int, total_b: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer arrays ``a``, ``k = a + b``, the proportion ``pi`` and the tested mask."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    na = np.broadcast_to(np.asarray(total_a, dtype=np.int64), a.shape)
    nb = np.broadcast_to(np.asarray(total_b, dtype=np.int64), a.shape)
    _check(a, b, na, nb)
    k = a + b
    ok = (k > 0) & (na > 0) & (nb > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(ok, na / np.maximum(na + nb, 1), 0.5).astype(np.float64)
    return a, k, pi, ok


def betabinomial_two_sided(
    a: np.ndarray,
    b: np.ndarray,
    total_a: np.ndarray | int,
    total_b: np.ndarray | int,
    *,
    dispersion: float,
) -> np.ndarray:
    """Two-sided beta-binomial test of each clone's split between two samples.

    With :math:`k = a + b`, :math:`\\pi = N_a / (N_a + N_b)` and :math:`\\nu_k = k/(\\varphi-1)`
    (``dispersion`` :math:`= \\varphi \\ge 1`), under the null hypothesis (the same frequency
    in both samples) :math:`a \\mid k \\sim \\mathrm{BetaBinomial}(k, \\pi\\nu_k,
    (1-\\pi)\\nu_k)`; :math:`\\varphi = 1` is the binomial :math:`\\mathrm{Bin}(k, \\pi)`. The
    p-value doubles the smaller tail, :math:`p = \\min(1,\\ 2\\min(P(X \\le a), P(X \\ge a)))`
    (well defined also where the pmf is U-shaped, i.e. small clones at large
    :math:`\\varphi`). The tail on :math:`a`'s side of the mean is summed from
    :func:`scipy.stats.betabinom` ``.logpmf`` over its support (in log space, all clones at
    once; the work is at most :math:`\\sum k`, the two samples' totals), the other is
    :math:`1 - P(\\text{tail}) + P(a)`. Equal to scipy's pmf summed over each tail (tested;
    ``betabinom.sf`` is computed by scipy as ``1 - cdf`` and loses small upper tails). A clone
    with :math:`k = 0`, or a sample with total
    0, has p = 1.

    Examples
    --------
    >>> from tcrtrack.tl._change import betabinomial_two_sided
    >>> p = betabinomial_two_sided([60, 30], [40, 30], 1000, 1000, dispersion=10.0)
    >>> [round(float(x), 3) for x in p]
    [0.554, 1.0]
    """
    a, k, pi, ok = _prepare(a, b, total_a, total_b)
    if not np.isfinite(dispersion) or dispersion < 1.0:
        msg = f"dispersion must be a number >= 1, got {dispersion!r}"
        raise ParameterError(msg)
    p = np.ones(a.shape, dtype=np.float64)
    if ok.any():
        low, high, _ = _tails(a[ok], k[ok], pi[ok], dispersion)
        p[ok] = np.minimum(1.0, 2.0 * np.minimum(low, high))
    return p


def estimate_dispersion(
    a: np.ndarray,
    b: np.ndarray,
    total_a: int,
    total_b: int,
    *,
    max_clones: int = 5000,
    seed: int = 0,
) -> float:
    """Robust estimate of the dispersion :math:`\\varphi` of :func:`betabinomial_two_sided`
    from the clones of one pair of samples.

    Under the model, the randomised probability integral transform of each clone,
    :math:`u_i = P(X < a_i) + V_i\\,P(X = a_i)` with :math:`V_i \\sim U(0, 1)`, is exactly
    uniform whatever the clone's size, so :math:`\\mathrm{median}_i |u_i - 1/2| = 1/4`. The
    estimate is the :math:`\\varphi \\ge 1` that solves this equation over the clones with
    :math:`k_i = a_i + b_i \\ge 2`: the first root on a grid of :math:`\\log\\varphi` from 0
    to :math:`\\log\\max k_i + 2`, refined by :func:`scipy.optimize.brentq` (the median
    falls as :math:`\\varphi` grows, until the pmf turns U-shaped far beyond real
    dispersions); 1 (the binomial) when the median is already at most 1/4 there; the grid
    point nearest 1/4 when there is no root (e.g. no clone found in both samples). A
    median, not a likelihood: clones that truly changed sit in
    the tails and move the median little (a likelihood estimate grows with every expansion
    and takes the test's power away: measured in docs/statistics.md). At most ``max_clones``
    clones (a seeded random choice) enter; :math:`V_i` is drawn with ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from tcrtrack.tl._change import estimate_dispersion
    >>> rng = np.random.default_rng(0)
    >>> k = rng.integers(2, 300, 3000)
    >>> a = rng.binomial(k, 0.5)  # binomial splits of each clone: no overdispersion
    >>> estimate_dispersion(a, k - a, 10**6, 10**6) < 1.2
    True
    """
    from scipy.optimize import brentq

    a, k, pi, ok = _prepare(a, b, total_a, total_b)
    use = np.flatnonzero(ok & (k >= 2))
    if len(use) == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    if len(use) > max_clones:
        use = np.sort(rng.choice(use, max_clones, replace=False))
    a, k, pi = a[use], k[use], pi[use]
    v = rng.random(len(use))

    def excess(log_phi: float) -> float:
        low, _, pmf = _tails(a, k, pi, float(np.exp(log_phi)))
        u = low - pmf + v * pmf
        return float(np.quantile(np.abs(u - 0.5), _LEVEL)) - _LEVEL / 2

    if excess(0.0) <= 0.0:
        return 1.0
    # the median falls with the dispersion until the pmf turns U-shaped (tiny shapes, far
    # beyond any real dispersion): take the first crossing on a grid, refined by brentq;
    # without a crossing (e.g. no clone of the pair in both samples), the grid's best point
    grid = np.linspace(0.0, np.log(max(float(k.max()), 4.0)) + 2.0, 24)
    values = np.array([excess(float(x)) for x in grid])
    below = np.flatnonzero(values <= 0.0)
    if len(below) == 0:
        return float(np.exp(grid[int(np.argmin(values))]))
    i = int(below[0])
    return float(np.exp(brentq(excess, grid[i - 1], grid[i], xtol=1e-3)))
