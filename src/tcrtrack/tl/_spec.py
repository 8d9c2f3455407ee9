"""The clonotype definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tcrtrack import schema as s
from tcrtrack.errors import ParameterError
from tcrtrack.schema import GenesSpec, LocusSpec, MultichainSpec, SequenceSpec

_LOCI: Final = s.LOCUS_SPECS
_SEQUENCES: Final = s.SEQUENCE_SPECS
_GENES: Final = s.GENES_SPECS
_MULTICHAIN: Final = s.MULTICHAIN_SPECS


@dataclass(frozen=True)
class ClonotypeSpec:
    """What makes two cells (or bulk sequences) the same clonotype.

    Parameters
    ----------
    locus
        The chain(s) compared: ``TRB`` (default, the reference study's choice), ``TRA``, or
        both, ``TRA+TRB`` (a cell's clonotype is the pair of its primary TRA and TRB chains;
        cells lacking either are not counted). ``TRG``, ``TRD``, ``TRG+TRD`` and ``IGH``
        work alike.
    sequence
        ``nt``: the junction nucleotides (10x ``cdr3_nt``, AIRR ``junction``; default).
        ``aa``: the junction amino acids (``junction_aa``), which merges convergent
        recombinations of the same receptor protein.
    genes
        Also require the same V gene (``v``) or V and J genes (``vj``); default ``none``.
        Genes are compared at gene level: the allele is removed (``TRBV14*01`` matches
        ``TRBV14``), and a call of several tied genes is the set of its genes, in any order
        (``TRBV12-4,TRBV12-3`` matches ``TRBV12-3,TRBV12-4``, not ``TRBV12-3`` alone). Each
        row changed so is counted in the QC ledger (``allele_removed``,
        ``gene_ties_sorted``). See :mod:`tcrtrack._genes` and docs/io.md.
    multichain
        A cell with more than one chain of a locus (two TRB contigs): ``primary`` keeps the
        chain with most UMIs, then most reads, then the lexicographically larger sequence
        (scirpy's order, default); ``all`` counts the cell once in each of its clonotypes;
        ``drop`` excludes the cell. Every discarded chain or cell is counted in the QC
        ledger.
    alleles
        Compare genes with their alleles (``TRBV14*01`` no longer matches ``TRBV14`` nor
        ``TRBV14*02``); needs ``genes`` ``v`` or ``vj``. Default False: gene level.

    Examples
    --------
    >>> print(ClonotypeSpec())
    TRB junction nucleotides, multichain=primary
    >>> print(ClonotypeSpec(locus="TRA+TRB", sequence="aa", genes="vj"))
    TRA+TRB junction amino acids + V and J genes, multichain=primary
    >>> print(ClonotypeSpec(genes="v", alleles=True))
    TRB junction nucleotides + V allele, multichain=primary
    """

    locus: LocusSpec = "TRB"
    sequence: SequenceSpec = "nt"
    genes: GenesSpec = "none"
    multichain: MultichainSpec = "primary"
    alleles: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("locus", _LOCI),
            ("sequence", _SEQUENCES),
            ("genes", _GENES),
            ("multichain", _MULTICHAIN),
        ):
            value = getattr(self, name)
            if value not in allowed:
                msg = f"ClonotypeSpec {name} must be one of {', '.join(allowed)}; got {value!r}"
                raise ParameterError(msg)
        if not isinstance(self.alleles, bool):
            msg = f"ClonotypeSpec alleles must be True or False; got {self.alleles!r}"
            raise ParameterError(msg)
        if self.alleles and self.genes == "none":
            msg = (
                "ClonotypeSpec alleles=True compares the alleles of gene calls, but genes is "
                "'none'; set genes='v' or genes='vj' (--genes v|vj)"
            )
            raise ParameterError(msg)

    @property
    def loci(self) -> tuple[str, ...]:
        """The loci of the definition, e.g. ``("TRA", "TRB")``."""
        return tuple(self.locus.split("+"))

    @property
    def paired(self) -> bool:
        return len(self.loci) > 1

    @property
    def sequence_column(self) -> str:
        """The contig-table column holding the compared sequence."""
        return s.JUNCTION if self.sequence == "nt" else s.JUNCTION_AA

    @property
    def gene_columns(self) -> tuple[str, ...]:
        return {"none": (), "v": (s.V_CALL,), "vj": (s.V_CALL, s.J_CALL)}[self.genes]

    @property
    def columns(self) -> tuple[str, ...]:
        """The contig-table columns :func:`tcrtrack.tl.clonotypes` (with its filter) reads
        for this definition.

        A reader given these columns only (``tt.io.read(path, columns=spec.columns)``) yields
        the same :class:`~tcrtrack.tl.CloneCounts`, faster.

        Examples
        --------
        >>> ClonotypeSpec(genes="v").columns[-1]
        'v_call'
        """
        return (
            s.SAMPLE,
            s.CELL_ID,
            s.LOCUS,
            s.JUNCTION,
            s.JUNCTION_AA,
            s.PRODUCTIVE,
            s.IS_CELL,
            s.HIGH_CONFIDENCE,
            s.UMI_COUNT,
            s.CONSENSUS_COUNT,
            s.DUPLICATE_COUNT,
            *self.gene_columns,
        )

    def __str__(self) -> str:
        seq = "junction nucleotides" if self.sequence == "nt" else "junction amino acids"
        what = "allele" if self.alleles else "gene"
        genes = {"none": "", "v": f" + V {what}", "vj": f" + V and J {what}s"}[self.genes]
        return f"{self.locus} {seq}{genes}, multichain={self.multichain}"
