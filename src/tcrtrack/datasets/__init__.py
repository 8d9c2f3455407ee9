"""Bundled data and simulated patients: ``tt.datasets``."""

from tcrtrack.datasets._bundled import available, path

__all__ = [
    "available",
    "path",
]
