"""Preparing contig tables: ``tt.pp``."""

from tcrtrack._contigs import concat
from tcrtrack.pp._chain_qc import chain_qc
from tcrtrack.pp._filter import filter_contigs

__all__ = [
    "chain_qc",
    "concat",
    "filter_contigs",
]
