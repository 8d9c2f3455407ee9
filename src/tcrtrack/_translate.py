"""Vectorised translation of nucleotide sequences held in Arrow string arrays.

No Python loop over rows: sequences are viewed as one byte buffer and translated codon by
codon with a 64-entry lookup table (the standard genetic code, ``*`` for stop codons).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack._arrow import scalar, to_numpy

_BASES: Final = "TCAG"
_CODE: Final = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"

# byte -> 0..3 for T, C, A, G (either case); 4 for anything else
_BASE_INDEX = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(_BASES):
    _BASE_INDEX[ord(_b)] = _i
    _BASE_INDEX[ord(_b.lower())] = _i
# codon index (16*b0 + 4*b1 + b2) -> amino-acid byte; index 64 (any non-ACGT base) -> 'X'
_CODON_TABLE = np.frombuffer((_CODE + "X").encode(), dtype=np.uint8)


def buffers(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, data bytes, validity) of a string array (offsets int32 or int64, zero-copy)."""
    array = _large(array)
    n = len(array)
    bufs = array.buffers()
    if n == 0 or bufs[1] is None:
        return np.zeros(1, np.int64), np.zeros(0, np.uint8), np.zeros(0, bool)
    dtype = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=dtype)[array.offset : array.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    valid = np.ones(n, dtype=bool) if array.null_count == 0 else to_numpy(array.is_valid())
    return offsets, data, valid


def translate(nt: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Translate each sequence; a trailing partial codon is ignored, non-ACGT codons give ``X``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> translate(pa.array(["TGTGCCAGCAGTTTC", None, "TGA"])).to_pylist()
    ['CASSF', None, '*']
    """
    offsets, data, valid = buffers(nt)
    lengths = np.diff(offsets) // 3
    aa = translate_codons(offsets[:-1], lengths, data)
    aa_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return _with_nulls(aa, aa_offsets, valid)


def _with_nulls(aa: np.ndarray, aa_offsets: np.ndarray, valid: np.ndarray) -> pa.Array:
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    out = pa.LargeStringArray.from_buffers(
        len(valid), pa.py_buffer(aa_offsets), pa.py_buffer(aa.tobytes()), validity
    )
    return out.cast(pa.string())


def in_frame_of(
    junction: pa.ChunkedArray | pa.Array, aa: pa.ChunkedArray | pa.Array
) -> pa.ChunkedArray | pa.Array:
    """Whether each junction is three times as long as its amino-acid sequence (NA where either
    is NA).

    Examples
    --------
    >>> import pyarrow as pa
    >>> in_frame_of(pa.array(["TGTGCC", "TGTGC", None]), pa.array(["CA", "CA", "CA"])).to_pylist()
    [True, False, None]
    """
    three = scalar(3, pa.int64())
    return pc.equal(pc.utf8_length(junction), pc.multiply(pc.utf8_length(aa), three))


def translate_codons(starts: np.ndarray, n_codons: np.ndarray, data: np.ndarray) -> np.ndarray:
    total = int(n_codons.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint8)
    if np.array_equal(np.diff(starts), 3 * n_codons[:-1]):
        # fast path: the codons of consecutive rows are back to back (e.g. every sequence's
        # length is a multiple of 3)
        return _translate_packed(data, int(starts[0]), total)
    row_first = np.cumsum(n_codons) - n_codons
    k = np.arange(total, dtype=np.int64) - np.repeat(row_first, n_codons)
    pos = np.repeat(starts, n_codons) + 3 * k
    b0 = _BASE_INDEX[data[pos]].astype(np.int64)
    b1 = _BASE_INDEX[data[pos + 1]].astype(np.int64)
    b2 = _BASE_INDEX[data[pos + 2]].astype(np.int64)
    index = np.where((b0 < 4) & (b1 < 4) & (b2 < 4), 16 * b0 + 4 * b1 + b2, 64)
    return _CODON_TABLE[index]


def _chunks(array: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    if isinstance(array, pa.ChunkedArray):
        return [_large(c) for c in array.chunks]
    return [_large(array)]


def _large(array: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous ``string`` or ``large_string`` array."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_large_string(array.type) or pa.types.is_string(array.type)):
        array = array.cast(pa.large_string())
    return array


# 25*b0 + 5*b1 + b2 for bases b in 0..4 (4 = not ACGT) -> codon index, 64 where any base is 4
_FOLD = np.full(125, 64, dtype=np.uint8)
for _b0 in range(4):
    for _b1 in range(4):
        for _b2 in range(4):
            _FOLD[25 * _b0 + 5 * _b1 + _b2] = 16 * _b0 + 4 * _b1 + _b2


# byte -> is it A, C, G or T (upper case, as the pattern ^(?:[ACGT]{3})+$ requires)
_ACGT = np.zeros(256, dtype=bool)
_ACGT[np.frombuffer(b"ACGT", dtype=np.uint8)] = True
#: Bytes of sequence looked at a time by :func:`is_codon_sequence`.
_BLOCK: Final = 1 << 22


def is_codon_sequence(nt: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where ``nt`` is missing or matches ``^(?:[ACGT]{3})+$`` (whole codons of ACGT).

    Examples
    --------
    >>> import pyarrow as pa
    >>> is_codon_sequence(pa.array(["TGTGCC", "TGTGC", "TGTNCC", "", None])).tolist()
    [True, False, False, False, True]
    """
    parts = []
    for chunk in _chunks(nt):
        off, data, valid = buffers(chunk)
        length = np.diff(off)
        ok = (length % 3 == 0) & (length > 0)
        for start in range(int(off[0]), int(off[-1]), _BLOCK):  # bounded temporaries
            block = data[start : min(start + _BLOCK, int(off[-1]))]
            if not block.tobytes().translate(None, b"ACGT"):
                continue  # every byte is A, C, G or T (the usual case: one pass in C)
            bad = np.flatnonzero(~_ACGT[block])
            ok[np.searchsorted(off, start + bad, side="right") - 1] = False
        ok |= ~valid
        parts.append(ok)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


# first two bases of a codon, read as one little-endian uint16 (b0 + 256*b1) -> 5*B(b0) + B(b1)
_PAIR = (5 * _BASE_INDEX[np.arange(65536) & 0xFF] + _BASE_INDEX[np.arange(65536) >> 8]).astype(
    np.uint8
)
# 25*B(b0) + 5*B(b1) + B(b2) -> amino-acid byte ('X' where a base is not ACGT)
_AA125 = _CODON_TABLE[_FOLD]


def _translate_packed(data: np.ndarray, start: int, n_codons: int) -> np.ndarray:
    """Amino-acid bytes of the ``n_codons`` codons stored back to back from ``data[start]``.

    The first two bases of each codon are read together as an unaligned ``uint16`` with a
    stride of 3 bytes: two table look-ups per codon in all.
    """
    if n_codons == 0:
        return np.zeros(0, dtype=np.uint8)
    pairs = np.ndarray((n_codons,), dtype="<u2", buffer=data, offset=start, strides=(3,))
    third = data[start + 2 : start + 3 * n_codons : 3]
    index = np.take(_PAIR, pairs)  # np.take: faster than indexing with an array
    index *= 5
    index += np.take(_BASE_INDEX, third)
    return np.take(_AA125, index)
