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


def naive_10x_counts(path: object, *, genes: bool = False) -> dict[tuple[str, ...], int]:
    """Cells per TRB clonotype of a clean Cell Ranger contig table, with plain pandas.

    A contig counts when is_cell, high_confidence and productive are true, the chain is TRB and
    cdr3_nt is given; a cell's primary chain has the most UMIs, then reads, then the larger
    sequence. The key is ``(cdr3_nt,)``, or ``(cdr3_nt, v_gene, j_gene)`` with ``genes``.
    """
    import pandas as pd

    raw = pd.read_csv(path, dtype=str, keep_default_na=False)  # type: ignore[call-overload]
    ok = (
        raw["is_cell"].str.lower().eq("true")
        & raw["high_confidence"].str.lower().eq("true")
        & raw["productive"].str.lower().eq("true")
        & raw["chain"].eq("TRB")
        & ~raw["cdr3_nt"].isin(["", "None"])
    )
    rows = raw[ok]
    counts: dict[tuple[str, ...], int] = {}
    for _, group in rows.groupby("barcode"):
        best = max(
            group.itertuples(index=False),
            key=lambda r: (int(float(r.umis)), int(float(r.reads)), r.cdr3_nt),
        )
        key = (best.cdr3_nt, best.v_gene, best.j_gene) if genes else (best.cdr3_nt,)
        counts[key] = counts.get(key, 0) + 1
    return counts


def naive_10x(path: object) -> dict[str, int]:
    """Cells per TRB ``cdr3_nt`` of a clean Cell Ranger contig table (:func:`naive_10x_counts`)."""
    return {key[0]: n for key, n in naive_10x_counts(path).items()}


def naive_immunoseq(path: object) -> dict[str, int]:
    """Productive junctions of an immunoSEQ v2 export, cut by hand from ``nucleotide`` at
    ``vIndex`` (3 × the ``aminoAcid`` length), with their summed counts."""
    import pandas as pd

    raw = pd.read_csv(path, sep="\t")  # type: ignore[call-overload]
    prod = raw[raw["sequenceStatus"] == "In"]
    out: dict[str, int] = {}
    for nt, v, aa, n in zip(
        prod["nucleotide"],
        prod["vIndex"],
        prod["aminoAcid"],
        prod["count (templates/reads)"],
        strict=True,
    ):
        junction = nt[v : v + 3 * len(aa)]
        out[junction] = out.get(junction, 0) + int(n)
    return out


def _naive_rows(path: object, delimiter: str) -> list[dict[str, str]]:
    """The rows of a plain or gzipped delimited file, as text, with the csv module."""
    import csv
    import gzip
    from pathlib import Path

    raw = Path(str(path)).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(raw.decode().splitlines(), delimiter=delimiter))


def naive_mixcr(path: object) -> dict[str, int]:
    """Summed counts per productive ``nSeqCDR3`` of a MiXCR clone export (short column names):
    ``uniqueMoleculeCount`` when the file has it, else ``readCount`` or ``cloneCount``; an
    amino-acid junction without ``*`` or ``_`` and a junction three times as long."""
    out: dict[str, int] = {}
    for row in _naive_rows(path, "\t"):
        column = next(c for c in ("uniqueMoleculeCount", "readCount", "cloneCount") if c in row)
        nt, aa = row["nSeqCDR3"].upper(), row["aaSeqCDR3"].upper()
        if re.search(r"[*_]", aa) or len(nt) != 3 * len(aa):
            continue
        out[nt] = out.get(nt, 0) + int(float(row[column]))
    return out


def naive_vdjtools(path: object) -> dict[str, int]:
    """Summed counts per productive ``cdr3nt`` of a VDJtools/MiTCR table: ``cdr3aa`` without
    ``*``, ``_``, ``?``, ``~`` and ``cdr3nt`` three times as long; counts of 0 count nothing."""
    out: dict[str, int] = {}
    for row in _naive_rows(path, "\t"):
        count = int(row.get("#count", row.get("count", "0")))
        nt, aa = row["cdr3nt"].upper(), row["cdr3aa"].upper()
        if re.search(r"[*_?~]", aa) or len(nt) != 3 * len(aa) or count == 0:
            continue
        out[nt] = out.get(nt, 0) + count
    return out


def naive_clonotypes_csv(path: object, multichain: str = "primary") -> dict[str, dict[str, int]]:
    """TRB clonotypes of a Cell Ranger ``clonotypes.csv``, counted by hand, and the ledger.

    Each clonotype is ``frequency`` cells carrying its chains. ``primary``: a cell with several
    TRB junctions keeps the (lexicographically) largest, the others are ``extra_chain``
    contigs; ``all``: each distinct TRB junction counts the cells once; ``drop``: cells with two
    distinct TRB junctions are excluded (``cell_with_extra_chains``, in cells). Cells without
    TRB are ``cell_without_locus_chain``. Returns ``{"counts": {junction: cells}, "ledger":
    {reason: n}}``, plus ``contigs`` and ``cells`` in the ledger.
    """
    counts: dict[str, int] = {}
    ledger = {
        "contigs": 0,
        "cells": 0,
        "other_locus": 0,
        "extra_chain": 0,
        "cell_with_extra_chains": 0,
        "cell_without_locus_chain": 0,
    }
    for row in _naive_rows(path, ","):
        cells = int(row["frequency"])
        chains = [c.split(":", 1) for c in row["cdr3s_nt"].split(";")]
        trb = [seq.upper() for locus, seq in chains if locus == "TRB"]
        ledger["contigs"] += cells * len(chains)
        ledger["cells"] += cells
        ledger["other_locus"] += cells * (len(chains) - len(trb))
        distinct = sorted(set(trb))
        if not trb:
            ledger["cell_without_locus_chain"] += cells
            continue
        if multichain == "primary":
            chosen = [max(trb)]
        elif multichain == "all":
            chosen = distinct
        elif len(distinct) > 1:
            ledger["cell_with_extra_chains"] += cells
            continue
        else:
            chosen = distinct
        ledger["extra_chain"] += cells * (len(trb) - len(chosen))
        for seq in chosen:
            counts[seq] = counts.get(seq, 0) + cells
    return {"counts": counts, "ledger": ledger}


def naive_hamming_pairs(left: list[str], right: list[str]) -> set[tuple[int, int]]:
    """Every (i, j) with ``left[i]`` and ``right[j]`` of equal length and at most one
    differing position: all pairs compared, letter by letter."""
    return {
        (i, j)
        for i, a in enumerate(left)
        for j, b in enumerate(right)
        if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    }


def naive_hamming_pairs_np(left: list[str], right: list[str]) -> set[tuple[int, int]]:
    """As :func:`naive_hamming_pairs`, every pair compared, with numpy (chunked), for
    thousands of junctions."""
    import numpy as np

    def by_length(values: list[str]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        out: dict[int, list[int]] = {}
        for i, v in enumerate(values):
            out.setdefault(len(v), []).append(i)
        return {
            n: (
                np.array(idx),
                np.frombuffer("".join(values[i] for i in idx).encode(), np.uint8).reshape(-1, n),
            )
            for n, idx in out.items()
            if n > 0
        }

    a_parts, b_parts = by_length(left), by_length(right)
    pairs: set[tuple[int, int]] = set()
    for n, (ai, a) in a_parts.items():
        if n not in b_parts or n == 0:
            continue
        bi, b = b_parts[n]
        for k in range(0, len(a), 256):
            close = (a[k : k + 256, None, :] != b[None, :, :]).sum(axis=2) <= 1
            x, y = np.nonzero(close)
            pairs.update(zip(ai[k + x].tolist(), bi[y].tolist(), strict=True))
    return pairs


def naive_near_overlap(sets: list[list[str]]) -> list[list[int]]:
    """Samples × samples: pairs (clonotype of i, clonotype of j) at Hamming distance ≤ 1 of
    equal length, by comparing every pair (numpy, chunked); the diagonal: each list's size.
    Each list holds distinct clonotypes (a gene label, if any, before the junction and a
    ``#``, e.g. ``TRBV2#CASS``, compared as exact)."""
    import numpy as np

    def split(values: list[str]) -> dict[tuple[str, int], np.ndarray]:
        groups: dict[tuple[str, int], list[bytes]] = {}
        for v in values:
            gene, _, seq = v.rpartition("#")
            groups.setdefault((gene, len(seq)), []).append(seq.encode())
        return {
            k: np.frombuffer(b"".join(x), dtype=np.uint8).reshape(len(x), k[1])
            for k, x in groups.items()
        }

    parts = [split(x) for x in sets]
    n = len(sets)
    out = [[0] * n for _ in range(n)]
    for i in range(n):
        out[i][i] = len(sets[i])
        for j in range(i + 1, n):
            count = 0
            for key, a in parts[i].items():
                b = parts[j].get(key)
                if b is None:
                    continue
                for k in range(0, len(a), 256):
                    diff = (a[k : k + 256, None, :] != b[None, :, :]).sum(axis=2)
                    count += int((diff <= 1).sum())
            out[i][j] = out[j][i] = count
    return out


def naive_gene_set(call: str | None, *, alleles: bool = False) -> frozenset[str] | None:
    """A gene call as the set of its genes: split at ``,``, each stripped, the allele (from
    ``*``) cut off unless ``alleles``; None for a missing call."""
    if call is None or call == "":
        return None
    genes = [g.strip() for g in call.split(",") if g.strip()]
    return frozenset(g if alleles else g.split("*")[0] for g in genes)


def naive_adaptive_call(row: dict[str, str], segment: str) -> str:
    """An immunoSEQ v2 row's call of ``segment`` (``v``, ``d``, ``j``): ``<seg>MaxResolved``,
    or the gene ties when that names no gene (``unresolved``, empty, a family) and ties exist."""
    call, ties = row[f"{segment}MaxResolved"], row.get(f"{segment}GeneNameTies", "")
    no_gene = call in ("", "unresolved") or re.fullmatch(r"TCRB[VDJ]\d+", call) is not None
    return ties if ties and no_gene else call


def naive_immunoseq_keys(
    path: object, *, genes: str = "none", alleles: bool = False
) -> dict[tuple[object, ...], int]:
    """Summed counts per clonotype of an immunoSEQ v2 export: productive rows (``In``), the
    junction cut by hand as :func:`naive_immunoseq` does, with the V (and J) call as a set of
    Adaptive gene names (:func:`naive_gene_set`, :func:`naive_adaptive_call`)."""
    out: dict[tuple[object, ...], int] = {}
    for row in _naive_rows(path, "\t"):
        if row["sequenceStatus"] != "In":
            continue
        start, aa = int(row["vIndex"]), row["aminoAcid"]
        key: tuple[object, ...] = (row["nucleotide"][start : start + 3 * len(aa)],)
        for segment in {"none": "", "v": "v", "vj": "vj"}[genes]:
            key += (naive_gene_set(naive_adaptive_call(row, segment), alleles=alleles),)
        n = int(row["count (templates/reads)"])
        if n > 0:
            out[key] = out.get(key, 0) + n
    return out


def naive_mixcr_keys(
    path: object, *, genes: str = "none", alleles: bool = False
) -> dict[tuple[object, ...], int]:
    """Summed ``cloneCount`` per clonotype of a MiXCR export with ``allVHits``/``allJHits``:
    productive rows (no ``*``/``_`` in ``aaSeqCDR3``, ``nSeqCDR3`` 3 × as long), the V (and J)
    call as the set of the listed hits without ``*00``."""
    out: dict[tuple[object, ...], int] = {}
    for row in _naive_rows(path, "\t"):
        nt, aa = row["nSeqCDR3"], row["aaSeqCDR3"]
        if re.search(r"[*_]", aa) or len(nt) != 3 * len(aa):
            continue
        key: tuple[object, ...] = (nt,)
        for segment in {"none": "", "v": "V", "vj": "VJ"}[genes]:
            hits = ",".join(h.removesuffix("*00") for h in row[f"all{segment}Hits"].split(","))
            key += (naive_gene_set(hits, alleles=alleles),)
        out[key] = out.get(key, 0) + int(row["cloneCount"])
    return out


def naive_clone_table(
    path: object, *, sep: str, junction: str, aa: str, count: str
) -> dict[str, int]:
    """Summed counts per productive junction of a generic clone table, counted with pandas:
    the amino-acid CDR3 without ``*``, ``_``, ``?``, ``~`` and the junction three times as
    long; counts of 0 count nothing."""
    import pandas as pd

    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    nt = frame[junction].str.upper()
    amino = frame[aa].str.upper()
    counts = frame[count].astype(float).astype(int)
    keep = ~amino.str.contains(r"[*_?~]") & (nt.str.len() == 3 * amino.str.len()) & (counts > 0)
    keep &= amino.str.len() > 0
    summed = counts[keep].groupby(nt[keep]).sum()
    return {str(k): int(v) for k, v in summed.items()}
