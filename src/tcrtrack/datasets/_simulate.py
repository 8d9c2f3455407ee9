"""Simulated patients with a known answer: ``tt.datasets.simulate_patient``.

The simulator writes one Cell Ranger contig table per sample (the pre-v6
``filtered_contig_annotations.csv`` layout: ``True``/``False``, ``None`` for missing values)
whose TRB clonotypes, clonotyped cells and Venn regions are exactly the ones asked for, and
returns that ground truth. Everything is drawn from one :class:`numpy.random.Generator`
seeded with ``seed`` and built with array operations (no loop over cells or contigs), so a
million cells per sample take seconds.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from tcrtrack.datasets._contig_writer import Pool, write_sample
from tcrtrack.datasets._junctions import germline, unique_junctions
from tcrtrack.errors import ParameterError

__all__ = ["SimulatedPatient", "simulate_patient"]

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
    cells: int | Mapping[str, int] | Sequence[int] | None,
) -> dict[str, int]:
    if cells is None:
        return {x: round(1.8 * n_clonotypes[x]) for x in samples}
    if isinstance(cells, int | np.integer):
        cells = [int(cells)] * len(samples)
    if not isinstance(cells, Mapping | Sequence | np.ndarray) or isinstance(cells, str):
        msg = (
            f"cells must be a number of cells, a mapping of sample to cells or one number "
            f"per sample, got {cells!r}"
        )
        raise ParameterError(msg)
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
    cells: int | Mapping[str, int] | Sequence[int] | None = None,
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
        Clonotyped cells per sample (one number for every sample, a mapping by name, or a
        sequence in ``samples`` order); at least the sample's number of clonotypes. Default:
        1.8 cells per clonotype.
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
    _check_options(
        samples,
        layout,
        frac_two_trb=frac_two_trb,
        frac_two_tra=frac_two_tra,
        frac_no_tra=frac_no_tra,
        frac_tra_only=frac_tra_only,
        frac_non_productive=frac_non_productive,
    )
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
    trb, tra = germline("TRB"), germline("TRA")
    clone_trb = unique_junctions(rng, n_clones, trb)
    clone_tra = unique_junctions(rng, n_clones, tra)

    sizes = _clone_sizes(rng, clone_member, [n_cells[x] for x in samples], size_sigma)

    pool = Pool(clone_trb, clone_tra, trb, tra)
    all_cells: list[pd.DataFrame] = []
    paths: dict[str, Path] = {}
    for i, x in enumerate(samples):
        path = out / (f"{x}.csv.gz" if compress else f"{x}.csv")
        truth = write_sample(
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

    clonotypes = _truth_table(pool, samples, sizes)
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


def _check_options(
    samples: tuple[str, ...],
    layout: str,
    **fractions: float,
) -> None:
    """Check :func:`simulate_patient`'s sample names, layout and fractions."""
    if not 2 <= len(samples) <= 8 or len(set(samples)) != len(samples):
        msg = f"samples must be 2 to 8 distinct names, got {samples!r}"
        raise ParameterError(msg)
    for name, value in fractions.items():
        if not 0.0 <= value <= 1.0:
            msg = f"{name} must be a fraction in [0, 1], got {value!r}"
            raise ParameterError(msg)
    if layout not in ("filtered", "all"):
        msg = f"layout must be 'filtered' or 'all', got {layout!r}"
        raise ParameterError(msg)


def _clone_sizes(
    rng: np.random.Generator,
    clone_member: np.ndarray,
    n_cells: Sequence[int],
    size_sigma: float,
) -> np.ndarray:
    """Cells per clone (rows) and sample (columns): one cell each, the rest spread by
    log-normal weights (a clone in more samples is larger); each column sums to its
    ``n_cells``."""
    n_clones = len(clone_member)
    base = rng.lognormal(0.0, size_sigma, n_clones) * clone_member.sum(axis=1) ** 1.5
    sizes = np.zeros((n_clones, len(n_cells)), dtype=np.int64)
    for i, total in enumerate(n_cells):  # a handful of samples
        present = np.flatnonzero(clone_member[:, i])
        w = base[present] * rng.lognormal(0.0, 0.5, len(present))
        extra = rng.multinomial(total - len(present), w / w.sum())
        sizes[present, i] = 1 + extra
    return sizes


def _truth_table(pool: Pool, samples: tuple[str, ...], sizes: np.ndarray) -> pd.DataFrame:
    """One row per simulated clone: its chains, genes and cells per sample."""
    trb, tra = pool.trb, pool.tra
    clonotypes = pd.DataFrame(
        {
            "clonotype": np.arange(len(sizes)),
            "junction": pool.clone_trb.nt.to_pandas().astype("string"),
            "junction_aa": pool.clone_trb.aa.to_pandas().astype("string"),
            "v_call": np.asarray(trb.v_names)[pool.clone_trb.v],
            "j_call": np.asarray(trb.j_names)[pool.clone_trb.j],
            "tra_junction": pool.clone_tra.nt.to_pandas().astype("string"),
            "tra_junction_aa": pool.clone_tra.aa.to_pandas().astype("string"),
            "tra_v_call": np.asarray(tra.v_names)[pool.clone_tra.v],
            "tra_j_call": np.asarray(tra.j_names)[pool.clone_tra.j],
        }
    )
    for i, x in enumerate(samples):
        clonotypes[x] = sizes[:, i]
    return clonotypes
