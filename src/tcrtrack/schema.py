"""Column names and value sets of tcrtrack's tables: the only module that spells them.

The **contig table** is a :class:`pandas.DataFrame` with one row per contig (single-cell data)
or per sequence (bulk data), named after the AIRR Rearrangement standard:

=================== =========================================================================
column              meaning
=================== =========================================================================
``sample``          sample name (categorical)
``cell_id``         cell barcode; NA for bulk data
``locus``           ``TRA``, ``TRB``, ``TRG``, ``TRD``, ``IGH``, ... (categorical); 10x ``Multi``
                    is kept as ``Multi`` until :func:`tcrtrack.pp.filter_contigs` drops it
``junction``        CDR3 nucleotides including the conserved Cys and Phe/Trp codons
                    (10x ``cdr3_nt``)
``junction_aa``     translation of ``junction`` (10x ``cdr3``)
``v_call``          V gene (categorical); likewise ``d_call``, ``j_call``, ``c_call``
``productive``      whether the contig is productive (nullable boolean)
``sequence_id``     contig identifier (10x ``contig_id``), optional
``umi_count``       UMIs supporting the contig (10x ``umis``), optional
``consensus_count`` reads supporting the contig (10x ``reads``), optional
``duplicate_count`` bulk clone size (templates, reads or UMIs), optional
``is_cell``         10x cell call (nullable boolean), optional
``high_confidence`` 10x confidence call (nullable boolean), optional
=================== =========================================================================

Missing values are real NA, never the strings ``"None"`` or ``"nan"``. Extra columns survive.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

SAMPLE: Final = "sample"
CELL_ID: Final = "cell_id"
LOCUS: Final = "locus"
JUNCTION: Final = "junction"
JUNCTION_AA: Final = "junction_aa"
V_CALL: Final = "v_call"
D_CALL: Final = "d_call"
J_CALL: Final = "j_call"
C_CALL: Final = "c_call"
PRODUCTIVE: Final = "productive"
SEQUENCE_ID: Final = "sequence_id"
UMI_COUNT: Final = "umi_count"
CONSENSUS_COUNT: Final = "consensus_count"
DUPLICATE_COUNT: Final = "duplicate_count"
IS_CELL: Final = "is_cell"
HIGH_CONFIDENCE: Final = "high_confidence"
FULL_LENGTH: Final = "full_length"
CLONE_ID: Final = "clone_id"

#: Columns every contig table has.
REQUIRED_COLUMNS: Final = (
    SAMPLE,
    CELL_ID,
    LOCUS,
    JUNCTION,
    JUNCTION_AA,
    V_CALL,
    J_CALL,
    PRODUCTIVE,
)
#: Columns stored as categoricals.
CATEGORICAL_COLUMNS: Final = (SAMPLE, LOCUS, V_CALL, D_CALL, J_CALL, C_CALL)
#: Columns stored as nullable booleans.
BOOLEAN_COLUMNS: Final = (PRODUCTIVE, IS_CELL, HIGH_CONFIDENCE, FULL_LENGTH)
#: Columns stored as nullable integers.
INTEGER_COLUMNS: Final = (UMI_COUNT, CONSENSUS_COUNT, DUPLICATE_COUNT)
#: Columns stored as strings.
STRING_COLUMNS: Final = (CELL_ID, JUNCTION, JUNCTION_AA, SEQUENCE_ID, CLONE_ID)

#: Loci of T- and B-cell receptors, in the AIRR spelling.
LOCI: Final = ("TRA", "TRB", "TRG", "TRD", "IGH", "IGK", "IGL")
#: 10x writes ``Multi`` for a contig whose V, J and C genes come from different loci.
MULTI_LOCUS: Final = "Multi"

# Units a clone size can be counted in.
UNIT_CELLS: Final = "cells"
UNIT_TEMPLATES: Final = "templates"
UNIT_READS: Final = "reads"
UNIT_UMIS: Final = "umis"
UNITS: Final = (UNIT_CELLS, UNIT_TEMPLATES, UNIT_READS, UNIT_UMIS)
#: Units whose counts are overdispersed (two-step sampling: cells, then molecules).
OVERDISPERSED_UNITS: Final = (UNIT_READS, UNIT_UMIS)

#: Per-clone tests of change of :func:`tcrtrack.tl.track` (here so that the command line
#: derives its choices without importing the analysis modules).
TrackTest = Literal["fisher", "betabinomial"]
TRACK_TESTS: Final = get_args(TrackTest)

# The option sets of the analysis functions, here (like TrackTest) so that the command line
# derives its choices from them without importing the analysis modules.
#: Loci of a clonotype definition (:class:`tcrtrack.tl.ClonotypeSpec`).
LocusSpec = Literal["TRB", "TRA", "TRA+TRB", "TRG", "TRD", "TRG+TRD", "IGH"]
LOCUS_SPECS: Final = get_args(LocusSpec)
#: Sequence compared by a clonotype definition: nucleotides or amino acids.
SequenceSpec = Literal["nt", "aa"]
SEQUENCE_SPECS: Final = get_args(SequenceSpec)
#: Genes a clonotype definition also compares.
GenesSpec = Literal["none", "v", "vj"]
GENES_SPECS: Final = get_args(GenesSpec)
#: What a cell with two chains of the locus gets.
MultichainSpec = Literal["primary", "all", "drop"]
MULTICHAIN_SPECS: Final = get_args(MultichainSpec)
#: Metrics of :func:`tcrtrack.tl.overlap`: the first three on clonotype sets, the last two on
#: counts.
OverlapMetric = Literal["jaccard", "overlap", "sorensen", "morisita_horn", "cosine"]
OVERLAP_METRICS: Final = get_args(OverlapMetric)

#: Key under ``DataFrame.attrs`` holding the QC ledger of a contig table.
ATTRS_QC: Final = "tcrtrack_qc"
#: Key under ``DataFrame.attrs`` holding the clone-size unit of a contig table.
ATTRS_UNIT: Final = "tcrtrack_unit"
#: Key under ``DataFrame.attrs`` holding, for a table of several samples (``tt.pp.concat``), the
#: clone-size unit of each sample (``{sample: unit}``); samples may count in different units.
ATTRS_UNITS: Final = "tcrtrack_units"


def __dir__() -> list[str]:
    """The constants (not ``Final`` or ``annotations``, which this file only uses)."""
    return sorted(name for name in globals() if name.isupper())
