"""Generate realistic Cell Ranger contig tables for the benchmark, fast (numpy + Arrow, no loops).

One patient, three samples (``infusion``, ``3m``, ``6m``) of ``--cells`` cells each, written as
pre-v6 Cell Ranger ``filtered_contig_annotations.csv`` (18 columns, ``True``/``False``, NA written
``None``), and optionally gzipped copies::

    python benchmarks/generate.py --cells 100000 --out benchmarks/_data

What the tables contain (all proportions are expectations):

* about 2 contig rows per cell: one TRB and one TRA; 10 % of cells have a second TRB, 8 % a
  second TRA, 4 % have no TRB (TRA only); 3 % of rows are non-productive (``productive`` False,
  half of them without a CDR3), 1.5 % are ``Multi`` chains, 1 % not ``high_confidence``;
* clonotypes (a TRB and a TRA junction, V/J genes) drawn from a heavy-tailed clone-size
  distribution (Pareto weights, exponent 1.2), so a few clones hold many cells;
* sharing: the 3 m sample draws 60 % of its cells from the infusion's clonotypes (with a random
  expansion factor per clone) and 40 % from new clonotypes; the 6 m sample 45 % / 55 %;
* within a cell, the second TRB has fewer UMIs than the first in most cells, and in 1 % of
  two-TRB cells the same UMIs and reads (so the tie-break on the larger sequence matters);
* junctions ``TGT ... TTT/TTC`` of 11–18 codons without stop codons, and ``cdr3`` their exact
  translation; barcodes are distinct 16-mers ``-1``, rows sorted by barcode as Cell Ranger does.

The data are random but reproducible (``--seed``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

SAMPLES = ("infusion", "3m", "6m")
#: Fraction of each sample's cells drawn from the infusion's clonotypes.
PERSIST = {"infusion": 1.0, "3m": 0.60, "6m": 0.45}

_BASES = np.frombuffer(b"TCAG", dtype=np.uint8)
_CODE = np.frombuffer(b"FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG", np.uint8)
_SENSE = np.flatnonzero(ord("*") != _CODE)  # codon indices without stop
_CODON_NT = np.stack(
    [_BASES[np.arange(64) // 16], _BASES[(np.arange(64) // 4) % 4], _BASES[np.arange(64) % 4]],
    axis=1,
)  # 64 x 3 bytes
_TGT = 0 * 16 + 3 * 4 + 0  # T=0 C=1 A=2 G=3
_TTT, _TTC = 0, 1

TRBV = [
    f"TRBV{i}"
    for i in (
        "2",
        "3-1",
        "4-1",
        "4-2",
        "5-1",
        "5-4",
        "5-6",
        "6-1",
        "6-5",
        "7-2",
        "7-3",
        "7-8",
        "7-9",
        "9",
        "10-3",
        "11-2",
        "12-3",
        "12-4",
        "13",
        "14",
        "15",
        "18",
        "19",
        "20-1",
        "24-1",
        "25-1",
        "27",
        "28",
        "29-1",
        "30",
    )
]
TRBJ = [f"TRBJ{a}-{b}" for a, n in ((1, 6), (2, 7)) for b in range(1, n + 1)]
TRAV = [
    f"TRAV{i}"
    for i in (
        "1-1",
        "1-2",
        "2",
        "3",
        "4",
        "5",
        "8-1",
        "8-3",
        "8-6",
        "9-2",
        "12-1",
        "12-2",
        "12-3",
        "13-1",
        "13-2",
        "14DV4",
        "16",
        "17",
        "19",
        "20",
        "21",
        "22",
        "23DV6",
        "24",
        "25",
        "26-1",
        "26-2",
        "27",
        "29DV5",
        "30",
        "35",
        "36DV7",
        "38-1",
        "38-2DV8",
        "39",
        "41",
    )
]
TRAJ = [f"TRAJ{i}" for i in range(3, 62) if i not in (1, 2, 19, 25, 51, 55, 59, 60, 61)]

COLUMNS = (
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


def _junctions(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """``n`` random junctions (nt) and their translations, as Arrow string arrays."""
    length = rng.integers(11, 19, size=n)  # codons
    width = 18
    codons = _SENSE[rng.integers(0, len(_SENSE), size=(n, width))]
    codons[:, 0] = _TGT
    last = np.where(rng.random(n) < 0.5, _TTT, _TTC)
    codons[np.arange(n), length - 1] = last
    mask = np.arange(width)[None, :] < length[:, None]
    kept = codons[mask]  # row-major: codons of row 0, then row 1, ...
    nt = _CODON_NT[kept].ravel()
    aa = _CODE[kept]
    aa_off = np.concatenate([[0], np.cumsum(length)]).astype(np.int32)
    nt_off = (3 * aa_off).astype(np.int32)
    nt_arr = pa.StringArray.from_buffers(n, pa.py_buffer(nt_off), pa.py_buffer(nt.tobytes()))
    aa_arr = pa.StringArray.from_buffers(n, pa.py_buffer(aa_off), pa.py_buffer(aa.tobytes()))
    return nt_arr, aa_arr


def _barcodes(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` distinct sorted 16-mer barcodes with the ``-1`` suffix."""
    space = 4**16
    values = np.unique(rng.integers(0, space, size=int(n * 1.02) + 16, dtype=np.int64))
    values = np.sort(rng.choice(values, size=n, replace=False))
    digits = (values[:, None] >> (2 * np.arange(15, -1, -1))[None, :]) & 3
    acgt = np.frombuffer(b"ACGT", dtype=np.uint8)
    chars = np.concatenate(
        [acgt[digits], np.full((n, 2), np.frombuffer(b"-1", np.uint8), dtype=np.uint8)], axis=1
    )
    offsets = (np.arange(n + 1) * 18).astype(np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _gene_codes(rng: np.random.Generator, names: list[str], n: int) -> np.ndarray:
    weights = rng.pareto(1.5, size=len(names)) + 0.2
    return rng.choice(len(names), size=n, p=weights / weights.sum())


def _clone_pool(rng: np.random.Generator, n: int) -> dict[str, object]:
    """``n`` clonotypes: TRB and TRA junctions, genes."""
    trb_nt, trb_aa = _junctions(rng, n)
    tra_nt, tra_aa = _junctions(rng, n)
    return {
        "trb_nt": trb_nt,
        "trb_aa": trb_aa,
        "tra_nt": tra_nt,
        "tra_aa": tra_aa,
        "trbv": _gene_codes(rng, TRBV, n),
        "trbj": _gene_codes(rng, TRBJ, n),
        "trav": _gene_codes(rng, TRAV, n),
        "traj": _gene_codes(rng, TRAJ, n),
    }


def _draw(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")


def make_patient(n_cells: int, *, seed: int = 0) -> dict[str, pa.Table]:
    """The three samples of one patient as Arrow tables of Cell Ranger columns (all strings)."""
    rng = np.random.default_rng(seed)
    # clonotype pool: the infusion's clones first, then new clones for each later sample
    n_inf = max(int(n_cells * 0.7), 10)
    n_new = max(int(n_cells * 0.5), 10)
    pool_size = n_inf + 2 * n_new
    pool = _clone_pool(rng, pool_size)
    base = rng.pareto(1.2, size=pool_size) + 1.0
    tables = {}
    for s_i, sample in enumerate(SAMPLES):
        n_persist = round(n_cells * PERSIST[sample])
        w_inf = base[:n_inf] * (rng.lognormal(0.0, 1.0, size=n_inf) if s_i else 1.0)
        clone = _draw(rng, w_inf, n_persist)
        if s_i:
            lo = n_inf + (s_i - 1) * n_new
            fresh = lo + _draw(rng, base[lo : lo + n_new], n_cells - n_persist)
            clone = rng.permutation(np.concatenate([clone, fresh]))
        tables[sample] = _sample_table(rng, pool, clone, sample_index=s_i)
    return tables


def _sample_table(
    rng: np.random.Generator, pool: dict[str, object], clone: np.ndarray, *, sample_index: int
) -> pa.Table:
    n = len(clone)
    barcodes = _barcodes(rng, n)
    # contigs per cell: TRB (unless TRA-only), TRA, optional second TRB / TRA, optional Multi
    has_trb = rng.random(n) >= 0.04
    extra_trb = has_trb & (rng.random(n) < 0.10)
    extra_tra = rng.random(n) < 0.08
    multi = rng.random(n) < 0.03
    kinds = [  # (cell mask, chain, role)
        (has_trb, "TRB", 0),
        (np.ones(n, dtype=bool), "TRA", 1),
        (extra_trb, "TRB", 2),
        (extra_tra, "TRA", 3),
        (multi, "Multi", 4),
    ]
    cells = np.concatenate([np.flatnonzero(m) for m, _, _ in kinds])
    role = np.concatenate([np.full(int(m.sum()), r, dtype=np.int8) for m, _, r in kinds])
    order = np.lexsort((role, cells))
    cells, role = cells[order], role[order]
    m = len(cells)
    cl = clone[cells]
    is_trb = (role == 0) | (role == 2)
    is_tra = (role == 1) | (role == 3)
    extra = role >= 2
    # sequences: own clone for the first chains, a fresh random chain for extra ones
    n_extra = int(extra.sum())
    x_nt, x_aa = _junctions(rng, n_extra)
    trb_rows = np.flatnonzero(role == 0)
    tra_rows = np.flatnonzero(role == 1)
    seq_index = np.empty(m, dtype=np.int64)  # index into concatenated [trb, tra, extra]
    P = len(pool["trbv"])
    seq_index[trb_rows] = cl[trb_rows]
    seq_index[tra_rows] = P + cl[tra_rows]
    seq_index[extra] = 2 * P + np.arange(n_extra)
    multi_rows = role == 4
    nt_all = pa.concat_arrays([pool["trb_nt"], pool["tra_nt"], x_nt])
    aa_all = pa.concat_arrays([pool["trb_aa"], pool["tra_aa"], x_aa])
    cdr3_nt = nt_all.take(pa.array(seq_index))
    cdr3 = aa_all.take(pa.array(seq_index))
    # non-productive rows (some without CDR3), Multi rows without CDR3 or productive call
    nonprod = (rng.random(m) < 0.03) & ~multi_rows
    no_cdr3 = (nonprod & (rng.random(m) < 0.5)) | multi_rows
    null_mask = pa.array(no_cdr3)
    cdr3_nt = pc.if_else(null_mask, pa.scalar(None, pa.string()), cdr3_nt)
    cdr3 = pc.if_else(null_mask, pa.scalar(None, pa.string()), cdr3)
    productive = np.where(nonprod, "False", "True").astype(object)
    productive[multi_rows] = "None"
    high_conf = np.where(rng.random(m) < 0.01, "False", "True")
    full_length = np.where(nonprod | multi_rows | (rng.random(m) < 0.02), "False", "True")
    # genes
    v_idx = np.where(is_trb, pool["trbv"][cl], pool["trav"][cl] + len(TRBV))
    j_idx = np.where(is_trb, pool["trbj"][cl], pool["traj"][cl] + len(TRBJ))
    if n_extra:
        v_idx[extra & is_trb] = rng.integers(0, len(TRBV), size=int((extra & is_trb).sum()))
        v_idx[extra & is_tra] = len(TRBV) + rng.integers(0, len(TRAV), int((extra & is_tra).sum()))
    v_names = np.array([*TRBV, *TRAV], dtype=object)
    j_names = np.array([*TRBJ, *TRAJ], dtype=object)
    v_gene = v_names[v_idx]
    j_gene = j_names[j_idx]
    v_gene[multi_rows] = "None"
    d_gene = np.where(is_trb, np.where(rng.random(m) < 0.5, "TRBD1", "TRBD2"), "None")
    d_gene = np.where(is_trb & (rng.random(m) < 0.3), "None", d_gene)
    c_gene = np.where(is_trb, np.where(rng.random(m) < 0.5, "TRBC1", "TRBC2"), "TRAC")
    # counts: the first chain of a locus has more UMIs than the extra one in most cells
    umis = 1 + rng.geometric(0.12, size=m)
    umis[extra] = 1 + rng.geometric(0.4, size=n_extra)
    reads = umis * rng.integers(80, 400, size=m) + rng.integers(0, 80, size=m)
    # ties: in 1 % of two-TRB cells the extra TRB copies the first TRB's UMIs and reads
    second = np.flatnonzero(role == 2)
    first_of = np.searchsorted(cells, cells[second], side="left")  # the role-0 row of the cell
    tie = rng.random(len(second)) < 0.01
    umis[second[tie]] = umis[first_of[tie]]
    reads[second[tie]] = reads[first_of[tie]]
    umis[multi_rows] = 1 + rng.geometric(0.5, size=int(multi_rows.sum()))
    length = rng.integers(450, 800, size=m)
    # ids
    cell_bc = barcodes.take(pa.array(cells))
    contig_rank = np.arange(m) - np.searchsorted(cells, cells, side="left") + 1
    contig_id = pc.binary_join_element_wise(
        cell_bc, pc.cast(pa.array(contig_rank), pa.string()), "_contig_"
    )
    offset = 1000 * sample_index
    raw_clono = pc.binary_join_element_wise(
        "clonotype", pc.cast(pa.array(cl + 1 + offset), pa.string()), ""
    )
    consensus = pc.binary_join_element_wise(
        raw_clono, pc.cast(pa.array(np.where(is_trb, 1, 2)), pa.string()), "_consensus_"
    )
    consensus = pc.if_else(pa.array(no_cdr3 | nonprod), pa.scalar("None"), consensus)

    def none(a: pa.Array) -> pa.Array:
        return pc.fill_null(a, "None")

    data = {
        "barcode": cell_bc,
        "is_cell": pa.array(np.full(m, "True")),
        "contig_id": contig_id,
        "high_confidence": pa.array(high_conf),
        "length": pa.array(length),
        "chain": pa.array(np.array(["TRB", "TRA", "TRB", "TRA", "Multi"])[role]),
        "v_gene": pa.array(v_gene, pa.string()),
        "d_gene": pa.array(d_gene),
        "j_gene": pa.array(j_gene, pa.string()),
        "c_gene": pa.array(c_gene),
        "full_length": pa.array(full_length),
        "productive": pa.array(productive, pa.string()),
        "cdr3": none(cdr3),
        "cdr3_nt": none(cdr3_nt),
        "reads": pa.array(reads),
        "umis": pa.array(umis),
        "raw_clonotype_id": raw_clono,
        "raw_consensus_id": consensus,
    }
    return pa.table({c: data[c] for c in COLUMNS})


def _gzip(src: str) -> str:
    dst = src + ".gz"
    with open(src, "rb") as fin, gzip.open(dst + ".tmp", "wb", compresslevel=6) as fout:
        shutil.copyfileobj(fin, fout, 16 << 20)
    os.replace(dst + ".tmp", dst)
    return dst


def paths(out: Path, n_cells: int, *, compressed: bool = False) -> dict[str, Path]:
    """Where the files of ``n_cells`` cells per sample are (or will be) written."""
    suffix = ".csv.gz" if compressed else ".csv"
    return {x: out / f"cells{n_cells}" / f"{x}{suffix}" for x in SAMPLES}


def generate(
    n_cells: int, out: Path, *, seed: int = 0, compressed: bool = True, force: bool = False
) -> dict[str, Path]:
    """Write the three samples (and gzipped copies) unless they exist; return the CSV paths."""
    targets = paths(out, n_cells)
    gz = paths(out, n_cells, compressed=True)
    done = all(p.exists() for p in targets.values()) and (
        not compressed or all(p.exists() for p in gz.values())
    )
    if done and not force:
        return targets
    targets[SAMPLES[0]].parent.mkdir(parents=True, exist_ok=True)
    tables = make_patient(n_cells, seed=seed)
    # Cell Ranger quotes nothing; Arrow would quote the header, so it is written here
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    for sample, table in tables.items():
        tmp = targets[sample].with_suffix(".tmp")
        with pa.OSFile(str(tmp), "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, fh, write_options=options)
        os.replace(tmp, targets[sample])
    if compressed:
        with ProcessPoolExecutor(max_workers=min(3, os.cpu_count() or 1)) as pool:
            list(pool.map(_gzip, [str(p) for p in targets.values()]))
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cells",
        type=int,
        nargs="+",
        default=[10_000],
        help="cells per sample (one data set per value)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "_data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-gzip", action="store_true", help="skip the gzipped copies")
    parser.add_argument("--force", action="store_true", help="regenerate existing files")
    args = parser.parse_args(argv)
    for n in args.cells:
        t0 = time.perf_counter()
        written = generate(
            n, args.out, seed=args.seed, compressed=not args.no_gzip, force=args.force
        )
        size = sum(p.stat().st_size for p in written.values()) / 1e6
        print(
            f"{n} cells/sample: {size:.0f} MB in {time.perf_counter() - t0:.1f} s "
            f"-> {written[SAMPLES[0]].parent}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
