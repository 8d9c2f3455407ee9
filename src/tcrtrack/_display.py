"""How results are shown to a person: the words and number formats of the readable tables.

One rendering per result type: :meth:`tcrtrack.tl.Sharing.display_tables`,
:meth:`tcrtrack.tl.Rarefaction.display_table`, :meth:`tcrtrack.tl.Track.display_table`,
:meth:`tcrtrack.tl.Persistence.display_tables`, :meth:`tcrtrack.tl.Diversity.display_tables` and
:func:`overlap_table` return string DataFrames labelled in the data's unit (``cells`` for
single-cell data, ``templates``/``reads``/``umis`` for bulk data); the command line prints them,
the report escapes them, the plots label their axes with :func:`fraction_labels`. This module is
the one place that names the sharing fractions in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, get_args

if TYPE_CHECKING:
    import pandas as pd

#: The four sharing fractions of :func:`tcrtrack.tl.sharing` (columns of its table).
SharingFraction = Literal[
    "frac_clonotypes_shared",
    "frac_cells_shared",
    "frac_reference_clonotypes_detected",
    "frac_reference_cells_detected",
]
SHARING_FRACTIONS: tuple[str, ...] = get_args(SharingFraction)


#: The word for the count-weighted columns of samples counted in different units (each value
#: then names its own unit).
MIXED_UNITS: Final = "units"


def fraction_labels(
    unit: str, reference: str = "reference", reference_unit: str | None = None
) -> dict[str, str]:
    """The sharing fractions in words, in the samples' ``unit``, against ``reference``
    (whose own fractions are in ``reference_unit``, default ``unit``).

    >>> fraction_labels("templates", "infusion")["frac_reference_cells_detected"]
    'infusion templates found'
    >>> fraction_labels("reads", "infusion", "cells")["frac_reference_cells_detected"]
    'infusion cells found'
    """
    return {
        "frac_clonotypes_shared": f"clonotypes shared with {reference}",
        "frac_cells_shared": f"{unit} in shared clonotypes",
        "frac_reference_clonotypes_detected": f"{reference} clonotypes found",
        "frac_reference_cells_detected": f"{reference} {reference_unit or unit} found",
    }


def missing(value: Any) -> bool:
    """Whether ``value`` is None or NA."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def interval(low: Any, high: Any) -> str:
    """`` [low-high%]`` in percent, empty when either bound is missing.

    >>> interval(0.09, 0.105)
    ' [9.00-10.50%]'
    """
    if missing(low) or missing(high):
        return ""
    return f" [{100 * low:.2f}-{100 * high:.2f}%]"


def mean_interval(mean: float, low: float, high: float) -> str:
    """``mean% [low-high%]`` in percent (a rarefied fraction: the mean over subsamples and
    their central range)."""
    return f"{100 * mean:.2f}%" + interval(low, high)


def count_of(num: int, den: int, low: Any = None, high: Any = None, unit: str = "") -> str:
    """``num/den = percent`` (``NA`` for a zero denominator), with the interval if given;
    ``unit`` after the denominator (for samples counted in different units).

    >>> count_of(640, 6560, 0.09, 0.105)
    '640/6,560 = 9.76% [9.00-10.50%]'
    >>> count_of(640, 6560, unit="reads")
    '640/6,560 reads = 9.76%'
    """
    den_text = f"{den:,} {unit}" if unit else f"{den:,}"
    if not den:
        return f"{num:,}/{den_text} = NA"
    return f"{num:,}/{den_text} = {100 * num / den:.2f}%" + interval(low, high)


def overlap_table(matrix: pd.DataFrame) -> pd.DataFrame:
    """The readable form of a :func:`tcrtrack.tl.overlap` matrix: 3 decimals, ``NA`` where
    the index is undefined (an empty sample)."""
    return matrix.map(lambda v: "NA" if missing(v) else f"{v:.3f}")


#: The columns of a shared clonotype shown beside it with a background or Pgen, in order.
PUBLICITY_COLUMNS: tuple[str, ...] = (
    "clonotype",
    "n_samples_found",
    "n_background_donors",
    "public",
    "pgen",
)


def publicity_table(clones: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """The readable list of shared clonotypes with their background columns (those of
    :data:`PUBLICITY_COLUMNS` present), the ``top`` first (all when None); Pgen with 3
    significant digits, counts with thousands separators.

    >>> import pandas as pd
    >>> clones = pd.DataFrame({"clonotype": ["CASSF"], "n_samples_found": [2],
    ...                        "n_background_donors": [3], "public": [True], "pgen": [1.234e-9]})
    >>> publicity_table(clones).iloc[0].tolist()
    ['CASSF', '2', '3', 'yes', '1.23e-09']
    """
    cols = [c for c in PUBLICITY_COLUMNS if c in clones.columns]
    shown = clones[cols].head(top) if top is not None else clones[cols]
    view = shown.astype(str).reset_index(drop=True)
    for col in ("n_samples_found", "n_background_donors"):
        if col in shown.columns:
            view[col] = [f"{int(v):,}" for v in shown[col]]
    if "public" in shown.columns:
        view["public"] = ["yes" if v else "no" for v in shown["public"]]
    if "pgen" in shown.columns:
        view["pgen"] = [f"{float(p):.3g}" for p in shown["pgen"]]
    return view
