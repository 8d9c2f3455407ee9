"""Detection limits of a sample: how large must a clone be to be seen?

A clone at frequency :math:`f` among the T cells of the blood is missed by a sample of
:math:`N` cells drawn from it with probability :math:`(1-f)^N` (each cell drawn is independently
of the clone with probability :math:`f`; for :math:`N` much smaller than the blood, drawing
without replacement is the same). The functions here are vectorised over samples and clones.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tcrtrack import schema as s
from tcrtrack.errors import SchemaError

__all__ = ["detection_probability", "effective_size", "lod_frequency"]

#: Units that count cells directly (one draw per cell): :math:`N` is the count itself.
#: immunoSEQ templates are estimated cell genomes, so they count as cells.
CELL_LIKE_UNITS = (s.UNIT_CELLS, s.UNIT_TEMPLATES)
#: Units sampled in two steps (cells, then molecules or reads of each cell).
TWO_STEP_UNITS = (s.UNIT_READS, s.UNIT_UMIS)


def lod_frequency(n: np.ndarray | float, *, detection: float = 0.95) -> np.ndarray:
    """The limit of detection: the clone frequency seen with probability ``detection``.

    :math:`f_{LOD} = 1 - (1 - d)^{1/N}` for a sample of :math:`N` cells (or effective
    cells) and detection probability :math:`d` (0.95: ``1 - 0.05 ** (1 / N)``). A sample
    of 0 cells has no limit (NaN).

    Examples
    --------
    >>> from tcrtrack.tl._detection import lod_frequency
    >>> round(float(lod_frequency(10_000)), 7)
    0.0002995
    """
    n_arr = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_arr > 0, 1.0 - (1.0 - detection) ** (1.0 / n_arr), np.nan)


def detection_probability(freq: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """:math:`1 - (1 - f)^N`: the probability that a clone at frequency ``freq`` is seen at
    least once in a sample of ``n`` (effective) cells; broadcast over both arguments."""
    f = np.clip(np.asarray(freq, dtype=np.float64), 0.0, 1.0)
    n_arr = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore"):
        # log1p keeps precision for the small frequencies of blood clones
        return -np.expm1(n_arr * np.log1p(-f))


def effective_size(
    *,
    unit: str,
    totals: np.ndarray,
    n_clonotypes: np.ndarray,
    samples: list[str],
    n_cells: Mapping[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: the cells sampled, whether that number was estimated, and :math:`N_{eff}`.

    - ``cells`` and ``templates``: :math:`N` = the count (distinct cells, or templates,
      which immunoSEQ estimates as cell genomes); :math:`N_{eff} = N`.
    - ``reads`` and ``umis`` (two-step sampling: cells from the blood, then reads or
      molecules from the cells): :math:`1/N_{eff} = 1/N_{cells} + 1/N_{reads}`, the number of
      independent cell draws whose binomial variance of a clone's frequency equals that of
      the two steps. :math:`N_{cells}` is taken from ``n_cells`` when given; otherwise it is
      estimated by the number of distinct clonotypes of the sample. Every clonotype seen needs
      at least one cell, so the estimate is a lower bound on the cells that gave reads: close
      to :math:`N_{cells}` in polyclonal blood (most cells carry a clonotype of their own),
      lower in oligoclonal samples, where it makes :math:`N_{eff}` smaller, the limit of
      detection higher and fewer absent clones called ``absent`` (conservative).
    """
    totals = np.asarray(totals, dtype=np.float64)
    given = dict(n_cells or {})
    unknown = sorted(set(given) - set(samples))
    if unknown:
        msg = (
            f"n_cells names unknown sample(s) {', '.join(map(repr, unknown))}; samples are: "
            f"{', '.join(samples)}"
        )
        raise SchemaError(msg)
    for name, value in given.items():
        if not (isinstance(value, int | np.integer) and value > 0):
            msg = f"n_cells of {name!r} must be a positive whole number of cells, got {value!r}"
            raise SchemaError(msg)
    if unit in CELL_LIKE_UNITS:
        if given:
            msg = (
                f"n_cells applies to read or UMI counts; these samples count {unit}, which "
                "are already cells: leave n_cells out"
            )
            raise SchemaError(msg)
        return totals.copy(), np.zeros(len(samples), dtype=bool), totals.copy()
    if unit not in TWO_STEP_UNITS:
        msg = f"unknown unit {unit!r}; expected one of {', '.join(s.UNITS)}"
        raise SchemaError(msg)
    estimated = np.array([x not in given for x in samples])
    cells = np.array(
        [
            float(given[x]) if x in given else float(k)
            for x, k in zip(samples, n_clonotypes, strict=True)
        ]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where((cells > 0) & (totals > 0), 1.0 / (1.0 / cells + 1.0 / totals), 0.0)
    return cells, estimated, n_eff
