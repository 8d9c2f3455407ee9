"""The two numbers a store derives from each amino-acid junction: its hash partition and its
exact 128-bit key.

- **Partition**: FNV-1a (64-bit) of the junction's UTF-8 bytes, through SplitMix64's
  finaliser, modulo the number of partitions. Computed on whole columns with numpy (one pass
  per letter position), so the same function routes a build's rows and a query's clonotypes.
- **Key** (``key_hi``, ``key_lo``): the junction itself, packed 5 bits per letter, letters 1
  to 12 in ``key_hi`` and 13 to 24 in ``key_lo`` (from the high bits down; bits 0–3 of each
  word are 0), the letters coded in their byte order (``*`` < ``A`` … ``Z`` < ``_``) and 0
  after the end. So two junctions of up to 24 letters are equal exactly when their keys are
  equal — no hash, no collision — and ordering rows by ``(key_hi, key_lo)`` orders them by
  junction. A junction of more than 24 letters, with another character, or missing cannot be
  packed: its ``key_lo`` is 15 (a value no packed junction has) and its ``key_hi`` a hash;
  such rows are found by comparing the junctions themselves (:mod:`tcrtrack.cohort._query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The letters a key packs, in byte order; code = position + 1 (0 marks the end).
KEY_LETTERS: Final = "*ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
#: Letters per 64-bit word, and in a key.
_PER_WORD: Final = 12
KEY_MAX_LETTERS: Final = 2 * _PER_WORD
#: ``key_lo`` of a junction that cannot be packed.
UNPACKED: Final = np.uint64(15)
_CODES: Final = np.zeros(256, dtype=np.uint64)
for _i, _c in enumerate(KEY_LETTERS):
    _CODES[ord(_c)] = _i + 1
_SHIFTS: Final = np.array([59 - 5 * j for j in range(_PER_WORD)], dtype=np.uint64)
_FNV_OFFSET: Final = np.uint64(0xCBF29CE484222325)
_FNV_PRIME: Final = np.uint64(0x100000001B3)


def letters(
    junctions: pa.Array | pa.ChunkedArray | Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The junctions as an ``n × L`` byte matrix (0 after each junction's end, ``L`` the
    longest), their lengths and whether each is present."""
    arr = junctions
    if not isinstance(arr, pa.Array | pa.ChunkedArray):
        arr = pa.array(list(arr), pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    arr = arr.cast(pa.large_binary())
    n = len(arr)
    valid = np.ones(n, dtype=bool) if arr.null_count == 0 else np.asarray(pc.is_valid(arr), bool)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    lengths[~valid] = 0
    width = int(lengths.max()) if n else 0
    matrix = np.zeros((n, width), dtype=np.uint8)
    if width:
        inside = np.arange(width)[None, :] < lengths[:, None]
        where = offsets[:-1, None] + np.arange(width)[None, :]
        matrix[inside] = data[where[inside]]
    return matrix, lengths, valid


def fnv1a(matrix: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """FNV-1a (64-bit) of each row's first ``lengths`` bytes, through SplitMix64's finaliser."""
    h = np.full(len(lengths), _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(matrix.shape[1]):
            more = lengths > j
            h = np.where(more, (h ^ matrix[:, j].astype(np.uint64)) * _FNV_PRIME, h)
        h = h ^ (h >> np.uint64(30))
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h = h ^ (h >> np.uint64(27))
        h = h * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def partition_of(junction_aa: pa.Array | pa.ChunkedArray | Sequence[str], n: int) -> np.ndarray:
    """The hash partition (0..n-1) of each amino-acid junction (a missing one: as empty).

    >>> partition_of(["CASSLGQAYEQYF", "CASSLGQAYEQYF", "CASSPF"], 16).tolist()
    [4, 4, 3]
    """
    matrix, lengths, _ = letters(junction_aa)
    return (fnv1a(matrix, lengths) % np.uint64(n)).astype(np.int64)


def junction_keys(
    junction_aa: pa.Array | pa.ChunkedArray | Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(key_hi, key_lo, packed)`` of each amino-acid junction (see the module notes).

    >>> hi, lo, packed = junction_keys(["CASSF", "CASSF", "CASSG", "C" * 25])
    >>> bool(hi[0] == hi[1] and lo[0] == lo[1]), bool(hi[1] < hi[2]), packed.tolist()
    (True, True, [True, True, True, False])
    """
    return _packed(*letters(junction_aa))


def partitions_and_keys(
    junction_aa: pa.Array | pa.ChunkedArray | Sequence[str], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`partition_of` and :func:`junction_keys` (its first two results) from one pass
    over the letters."""
    matrix, lengths, valid = letters(junction_aa)
    hi, lo, _ = _packed(matrix, lengths, valid)
    return (fnv1a(matrix, lengths) % np.uint64(n)).astype(np.int64), hi, lo


def _packed(
    matrix: np.ndarray, lengths: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(lengths)
    codes = _CODES[matrix]
    inside = np.arange(matrix.shape[1])[None, :] < lengths[:, None]
    packed = valid & (lengths <= KEY_MAX_LETTERS) & ~(inside & (codes == 0)).any(axis=1)
    words = []
    for w in range(2):
        block = codes[:, w * _PER_WORD : (w + 1) * _PER_WORD]
        shifts = _SHIFTS[: block.shape[1]]
        words.append(np.bitwise_or.reduce(block << shifts, axis=1) if block.shape[1] else None)
    hi = words[0] if words[0] is not None else np.zeros(n, np.uint64)
    lo = words[1] if words[1] is not None else np.zeros(n, np.uint64)
    if not packed.all():
        hashed = fnv1a(matrix, lengths)
        hi = np.where(packed, hi, hashed)
        lo = np.where(packed, lo, UNPACKED)
    return hi.astype(np.uint64), lo.astype(np.uint64), packed
