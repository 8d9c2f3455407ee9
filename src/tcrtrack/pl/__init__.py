"""Plotting computed results: ``tt.pl``. Every function takes ``ax=`` and returns matplotlib objects."""

__all__: list[str] = []
