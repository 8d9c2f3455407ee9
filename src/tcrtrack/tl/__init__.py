"""Computing on clonotypes: ``tt.tl``."""

from tcrtrack.tl._annotate import annotate
from tcrtrack.tl._clonotypes import clonotypes
from tcrtrack.tl._counts import CloneCounts
from tcrtrack.tl._diversity import Diversity, diversity
from tcrtrack.tl._overlap import intersections, overlap
from tcrtrack.tl._persist import Persistence, persist
from tcrtrack.tl._rarefy import Rarefaction, SharingCurve, rarefy, sharing_curve
from tcrtrack.tl._sharing import Sharing, VennRegions, shared_clonotypes, sharing, venn_regions
from tcrtrack.tl._spec import ClonotypeSpec
from tcrtrack.tl._track import Track, track

__all__ = [
    "CloneCounts",
    "ClonotypeSpec",
    "Diversity",
    "Persistence",
    "Rarefaction",
    "Sharing",
    "SharingCurve",
    "Track",
    "VennRegions",
    "annotate",
    "clonotypes",
    "diversity",
    "intersections",
    "overlap",
    "persist",
    "rarefy",
    "shared_clonotypes",
    "sharing",
    "sharing_curve",
    "track",
    "venn_regions",
]
