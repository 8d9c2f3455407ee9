"""Writing one simulated sample as a Cell Ranger contig table (pre-v6 layout)."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack.datasets._junctions import BASES, Chains, Germline, unique_junctions

#: Columns of the pre-v6 Cell Ranger contig table, in file order.

#: Columns of the pre-v6 Cell Ranger contig table, in file order.
TENX_PRE_V6_COLUMNS: Final = (
    "barcode",
    "is_cell",
    "contig_id",
    "high_confidence",
    "length",
    "chain",
    "v_gene",
    "d_gene",
    "j_gene",
    "c_gene",
    "full_length",
    "productive",
    "cdr3",
    "cdr3_nt",
    "reads",
    "umis",
    "raw_clonotype_id",
    "raw_consensus_id",
)

_NA: Final = "None"


@dataclass(frozen=True)
class Pool:
    clone_trb: Chains
    clone_tra: Chains
    trb: Germline
    tra: Germline


@dataclass
class _Block:
    """Contigs of one kind, as arrays; concatenated into a sample's table."""

    cell: np.ndarray  # index into the sample's barcodes
    chain: str
    seqs: Chains
    productive: bool
    umis: np.ndarray
    reads: np.ndarray
    is_cell: bool = True
    high_confidence: bool = True
    consensus: int = 0  # 1 (TRB) / 2 (TRA) for the clone's own chains, else 0


def _umis(rng: np.random.Generator, n: int, low: int) -> np.ndarray:
    return low + rng.poisson(rng.lognormal(1.3, 0.6, n))


def _reads(rng: np.random.Generator, umis: np.ndarray) -> np.ndarray:
    return umis * rng.integers(80, 600, len(umis)) + rng.integers(0, 80, len(umis))


def _fewer(
    rng: np.random.Generator, umis: np.ndarray, reads: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """UMIs and reads that lose the primary-chain order against (umis, reads)."""
    n = len(umis)
    tie = rng.random(n) < 0.2
    lo_umis = rng.integers(1, np.maximum(umis, 2))  # 1 .. umis - 1 (umis >= 2)
    out_umis = np.where(tie, umis, lo_umis)
    lo_reads = _reads(rng, out_umis)
    tie_reads = rng.integers(1, np.maximum(reads, 2))
    out_reads = np.where(tie, tie_reads, np.minimum(lo_reads, reads - 1))
    return out_umis, np.maximum(out_reads, 1)


def _barcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct random 16-nt barcodes as integers (base 4, A<C<G<T)."""
    got = np.zeros(0, dtype=np.uint64)
    while len(got) < n:
        draw = rng.integers(0, 4**16, size=int(n * 1.05) + 16, dtype=np.uint64)
        got = np.unique(np.concatenate([got, draw]))
    return rng.permutation(got)[:n]


def _barcode_strings(codes: np.ndarray) -> pa.Array:
    """10x-style barcodes ``ACGT...-1`` of integer codes (16 base-4 digits)."""
    mat = np.empty((len(codes), 18), dtype=np.uint8)
    for p in range(16):  # one pass per barcode position
        mat[:, p] = BASES[((codes >> np.uint64(2 * (15 - p))) & np.uint64(3)).astype(np.intp)]
    mat[:, 16:] = np.frombuffer(b"-1", dtype=np.uint8)
    offsets = np.arange(len(codes) + 1, dtype=np.int64) * 18
    arr = pa.LargeStringArray.from_buffers(len(codes), pa.py_buffer(offsets), pa.py_buffer(mat))
    return arr.cast(pa.string())


def write_sample(
    rng: np.random.Generator,
    path: Path,
    sample: str,
    sizes: np.ndarray,
    pool: Pool,
    *,
    layout: str,
    compress: bool,
    frac_two_trb: float,
    frac_two_tra: float,
    frac_no_tra: float,
    frac_tra_only: float,
    frac_non_productive: float,
) -> pd.DataFrame:
    present = np.flatnonzero(sizes)
    clone = rng.permutation(np.repeat(present, sizes[present]))  # clone of each clonotyped cell
    n_cells = len(clone)
    n_dropout = round(frac_tra_only * n_cells)
    n_noncell = round(0.15 * n_cells) if layout == "all" else 0
    n_barcodes = n_cells + n_dropout + n_noncell
    codes = _barcodes(rng, n_barcodes)
    cells = np.arange(n_cells)
    blocks: list[_Block] = []

    # the clone's TRB
    umis = _umis(rng, n_cells, 2)
    reads = _reads(rng, umis)
    blocks.append(_Block(cells, "TRB", pool.clone_trb.take(clone), True, umis, reads, consensus=1))
    # second TRB: a junction of its own, losing the primary order
    two = np.flatnonzero(rng.random(n_cells) < frac_two_trb)
    u2, r2 = _fewer(rng, umis[two], reads[two])
    seqs = unique_junctions(rng, len(two), pool.trb, exclude=pool.clone_trb.nt)
    blocks.append(_Block(two, "TRB", seqs, True, u2, r2))
    # the clone's TRA (unless dropped out)
    has_tra = np.flatnonzero(rng.random(n_cells) >= frac_no_tra)
    tra_umis = _umis(rng, len(has_tra), 2)
    tra_reads = _reads(rng, tra_umis)
    blocks.append(
        _Block(
            has_tra,
            "TRA",
            pool.clone_tra.take(clone[has_tra]),
            True,
            tra_umis,
            tra_reads,
            consensus=2,
        )
    )
    # second TRA
    sel = np.flatnonzero(rng.random(len(has_tra)) < frac_two_tra)
    u3, r3 = _fewer(rng, tra_umis[sel], tra_reads[sel])
    seqs = unique_junctions(rng, len(sel), pool.tra, exclude=pool.clone_tra.nt)
    blocks.append(_Block(has_tra[sel], "TRA", seqs, True, u3, r3))
    # non-productive extra contigs (out of frame), TRB or TRA, any number of UMIs
    npc = np.flatnonzero(rng.random(n_cells) < frac_non_productive)
    is_b = rng.random(len(npc)) < 0.6
    for locus, g, mask in (("TRB", pool.trb, is_b), ("TRA", pool.tra, ~is_b)):
        idx = npc[mask]
        u4 = _umis(rng, len(idx), 1)
        seqs = unique_junctions(rng, len(idx), g, in_frame=False)
        blocks.append(_Block(idx, locus, seqs, False, u4, _reads(rng, u4)))
    # chain dropout: cells with a TRA of a sample's clone but no productive TRB
    drop_cells = n_cells + np.arange(n_dropout)
    drop_clone = clone[rng.integers(0, max(n_cells, 1), n_dropout)] if n_cells else clone[:0]
    u5 = _umis(rng, n_dropout, 1)
    blocks.append(
        _Block(drop_cells, "TRA", pool.clone_tra.take(drop_clone), True, u5, _reads(rng, u5))
    )
    with_np = drop_cells[rng.random(n_dropout) < 1 / 3]
    u6 = _umis(rng, len(with_np), 1)
    seqs = unique_junctions(rng, len(with_np), pool.trb, in_frame=False)
    blocks.append(_Block(with_np, "TRB", seqs, False, u6, _reads(rng, u6)))
    if layout == "all":
        # barcodes that are not cells: ambient TRB of the sample's clones
        nc_cells = n_cells + n_dropout + np.arange(n_noncell)
        amb = clone[rng.integers(0, max(n_cells, 1), n_noncell)] if n_cells else clone[:0]
        u7 = np.ones(n_noncell, dtype=np.int64)
        blocks.append(
            _Block(
                nc_cells,
                "TRB",
                pool.clone_trb.take(amb),
                True,
                u7,
                _reads(rng, u7),
                is_cell=False,
                high_confidence=False,
            )
        )
        # low-confidence TRB contigs in real cells
        low = np.flatnonzero(rng.random(n_cells) < 0.05)
        u8 = _umis(rng, len(low), 1)
        seqs = unique_junctions(rng, len(low), pool.trb, exclude=pool.clone_trb.nt)
        blocks.append(_Block(low, "TRB", seqs, True, u8, _reads(rng, u8), high_confidence=False))

    # 10x-style clonotype ids per sample: clonotype1 is the largest clone
    rank = np.zeros(len(sizes), dtype=np.int64)
    by_size = present[np.lexsort((present, -sizes[present]))]
    rank[by_size] = np.arange(1, len(by_size) + 1)
    cell_rank = np.zeros(n_barcodes, dtype=np.int64)  # 0: no clonotype id
    cell_rank[:n_cells] = rank[clone]
    cell_rank[n_cells : n_cells + n_dropout] = rank[drop_clone]

    table = _assemble(rng, blocks, codes, cell_rank, pool)
    _write_csv(path, table, compress=compress)
    barcodes = _barcode_strings(codes[:n_cells])
    return pd.DataFrame(
        {
            "sample": sample,
            "cell_id": barcodes.to_pandas().astype("string"),
            "clonotype": clone,
            "junction": pool.clone_trb.nt.take(pa.array(clone)).to_pandas().astype("string"),
        }
    )


def _decode(codes: np.ndarray, names: Sequence[str]) -> pa.Array:
    """Strings ``names[codes]`` built by Arrow (no Python objects per row)."""
    dictionary = pa.array(list(names), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary).cast(
        pa.string()
    )


def _assemble(
    rng: np.random.Generator,
    blocks: list[_Block],
    codes: np.ndarray,
    cell_rank: np.ndarray,
    pool: Pool,
) -> pa.Table:
    """One Arrow table of strings in file order: by barcode, contigs numbered within a cell."""
    cell = np.concatenate([b.cell for b in blocks]).astype(np.int64)
    n = len(cell)

    def per_block(values: list[np.ndarray | bool | int], dtype: type) -> np.ndarray:
        return np.concatenate(
            [
                np.broadcast_to(np.asarray(v, dtype=dtype), len(b.cell))
                for v, b in zip(values, blocks, strict=True)
            ]
        )

    # gene names: TRB V, TRB J, TRA V, TRA J in one vocabulary
    trb_v, trb_j = pool.trb.v_names, pool.trb.j_names
    tra_v, tra_j = pool.tra.v_names, pool.tra.j_names
    genes = [*trb_v, *trb_j, *tra_v, *tra_j]
    is_trb = per_block([b.chain == "TRB" for b in blocks], bool)
    v = per_block([b.seqs.v for b in blocks], np.int64)
    j = per_block([b.seqs.j for b in blocks], np.int64)
    v = np.where(is_trb, v, v + len(trb_v) + len(trb_j))
    j_trb = j.copy()
    j = np.where(is_trb, j + len(trb_v), j + len(trb_v) + len(trb_j) + len(tra_v))
    productive = per_block([b.productive for b in blocks], bool)
    is_cell = per_block([b.is_cell for b in blocks], bool)
    high_conf = per_block([b.high_confidence for b in blocks], bool)
    consensus = per_block([b.consensus for b in blocks], np.int64)
    umis = per_block([b.umis for b in blocks], np.int64)
    reads = per_block([b.reads for b in blocks], np.int64)
    nt = pa.concat_arrays([b.seqs.nt.cast(pa.string()) for b in blocks])
    aa = pa.concat_arrays([b.seqs.aa.cast(pa.string()) for b in blocks])

    # file order: barcode (codes sort like the strings), then a random contig order
    order = np.lexsort((rng.random(n), codes[cell]))
    cell, is_trb, productive, is_cell, high_conf = (
        cell[order],
        is_trb[order],
        productive[order],
        is_cell[order],
        high_conf[order],
    )
    consensus, v, j, j_trb = consensus[order], v[order], j[order], j_trb[order]
    umis, reads = umis[order], reads[order]
    nt = nt.take(pa.array(order))
    aa = aa.take(pa.array(order))
    start = np.ones(n, dtype=bool)
    start[1:] = cell[1:] != cell[:-1]
    group_first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    contig_no = np.arange(n) - group_first + 1

    # D gene: TRBD1/TRBD2 called for most TRB contigs; C gene follows the J cluster
    d_code = np.where(is_trb & (rng.random(n) < 0.7), 1 + (rng.random(n) < 0.5), 0)
    j1 = np.array([name.startswith("TRBJ1") for name in trb_j])
    c_code = np.where(is_trb, np.where(j1[np.where(is_trb, j_trb, 0)], 0, 1), 2)
    full_length = productive | (rng.random(n) < 0.5)

    barcode = _barcode_strings(codes).take(pa.array(cell))
    rank = cell_rank[cell]
    rank_text = pc.cast(pa.array(rank), pa.string())
    clonotype_id = pc.if_else(
        pa.array(rank > 0), pc.binary_join_element_wise("clonotype", rank_text, ""), _NA
    )
    consensus_id = pc.if_else(
        pa.array((rank > 0) & (consensus > 0)),
        pc.binary_join_element_wise(
            clonotype_id, "_consensus_", pc.cast(pa.array(consensus), pa.string()), ""
        ),
        _NA,
    )

    def text(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    def flag(values: np.ndarray) -> pa.Array:
        return _decode(values.astype(np.int32), ("False", "True"))

    columns = {
        "barcode": barcode,
        "is_cell": flag(is_cell),
        "contig_id": pc.binary_join_element_wise(barcode, "_contig_", text(contig_no), ""),
        "high_confidence": flag(high_conf),
        "length": text(rng.integers(480, 720, n)),
        "chain": _decode(is_trb.astype(np.int32), ("TRA", "TRB")),
        "v_gene": _decode(v, genes),
        "d_gene": _decode(d_code, (_NA, "TRBD1", "TRBD2")),
        "j_gene": _decode(j, genes),
        "c_gene": _decode(c_code, ("TRBC1", "TRBC2", "TRAC")),
        "full_length": flag(full_length),
        "productive": flag(productive),
        "cdr3": pc.fill_null(aa, _NA),
        "cdr3_nt": pc.fill_null(nt, _NA),
        "reads": text(reads),
        "umis": text(umis),
        "raw_clonotype_id": clonotype_id,
        "raw_consensus_id": consensus_id,
    }
    return pa.table({k: columns[k] for k in TENX_PRE_V6_COLUMNS})


def _write_csv(path: Path, table: pa.Table, *, compress: bool) -> None:
    """Write a table of strings as CSV without quoting (no value holds a comma or quote)."""
    from pyarrow import csv

    options = csv.WriteOptions(quoting_style="none", quoting_header="none")
    if compress:
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as fh,
        ):
            csv.write_csv(table, fh, options)
    else:
        csv.write_csv(table, str(path), options)
