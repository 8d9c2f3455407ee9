"""The one table of the formats tcrtrack reads: name, identifying columns, reader.

Every registered reader has the signature ``reader(path, *, sample=None, columns=None)``
(:class:`Reader`) and returns a contig table; readers that cannot skip columns accept
``columns`` and read every column (their docstrings say so). A reader may have further
keyword-only options with defaults (``unit=`` of the bulk readers): :func:`tcrtrack.io.read`
never passes them.

The table is built once, on first use (:func:`formats`), and holds the identifying columns of
every format (here) but imports a reader's module only when the reader is first called
(:class:`LazyReader`): detecting a Cell Ranger file loads neither the other readers nor pandas.
It is a tuple, never changed after it is built. A new format is one more line in :func:`formats`
and its identifying columns below.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


#: Columns that identify an AIRR Rearrangement file (:func:`tcrtrack.io.read`).
AIRR_SIGNATURE: Final = ("sequence_id", "v_call", "junction_aa", "productive")
#: Column sets that identify a minimal AIRR table too: a junction (or AIRR ``cdr3``) field
#: and a locus or gene call field (no other format tcrtrack reads has these AIRR names).
AIRR_MINIMAL_SIGNATURES: Final = tuple(
    (junction, other)
    for junction in ("junction", "junction_aa", "cdr3")
    for other in ("locus", "v_call", "j_call")
)
#: Columns that identify an immunoSEQ v2 export (``tt.io.read``).
IMMUNOSEQ_V2_SIGNATURE: Final = ("nucleotide", "aminoAcid", "vIndex")
#: Columns that identify an immunoSEQ v3 export.
IMMUNOSEQ_V3_SIGNATURE: Final = ("rearrangement", "amino_acid", "v_index")
#: Columns that identify a Cell Ranger ``clonotypes.csv`` (``tt.io.read``).
CLONOTYPES_SIGNATURE: Final = ("clonotype_id", "frequency", "cdr3s_aa", "cdr3s_nt")
#: Columns that identify a MiXCR clone export (v2, v3 and v4).
MIXCR_SIGNATURE: Final = ("nSeqCDR3", "aaSeqCDR3")
#: Column headers MiXCR writes without ``-s`` ("N. Seq. CDR3") in its short form ("nSeqCDR3").
MIXCR_LONG_SIGNATURE: Final = ("N. Seq. CDR3", "AA. Seq. CDR3")
#: Columns that identify a paired table (``tt.io.read``).
PAIRED_SIGNATURE: Final = ("TCRA_cdr3aa", "TCRB_cdr3aa")
#: Columns that identify a Cell Ranger contig table (checked by :func:`tcrtrack.io.read`).
TENX_SIGNATURE: Final = ("barcode", "contig_id", "chain", "v_gene", "cdr3")
#: Columns that identify a VDJtools (or MiTCR) clonotype table (``tt.io.read``).
VDJTOOLS_SIGNATURE: Final = ("freq", "cdr3nt", "cdr3aa", "v", "d", "j")


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


class LazyReader:
    """A reader named by its module and function, imported on the first call (its signature
    and name are the function's)."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    @property
    def function(self) -> Any:
        """The reader itself (its module imported now)."""
        return getattr(importlib.import_module(f"tcrtrack.io.{self.module}"), self.name)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<reader tcrtrack.io.{self.module}.{self.name}>"


def _lazy(module: str, name: str) -> Any:
    return LazyReader(module, name)


@cache
def formats() -> tuple[Format, ...]:
    """Every format, in the order detection tries them (built once, on first use)."""
    return (
        Format(
            "10x",
            "Cell Ranger contig annotations (CSV)",
            TENX_SIGNATURE,
            _lazy("_tenx", "read_10x"),
            parse=_lazy("_tenx", "parse_10x"),
        ),
        Format(
            "airr",
            "AIRR Rearrangement TSV",
            AIRR_SIGNATURE,
            _lazy("_airr", "read_airr"),
            parse=_lazy("_airr", "parse_airr"),
            alternatives=AIRR_MINIMAL_SIGNATURES,
        ),
        Format(
            "immunoseq-v2",
            "Adaptive immunoSEQ v2 export (TSV)",
            IMMUNOSEQ_V2_SIGNATURE,
            _lazy("_bulk", "read_immunoseq"),
            parse=_lazy("_bulk", "parse_immunoseq"),
        ),
        Format(
            "immunoseq-v3",
            "Adaptive immunoSEQ v3 export (TSV)",
            IMMUNOSEQ_V3_SIGNATURE,
            _lazy("_bulk", "read_immunoseq"),
            parse=_lazy("_bulk", "parse_immunoseq"),
        ),
        Format(
            "mixcr",
            "MiXCR clone export (TSV)",
            MIXCR_SIGNATURE,
            _lazy("_mixcr", "read_mixcr"),
            parse=_lazy("_mixcr", "parse_mixcr"),
        ),
        Format(
            "mixcr-spaced",
            "MiXCR clone export with spaced headers (TSV, MiXCR 2 default)",
            MIXCR_LONG_SIGNATURE,
            _lazy("_mixcr", "read_mixcr"),
            parse=_lazy("_mixcr", "parse_mixcr"),
        ),
        Format(
            "paired",
            "one row per cell with paired chains (TCRA_cdr3aa, TCRB_cdr3nt, ...)",
            PAIRED_SIGNATURE,
            _lazy("_paired", "read_paired"),
        ),
        Format(
            "vdjtools",
            "VDJtools / MiTCR clonotype table (TSV, #count or count)",
            VDJTOOLS_SIGNATURE,
            _lazy("_vdjtools", "read_vdjtools"),
        ),
        Format(
            "10x-clonotypes",
            "Cell Ranger clonotypes.csv (one row per clonotype)",
            CLONOTYPES_SIGNATURE,
            _lazy("_clonotypes10x", "read_10x_clonotypes"),
        ),
    )
