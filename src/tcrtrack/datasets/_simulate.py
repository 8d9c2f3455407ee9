"""Simulated patients with a known answer: ``tt.datasets.simulate_patient``.

The simulator writes one Cell Ranger contig table per sample (the pre-v6
``filtered_contig_annotations.csv`` layout: ``True``/``False``, ``None`` for missing values)
whose TRB clonotypes, clonotyped cells and Venn regions are exactly the ones asked for, and
returns that ground truth. Everything is drawn from one :class:`numpy.random.Generator`
seeded with ``seed`` and built with array operations (no loop over cells or contigs), so a
million cells per sample take seconds.
"""

from __future__ import annotations

import gzip
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tcrtrack._translate import translate
from tcrtrack.datasets._germline import J_GENES, V_GENES
from tcrtrack.errors import ParameterError

__all__ = ["SimulatedPatient", "simulate_patient"]

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

DEFAULT_SAMPLES: Final = ("infusion", "pbmc_3m", "pbmc_6m")
#: A small default patient (region membership over DEFAULT_SAMPLES -> clonotypes).
DEFAULT_VENN: Final[Mapping[tuple[bool, ...] | str, int]] = {
    (True, False, False): 300,
    (False, True, False): 400,
    (True, True, False): 40,
    (False, False, True): 450,
    (True, False, True): 50,
    (False, True, True): 100,
    (True, True, True): 30,
}

_NA: Final = "None"
_BASES: Final = np.frombuffer(b"ACGT", dtype=np.uint8)
# N additions by TdT are G/C-rich
_N_LOOKUP: Final = np.frombuffer(b"AACCCGGGTT", dtype=np.uint8)


@dataclass(frozen=True, eq=False)
class SimulatedPatient:
    """The ground truth of a simulated patient.

    Attributes
    ----------
    samples
        Sample names, in order.
    paths
        Sample -> contig table written.
    n_clonotypes
        Sample -> number of distinct TRB junction (nucleotide) clonotypes.
    n_cells
        Sample -> number of cells with a productive TRB chain (clonotyped cells).
    regions
        Membership tuple (one bool per sample, in :attr:`samples` order) -> number of
        clonotypes found in exactly those samples. Every non-empty region is a key.
    clonotypes
        One row per true clonotype: ``clonotype`` (integer id), the TRB ``junction``,
        ``junction_aa``, ``v_call``, ``j_call``, the clone's TRA (``tra_junction``,
        ``tra_junction_aa``, ``tra_v_call``, ``tra_j_call``), then its number of cells in each
        sample (0 = absent).
    cells
        One row per clonotyped cell: ``sample``, ``cell_id`` (barcode), ``clonotype`` (id in
        :attr:`clonotypes`) and its TRB ``junction``. Cells without a productive TRB chain
        (chain dropout) are written to the files but are not listed here.
    seed
        The seed used.
    """

    samples: tuple[str, ...]
    paths: dict[str, Path]
    n_clonotypes: dict[str, int]
    n_cells: dict[str, int]
    regions: dict[tuple[bool, ...], int]
    clonotypes: pd.DataFrame
    cells: pd.DataFrame
    seed: int

    def shared_with(self, reference: str, sample: str) -> int:
        """Number of clonotypes found in both ``reference`` and ``sample``."""
        i, j = self.samples.index(reference), self.samples.index(sample)
        return sum(n for key, n in self.regions.items() if key[i] and key[j])

    def to_frame(self) -> pd.DataFrame:
        """Per sample: clonotypes, cells, and the path written."""
        return pd.DataFrame(
            {
                "clonotypes": [self.n_clonotypes[x] for x in self.samples],
                "cells": [self.n_cells[x] for x in self.samples],
                "path": [str(self.paths[x]) for x in self.samples],
            },
            index=pd.Index(list(self.samples), name="sample"),
        )

    def regions_frame(self) -> pd.DataFrame:
        """One row per Venn region: a bool column per sample and ``clonotypes``."""
        keys = list(self.regions)
        frame = pd.DataFrame(keys, columns=list(self.samples))
        frame["clonotypes"] = [self.regions[k] for k in keys]
        return frame

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{x}: {self.n_clonotypes[x]} clonotypes / {self.n_cells[x]} cells"
            for x in self.samples
        )
        return f"SimulatedPatient(seed={self.seed}; {parts})"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>SimulatedPatient</b> (seed {self.seed})</p>"
            + self.to_frame().to_html()
            + self.regions_frame().to_html(index=False)
        )


# --------------------------------------------------------------------------------------------
# junction sequences


@dataclass(frozen=True)
class _Germline:
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


def _germline(locus: str) -> _Germline:
    v, j = V_GENES[locus], J_GENES[locus]
    width = max(len(x[1]) for x in (*v, *j)) + 1
    v_parts = [x[1][:n] for x in v for n in range(width)]
    j_parts = [x[1][n:] for x in j for n in range(width)]
    v_w = np.array([x[2] for x in v])
    j_w = np.array([x[2] for x in j])
    return _Germline(
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


def _random_nucleotides(rng: np.random.Generator, lengths: np.ndarray) -> pa.Array:
    """Random G/C-rich strings (A, C, G, T with probabilities 0.2, 0.3, 0.3, 0.2)."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = _N_LOOKUP[rng.integers(0, 10, size=int(offsets[-1]), dtype=np.uint8)]
    arr = pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))
    return arr.cast(pa.string())


def _draw_junctions(
    rng: np.random.Generator, n: int, g: _Germline, *, in_frame: bool
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
    nt = pc.binary_join_element_wise(v_part, _random_nucleotides(rng, ln), j_part, "")
    return nt, v, j


@dataclass(frozen=True)
class _Chains:
    """Junctions with their translation (null when out of frame) and V/J gene indices."""

    nt: pa.Array
    aa: pa.Array
    v: np.ndarray
    j: np.ndarray

    def take(self, idx: np.ndarray) -> _Chains:
        i = pa.array(idx, pa.int64())
        return _Chains(self.nt.take(i), self.aa.take(i), self.v[idx], self.j[idx])


def _unique_junctions(
    rng: np.random.Generator,
    n: int,
    g: _Germline,
    *,
    in_frame: bool = True,
    exclude: pa.Array | None = None,
) -> _Chains:
    """``n`` distinct junctions (none in ``exclude``); in-frame ones have no stop codon.

    Rejected draws (duplicates, stop codons) are redrawn in rounds, each round vectorised.
    """
    parts: list[_Chains] = []
    have = 0
    seen = exclude if exclude is not None else pa.array([], pa.string())
    accept = 0.8  # fraction of draws kept, updated each round
    while have < n:
        want = n - have
        draw = int(want / accept * 1.05) + 16
        nt, v, j = _draw_junctions(rng, draw, g, in_frame=in_frame)
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
        kept = _Chains(nt, aa, v, j).take(np.flatnonzero(ok)[:want])
        parts.append(kept)
        have += len(kept.v)
        seen = pa.concat_arrays([seen.cast(pa.string()), kept.nt])
    if not parts:
        empty = pa.array([], pa.string())
        return _Chains(empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64))
    return _Chains(
        pa.concat_arrays([x.nt for x in parts]),
        pa.concat_arrays([x.aa for x in parts]),
        np.concatenate([x.v for x in parts]),
        np.concatenate([x.j for x in parts]),
    )


# --------------------------------------------------------------------------------------------
# argument checks


def _regions(
    samples: tuple[str, ...], venn: Mapping[tuple[bool, ...] | str, int]
) -> dict[tuple[bool, ...], int]:
    k = len(samples)
    out: dict[tuple[bool, ...], int] = {
        key: 0 for key in itertools.product((False, True), repeat=k) if any(key)
    }
    # order regions like matplotlib-venn: by the binary code read left to right
    out = dict(sorted(out.items(), key=lambda kv: kv[0][::-1]))
    for key, value in venn.items():
        if isinstance(key, str):
            if len(key) != k or set(key) - {"0", "1"}:
                msg = (
                    f"Venn region {key!r} must be a string of {k} '0'/'1' characters "
                    f"(one per sample: {', '.join(samples)})"
                )
                raise ParameterError(msg)
            member = tuple(c == "1" for c in key)
        else:
            member = tuple(bool(x) for x in key)
            if len(member) != k:
                msg = (
                    f"Venn region {key!r} has {len(member)} entries; expected {k} (one per sample)"
                )
                raise ParameterError(msg)
        if not any(member):
            msg = f"Venn region {key!r} belongs to no sample; give regions with at least one True"
            raise ParameterError(msg)
        if int(value) != value or value < 0:
            msg = f"Venn region {key!r} must hold a count >= 0, got {value!r}"
            raise ParameterError(msg)
        out[member] = int(value)
    return out


def _cell_targets(
    samples: tuple[str, ...],
    n_clonotypes: dict[str, int],
    cells: Mapping[str, int] | Sequence[int] | None,
) -> dict[str, int]:
    if cells is None:
        return {x: round(1.8 * n_clonotypes[x]) for x in samples}
    if isinstance(cells, Mapping):
        unknown = set(cells) - set(samples)
        if unknown:
            msg = f"cells given for unknown sample(s) {sorted(unknown)!r}; samples: {samples!r}"
            raise ParameterError(msg)
        out = {x: int(cells.get(x, round(1.8 * n_clonotypes[x]))) for x in samples}
    else:
        if len(cells) != len(samples):
            msg = f"cells has {len(cells)} entries; expected one per sample ({len(samples)})"
            raise ParameterError(msg)
        out = {x: int(c) for x, c in zip(samples, cells, strict=True)}
    for x in samples:
        if out[x] < n_clonotypes[x]:
            msg = (
                f"sample {x!r}: {out[x]} cells cannot hold {n_clonotypes[x]} clonotypes; "
                "give at least one cell per clonotype"
            )
            raise ParameterError(msg)
    return out


# --------------------------------------------------------------------------------------------
# the patient


def simulate_patient(
    outdir: str | os.PathLike[str],
    *,
    samples: Sequence[str] = DEFAULT_SAMPLES,
    venn: Mapping[tuple[bool, ...] | str, int] | None = None,
    cells: Mapping[str, int] | Sequence[int] | None = None,
    seed: int = 0,
    layout: Literal["filtered", "all"] = "filtered",
    compress: bool = True,
    size_sigma: float = 1.8,
    frac_two_trb: float = 0.04,
    frac_two_tra: float = 0.08,
    frac_no_tra: float = 0.06,
    frac_tra_only: float = 0.08,
    frac_non_productive: float = 0.05,
) -> SimulatedPatient:
    """Write Cell Ranger contig tables of one simulated patient and return the ground truth.

    Each sample gets exactly the requested number of TRB clonotypes (distinct TRB junction
    nucleotide sequences) and of clonotyped cells (cells with a productive TRB chain), and the
    clonotypes fall into the Venn regions exactly as requested, when counted with the
    default :class:`tcrtrack.tl.ClonotypeSpec` (TRB junction nucleotides,
    ``multichain="primary"``) after :func:`tcrtrack.pp.filter_contigs`.

    What the files contain, per sample:

    * **clonotyped cells**: one productive TRB contig (the clone's junction) and, except for a
      fraction ``frac_no_tra`` of cells, one productive TRA contig (the clone's TRA).
    * **two TRB**: a fraction ``frac_two_trb`` of them carry a second productive TRB with a
      junction of its own that is never a clonotype. It always loses scirpy's primary-chain
      order (most UMIs, then most reads, then the larger sequence): it has fewer UMIs, or
      (one time in five) as many UMIs but fewer reads, so the truth stays exact.
    * **two TRA**: a fraction ``frac_two_tra`` carry a second TRA with fewer UMIs.
    * **non-productive contigs**: a fraction ``frac_non_productive`` carry an extra
      out-of-frame TRB or TRA contig (``productive=False``, ``cdr3`` missing, often more UMIs
      than the productive chain: filters must drop it before the primary chain is chosen).
    * **chain dropout**: ``frac_tra_only`` × cells extra cells have a TRA of one of the
      sample's clones but no productive TRB (a third also carry a non-productive TRB); they are
      cells without a TRB clonotype and not counted.
    * with ``layout="all"`` (an ``all_contig_annotations`` file), also barcodes that are not
      cells (``is_cell=False``, ambient TRB of the sample's clones) and low-confidence contigs
      in real cells (``high_confidence=False``); the default filters drop both.

    Clone sizes are skewed: each clonotype present in a sample gets one cell, and the remaining
    ``cells - clonotypes`` cells are spread by a multinomial draw with log-normal weights
    (``size_sigma``; clonotypes found in more samples are given larger weights, as persisting
    clones tend to be expanded), so the totals are exact.

    Junctions are built as in V(D)J recombination: the 3' end of a V gene from its Cys codon
    (trimmed by a few nucleotides), random G/C-rich N nucleotides, and the 5' part of a J gene
    up to its Phe (``TTT``/``TTC``) or Trp (``TGG``) codon (trimmed); the length is a multiple
    of 3, productive ones have no stop codon, and ``cdr3`` is the translation of ``cdr3_nt``.
    Every clonotype's TRB junction is distinct, and no extra chain reuses one, so samples share
    a clonotype only where the Venn structure says so.

    Parameters
    ----------
    outdir
        Directory to write into (created if needed). One file per sample:
        ``<outdir>/<sample>.csv.gz`` (``.csv`` with ``compress=False``); the default sample
        name of :func:`tcrtrack.io.read_10x` is then the sample name.
    samples
        Sample names (2 to 8), e.g. the infusion product first, then later blood samples.
    venn
        Membership tuple (one bool per sample) or string of ``0``/``1`` (``"110"``: in the
        first two samples only) -> number of clonotypes in exactly that region; regions not
        given are empty. Default: a small three-sample patient (:data:`DEFAULT_VENN`).
    cells
        Clonotyped cells per sample (mapping by name, or a sequence in ``samples`` order); at
        least the sample's number of clonotypes. Default: 1.8 cells per clonotype.
    seed
        Seed of the :class:`numpy.random.Generator`; the same arguments and seed write the
        same bytes.
    layout
        ``"filtered"`` (a ``filtered_contig_annotations.csv``) or ``"all"`` (with non-cell
        barcodes and low-confidence contigs, like ``all_contig_annotations.csv``).
    compress
        Write gzip files (deterministic: no time stamp in the header).
    size_sigma
        Standard deviation of the log-normal clone-size weights: larger is more skewed.
    frac_two_trb, frac_two_tra, frac_no_tra, frac_tra_only, frac_non_productive
        Rates of the features above, as fractions of clonotyped cells.

    Returns
    -------
    :class:`SimulatedPatient` with the exact counts, the Venn regions, every clonotype and the
    true clonotype of every clonotyped cell.

    Raises
    ------
    ValueError
        Malformed Venn regions, too few cells for the clonotypes, a fraction outside [0, 1].

    Examples
    --------
    >>> import tempfile
    >>> import tcrtrack as tt
    >>> out = tempfile.mkdtemp()
    >>> truth = tt.datasets.simulate_patient(
    ...     out, samples=("infusion", "blood"), venn={"10": 50, "01": 80, "11": 20},
    ...     cells={"infusion": 200, "blood": 150}, seed=1)
    >>> truth.n_clonotypes, truth.n_cells
    ({'infusion': 70, 'blood': 100}, {'infusion': 200, 'blood': 150})
    >>> contigs = tt.pp.concat([tt.io.read_10x(truth.paths[x]) for x in truth.samples])
    >>> tt.tl.clonotypes(contigs).summary()
              clonotypes  cells
    infusion          70    200
    blood            100    150
    """
    samples = tuple(str(x) for x in samples)
    if not 2 <= len(samples) <= 8 or len(set(samples)) != len(samples):
        msg = f"samples must be 2 to 8 distinct names, got {samples!r}"
        raise ParameterError(msg)
    for name, value in {
        "frac_two_trb": frac_two_trb,
        "frac_two_tra": frac_two_tra,
        "frac_no_tra": frac_no_tra,
        "frac_tra_only": frac_tra_only,
        "frac_non_productive": frac_non_productive,
    }.items():
        if not 0.0 <= value <= 1.0:
            msg = f"{name} must be a fraction in [0, 1], got {value!r}"
            raise ParameterError(msg)
    if layout not in ("filtered", "all"):
        msg = f"layout must be 'filtered' or 'all', got {layout!r}"
        raise ParameterError(msg)
    if venn is None:
        if len(samples) != 3:
            msg = "give venn= (the clonotypes of each region) for other than three samples"
            raise ParameterError(msg)
        venn = DEFAULT_VENN
    regions = _regions(samples, venn)
    keys = list(regions)
    member = np.array(keys, dtype=bool).reshape(len(keys), len(samples))
    per_region = np.array([regions[k] for k in keys], dtype=np.int64)
    n_clonotypes = {x: int(per_region[member[:, i]].sum()) for i, x in enumerate(samples)}
    for x in samples:
        if n_clonotypes[x] == 0:
            msg = f"sample {x!r} has no clonotype in any Venn region; give it at least one"
            raise ParameterError(msg)
    n_cells = _cell_targets(samples, n_clonotypes, cells)

    rng = np.random.default_rng(seed)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)

    # clonotypes: membership, TRB and TRA junctions
    n_clones = int(per_region.sum())
    clone_member = member[np.repeat(np.arange(len(keys)), per_region)]
    clone_member = clone_member[rng.permutation(n_clones)]
    trb, tra = _germline("TRB"), _germline("TRA")
    clone_trb = _unique_junctions(rng, n_clones, trb)
    clone_tra = _unique_junctions(rng, n_clones, tra)

    # clone sizes: one cell each, the rest spread by log-normal weights
    base = rng.lognormal(0.0, size_sigma, n_clones) * clone_member.sum(axis=1) ** 1.5
    sizes = np.zeros((n_clones, len(samples)), dtype=np.int64)
    for i, x in enumerate(samples):  # a handful of samples
        present = np.flatnonzero(clone_member[:, i])
        w = base[present] * rng.lognormal(0.0, 0.5, len(present))
        extra = rng.multinomial(n_cells[x] - len(present), w / w.sum())
        sizes[present, i] = 1 + extra

    pool = _Pool(clone_trb, clone_tra, trb, tra)
    all_cells: list[pd.DataFrame] = []
    paths: dict[str, Path] = {}
    for i, x in enumerate(samples):
        path = out / (f"{x}.csv.gz" if compress else f"{x}.csv")
        truth = _write_sample(
            rng,
            path,
            x,
            sizes[:, i],
            pool,
            layout=layout,
            compress=compress,
            frac_two_trb=frac_two_trb,
            frac_two_tra=frac_two_tra,
            frac_no_tra=frac_no_tra,
            frac_tra_only=frac_tra_only,
            frac_non_productive=frac_non_productive,
        )
        all_cells.append(truth)
        paths[x] = path

    clonotypes = pd.DataFrame(
        {
            "clonotype": np.arange(n_clones),
            "junction": clone_trb.nt.to_pandas().astype("string"),
            "junction_aa": clone_trb.aa.to_pandas().astype("string"),
            "v_call": np.asarray(trb.v_names)[clone_trb.v],
            "j_call": np.asarray(trb.j_names)[clone_trb.j],
            "tra_junction": clone_tra.nt.to_pandas().astype("string"),
            "tra_junction_aa": clone_tra.aa.to_pandas().astype("string"),
            "tra_v_call": np.asarray(tra.v_names)[clone_tra.v],
            "tra_j_call": np.asarray(tra.j_names)[clone_tra.j],
        }
    )
    for i, x in enumerate(samples):
        clonotypes[x] = sizes[:, i]
    cells_frame = pd.concat(all_cells, ignore_index=True)
    cells_frame["sample"] = pd.Categorical(cells_frame["sample"], categories=list(samples))
    return SimulatedPatient(
        samples=samples,
        paths=paths,
        n_clonotypes=n_clonotypes,
        n_cells=n_cells,
        regions=regions,
        clonotypes=clonotypes,
        cells=cells_frame,
        seed=seed,
    )


@dataclass(frozen=True)
class _Pool:
    clone_trb: _Chains
    clone_tra: _Chains
    trb: _Germline
    tra: _Germline


@dataclass
class _Block:
    """Contigs of one kind, as arrays; concatenated into a sample's table."""

    cell: np.ndarray  # index into the sample's barcodes
    chain: str
    seqs: _Chains
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
        mat[:, p] = _BASES[((codes >> np.uint64(2 * (15 - p))) & np.uint64(3)).astype(np.intp)]
    mat[:, 16:] = np.frombuffer(b"-1", dtype=np.uint8)
    offsets = np.arange(len(codes) + 1, dtype=np.int64) * 18
    arr = pa.LargeStringArray.from_buffers(len(codes), pa.py_buffer(offsets), pa.py_buffer(mat))
    return arr.cast(pa.string())


def _write_sample(
    rng: np.random.Generator,
    path: Path,
    sample: str,
    sizes: np.ndarray,
    pool: _Pool,
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
    seqs = _unique_junctions(rng, len(two), pool.trb, exclude=pool.clone_trb.nt)
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
    seqs = _unique_junctions(rng, len(sel), pool.tra, exclude=pool.clone_tra.nt)
    blocks.append(_Block(has_tra[sel], "TRA", seqs, True, u3, r3))
    # non-productive extra contigs (out of frame), TRB or TRA, any number of UMIs
    npc = np.flatnonzero(rng.random(n_cells) < frac_non_productive)
    is_b = rng.random(len(npc)) < 0.6
    for locus, g, mask in (("TRB", pool.trb, is_b), ("TRA", pool.tra, ~is_b)):
        idx = npc[mask]
        u4 = _umis(rng, len(idx), 1)
        seqs = _unique_junctions(rng, len(idx), g, in_frame=False)
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
    seqs = _unique_junctions(rng, len(with_np), pool.trb, in_frame=False)
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
        seqs = _unique_junctions(rng, len(low), pool.trb, exclude=pool.clone_trb.nt)
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
    pool: _Pool,
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
