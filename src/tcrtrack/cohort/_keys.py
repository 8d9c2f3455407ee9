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
_CODES: Final = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate(KEY_LETTERS):
    _CODES[ord(_c)] = _i + 1
_SHIFTS: Final = np.array([59 - 5 * j for j in range(_PER_WORD)], dtype=np.uint64)
_FNV_OFFSET: Final = np.uint64(0xCBF29CE484222325)
_FNV_PRIME: Final = np.uint64(0x100000001B3)


def letters(
    junctions: pa.Array | pa.ChunkedArray | Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The junctions as an ``n × L`` byte matrix (0 after each junction's end, ``L`` the
    longest), their lengths and whether each is present.

    The matrix is column-major (letter ``j`` of every junction is one contiguous column, what
    :func:`fnv1a` and the key's packing read), gathered one letter position at a time from the
    Arrow buffer: ``L`` gathers of ``n`` bytes, no ``n × L`` index arrays.
    """
    arr = junctions
    if not isinstance(arr, pa.Array | pa.ChunkedArray):
        arr = pa.array(list(arr), pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    if not wide and not (pa.types.is_string(arr.type) or pa.types.is_binary(arr.type)):
        arr = arr.cast(pa.large_binary())
        wide = True
    n = len(arr)
    valid = np.ones(n, dtype=bool) if arr.null_count == 0 else np.asarray(pc.is_valid(arr), bool)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + n + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    lengths[~valid] = 0
    width = int(lengths.max()) if n else 0
    columns = np.zeros((width, n), dtype=np.uint8)
    if width:
        # past its end a junction reads the next one's bytes (or the padding): zeroed below
        padded = np.concatenate([data[: int(offsets[-1])], np.zeros(width, np.uint8)])
        starts = np.asarray(offsets[:-1], dtype=np.int64)
        for j in range(width):
            np.take(padded, starts + j, out=columns[j])
        columns[np.arange(width)[:, None] >= lengths[None, :]] = 0
    return columns.T, lengths, valid


def fnv1a(matrix: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """FNV-1a (64-bit) of each row's first ``lengths`` bytes, through SplitMix64's finaliser."""
    h = np.full(len(lengths), _FNV_OFFSET, dtype=np.uint64)
    shortest = int(lengths.min()) if len(lengths) else 0
    letter = np.empty(len(lengths), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(matrix.shape[1]):
            np.copyto(letter, matrix[:, j], casting="unsafe")
            if j < shortest:  # every junction has a letter j: no mask
                h ^= letter
                h *= _FNV_PRIME
            else:
                np.copyto(h, (h ^ letter) * _FNV_PRIME, where=lengths > j)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
        return h


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
    width = min(matrix.shape[1], KEY_MAX_LETTERS)
    codes = _CODES[matrix[:, :width].T]  # letter j of every junction: row j
    beyond = np.arange(width)[:, None] >= lengths[None, :]
    unknown = ((codes == 0) & ~beyond).any(axis=0)  # a letter that has no code
    words = [np.zeros(n, np.uint64), np.zeros(n, np.uint64)]
    code = np.empty(n, dtype=np.uint64)
    for j in range(width):
        np.copyto(code, codes[j], casting="unsafe")
        code <<= _SHIFTS[j % _PER_WORD]
        words[j // _PER_WORD] |= code
    hi, lo = words
    packed = valid & (lengths <= KEY_MAX_LETTERS) & ~unknown
    if not packed.all():
        hashed = fnv1a(matrix, lengths)
        hi = np.where(packed, hi, hashed)
        lo = np.where(packed, lo, UNPACKED)
    return hi, lo, packed
