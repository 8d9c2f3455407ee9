"""One self-contained HTML page of tables and figures: ``tt.report``.

:func:`build` calls the :mod:`tcrtrack.tl` functions and :mod:`tcrtrack.pl` plots on one
:class:`~tcrtrack.tl.CloneCounts` and lays their results out as a page that opens offline
(figures embedded as SVG, no script, no external link).
"""

from tcrtrack.report._build import Report, build

__all__ = ["Report", "build"]
