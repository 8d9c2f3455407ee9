"""Plain-Python versions of tcrtrack's vectorised sequence rules, for tests to compare with."""

from __future__ import annotations

import re

_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
_INDEX = {b: i for i, b in enumerate("TCAG")}


def naive_translate(nt: str) -> str:
    """Codon by codon with the standard code; ``X`` for a codon with a non-ACGT base."""
    out = []
    for k in range(len(nt) // 3):
        codon = nt[3 * k : 3 * k + 3].upper()
        if all(b in _INDEX for b in codon):
            out.append(_CODE[16 * _INDEX[codon[0]] + 4 * _INDEX[codon[1]] + _INDEX[codon[2]]])
        else:
            out.append("X")
    return "".join(out)


def naive_translates_to(nt: str | None, aa: str | None) -> bool:
    """Both present, ``len(nt) == 3 * len(aa) > 0`` and the translation equals ``aa``."""
    if nt is None or aa is None or not aa or len(nt) != 3 * len(aa):
        return False
    return naive_translate(nt) == aa.upper()


def naive_well_formed(nt: str | None, aa: str | None, sequence: str) -> bool:
    """The ``malformed_junction`` rule of docs/qc.md, negated (a missing junction passes)."""
    if sequence == "aa":
        return aa is None or re.fullmatch(r"[ACDEFGHIKLMNPQRSTVWY]+", aa) is not None
    if nt is None:
        return True
    codons = re.fullmatch(r"(?:[ACGT]{3})+", nt) is not None
    return codons and (aa is None or naive_translates_to(nt, aa))
