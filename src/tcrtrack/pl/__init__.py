"""Plotting computed results: ``tt.pl``. Functions take ``ax=``, return matplotlib objects."""

from tcrtrack.pl._stats_plots import overlap_heatmap, scatter, sharing_curve, track, upset, volcano

__all__ = [
    "overlap_heatmap",
    "scatter",
    "sharing_curve",
    "track",
    "upset",
    "volcano",
]
