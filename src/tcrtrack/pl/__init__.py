"""Plotting computed results: ``tt.pl``. Functions take ``ax=``, return matplotlib objects."""

from tcrtrack.pl._venn import venn, venn_region_id

__all__ = ["venn", "venn_region_id"]
