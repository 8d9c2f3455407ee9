"""Vectorised translation of nucleotide sequences held in Arrow string arrays.

No Python loop over rows: sequences are viewed as one byte buffer and translated codon by
codon with a 64-entry lookup table (the standard genetic code, ``*`` for stop codons).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

_BASES: Final = "TCAG"
_CODE: Final = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"

# byte -> 0..3 for T, C, A, G (either case); 4 for anything else
_BASE_INDEX = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(_BASES):
    _BASE_INDEX[ord(_b)] = _i
    _BASE_INDEX[ord(_b.lower())] = _i
# codon index (16*b0 + 4*b1 + b2) -> amino-acid byte; index 64 (any non-ACGT base) -> 'X'
_CODON_TABLE = np.frombuffer((_CODE + "X").encode(), dtype=np.uint8)


def _buffers(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, data bytes, validity) of a string array, offsets as int64."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    n = len(array)
    bufs = array.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    valid = np.asarray(array.is_valid(), dtype=bool)
    return offsets, data, valid


def translate(nt: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Translate each sequence; a trailing partial codon is ignored, non-ACGT codons give ``X``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> translate(pa.array(["TGTGCCAGCAGTTTC", None, "TGA"])).to_pylist()
    ['CASSF', None, '*']
    """
    offsets, data, valid = _buffers(nt)
    lengths = np.diff(offsets) // 3
    aa = _translate_codons(offsets[:-1], lengths, data)
    aa_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return _with_nulls(aa, aa_offsets, valid)


def _with_nulls(aa: np.ndarray, aa_offsets: np.ndarray, valid: np.ndarray) -> pa.Array:
    validity = pa.array(valid).buffers()[1] if not valid.all() else None
    out = pa.LargeStringArray.from_buffers(
        len(valid), pa.py_buffer(aa_offsets), pa.py_buffer(aa.tobytes()), validity
    )
    return out.cast(pa.string())


def _translate_codons(starts: np.ndarray, n_codons: np.ndarray, data: np.ndarray) -> np.ndarray:
    total = int(n_codons.sum())
    if total == 0:
        return np.zeros(0, dtype=np.uint8)
    if np.array_equal(np.diff(starts), 3 * n_codons[:-1]):
        # fast path: the codons of consecutive rows are back to back (e.g. every sequence's
        # length is a multiple of 3), so the buffer is one (codons × 3) array
        codons = _BASE_INDEX[data[starts[0] : starts[0] + 3 * total]].reshape(-1, 3)
        index = codons[:, 0].astype(np.uint16) * 16 + codons[:, 1] * 4 + codons[:, 2]
        index[codons.max(axis=1) > 3] = 64
        return _CODON_TABLE[index]
    row_first = np.cumsum(n_codons) - n_codons
    k = np.arange(total, dtype=np.int64) - np.repeat(row_first, n_codons)
    pos = np.repeat(starts, n_codons) + 3 * k
    b0 = _BASE_INDEX[data[pos]].astype(np.int64)
    b1 = _BASE_INDEX[data[pos + 1]].astype(np.int64)
    b2 = _BASE_INDEX[data[pos + 2]].astype(np.int64)
    index = np.where((b0 < 4) & (b1 < 4) & (b2 < 4), 16 * b0 + 4 * b1 + b2, 64)
    return _CODON_TABLE[index]


def translates_to(nt: pa.ChunkedArray | pa.Array, aa: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where ``nt`` is present, has length 3 × len(``aa``) and translates to ``aa``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> translates_to(pa.array(["TGTGCCTTC", "TGTGCCTTC", "TGTGCC", None]),
    ...               pa.array(["CAF", "CAS", "CAF", "CAF"])).tolist()
    [True, False, False, False]
    """
    nt_off, nt_data, nt_valid = _buffers(nt)
    aa_off, aa_data, aa_valid = _buffers(aa)
    nt_len = np.diff(nt_off)
    aa_len = np.diff(aa_off)
    candidate = nt_valid & aa_valid & (nt_len == 3 * aa_len) & (aa_len > 0)
    rows = np.flatnonzero(candidate)
    n_codons = aa_len[rows]
    translated = _translate_codons(nt_off[rows], n_codons, nt_data)
    total = int(n_codons.sum())
    row_first = np.cumsum(n_codons) - n_codons
    k = np.arange(total, dtype=np.int64) - np.repeat(row_first, n_codons)
    expected = aa_data[np.repeat(aa_off[rows], n_codons) + k]
    # compare case-insensitively on the amino-acid side
    expected = np.where((expected >= 97) & (expected <= 122), expected - 32, expected)
    mismatches = np.bincount(
        np.repeat(np.arange(len(rows)), n_codons),
        weights=translated != expected,
        minlength=len(rows),
    )
    out = np.zeros(len(nt_len), dtype=bool)
    out[rows] = mismatches == 0
    return out
