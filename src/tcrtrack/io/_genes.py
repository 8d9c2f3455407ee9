"""Gene names from Adaptive immunoSEQ and MiXCR, converted to IMGT nomenclature.

Adaptive writes ``TCRBV05-04*01`` where IMGT (and Cell Ranger) write ``TRBV5-4*01``: the
locus is ``TCRB`` instead of ``TRB`` and family and gene numbers are zero-padded. Genes that
are alone in their IMGT subgroup carry no gene number in IMGT (``TRBV2``, ``TRBV9``,
``TRBV13``–``TRBV19``, ``TRBV27``, ``TRBV28``, ``TRBV30``, ``TRBD1``, ``TRBD2``...), while
Adaptive writes ``TCRBV02-01``. Names that cannot be mapped are kept as they are:
``unresolved``, orphons (``TCRBV20-or09_02``) and Adaptive's gene groups (``TCRBV20-X``).

These are conversions of a format's spelling. How converted calls are compared (gene level,
tied genes as a set) is decided in one place for every format: :mod:`tcrtrack._genes`.

The conversion runs once per distinct name (a repertoire has a few hundred), not per row.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import pyarrow as pa

from tcrtrack._arrow import encode, take_strings

__all__ = ["adaptive_to_imgt", "convert_genes", "mixcr_hits"]

#: IMGT human TR genes written without a gene number (the only gene of their subgroup).
SINGLE_GENE_SUBGROUPS: Final = frozenset(
    {
        "TRBV1",
        "TRBV2",
        "TRBV9",
        "TRBV13",
        "TRBV14",
        "TRBV15",
        "TRBV16",
        "TRBV17",
        "TRBV18",
        "TRBV19",
        "TRBV26",
        "TRBV27",
        "TRBV28",
        "TRBV30",
        "TRBD1",
        "TRBD2",
        "TRAV2",
        "TRAV3",
        "TRAV5",
        "TRAV7",
        "TRAV10",
        "TRAV11",
        "TRAV15",
        "TRAV16",
        "TRAV17",
        "TRAV18",
        "TRAV19",
        "TRAV20",
        "TRAV21",
        "TRAV22",
        "TRAV24",
        "TRAV25",
        "TRAV27",
        "TRAV28",
        "TRAV30",
        "TRAV31",
        "TRAV32",
        "TRAV33",
        "TRAV34",
        "TRAV35",
        "TRAV39",
        "TRAV40",
        "TRAV41",
        "TRGV1",
        "TRGV2",
        "TRGV3",
        "TRGV4",
        "TRGV5",
        "TRGV8",
        "TRGV9",
        "TRGV10",
        "TRGV11",
        "TRDV1",
        "TRDV2",
        "TRDV3",
        "TRDD1",
        "TRDD2",
        "TRDD3",
        "TRDJ1",
        "TRDJ2",
        "TRDJ3",
        "TRDJ4",
    }
)

_ADAPTIVE: Final = re.compile(
    r"^TCR(?P<locus>[ABGD])(?P<segment>[VDJC])(?P<family>\d+)"
    r"(?:-(?P<gene>\d+))?(?:\*(?P<allele>\d+))?$"
)


def adaptive_to_imgt(name: str) -> str:
    """One Adaptive gene name in IMGT nomenclature, or ``name`` unchanged if it has no IMGT form.

    Parameters
    ----------
    name
        An immunoSEQ gene, family or allele name; several names may be separated by ``,`` or
        ``/`` (``TCRBV12-03/12-04``), each converted.

    Examples
    --------
    >>> adaptive_to_imgt("TCRBV05-04*01")
    'TRBV5-4*01'
    >>> adaptive_to_imgt("TCRBV02-01")
    'TRBV2'
    >>> adaptive_to_imgt("TCRBD01-01*01")
    'TRBD1*01'
    >>> adaptive_to_imgt("TCRBV06")
    'TRBV6'
    >>> adaptive_to_imgt("TCRBV12-03/12-04*01")
    'TRBV12-3,TRBV12-4*01'
    >>> adaptive_to_imgt("TCRBV20-X"), adaptive_to_imgt("unresolved")
    ('TCRBV20-X', 'unresolved')
    """
    if "," in name:
        return ",".join(adaptive_to_imgt(part) for part in name.split(","))
    if "/" in name:
        head, *rest = name.split("/")
        prefix = head.split("-")[0].rstrip("0123456789")
        # "12-04*01" after "TCRBV" -> "TCRBV12-04*01"
        parts = [head] + [prefix + p for p in rest]
        converted = [adaptive_to_imgt(p) for p in parts]
        if any(c == p for c, p in zip(converted, parts, strict=True)):
            return name
        return ",".join(converted)
    m = _ADAPTIVE.match(name)
    if m is None:
        return name
    base = f"TR{m['locus']}{m['segment']}{int(m['family'])}"
    if m["gene"] is not None and not (base in SINGLE_GENE_SUBGROUPS and int(m["gene"]) == 1):
        base += f"-{int(m['gene'])}"
    if m["allele"] is not None:
        base += f"*{int(m['allele']):02d}"
    return base


def mixcr_hits(name: str) -> str:
    """The hits of a MiXCR gene list, without scores and without MiXCR's ``*00`` (no allele),
    in MiXCR's order.

    MiXCR lists every hit within its relative score threshold of the best one: the genes the
    clone may come from, in an order that varies between runs. All are kept; clonotype keys
    compare them as a set (:mod:`tcrtrack._genes`), so the order does not matter.

    Examples
    --------
    >>> mixcr_hits("TRBV12-4*00(1234.5),TRBV12-3*00(1220)")
    'TRBV12-4,TRBV12-3'
    >>> mixcr_hits("TRBJ2-7*01")
    'TRBJ2-7*01'
    """
    hits = (re.sub(r"\(.*\)$", "", hit).strip().removesuffix("*00") for hit in name.split(","))
    return ",".join(h for h in hits if h)


def convert_genes(genes: pa.ChunkedArray | pa.Array, kind: str) -> tuple[pa.Array, np.ndarray]:
    """Convert a column of gene names (``kind`` = ``adaptive`` or ``mixcr``).

    Returns the converted array and a boolean mask of the rows whose name changed. Each
    distinct name is converted once and the result broadcast to the rows.

    Examples
    --------
    >>> import pyarrow as pa
    >>> new, changed = convert_genes(pa.array(["TCRBV05-04", None, "unresolved"]), "adaptive")
    >>> new.to_pylist(), changed.tolist()
    (['TRBV5-4', None, 'unresolved'], [True, False, False])
    """
    convert = adaptive_to_imgt if kind == "adaptive" else mixcr_hits
    codes, dictionary = encode(genes)
    names = dictionary.to_pylist()
    mapped = [convert(str(n)) for n in names]
    changed_names = np.array([a != b for a, b in zip(names, mapped, strict=True)] + [False])
    return take_strings(mapped, codes), changed_names[codes]
