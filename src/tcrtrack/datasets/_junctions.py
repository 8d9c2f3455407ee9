"""Junction sequences of the simulator: germline V/J ends, N additions, unique clones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack._translate import translate
from tcrtrack.datasets._germline import J_GENES, V_GENES

BASES: Final = np.frombuffer(b"ACGT", dtype=np.uint8)
# N additions by TdT are G/C-rich
_N_LOOKUP: Final = np.frombuffer(b"AACCCGGGTT", dtype=np.uint8)


@dataclass(frozen=True)
class Germline:
    v_names: tuple[str, ...]
    j_names: tuple[str, ...]
    v_len: np.ndarray
    v_p: np.ndarray
    j_len: np.ndarray
    j_p: np.ndarray
    v_parts: pa.Array  # every V end kept to every length: index v * width + length
    j_parts: pa.Array  # every J start trimmed by every amount: index j * width + trim
    width: int
    n_mean: float  # mean number of non-templated (N, and for TRB D-derived) nucleotides


def germline(locus: str) -> Germline:
    v, j = V_GENES[locus], J_GENES[locus]
    width = max(len(x[1]) for x in (*v, *j)) + 1
    v_parts = [x[1][:n] for x in v for n in range(width)]
    j_parts = [x[1][n:] for x in j for n in range(width)]
    v_w = np.array([x[2] for x in v])
    j_w = np.array([x[2] for x in j])
    return Germline(
        v_names=tuple(x[0] for x in v),
        j_names=tuple(x[0] for x in j),
        v_len=np.array([len(x[1]) for x in v], dtype=np.int64),
        v_p=v_w / v_w.sum(),
        j_len=np.array([len(x[1]) for x in j], dtype=np.int64),
        j_p=j_w / j_w.sum(),
        v_parts=pa.array(v_parts, pa.string()),
        j_parts=pa.array(j_parts, pa.string()),
        width=width,
        n_mean=9.0 if locus == "TRB" else 6.0,
    )


def random_nucleotides(rng: np.random.Generator, lengths: np.ndarray) -> pa.Array:
    """Random G/C-rich strings (A, C, G, T with probabilities 0.2, 0.3, 0.3, 0.2)."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = _N_LOOKUP[rng.integers(0, 10, size=int(offsets[-1]), dtype=np.uint8)]
    arr = pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))
    return arr.cast(pa.string())


def draw_junctions(
    rng: np.random.Generator, n: int, g: Germline, *, in_frame: bool
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """``n`` junctions: trimmed V end + random N nucleotides + trimmed J start.

    In-frame junctions have a length divisible by 3, so they start with the V gene's Cys codon
    and end with the J gene's Phe/Trp codon; out-of-frame ones are one or two nucleotides off.
    """
    v = rng.choice(len(g.v_names), size=n, p=g.v_p)
    j = rng.choice(len(g.j_names), size=n, p=g.j_p)
    # exonuclease trimming: keep the first codon of V and the last codon of J
    lv = g.v_len[v] - np.minimum(rng.geometric(0.45, n) - 1, g.v_len[v] - 4)
    j_trim = np.minimum(rng.geometric(0.35, n) - 1, g.j_len[j] - 4)
    lj = g.j_len[j] - j_trim
    ln = rng.poisson(g.n_mean, n)
    ln += (-(lv + ln + lj)) % 3
    short = np.maximum(0, 33 - (lv + ln + lj))  # at least 11 codons
    ln += short + (-short) % 3
    if not in_frame:
        ln += rng.integers(1, 3, n)
    v_part = g.v_parts.take(pa.array(v * g.width + lv))
    j_part = g.j_parts.take(pa.array(j * g.width + j_trim))
    nt = pc.binary_join_element_wise(v_part, random_nucleotides(rng, ln), j_part, "")
    return nt, v, j


@dataclass(frozen=True)
class Chains:
    """Junctions with their translation (null when out of frame) and V/J gene indices."""

    nt: pa.Array
    aa: pa.Array
    v: np.ndarray
    j: np.ndarray

    def take(self, idx: np.ndarray) -> Chains:
        i = pa.array(idx, pa.int64())
        return Chains(self.nt.take(i), self.aa.take(i), self.v[idx], self.j[idx])


def unique_junctions(
    rng: np.random.Generator,
    n: int,
    g: Germline,
    *,
    in_frame: bool = True,
    exclude: pa.Array | None = None,
) -> Chains:
    """``n`` distinct junctions (none in ``exclude``); in-frame ones have no stop codon.

    Rejected draws (duplicates, stop codons) are redrawn in rounds, each round vectorised.
    """
    parts: list[Chains] = []
    have = 0
    seen = exclude if exclude is not None else pa.array([], pa.string())
    accept = 0.8  # fraction of draws kept, updated each round
    while have < n:
        want = n - have
        draw = int(want / accept * 1.05) + 16
        nt, v, j = draw_junctions(rng, draw, g, in_frame=in_frame)
        ok = np.ones(len(nt), dtype=bool)
        if in_frame:
            aa = translate(nt)
            ok &= ~np.asarray(pc.match_substring(aa, "*"), dtype=bool)
        else:
            aa = pa.nulls(len(nt), pa.string())
        ok &= ~np.asarray(pc.is_in(nt, value_set=seen), dtype=bool)
        codes = np.asarray(pc.dictionary_encode(nt).indices, dtype=np.int64)
        first = np.zeros(len(nt), dtype=bool)
        first[np.unique(codes, return_index=True)[1]] = True
        ok &= first
        accept = max(0.05, float(ok.mean()))
        kept = Chains(nt, aa, v, j).take(np.flatnonzero(ok)[:want])
        parts.append(kept)
        have += len(kept.v)
        seen = pa.concat_arrays([seen.cast(pa.string()), kept.nt])
    if not parts:
        empty = pa.array([], pa.string())
        return Chains(empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Chains(
        pa.concat_arrays([x.nt for x in parts]),
        pa.concat_arrays([x.aa for x in parts]),
        np.concatenate([x.v for x in parts]),
        np.concatenate([x.j for x in parts]),
    )
