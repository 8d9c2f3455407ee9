"""The vectorised fast paths equal naive Python versions on random data.

Covers the junction checks on Arrow buffers (translation, whole ACGT codons), the linear-time
factorize of integer codes and the primary-chain ordering, which replaced slower code with the
same results (see docs/performance.md).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import naive_translate
from tcrtrack._translate import is_codon_sequence, translate
from tcrtrack.tl._digest import first_appearance, primary_order

nt_strings = st.one_of(
    st.none(),
    st.text(alphabet="ACGTacgtN-", max_size=15),
    st.lists(st.sampled_from(["TGT", "GCC", "AGC", "TTC", "TGA", "NNN", "tgt"]), max_size=5).map(
        "".join
    ),
)
aa_strings = st.one_of(st.none(), st.text(alphabet="CASFWXQ*csaf", max_size=5))


def _arrow(values: list[str | None], chunks: int) -> pa.ChunkedArray:
    array = pa.array(values, pa.string())
    if chunks <= 1 or len(values) < 2:
        return pa.chunked_array([array])
    cut = len(values) // 2
    return pa.chunked_array([array.slice(0, cut), array.slice(cut)])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(nt_strings, aa_strings, st.booleans()), max_size=30),
    st.integers(1, 2),
)
def test_translate_equals_naive(rows, chunks):
    nt = [r[0] for r in rows]
    got = translate(_arrow(nt, chunks)).to_pylist()
    assert got == [None if n is None else naive_translate(n) for n in nt]


@settings(max_examples=200, deadline=None)
@given(st.lists(nt_strings, max_size=30), st.integers(1, 2))
def test_is_codon_sequence_equals_regex(values, chunks):
    expected = [v is None or re.fullmatch(r"(?:[ACGT]{3})+", v) is not None for v in values]
    assert is_codon_sequence(_arrow(values, chunks)).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(nt_strings, max_size=30), st.integers(1, 2))
def test_is_codon_sequence_in_small_blocks_equals_regex(values, chunks):
    """Blocks of 4 bytes: clean blocks skipped by the one-pass check, others looked at byte
    by byte, values spanning both."""
    from tcrtrack import _translate

    expected = [v is None or re.fullmatch(r"(?:[ACGT]{3})+", v) is not None for v in values]
    block = _translate._BLOCK
    _translate._BLOCK = 4
    try:
        assert is_codon_sequence(_arrow(values, chunks)).tolist() == expected
    finally:
        _translate._BLOCK = block


@given(st.lists(st.integers(0, 20), max_size=60))
def test_first_appearance_equals_factorize(values):
    arr = np.asarray(values, dtype=np.int64)
    codes, uniques = first_appearance(arr, 21)
    want_codes, want_uniques = pd.factorize(arr)
    assert codes.tolist() == want_codes.tolist()
    assert uniques.tolist() == want_uniques.tolist()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # cell
            st.integers(0, 1),  # locus
            st.integers(-1, 3),  # umis (-1 = NA)
            st.integers(-1, 3),  # reads
            st.sampled_from(["TGT", "TGTGCC", "TTT", "AAA"]),  # sequence
        ),
        max_size=40,
    )
)
def test_primary_order_equals_full_lexsort(rows):
    cell = np.asarray([r[0] for r in rows], dtype=np.int64)
    locus = np.asarray([r[1] for r in rows], dtype=np.int64)
    umis = np.asarray([r[2] for r in rows], dtype=np.int64)
    reads = np.asarray([r[3] for r in rows], dtype=np.int64)
    encoded = pc.dictionary_encode(pa.array([r[4] for r in rows], pa.string()))
    codes = np.asarray(encoded.indices, dtype=np.int64)
    # the original: rank of every sequence in lexicographic order, one lexsort of all rows
    rank_of = {v: i for i, v in enumerate(sorted(set(encoded.dictionary.to_pylist())))}
    rank = np.asarray([rank_of[r[4]] for r in rows], dtype=np.int64)
    want = np.lexsort((-rank, -reads, -umis, locus, cell))
    got = primary_order(cell, locus, 2, umis, reads, codes, encoded.dictionary)
    assert got.tolist() == want.tolist()


def test_may_have_lower_case_finds_lower_case_and_non_ascii_bytes_in_every_block(monkeypatch):
    import tcrtrack._arrow as arrow

    monkeypatch.setattr(arrow, "_SCAN", 3)  # several blocks a chunk
    upper = pa.chunked_array([["CASS", None, ""], ["TGTGCC"]])
    assert not arrow.may_have_lower_case(upper, non_ascii=True)
    lower = pa.chunked_array([["CASS"], ["TGTGCc"]])  # in the last block of the last chunk
    assert arrow.may_have_lower_case(lower)
    accented = pa.chunked_array([["CASSÉ"]])
    assert not arrow.may_have_lower_case(accented)
    assert arrow.may_have_lower_case(accented, non_ascii=True)
    # the neighbours of the lower-case range are not letters of it
    assert not arrow.may_have_lower_case(pa.chunked_array([["`{"]]))
