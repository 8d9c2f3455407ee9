"""Plotting computed results: ``tt.pl``. Functions take ``ax=``, return matplotlib objects."""

__all__: list[str] = []
