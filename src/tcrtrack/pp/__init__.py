"""Preparing contig tables: ``tt.pp``."""

from tcrtrack.pp._chain_qc import chain_qc
from tcrtrack.pp._filter import concat, filter_contigs

__all__ = [
    "chain_qc",
    "concat",
    "filter_contigs",
]
