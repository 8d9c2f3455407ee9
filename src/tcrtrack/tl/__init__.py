"""Computing on clonotypes: ``tt.tl``."""

from tcrtrack.tl._clonotypes import CloneCounts, clonotypes
from tcrtrack.tl._spec import ClonotypeSpec

__all__ = sorted(["CloneCounts", "ClonotypeSpec", "clonotypes"])
