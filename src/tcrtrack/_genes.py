"""How gene calls are compared: the one rule every clonotype key follows.

Readers hand over gene calls as their format writes them, in IMGT nomenclature
(:mod:`tcrtrack.io._genes` converts Adaptive's ``TCRBV05-04*01`` to ``TRBV5-4*01`` and strips
MiXCR's scores and ``*00``). Before two calls are compared, each is brought to one canonical
form:

1. **Gene level by default.** The allele suffix is removed (``TRBV14*01`` → ``TRBV14``): an
   export that reports alleles and one that does not then agree, and a sequencing error in
   the V region cannot split a clone. Alleles are kept on request (``alleles=True``,
   ``--alleles``).
2. **Tied calls are a set.** A call listing several equally good genes (MiXCR's
   ``TRBV12-3,TRBV12-4``, AIRR and 10x comma lists, Adaptive's gene ties) is written once,
   its genes sorted (numbers in numeric order) and repeats merged: ``TRBV12-4,TRBV12-3`` and
   ``TRBV12-3,TRBV12-4`` are the same call. Two calls match when their sets are equal; a
   tied call does not match one of its genes alone (``TRBV12-3,TRBV12-4`` ≠ ``TRBV12-3``).
   Matching by overlap of the sets is not used: it is not transitive (``{a,b}`` overlaps
   ``{a}`` and ``{b}``, which do not overlap each other), so it cannot define clonotypes.

Genes are separated by ``,`` only: ``/`` belongs to IMGT gene names (``TRAV29/DV5``).

Each rule runs once per distinct name (a repertoire has a few hundred), never per row, and
the rows it changes are counted in the QC ledger (``changed`` entries ``allele_removed`` and
``gene_ties_sorted``, stage ``clonotypes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import pyarrow as pa

from tcrtrack import _qc
from tcrtrack._arrow import encode, take_strings

__all__ = [
    "canonical_call",
    "compare_form",
    "compared_codes",
    "key_gene_codes",
    "key_table",
]

ALLELE_REMOVED: Final = _qc.ALLELE_REMOVED
GENE_TIES_SORTED: Final = _qc.GENE_TIES_SORTED

_NUMBER: Final = re.compile(r"(\d+)")


def _natural(gene: str) -> tuple[object, ...]:
    """Sort key putting ``TRBV6-2`` before ``TRBV12-3`` (numbers compared as numbers)."""
    return tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part) for part in _NUMBER.split(gene)
    )


def _without_allele(gene: str) -> str:
    return gene.split("*", 1)[0]


def canonical_call(name: str, *, alleles: bool = False) -> tuple[str, bool, bool]:
    """The canonical form of one gene call, and whether an allele was removed and whether
    tied genes were reordered or merged.

    Parameters
    ----------
    name
        A gene call: one gene (``TRBV14*01``) or tied genes separated by ``,``.
    alleles
        Keep allele suffixes (``*01``); by default they are removed.

    Examples
    --------
    >>> canonical_call("TRBV14*01")
    ('TRBV14', True, False)
    >>> canonical_call("TRBV14*01", alleles=True)
    ('TRBV14*01', False, False)
    >>> canonical_call("TRBV12-4,TRBV12-3")
    ('TRBV12-3,TRBV12-4', False, True)
    >>> canonical_call("TRBV6-5*01, TRBV6-6*02,TRBV6-5*02")
    ('TRBV6-5,TRBV6-6', True, True)
    >>> canonical_call("TRBV12-3,TRBV6-2")
    ('TRBV6-2,TRBV12-3', False, True)
    >>> canonical_call("TRAV29/DV5*01")
    ('TRAV29/DV5', True, False)
    """
    genes = [g.strip() for g in name.split(",")]
    genes = [g for g in genes if g] or [name.strip()]
    removed = False
    if not alleles:
        stripped = [_without_allele(g) for g in genes]
        removed = stripped != genes
        genes = stripped
    joined = ",".join(genes)
    canonical = ",".join(sorted(set(genes), key=_natural))
    return canonical, removed, canonical != joined


def compare_form(
    columns: Sequence[pa.Array | pa.ChunkedArray], *, alleles: bool = False
) -> tuple[list[pa.Array], dict[str, int]]:
    """The gene columns of a clonotype key in their canonical form (:func:`canonical_call`),
    and the rows changed per ledger reason (a row counts once per reason, whichever of its
    columns changed).

    NA stays NA. Each distinct name is converted once and the result broadcast to the rows.

    Examples
    --------
    >>> import pyarrow as pa
    >>> v = pa.array(["TRBV14*01", "TRBV12-4,TRBV12-3", None, "TRBV14"])
    >>> j = pa.array(["TRBJ1-1*01", "TRBJ2-7", "TRBJ2-7", "TRBJ1-1"])
    >>> (v2, j2), changed = compare_form([v, j])
    >>> v2.to_pylist()
    ['TRBV14', 'TRBV12-3,TRBV12-4', None, 'TRBV14']
    >>> changed
    {'allele_removed': 1, 'gene_ties_sorted': 1}
    """
    coded, changed = compared_codes(columns, alleles=alleles)
    return [take_strings(names, codes) for codes, names in coded], changed


def compared_codes(
    columns: Sequence[pa.Array | pa.ChunkedArray], *, alleles: bool = False
) -> tuple[list[tuple[np.ndarray, list[str]]], dict[str, int]]:
    """:func:`compare_form` as codes: each column's distinct compared forms, and each row's
    index into them (-1 for NA); the rows changed per ledger reason.

    Examples
    --------
    >>> import pyarrow as pa
    >>> [(codes, names)], _ = compared_codes([pa.array(["TRBV14*01", None, "TRBV14"])])
    >>> codes.tolist(), names
    ([0, -1, 0], ['TRBV14'])
    """
    out: list[tuple[np.ndarray, list[str]]] = []
    n = len(columns[0]) if columns else 0
    removed_rows = np.zeros(n, dtype=bool)
    sorted_rows = np.zeros(n, dtype=bool)
    for column in columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())
        codes, dictionary = encode(column)
        forms = [canonical_call(str(name), alleles=alleles) for name in dictionary.to_pylist()]
        distinct: dict[str, int] = {}
        form_of = [distinct.setdefault(f[0], len(distinct)) for f in forms]
        out.append((np.array([*form_of, -1], dtype=np.int64)[codes], list(distinct)))
        removed_rows |= np.array([f[1] for f in forms] + [False], dtype=bool)[codes]
        sorted_rows |= np.array([f[2] for f in forms] + [False], dtype=bool)[codes]
    return out, {
        ALLELE_REMOVED: int(removed_rows.sum()),
        GENE_TIES_SORTED: int(sorted_rows.sum()),
    }


def key_gene_codes(
    columns: Sequence[pa.Array | pa.ChunkedArray],
    *,
    alleles: bool,
    sample: str,
    counted: _qc.Counted,
) -> tuple[list[tuple[np.ndarray, list[str]]], list[_qc.QCEntry]]:
    """:func:`compared_codes` of a sample's gene key columns (each row's code into the
    distinct compared forms; no strings built for the rows), with its ledger entries (stage
    ``clonotypes``, action ``changed``; none when no gene is compared)."""
    if not columns:
        return [], []
    out, changed = compared_codes(columns, alleles=alleles)
    return out, _entries(changed, sample, counted)


def _entries(changed: dict[str, int], sample: str, counted: _qc.Counted) -> list[_qc.QCEntry]:
    return [
        _qc.QCEntry(sample, "clonotypes", "changed", reason, n, counted)
        for reason, n in changed.items()
    ]


def key_table(keys: pa.Table, gene_columns: Sequence[str], *, alleles: bool) -> pa.Table:
    """A table of clonotype keys with its ``gene_columns`` in their compared form (the same
    names :func:`key_gene_codes` gives the rows the keys come from)."""
    if not gene_columns:
        return keys
    compared, _ = compare_form([keys.column(c) for c in gene_columns], alleles=alleles)
    for name, column in zip(gene_columns, compared, strict=True):
        at = keys.schema.get_field_index(name)
        keys = keys.set_column(at, name, column.cast(keys.schema.field(name).type))
    return keys
