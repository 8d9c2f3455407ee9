"""Cohorts beyond one machine: ``tt.cohort``.

A clonotype store (:func:`build`, :func:`open_store`) holds one row per sample × clonotype of
a whole cohort in Parquet files partitioned by a hash of the clonotype; queries
(:func:`query`, :func:`overlap`) run one task per partition, on a local process pool or a Dask
cluster (``scheduler=``).
"""

from tcrtrack.cohort._background import Background, background, pgen, shared_publicity
from tcrtrack.cohort._query import CohortOverlap, CohortQuery, overlap, query
from tcrtrack.cohort._sharing import near_sharing
from tcrtrack.cohort._store import BuildResult, Store, build, open_store

__all__ = [
    "Background",
    "BuildResult",
    "CohortOverlap",
    "CohortQuery",
    "Store",
    "background",
    "build",
    "near_sharing",
    "open_store",
    "overlap",
    "pgen",
    "query",
    "shared_publicity",
]
