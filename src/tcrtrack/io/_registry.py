"""The one table of the formats tcrtrack reads: name, identifying columns, reader.

Every registered reader has the signature ``reader(path, *, sample=None, columns=None)``
(:class:`Reader`) and returns a contig table; readers that cannot skip columns accept
``columns`` and read every column (their docstrings say so). A reader may have further
keyword-only options with defaults (``unit=`` of the bulk readers): :func:`tcrtrack.io.read`
never passes them.

The table is built once, on first use (:func:`formats`), so importing :mod:`tcrtrack` loads
no reader; it is a tuple, never changed after it is built. A new format is one more line in
:func:`formats`.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


class Reader(Protocol):
    """What every registered reader is: path in, contig table out."""

    def __call__(
        self,
        path: str | os.PathLike[str],
        *,
        sample: str | None = None,
        columns: Collection[str] | None = None,
    ) -> pd.DataFrame: ...


class Parser(Protocol):
    """A reader that may stop at the finished Arrow table (for the clonotype engine)."""

    def __call__(
        self,
        path: str | os.PathLike[str],
        *,
        sample: str | None = None,
        columns: Collection[str] | None = None,
    ) -> pa.Table | pd.DataFrame: ...


@dataclass(frozen=True)
class Format:
    """A format tcrtrack reads.

    Attributes
    ----------
    name
        The name users give to ``format=`` and in a sample sheet's ``format`` column.
    description
        One line saying what the files are.
    signature
        Header columns that identify the format (all present: the format is detected).
    reader
        The reader (:class:`Reader`).
    parse
        Optionally the same reader stopping at the Arrow table (schema metadata holding the
        ledger and unit) that :func:`tcrtrack.tl.clonotypes` digests without a DataFrame;
        None: :attr:`reader`.
    alternatives
        Further column sets that identify the format as well (a minimal AIRR table without
        ``sequence_id`` or ``productive``); tried after every format's :attr:`signature`.
    """

    name: str
    description: str
    signature: tuple[str, ...]
    reader: Reader
    parse: Parser | None = None
    alternatives: tuple[tuple[str, ...], ...] = ()

    def matches(self, columns: Collection[str]) -> bool:
        """Whether a header with ``columns`` has every column of :attr:`signature`."""
        return set(self.signature) <= set(columns)

    def matches_alternative(self, columns: Collection[str]) -> bool:
        """Whether a header with ``columns`` has every column of one of :attr:`alternatives`."""
        return any(set(alt) <= set(columns) for alt in self.alternatives)


@cache
def formats() -> tuple[Format, ...]:
    """Every format, in the order detection tries them (built once, on first use)."""
    from tcrtrack.io import _airr, _bulk, _clonotypes10x, _mixcr, _paired, _tenx, _vdjtools

    return (
        Format(
            "10x",
            "Cell Ranger contig annotations (CSV)",
            _tenx.TENX_SIGNATURE,
            _tenx.read_10x,
            parse=_tenx.parse_10x,
        ),
        Format(
            "airr",
            "AIRR Rearrangement TSV",
            _airr.AIRR_SIGNATURE,
            _airr.read_airr,
            alternatives=_airr.AIRR_MINIMAL_SIGNATURES,
        ),
        Format(
            "immunoseq-v2",
            "Adaptive immunoSEQ v2 export (TSV)",
            _bulk.IMMUNOSEQ_V2_SIGNATURE,
            _bulk.read_immunoseq,
        ),
        Format(
            "immunoseq-v3",
            "Adaptive immunoSEQ v3 export (TSV)",
            _bulk.IMMUNOSEQ_V3_SIGNATURE,
            _bulk.read_immunoseq,
        ),
        Format("mixcr", "MiXCR clone export (TSV)", _mixcr.MIXCR_SIGNATURE, _mixcr.read_mixcr),
        Format(
            "mixcr-spaced",
            "MiXCR clone export with spaced headers (TSV, MiXCR 2 default)",
            _mixcr.MIXCR_LONG_SIGNATURE,
            _mixcr.read_mixcr,
        ),
        Format(
            "paired",
            "one row per cell with paired chains (TCRA_cdr3aa, TCRB_cdr3nt, ...)",
            _paired.PAIRED_SIGNATURE,
            _paired.read_paired,
        ),
        Format(
            "vdjtools",
            "VDJtools / MiTCR clonotype table (TSV, #count or count)",
            _vdjtools.VDJTOOLS_SIGNATURE,
            _vdjtools.read_vdjtools,
        ),
        Format(
            "10x-clonotypes",
            "Cell Ranger clonotypes.csv (one row per clonotype)",
            _clonotypes10x.CLONOTYPES_SIGNATURE,
            _clonotypes10x.read_10x_clonotypes,
        ),
    )
