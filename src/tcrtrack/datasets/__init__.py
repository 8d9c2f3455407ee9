"""Bundled data and simulated patients: ``tt.datasets``."""

from tcrtrack.datasets._bundled import available, path
from tcrtrack.datasets._simulate import SimulatedPatient, simulate_patient

__all__ = [
    "SimulatedPatient",
    "available",
    "path",
    "simulate_patient",
]
