"""Near matches: junctions of equal length that differ at one position (Hamming distance 1),
found by deletion-neighbourhood hashing, never by comparing all pairs.

The idea (the one CompAIRR uses; this is an independent implementation): a junction ``x`` of
length ``L`` has ``L`` *deletion variants*, ``x`` with position ``i`` removed, keyed with
``i``. Two junctions of the same length share the variant keyed ``i`` exactly when they agree
everywhere except perhaps at position ``i``, so the pairs at Hamming distance at most 1 are the
pairs that share a key, and a join on the keys finds them all. Keys are 64-bit hashes of the
variants (a weighted sum of the letters with fixed random odd weights, updated in O(1) from one
position to the next); every pair a key join proposes is verified on the letters, so a hash
collision never makes a false match, and a collision inside one group of equal keys falls back
to exact keys (the variants' bytes) for that position.

A pair of identical junctions shares all ``L`` keys and a pair at distance 1 exactly one (the
position where they differ). :func:`pair_counts` counts each pair once: identical pairs at one
place, pairs at distance 1 at the key of their differing position.

In a store, junctions that differ at one position generally hash to different partitions of
``junction_aa``, so a near-match join cannot run partition by partition as an exact one does.
:func:`tcrtrack.cohort.overlap` with ``mismatches=1`` first routes every clonotype to two
*neighbourhood partitions*: family A by a hash of (length, first half, genes), family B by a
hash of (length, second half, genes). Two junctions of equal length at distance at most 1
agree on at least one half (the difference is in the other, or nowhere), so they meet in
family A (equal first halves) or in family B (equal second halves). Family A counts the
identical pairs and the pairs differing at a position of the second half; family B the pairs
differing at a position of the first half: every pair is counted exactly once, in one task.
Each clonotype is written twice, so the shuffle moves twice the store's (deduplicated) rows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Fixed random odd 64-bit weights, one per position (the same in every process).
_WEIGHTS: Final = np.random.Generator(np.random.PCG64(20261202)).integers(
    0, np.iinfo(np.uint64).max, size=4096, dtype=np.uint64, endpoint=True
) | np.uint64(1)
_LENGTH_A: Final = np.uint64(0x9E3779B97F4A7C15)
_LENGTH_B: Final = np.uint64(0xC2B2AE3D27D4EB4F)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads the bits of a linear hash (for routing by modulo)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def gene_hash(genes: pa.Array | pa.ChunkedArray | None, n: int) -> np.ndarray:
    """A 64-bit hash of each row's gene label (zeros when genes are not compared)."""
    if genes is None:
        return np.zeros(n, dtype=np.uint64)
    values = np.asarray(pc.fill_null(genes, "NA").to_pylist(), dtype=object)
    return pd.util.hash_array(values, categorize=True)


def gene_codes(genes: pa.Array | pa.ChunkedArray | None, n: int) -> np.ndarray:
    """Small integer codes of the gene labels (equal labels, equal codes)."""
    if genes is None:
        return np.zeros(n, dtype=np.int64)
    codes, _ = pd.factorize(np.asarray(pc.fill_null(genes, "NA").to_pylist(), dtype=object))
    return codes.astype(np.int64)


def by_length(
    sequences: pa.Array | pa.ChunkedArray,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each junction length ``L``: the rows of that length and their letters as an
    ``n × L`` byte matrix. Missing and empty junctions are left out (they match nothing)."""
    arr = sequences
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    arr = arr.cast(pa.large_binary())
    if len(arr) == 0:
        return
    valid = np.asarray(pc.is_valid(arr), dtype=bool)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    lengths = np.diff(offsets)
    lengths[~valid] = 0
    # numpy's stable sort is a radix sort for 16-bit integers (same order, 3-5 × faster)
    small = lengths.max() < np.iinfo(np.int16).max
    order = np.argsort(lengths.astype(np.int16) if small else lengths, kind="stable")
    sorted_lengths = lengths[order]
    values, starts = np.unique(sorted_lengths, return_index=True)
    ends = np.append(starts[1:], len(order))
    for length, a, b in zip(values, starts, ends, strict=True):
        if length == 0:
            continue
        rows = order[a:b]
        L = int(length)
        # row r's letters are data[offsets[r] : offsets[r] + L]: one window of L bytes each
        matrix = np.lib.stride_tricks.sliding_window_view(data, L)[offsets[rows]]
        yield L, rows, matrix


def _linear(matrix: np.ndarray, columns: slice, offset: int = 0) -> np.ndarray:
    """Σ letter_j · weight_(j + offset) over ``columns`` (wrapping 64-bit arithmetic)."""
    sub = matrix[:, columns].astype(np.uint64)
    start = columns.start or 0
    w = _WEIGHTS[start + offset : start + offset + sub.shape[1]]
    with np.errstate(over="ignore"):
        return (sub * w).sum(axis=1, dtype=np.uint64)


def deletion_keys(
    matrix: np.ndarray, genes: np.ndarray, positions: Sequence[int] | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """``(i, key)`` for each deletion position ``i``: a 64-bit hash of every row with letter
    ``i`` removed, combined with the row's gene hash. The hash of position ``i + 1`` follows
    from that of ``i`` in O(1) per row: the letter at ``i`` takes the weight ``w_i`` and the
    letter at ``i + 1`` gives it up."""
    L = matrix.shape[1]
    wanted = set(range(L)) if positions is None else set(positions)
    if not wanted:
        return
    with np.errstate(over="ignore"):
        h = _linear(matrix, slice(1, L), offset=-1)  # deletion at 0: letter j has weight w_(j-1)
        for i in range(L):
            if i > 0:
                diff = matrix[:, i - 1].astype(np.uint64) - matrix[:, i].astype(np.uint64)
                h = h + diff * _WEIGHTS[i - 1]
            if i in wanted:
                yield i, h ^ genes


def _runs(key: np.ndarray, *, exact: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups of equal keys with two members or more: (members, their group, group heads).
    Which member heads a group does not matter (every member is checked against it, and the
    pair counts do not depend on order), so the sort need not be stable.

    The rows are sorted by one ``uint64`` each: the key in the high bits, the row's index in
    the ``b`` low bits (``2^b`` ≥ rows). numpy sorts plain 64-bit integers 2-3 × faster than
    it argsorts them, and the sorted values give both the order and the keys. A hash key
    keeps its ``64 - b`` high bits (two different keys may then meet in one group: the
    callers verify every group on the letters); an ``exact`` key (codes smaller than the
    number of rows) is kept whole."""
    n = len(key)
    bits = np.uint64(max(1, (n - 1).bit_length()))
    top = key.astype(np.uint64) if exact else key >> bits
    packed = np.sort((top << bits) | np.arange(n, dtype=np.uint64))
    k = packed >> bits
    equal = k[1:] == k[:-1]  # sorted position j + 1 has the key of j
    in_run = np.zeros(n, dtype=bool)
    in_run[1:] = equal
    in_run[:-1] |= equal
    at = np.flatnonzero(in_run)  # sorted positions of the members, group after group
    members = (packed[at] & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.intp)
    first = np.r_[True, ~equal[at[1:] - 1]] if len(at) else np.zeros(0, dtype=bool)
    group = np.cumsum(first) - 1
    heads = members[np.flatnonzero(first)][group]
    return members, group.astype(np.int64), heads


def _exact_key(matrix: np.ndarray, genes: np.ndarray, i: int | None) -> np.ndarray:
    """Exact keys (codes of the variants' bytes and the gene code) after a hash collision."""
    cols = [j for j in range(matrix.shape[1]) if j != i]
    g = np.ascontiguousarray(genes.astype(np.int64)).view(np.uint8).reshape(len(genes), 8)
    raw = np.ascontiguousarray(np.hstack([matrix[:, cols], g]))
    view = raw.view(np.dtype((np.void, raw.shape[1]))).ravel()
    _, code = np.unique(view, return_inverse=True)
    return code.astype(np.uint64).ravel()


def verified_runs(
    matrix: np.ndarray, codes: np.ndarray, key: np.ndarray, i: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Groups of rows whose variants (position ``i`` removed; ``None``: the whole junction)
    and genes are equal: (members, group). Hash keys are verified on the letters; a
    collision falls back to exact keys."""
    members, group, heads = _runs(key)
    if len(members):
        same = codes[members] == codes[heads]
        a, b = matrix[members], matrix[heads]
        differ = a != b
        if i is not None:
            differ[:, i] = False
        if not (same & ~differ.any(axis=1)).all():
            members, group, _ = _runs(_exact_key(matrix, codes, i), exact=True)
    return members, group


#: Groups up to this size have their pairs listed one by one and counted with ``bincount``;
#: larger ones (rare: a group of ``k`` members has ``k²`` pairs) go through a sparse product.
_SMALL_GROUP: Final = 64


def _pairs_in_groups(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair (j, k) of positions of ``group`` (ascending group numbers) in the
    same group, (j, j) included: two index arrays."""
    m = len(group)
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[start, m])
    per_member = np.repeat(size, size)  # each member pairs with every member of its group
    left = np.repeat(np.arange(m), per_member)
    first = np.repeat(np.repeat(start, size), per_member)
    before = np.cumsum(per_member) - per_member
    right = first + np.arange(len(left)) - np.repeat(before, per_member)
    return left, right


def _group_pair_counts(
    group: np.ndarray, sample: np.ndarray, n: int, letter: np.ndarray | None = None
) -> np.ndarray:
    """Σ over groups of (members of sample s) × (members of sample t), as :func:`_pair_matrix`
    counts it; with ``letter``, only the pairs whose letters differ. ``group`` ascending."""
    if not len(group):
        return np.zeros((n, n), dtype=np.int64)
    size = np.bincount(group)
    small = (size <= _SMALL_GROUP)[group]
    out = np.zeros((n, n), dtype=np.int64)
    if small.any():
        g, smp = group[small], sample[small]
        left, right = _pairs_in_groups(g)
        if letter is not None:
            lt = letter[small]
            differ = lt[left] != lt[right]
            left, right = left[differ], right[differ]
        code = smp[left].astype(np.int64) * n + smp[right]
        out += np.bincount(code, minlength=n * n).reshape(n, n)
    if not small.all():
        big = ~small
        g, smp = group[big], sample[big]
        _, g = np.unique(g, return_inverse=True)
        g = g.ravel()
        out += _pair_matrix(g, smp, n)
        if letter is not None:
            _, sub = np.unique(g * 256 + letter[big].astype(np.int64), return_inverse=True)
            out -= _pair_matrix(sub.ravel(), smp, n)
    return out


def _pair_matrix(group: np.ndarray, sample: np.ndarray, n: int) -> np.ndarray:
    """Σ over groups of (members of sample s) × (members of sample t): an ``n × n`` matrix."""
    from scipy import sparse

    if not len(group):
        return np.zeros((n, n), dtype=np.int64)
    x = sparse.csr_array(
        (np.ones(len(group), dtype=np.int64), (group, sample)),
        shape=(int(group.max()) + 1, n),
    )
    return np.asarray((x.T @ x).toarray(), dtype=np.int64)


def pair_counts(
    sequences: pa.Array | pa.ChunkedArray,
    genes: pa.Array | pa.ChunkedArray | None,
    sample: np.ndarray,
    n_samples: int,
    *,
    family: str | None = None,
) -> np.ndarray:
    """Samples × samples: pairs of rows (row of sample s, row of sample t) whose junctions
    have equal length, Hamming distance at most 1 and the same genes. The rows must be
    distinct clonotypes within each sample. The diagonal counts ordered pairs of distinct
    rows of one sample (callers replace it).

    ``family``: ``None`` counts every pair; ``"A"`` the identical pairs and those differing
    in the second half (positions ``L // 2`` to ``L - 1``); ``"B"`` those differing in the
    first half (see the module notes)."""
    out = np.zeros((n_samples, n_samples), dtype=np.int64)
    codes_all = gene_codes(genes, len(sample))
    hashes_all = gene_hash(genes, len(sample))
    for L, rows, matrix in by_length(sequences):
        codes, hashes, smp = codes_all[rows], hashes_all[rows], sample[rows]
        half = L // 2
        positions = {None: range(L), "A": range(half, L), "B": range(half)}[family]
        if family != "B":  # identical pairs, once
            with np.errstate(over="ignore"):
                full = _linear(matrix, slice(0, L)) ^ hashes
            members, group = verified_runs(matrix, codes, full, None)
            out += _group_pair_counts(group, smp[members], n_samples)
        for i, key in deletion_keys(matrix, hashes, positions):
            members, group = verified_runs(matrix, codes, key, i)
            if not len(members):
                continue
            # the pairs of one group whose letters at i differ
            out += _group_pair_counts(group, smp[members], n_samples, matrix[members, i])
    return out


def near_pairs(
    left: pa.Array | pa.ChunkedArray,
    left_genes: pa.Array | pa.ChunkedArray | None,
    right: pa.Array | pa.ChunkedArray,
    right_genes: pa.Array | pa.ChunkedArray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (row of ``left``, row of ``right``) whose junctions have equal length,
    Hamming distance at most 1 and the same gene label: two index arrays, each pair once.

    Keys of the right side are sorted, those of the left looked up; every proposed pair is
    verified on the letters and the genes."""
    n_left = len(left)
    lg = (
        np.asarray(pc.fill_null(left_genes, "NA").to_pylist(), dtype=object)
        if left_genes is not None
        else None
    )
    rg = (
        np.asarray(pc.fill_null(right_genes, "NA").to_pylist(), dtype=object)
        if right_genes is not None
        else None
    )
    if lg is not None and rg is not None:
        codes, _ = pd.factorize(np.concatenate([lg, rg]))
        lcodes, rcodes = codes[:n_left], codes[n_left:]
        lhash = pd.util.hash_array(lg, categorize=True) if len(lg) else np.zeros(0, np.uint64)
        rhash = pd.util.hash_array(rg, categorize=True) if len(rg) else np.zeros(0, np.uint64)
    else:
        lcodes, rcodes = np.zeros(n_left, np.int64), np.zeros(len(right), np.int64)
        lhash, rhash = np.zeros(n_left, np.uint64), np.zeros(len(right), np.uint64)
    right_groups = {L: (rows, m) for L, rows, m in by_length(right)}
    found_l, found_r = [], []
    for L, lrows, lm in by_length(left):
        if L not in right_groups:
            continue
        rrows, rm = right_groups[L]
        lkeys = dict(deletion_keys(lm, lhash[lrows]))
        for i, rkey in deletion_keys(rm, rhash[rrows]):
            order = np.argsort(rkey)  # any order: the pairs are made unique below
            sk = rkey[order]
            lk = lkeys[i]
            lo = np.searchsorted(sk, lk, side="left")
            hi = np.searchsorted(sk, lk, side="right")
            n = hi - lo
            if not n.any():
                continue
            li = np.repeat(np.arange(len(lk)), n)
            starts = np.repeat(lo - np.cumsum(np.r_[0, n[:-1]]), n)
            ri = order[starts + np.arange(len(li))]
            # verify: same genes, letters equal except perhaps at i
            ok = lcodes[lrows[li]] == rcodes[rrows[ri]]
            ok &= (lm[li] != rm[ri]).sum(axis=1) <= 1
            found_l.append(lrows[li[ok]])
            found_r.append(rrows[ri[ok]])
    if not found_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.concatenate(found_l).astype(np.int64)
    b = np.concatenate(found_r).astype(np.int64)
    pair = np.unique(a * max(len(right), 1) + b)
    return pair // max(len(right), 1), pair % max(len(right), 1)


# ---------------------------------------------------------------- the store's shuffle
def route(job: dict[str, Any]) -> np.ndarray:
    """Stage 1 of a near-match overlap (a task per store partition): the partition's distinct
    clonotypes per sample, written twice, to neighbourhood partition A (by length, first half
    and genes) and B (by length, second half and genes). Returns the distinct clonotypes per
    sample."""
    import pyarrow.feather as feather

    from tcrtrack import schema as s
    from tcrtrack.cohort._store import read_files

    names = job["samples"]
    n = len(names)
    cols = list(job["columns"])
    table = read_files(job["files"], [s.SAMPLE, *cols], job["keep"])
    seq_col = cols[0]
    table = table.filter(pc.is_valid(table.column(seq_col)))
    table = table.group_by([s.SAMPLE, *cols], use_threads=False).aggregate([])
    sample = _sample_index(table.column(s.SAMPLE), names)
    genes = _gene_label(table, cols[1:])
    seqs = table.column(seq_col)
    hashes = gene_hash(genes, table.num_rows)
    q = job["neighbourhoods"]
    route_a = np.zeros(table.num_rows, dtype=np.int64)
    route_b = np.zeros(table.num_rows, dtype=np.int64)
    for L, rows, matrix in by_length(seqs):
        half = L // 2
        with np.errstate(over="ignore"):
            ha = _linear(matrix, slice(0, half)) + np.uint64(L) * _LENGTH_A + hashes[rows]
            hb = _linear(matrix, slice(half, L)) + np.uint64(L) * _LENGTH_B + hashes[rows]
        route_a[rows] = (_mix(ha) % np.uint64(q)).astype(np.int64)
        route_b[rows] = (_mix(hb) % np.uint64(q)).astype(np.int64)
    out = pa.table(
        {
            "sample": pa.array(sample, pa.int32()),
            "seq": seqs.cast(pa.large_string()),
            **({"genes": genes} if genes is not None else {}),
        }
    )
    scratch = Path(job["scratch"])
    for family, where in (("A", route_a), ("B", route_b)):
        order = np.argsort(where.astype(np.int16) if q < 2**15 else where, kind="stable")
        sorted_where = where[order]
        rows = out.take(pa.array(order))
        present = np.unique(sorted_where)
        bounds = np.searchsorted(sorted_where, np.append(present, q))
        for k, part in enumerate(present):
            folder = scratch / family / f"q={int(part):04d}"
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"p={job['partition']:04d}.arrow"
            tmp = folder / f".{final.name}.tmp-{os.getpid()}"
            feather.write_feather(
                rows.slice(int(bounds[k]), int(bounds[k + 1] - bounds[k])),
                tmp,
                compression="uncompressed",
            )
            os.replace(tmp, final)
    return np.bincount(sample, minlength=n).astype(np.int64)


def _sample_index(column: pa.ChunkedArray, names: list[str]) -> np.ndarray:
    """Each row's sample as its position in ``names`` (every row's sample is one of them)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    index = pc.index_in(column, value_set=pa.array(names, column.type))
    if index.null_count:  # not expected (the rows are read for these samples): fail as before
        lookup = {name: i for i, name in enumerate(names)}
        return np.array([lookup[x] for x in column.to_pylist()], dtype=np.int32)
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int32)


def count_neighbourhood(job: dict[str, Any]) -> np.ndarray:
    """Stage 2 (a task per neighbourhood partition): the near pairs of its rows, of its
    family (A: identical and second-half differences; B: first-half differences)."""
    import pyarrow.feather as feather

    n = len(job["samples"])
    folder = Path(job["folder"])
    files = sorted(f for f in folder.glob("p=*.arrow")) if folder.exists() else []
    if not files:
        return np.zeros((n, n), dtype=np.int64)
    table = pa.concat_tables([feather.read_table(f) for f in files])
    genes = table.column("genes") if "genes" in table.column_names else None
    sample = table.column("sample").to_numpy().astype(np.int64)
    return pair_counts(table.column("seq"), genes, sample, n, family=job["family"])


def _gene_label(table: pa.Table, gene_cols: Sequence[str]) -> pa.ChunkedArray | None:
    """``V`` or ``V|J`` per row (a missing gene ``NA``), None without genes."""
    if not gene_cols:
        return None
    parts = [pc.fill_null(table.column(c), "NA").cast(pa.large_string()) for c in gene_cols]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))


def near_overlap(
    store: Any,
    names: list[str],
    files: list[list[str]],
    keep: list[str] | None,
    *,
    columns: list[str],
    engine: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs at distance ≤ 1 between every two samples (diagonal: distinct clonotypes per
    sample), by the two-family shuffle (the rows of the samples ``keep`` only, or all when
    None); the scratch files live in the store's
    ``.scratch/`` and are removed at the end."""
    n = len(names)
    q = store.partitions
    scratch = Path(store.path) / ".scratch" / uuid.uuid4().hex
    try:
        jobs = [
            {
                "files": f,
                "samples": names,
                "keep": keep,
                "columns": columns,
                "partition": p,
                "neighbourhoods": q,
                "scratch": str(scratch),
            }
            for p, f in enumerate(files)
        ]
        sizes = np.zeros(n, dtype=np.int64)
        for _, part in engine.map(route, jobs):
            sizes += part
        second = [
            {"folder": str(scratch / family / f"q={k:04d}"), "samples": names, "family": family}
            for family in ("A", "B")
            for k in range(q)
        ]
        pairs = np.zeros((n, n), dtype=np.int64)
        for _, part in engine.map(count_neighbourhood, second):
            pairs += part
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            scratch.parent.rmdir()
    np.fill_diagonal(pairs, sizes)
    return pairs, sizes
