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
#: Columns that identify an immunarch table (``Clones``, ``CDR3.nt``); other clone tables are
#: recognised by :data:`CLONE_TABLE_SYNONYMS` when no other format matches.
CLONE_TABLE_SIGNATURE: Final = ("Clones", "CDR3.nt")
#: The column names a generic clone table may give each role, compared without case (the
#: source of each is in docs/io.md): ``junction`` and ``count`` are required, the others
#: optional. Names that identify another format (MiXCR's ``nSeqCDR3``) are left to its reader.
CLONE_TABLE_SYNONYMS: Final = {
    "junction": (
        "CDR3.nt",
        "CDR3.nucleotide.sequence",
        "CDR3 nucleotide sequence",
        "cdr3nt",
        "cdr3_nt",
        "junction",
        "cdr3_b_nucseq",
        "cdr3_a_nucseq",
    ),
    "junction_aa": (
        "CDR3.aa",
        "CDR3.amino.acid.sequence",
        "CDR3 amino acid sequence",
        "cdr3aa",
        "junction_aa",
        "cdr3_b_aa",
        "cdr3_a_aa",
    ),
    "count": ("Clones", "Read.count", "Umi.count", "Count", "duplicate_count"),
    "v": ("V.name", "V.gene", "V", "v_call", "v_b_gene", "v_a_gene"),
    "d": ("D.name", "D.gene", "D", "d_call"),
    "j": ("J.name", "J.gene", "J", "j_call", "j_b_gene", "j_a_gene"),
    "locus": ("Chain", "locus"),
}
#: The roles a clone table cannot do without.
CLONE_TABLE_REQUIRED: Final = ("junction", "count")


def clone_table_roles(columns: Collection[str]) -> dict[str, list[str]]:
    """The header's columns of each role of :data:`CLONE_TABLE_SYNONYMS` (names compared
    without case and surrounding space), in header order; roles without one are left out.

    Examples
    --------
    >>> clone_table_roles(["Clones", "Proportion", "CDR3.nt", "CDR3.aa", "V.name"])
    {'junction': ['CDR3.nt'], 'junction_aa': ['CDR3.aa'], 'count': ['Clones'], 'v': ['V.name']}
    """
    role_of = {name.lower(): role for role, names in CLONE_TABLE_SYNONYMS.items() for name in names}
    roles: dict[str, list[str]] = {}
    for column in columns:
        role = role_of.get(column.strip().lower())
        if role is not None:
            roles.setdefault(role, []).append(column)
    return {role: roles[role] for role in CLONE_TABLE_SYNONYMS if role in roles}


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
    synonyms
        Whether the format is also recognised by the roles of its columns
        (:func:`clone_table_roles`: a junction and a count column under any of their names);
        tried last, after every other format's columns, so that it never takes a file another
        reader would read or name the missing column of.
    """

    name: str
    description: str
    signature: tuple[str, ...]
    reader: Reader
    parse: Parser | None = None
    alternatives: tuple[tuple[str, ...], ...] = ()
    synonyms: bool = False

    def matches(self, columns: Collection[str]) -> bool:
        """Whether a header with ``columns`` has every column of :attr:`signature`."""
        return set(self.signature) <= set(columns)

    def matches_alternative(self, columns: Collection[str]) -> bool:
        """Whether a header with ``columns`` has every column of one of :attr:`alternatives`."""
        return any(set(alt) <= set(columns) for alt in self.alternatives)

    def recognises(self, columns: Collection[str]) -> bool:
        """Whether :attr:`synonyms` is set and ``columns`` have a column of every required
        role of a clone table (:data:`CLONE_TABLE_REQUIRED`)."""
        if not self.synonyms:
            return False
        roles = clone_table_roles(columns)
        return all(role in roles for role in CLONE_TABLE_REQUIRED)


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
            parse=_lazy("_paired", "parse_paired"),
        ),
        Format(
            "vdjtools",
            "VDJtools / MiTCR clonotype table (TSV, #count or count)",
            VDJTOOLS_SIGNATURE,
            _lazy("_vdjtools", "read_vdjtools"),
            parse=_lazy("_vdjtools", "parse_vdjtools"),
        ),
        Format(
            "10x-clonotypes",
            "Cell Ranger clonotypes.csv (one row per clonotype)",
            CLONOTYPES_SIGNATURE,
            _lazy("_clonotypes10x", "read_10x_clonotypes"),
            parse=_lazy("_clonotypes10x", "parse_10x_clonotypes"),
        ),
        Format(
            "clone-table",
            "comma- or tab-separated clone table, columns recognised by name (immunarch "
            "Clones/CDR3.nt/CDR3.aa/V.name..., tcR, QIAGEN CLC, tcrdist3; see docs/io.md)",
            CLONE_TABLE_SIGNATURE,
            _lazy("_clonetable", "read_clone_table"),
            parse=_lazy("_clonetable", "parse_clone_table"),
            synonyms=True,
        ),
    )
