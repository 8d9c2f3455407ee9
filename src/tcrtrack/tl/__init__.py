"""Computing on clonotypes: ``tt.tl``."""

from tcrtrack.tl._clonotypes import CloneCounts, clonotypes
from tcrtrack.tl._sharing import Sharing, VennRegions, shared_clonotypes, sharing, venn_regions
from tcrtrack.tl._spec import ClonotypeSpec

__all__ = [
    "CloneCounts",
    "ClonotypeSpec",
    "Sharing",
    "VennRegions",
    "clonotypes",
    "shared_clonotypes",
    "sharing",
    "venn_regions",
]
