"""The Beta distribution's quantile, for the Clopper–Pearson interval without scipy.

``scipy.special.betaincinv`` is the one function of scipy that ``tcrtrack share`` needs, and
importing any part of scipy costs about as much as the rest of a small run (docs/design.md,
"Clopper–Pearson without scipy"); so the quantile is computed here from its definition, in pure
Python (a few values per sample), and tested against scipy (``tests/test_beta.py``).

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
:math:`I^{-1}_p(a, b) = 1 - I^{-1}_{1-p}(b, a)`.
"""

from __future__ import annotations

import math

from tcrtrack.errors import ParameterError

#: Relative change below which the continued fraction has converged.
_EPS = 1e-16
#: Stands in for a zero denominator in the Lentz method.
_TINY = 1e-300
#: Iterations of the continued fraction before giving up (enough for a, b up to ~1e9).
_MAX_TERMS = 200_000


def _stirling(z: float) -> float:
    r""":math:`\log\Gamma(z) - [(z - 1/2)\log z - z + \log(2\pi)/2]` by its asymptotic series
    (error below 1e-14 for :math:`z \ge 10`)."""
    r = 1.0 / (z * z)
    return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188)))) / z


def _log_beta(a: float, b: float) -> float:
    """:math:`\\log B(a, b)`. For a large argument :math:`b`, :math:`\\log\\Gamma(b) -
    \\log\\Gamma(a+b) = -a\\log b - (a+b-\tfrac12)\\log(1+a/b) + a + S(b) - S(a+b)` (Stirling's
    series :math:`S`), which keeps the precision that subtracting two large ``lgamma`` values
    loses."""
    if a > b:
        a, b = b, a
    if b < 10:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    tail = -a * math.log(b) - (a + b - 0.5) * math.log1p(a / b) + a
    return math.lgamma(a) + tail + _stirling(b) - _stirling(a + b)


def _fraction(a: float, b: float, x: float) -> float:
    """The continued fraction :math:`1 + d_1/(1 + d_2/(1 + \\cdots))` (modified Lentz)."""
    f = 1.0
    c = 1.0
    d = 0.0
    for j in range(1, _MAX_TERMS):
        m = j // 2
        if j % 2:
            term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + term * d
        d = 1.0 / (d if d != 0.0 else _TINY)
        c = 1.0 + term / c
        if c == 0.0:
            c = _TINY
        delta = c * d
        f *= delta
        if abs(delta - 1.0) < _EPS:
            break
    # (the fraction converges in O(sqrt(max(a, b))) terms; the bound only limits the time)
    return f


def _log_front(a: float, b: float, x: float) -> float:
    """:math:`\\log[x^a (1-x)^b / B(a, b)]`. When :math:`a` and :math:`b` are both large, as
    :math:`a\\log(1 + t/a) + b\\log(1 - t/b) + \\tfrac12\\log\\frac{ab}{2\\pi(a+b)} - S(a) - S(b)
    + S(a+b)` with :math:`t = (a+b)x - a` (Stirling's formula for :math:`B`): near the mean
    (where the quantiles of an interval are) :math:`t` is small, and no two large numbers are
    subtracted; far from it, directly."""
    c = a + b
    t = x * c - a
    if min(a, b) < 10 or not (-a / 2 < t < b / 2):
        return a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    spread = 0.5 * math.log(a * b / (2 * math.pi * c))
    corrections = _stirling(c) - _stirling(a) - _stirling(b)
    return a * math.log1p(t / a) + b * math.log1p(-t / b) + spread + corrections


def _log_lower(a: float, b: float, x: float) -> float:
    """:math:`\\log I_x(a, b)` for :math:`x` below :math:`(a+1)/(a+b+2)`."""
    return _log_front(a, b, x) - math.log(a) - math.log(_fraction(a, b, x))


def log_regularized_beta(a: float, b: float, x: float) -> float:
    """:math:`\\log I_x(a, b)` for :math:`0 < x < 1`, :math:`a, b > 0`.

    >>> round(math.exp(log_regularized_beta(2.0, 3.0, 0.4)), 12)  # 1 - 0.6**4 - 4*0.4*0.6**3
    0.5248
    """
    if x < (a + 1.0) / (a + b + 2.0):
        return _log_lower(a, b, x)
    return math.log1p(-math.exp(_log_lower(b, a, 1.0 - x)))


def _log_density(a: float, b: float, x: float) -> float:
    """:math:`\\log` of the Beta(a, b) density at :math:`x`."""
    return _log_front(a, b, x) - math.log(x) - math.log1p(-x)


def beta_quantile(a: float, b: float, p: float) -> float:
    """The :math:`x` with :math:`I_x(a, b) = p` (``scipy.special.betaincinv(a, b, p)``), for
    :math:`a, b > 0` and :math:`0 \\le p \\le 1`.

    >>> round(beta_quantile(1.0, 1.0, 0.3), 12), round(beta_quantile(2.0, 1.0, 0.25), 12)
    (0.3, 0.5)
    """
    if not (a > 0 and b > 0 and 0.0 <= p <= 1.0):
        msg = f"beta_quantile needs a > 0, b > 0 and 0 <= p <= 1, got {a}, {b}, {p}"
        raise ParameterError(msg)
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return 1.0
    if p > 0.5:
        return 1.0 - _lower_quantile(b, a, 1.0 - p)
    return _lower_quantile(a, b, p)


def _lower_quantile(a: float, b: float, p: float) -> float:
    """:func:`beta_quantile` for :math:`p \\le 1/2`: Newton's method on
    :math:`g(u) = \\log I_{e^u}(a, b) - \\log p` with :math:`g'(u) = x f(x) / I_x(a, b)`
    (:math:`f` the density), inside a bracket :math:`[lo, hi]` of :math:`u = \\log x`."""
    target = math.log(p)
    lo, hi = math.log(1e-300), 0.0  # g(lo) < 0 < g(hi) = -log p
    # start from the quantile of the lower tail's leading term, x^a / (a B(a, b)) = p
    u = min((target + math.log(a) + _log_beta(a, b)) / a, math.log(a / (a + b)))
    u = max(u, lo / 2)
    for _ in range(200):
        x = math.exp(u)
        if x >= 1.0:
            u = (lo + hi) / 2
            continue
        log_i = log_regularized_beta(a, b, x)
        g = log_i - target
        if g == 0.0:
            return x
        if g < 0:
            lo = u
        else:
            hi = u
        slope = math.exp(u + _log_density(a, b, x) - log_i)
        step = g / slope if slope > 0 and math.isfinite(slope) else math.inf
        new = u - step
        if not lo < new < hi:  # a step out of the bracket: bisect instead
            new = (lo + hi) / 2
        if abs(new - u) <= 1e-15 * max(1.0, abs(u)):
            return math.exp(new)
        u = new
        if hi - lo <= 1e-15 * max(1.0, abs(lo)):
            return math.exp(u)
    return math.exp(u)


def clopper_pearson(k: int, n: int, ci: float) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of ``k`` successes in ``n`` trials at level ``ci``:
    :math:`low = I^{-1}_{\\alpha/2}(k, n-k+1)` (0 when :math:`k = 0`) and
    :math:`high = I^{-1}_{1-\\alpha/2}(k+1, n-k)` (1 when :math:`k = n`), :math:`\\alpha = 1 - ci`.

    >>> low, high = clopper_pearson(95, 3721, 0.95)
    >>> round(low, 4), round(high, 4)
    (0.0207, 0.0311)
    """
    alpha = 1.0 - ci
    low = beta_quantile(k, n - k + 1, alpha / 2) if k > 0 else 0.0
    high = beta_quantile(k + 1, n - k, 1 - alpha / 2) if k < n else 1.0
    return low, high
