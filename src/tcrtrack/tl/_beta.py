"""The Beta distribution's quantile, for the Clopper–Pearson interval without scipy.

``scipy.special.betaincinv`` is the one function of scipy that ``tcrtrack share`` needs, and
importing any part of scipy costs about as much as the rest of a small run (docs/design.md,
"Clopper–Pearson without scipy"); so the quantile is computed here from its definition with
numpy, vectorised over arrays (every interval of a table at once: the per-clone intervals of
``tt.tl.persist`` are thousands), and tested against scipy (``tests/test_beta.py``).

The regularized incomplete beta function :math:`I_x(a, b) = B(x; a, b) / B(a, b)` is evaluated
by its continued fraction (DLMF 8.17.22),

.. math::

    I_x(a, b) = \\frac{x^a (1-x)^b}{a\\,B(a, b)}
    \\cfrac{1}{1 + \\cfrac{d_1}{1 + \\cfrac{d_2}{1 + \\cdots}}},\\quad
    d_{2m+1} = -\\frac{(a+m)(a+b+m)\\,x}{(a+2m)(a+2m+1)},\\quad
    d_{2m} = \\frac{m(b-m)\\,x}{(a+2m-1)(a+2m)},

which converges quickly for :math:`x < (a+1)/(a+b+2)`; above that point
:math:`I_x(a, b) = 1 - I_{1-x}(b, a)`. The fraction is summed with the modified Lentz method and
the prefactor in logarithms (``math.lgamma``). The quantile solves :math:`I_x(a, b) = p` by
Newton's method on :math:`\\log I` as a function of :math:`\\log x` (nearly linear in the lower
tail), kept inside a bracket that halves when a step leaves it; upper-tail probabilities use
:math:`I^{-1}_p(a, b) = 1 - I^{-1}_{1-p}(b, a)`. Each iteration runs on the elements not yet
converged only; :math:`\\log B(a, b)` is computed once per element (``math.lgamma``: numpy has no
log-gamma, and scipy's is what this module avoids).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tcrtrack.errors import ParameterError

__all__ = ["beta_quantile", "clopper_pearson", "clopper_pearson_arrays", "log_regularized_beta"]

#: Relative change below which the continued fraction has converged.
_EPS = 1e-16
#: Stands in for a zero denominator in the Lentz method.
_TINY = 1e-300
#: Iterations of the continued fraction before giving up (enough for a, b up to ~1e9).
_MAX_TERMS = 200_000
#: Newton iterations of the quantile before giving up (it converges in a few dozen).
_MAX_NEWTON = 200

Array = np.ndarray[Any, np.dtype[np.float64]]
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _stirling(z: Array) -> Array:
    r""":math:`\log\Gamma(z) - [(z - 1/2)\log z - z + \log(2\pi)/2]` by its asymptotic series
    (error below 1e-14 for :math:`z \ge 10`)."""
    r = 1.0 / (z * z)
    return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / z


def _gammaln(z: Array) -> Array:
    return np.asarray(_lgamma(z), dtype=np.float64)


def _log_beta(a: Array, b: Array) -> Array:
    """:math:`\\log B(a, b)`. For a large argument :math:`b`, :math:`\\log\\Gamma(b) -
    \\log\\Gamma(a+b) = -a\\log b - (a+b-\tfrac12)\\log(1+a/b) + a + S(b) - S(a+b)` (Stirling's
    series :math:`S`), which keeps the precision that subtracting two large ``lgamma`` values
    loses."""
    a, b = np.minimum(a, b), np.maximum(a, b)
    out = _gammaln(a)
    small = b < 10
    bs, cs = b[small], a[small] + b[small]
    out[small] += _gammaln(bs) - _gammaln(cs)
    al, bl = a[~small], b[~small]
    tail = -al * np.log(bl) - (al + bl - 0.5) * np.log1p(al / bl) + al
    out[~small] += tail + _stirling(bl) - _stirling(al + bl)
    return out


def _fraction(a: Array, b: Array, x: Array) -> Array:
    """The continued fraction :math:`1 + d_1/(1 + d_2/(1 + \\cdots))` (modified Lentz), each
    element iterated until its own term changes the value by less than :data:`_EPS`."""
    f = np.ones(len(x))
    c = np.ones(len(x))
    d = np.zeros(len(x))
    live = np.arange(len(x))  # the elements not converged yet
    for j in range(1, _MAX_TERMS):
        if not len(live):
            break
        al, bl, xl = a[live], b[live], x[live]
        m = j // 2
        if j % 2:
            term = -(al + m) * (al + bl + m) * xl / ((al + 2 * m) * (al + 2 * m + 1))
        else:
            term = m * (bl - m) * xl / ((al + 2 * m - 1) * (al + 2 * m))
        dl = 1.0 + term * d[live]
        dl = 1.0 / np.where(dl != 0.0, dl, _TINY)
        cl = 1.0 + term / c[live]
        cl = np.where(cl != 0.0, cl, _TINY)
        delta = cl * dl
        f[live] *= delta
        c[live], d[live] = cl, dl
        live = live[~(np.abs(delta - 1.0) < _EPS)]
    # (the fraction converges in O(sqrt(max(a, b))) terms; the bound only limits the time)
    return f


def _log_front(a: Array, b: Array, x: Array, log_beta: Array) -> Array:
    """:math:`\\log[x^a (1-x)^b / B(a, b)]`. When :math:`a` and :math:`b` are both large, as
    :math:`a\\log(1 + t/a) + b\\log(1 - t/b) + \\tfrac12\\log\\frac{ab}{2\\pi(a+b)} - S(a) - S(b)
    + S(a+b)` with :math:`t = (a+b)x - a` (Stirling's formula for :math:`B`): near the mean
    (where the quantiles of an interval are) :math:`t` is small, and no two large numbers are
    subtracted; far from it, directly."""
    c = a + b
    t = x * c - a
    near = (np.minimum(a, b) >= 10) & (-a / 2 < t) & (t < b / 2)
    out = np.empty(len(x))
    far = ~near
    out[far] = a[far] * np.log(x[far]) + b[far] * np.log1p(-x[far]) - log_beta[far]
    an, bn, cn, tn = a[near], b[near], c[near], t[near]
    spread = 0.5 * np.log(an * bn / (2 * math.pi * cn))
    corrections = _stirling(cn) - _stirling(an) - _stirling(bn)
    out[near] = an * np.log1p(tn / an) + bn * np.log1p(-tn / bn) + spread + corrections
    return out


def _log_lower(a: Array, b: Array, x: Array, log_beta: Array) -> Array:
    """:math:`\\log I_x(a, b)` for :math:`x` below :math:`(a+1)/(a+b+2)`."""
    return _log_front(a, b, x, log_beta) - np.log(a) - np.log(_fraction(a, b, x))


def _log_regularized(a: Array, b: Array, x: Array, log_beta: Array) -> Array:
    """:math:`\\log I_x(a, b)` for arrays (``log_beta`` = :math:`\\log B(a, b)`)."""
    lower = x < (a + 1.0) / (a + b + 2.0)
    out = np.empty(len(x))
    out[lower] = _log_lower(a[lower], b[lower], x[lower], log_beta[lower])
    up = ~lower
    out[up] = np.log1p(-np.exp(_log_lower(b[up], a[up], 1.0 - x[up], log_beta[up])))
    return out


def log_regularized_beta(a: float, b: float, x: float) -> float:
    """:math:`\\log I_x(a, b)` for :math:`0 < x < 1`, :math:`a, b > 0`.

    >>> round(math.exp(log_regularized_beta(2.0, 3.0, 0.4)), 12)  # 1 - 0.6**4 - 4*0.4*0.6**3
    0.5248
    """
    aa, bb, xx = (np.array([float(v)]) for v in (a, b, x))
    return float(_log_regularized(aa, bb, xx, _log_beta(aa, bb))[0])


def _quantiles(a: Array, b: Array, p: Array) -> Array:
    """The :math:`x` with :math:`I_x(a, b) = p` of every element (arrays of one shape,
    checked by the callers)."""
    out = np.where(p >= 1.0, 1.0, 0.0)
    inner = (p > 0.0) & (p < 1.0)
    upper = inner & (p > 0.5)  # I^-1_p(a, b) = 1 - I^-1_{1-p}(b, a)
    lower = inner & ~upper
    out[lower] = _lower_quantile(a[lower], b[lower], p[lower])
    out[upper] = 1.0 - _lower_quantile(b[upper], a[upper], 1.0 - p[upper])
    return out


def beta_quantile(a: float, b: float, p: float) -> float:
    """The :math:`x` with :math:`I_x(a, b) = p` (``scipy.special.betaincinv(a, b, p)``), for
    :math:`a, b > 0` and :math:`0 \\le p \\le 1`.

    >>> round(beta_quantile(1.0, 1.0, 0.3), 12), round(beta_quantile(2.0, 1.0, 0.25), 12)
    (0.3, 0.5)
    """
    if not (a > 0 and b > 0 and 0.0 <= p <= 1.0):
        msg = f"beta_quantile needs a > 0, b > 0 and 0 <= p <= 1, got {a}, {b}, {p}"
        raise ParameterError(msg)
    return float(_quantiles(*(np.array([float(v)]) for v in (a, b, p)))[0])


def _lower_quantile(a: Array, b: Array, p: Array) -> Array:
    """The quantiles for :math:`p \\le 1/2`: Newton's method on
    :math:`g(u) = \\log I_{e^u}(a, b) - \\log p` with :math:`g'(u) = x f(x) / I_x(a, b)`
    (:math:`f` the density), inside a bracket :math:`[lo, hi]` of :math:`u = \\log x`, each
    element until its own step or bracket is below 1e-15 (relative)."""
    log_beta = _log_beta(a, b)
    target = np.log(p)
    lo = np.full(len(p), math.log(1e-300))  # g(lo) < 0 < g(hi) = -log p
    hi = np.zeros(len(p))
    # start from the quantile of the lower tail's leading term, x^a / (a B(a, b)) = p
    u = np.minimum((target + np.log(a) + log_beta) / a, np.log(a / (a + b)))
    u = np.maximum(u, lo / 2)
    out = np.full(len(p), np.nan)
    live = np.arange(len(p))
    for _ in range(_MAX_NEWTON):
        if not len(live):
            break
        x = np.exp(u[live])
        outside = x >= 1.0
        u[live[outside]] = (lo[live[outside]] + hi[live[outside]]) / 2
        rest = live[~outside]
        x = x[~outside]
        al, bl, lb = a[rest], b[rest], log_beta[rest]
        log_i = _log_regularized(al, bl, x, lb)
        g = log_i - target[rest]
        found = g == 0.0
        out[rest[found]] = x[found]
        below = g < 0
        lo[rest[below]] = u[rest[below]]
        hi[rest[~below & ~found]] = u[rest[~below & ~found]]
        ur = u[rest]
        log_density = _log_front(al, bl, x, lb) - np.log(x) - np.log1p(-x)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            slope = np.exp(ur + log_density - log_i)
            step = np.where((slope > 0) & np.isfinite(slope), g / slope, np.inf)
        new = ur - step
        lo_r, hi_r = lo[rest], hi[rest]
        new = np.where((lo_r < new) & (new < hi_r), new, (lo_r + hi_r) / 2)
        small_step = np.abs(new - ur) <= 1e-15 * np.maximum(1.0, np.abs(ur))
        done_step = small_step & ~found
        out[rest[done_step]] = np.exp(new[done_step])
        u[rest] = new
        narrow = (hi_r - lo_r) <= 1e-15 * np.maximum(1.0, np.abs(lo_r))
        done_bracket = narrow & ~small_step & ~found
        out[rest[done_bracket]] = np.exp(new[done_bracket])
        finished = np.zeros(len(p), dtype=bool)
        finished[rest[found | done_step | done_bracket]] = True
        live = live[~finished[live]]
    out[live] = np.exp(u[live])
    return out


def clopper_pearson_arrays(k: Array, n: Array, ci: float) -> tuple[Array, Array]:
    """The exact (Clopper–Pearson) intervals of ``k`` successes in ``n`` trials at level
    ``ci``, for arrays of one shape (``0 <= k <= n``, ``n >= 1``): :func:`clopper_pearson` of
    every element at once.

    >>> low, high = clopper_pearson_arrays(np.array([0, 95, 10]), np.array([10, 3721, 10]), 0.95)
    >>> [round(float(v), 4) for v in low], [round(float(v), 4) for v in high]
    ([0.0, 0.0207, 0.6915], [0.3085, 0.0311, 1.0])
    """
    kf = np.asarray(k, dtype=np.float64).ravel()
    nf = np.asarray(n, dtype=np.float64).ravel()
    alpha = 1.0 - ci
    low = np.zeros(len(kf))
    high = np.ones(len(kf))
    some = kf > 0
    low[some] = _quantiles(kf[some], nf[some] - kf[some] + 1, np.full(int(some.sum()), alpha / 2))
    short = kf < nf
    high[short] = _quantiles(
        kf[short] + 1, nf[short] - kf[short], np.full(int(short.sum()), 1 - alpha / 2)
    )
    shape = np.shape(k)
    return low.reshape(shape), high.reshape(shape)


def clopper_pearson(k: int, n: int, ci: float) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of ``k`` successes in ``n`` trials at level ``ci``:
    :math:`low = I^{-1}_{\\alpha/2}(k, n-k+1)` (0 when :math:`k = 0`) and
    :math:`high = I^{-1}_{1-\\alpha/2}(k+1, n-k)` (1 when :math:`k = n`), :math:`\\alpha = 1 - ci`.

    >>> low, high = clopper_pearson(95, 3721, 0.95)
    >>> round(low, 4), round(high, 4)
    (0.0207, 0.0311)
    """
    low, high = clopper_pearson_arrays(np.array([k]), np.array([n]), ci)
    return float(low[0]), float(high[0])
