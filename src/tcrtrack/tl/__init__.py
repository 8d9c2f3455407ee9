"""Computing on clonotypes: ``tt.tl``.

The names are imported from their modules on first use (module-level ``__getattr__``), so
that a command which needs only :func:`clonotypes` and :func:`sharing` does not load the
modules (and libraries) of the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tcrtrack._lazy import lazy_names

if TYPE_CHECKING:
    from tcrtrack.tl._annotate import annotate
    from tcrtrack.tl._bulk import BulkClonotypes, bulk_clonotypes, is_bulk_table
    from tcrtrack.tl._clonotypes import clonotypes
    from tcrtrack.tl._counts import CloneCounts
    from tcrtrack.tl._diversity import Diversity, diversity
    from tcrtrack.tl._overlap import intersections, overlap
    from tcrtrack.tl._persist import Persistence, persist
    from tcrtrack.tl._rarefy import Rarefaction, SharingCurve, rarefy, sharing_curve
    from tcrtrack.tl._sharing import Sharing, VennRegions, shared_clonotypes, sharing, venn_regions
    from tcrtrack.tl._spec import ClonotypeSpec
    from tcrtrack.tl._track import Track, track

#: Public name -> the module that defines it.
_WHERE = {
    "BulkClonotypes": "_bulk",
    "CloneCounts": "_counts",
    "ClonotypeSpec": "_spec",
    "Diversity": "_diversity",
    "Persistence": "_persist",
    "Rarefaction": "_rarefy",
    "Sharing": "_sharing",
    "SharingCurve": "_rarefy",
    "Track": "_track",
    "VennRegions": "_sharing",
    "annotate": "_annotate",
    "bulk_clonotypes": "_bulk",
    "clonotypes": "_clonotypes",
    "diversity": "_diversity",
    "intersections": "_overlap",
    "is_bulk_table": "_bulk",
    "overlap": "_overlap",
    "persist": "_persist",
    "rarefy": "_rarefy",
    "shared_clonotypes": "_sharing",
    "sharing": "_sharing",
    "sharing_curve": "_rarefy",
    "track": "_track",
    "venn_regions": "_sharing",
}

__all__ = [
    "BulkClonotypes",
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
    "bulk_clonotypes",
    "clonotypes",
    "diversity",
    "intersections",
    "is_bulk_table",
    "overlap",
    "persist",
    "rarefy",
    "shared_clonotypes",
    "sharing",
    "sharing_curve",
    "track",
    "venn_regions",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
