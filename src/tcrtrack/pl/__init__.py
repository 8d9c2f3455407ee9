"""Plotting computed results: ``tt.pl``. Functions take ``ax=``, return matplotlib objects.

Plot functions take results computed by :mod:`tcrtrack.tl` and never recompute them.
"""

from tcrtrack.pl._persist_plots import origin, recapture, trajectories
from tcrtrack.pl._stats_plots import overlap_heatmap, scatter, sharing_curve, track, upset, volcano
from tcrtrack.pl._venn import venn, venn_region_id

__all__ = [
    "origin",
    "overlap_heatmap",
    "recapture",
    "scatter",
    "sharing_curve",
    "track",
    "trajectories",
    "upset",
    "venn",
    "venn_region_id",
    "volcano",
]
