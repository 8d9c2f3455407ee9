"""Rendering of the report: the page, its tables (escaped) and its figures (inline SVG)."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tcrtrack._version import __version__
from tcrtrack.report._text import STYLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SECTIONS", "Report", "figure", "page", "table"]

#: Section headings, in page order (ids are the keys); a section without content is left out
#: (``public`` is there only with a background or Pgen).
SECTIONS = {
    "header": "Input and settings",
    "qc": "QC ledger",
    "samples": "Clonotypes and cells per sample",
    "diversity": "Diversity of each sample",
    "sharing": "Sharing with the reference",
    "rarefied": "Rarefied sharing (depth-fair)",
    "regions": "Shared clonotypes between samples",
    "track": "Top clones of the reference over samples",
    "persistence": "Persistence: detection, origin, recapture, trajectories",
    "overlap": "Repertoire overlap (Morisita–Horn)",
    "public": "Public clones (background donors, generation probability)",
    "definitions": "Definitions",
}


@dataclass(frozen=True)
class Report:
    """A report page.

    Attributes
    ----------
    html
        The whole page: one self-contained HTML document (figures embedded, no script,
        no external link).
    fragment
        The page's content without ``<html>``/``<head>``, for embedding (the notebook view).
    title
        The page title (unescaped).
    omitted
        Each section left out, by its heading, with the reason the page gives in its place
        (samples counted in different units: the message of the
        :class:`~tcrtrack.errors.UnitError` the analysis raised); empty when the page has
        every section. ``tcrtrack report`` prints one line per entry on stderr.
    """

    html: str
    fragment: str
    title: str
    omitted: Mapping[str, str] = field(default_factory=dict)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path: through a temporary file
        in the same folder, renamed over ``path`` when complete (the writer of the command
        line, :func:`tcrtrack._atomic.write_atomic`), so a failed write leaves the previous
        page or none, never half of one.

        Raises
        ------
        tcrtrack.errors.InputError
            The file cannot be written (its folder is missing or not writable, the disk is
            full).
        """
        from tcrtrack._atomic import write_atomic

        return write_atomic(path, lambda tmp: tmp.write_text(self.html, encoding="utf-8"))

    def __repr__(self) -> str:
        return f"Report({self.title!r}, {len(self.html):,} characters; .write(path) saves it)"

    def _repr_html_(self) -> str:
        return self.fragment


def table(frame: pd.DataFrame) -> str:
    """An escaped HTML table of ``frame`` (numbers formatted with thousands separators)."""
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_integer_dtype(shown[col].dtype):
            shown[col] = shown[col].map(lambda v: f"{int(v):,}")
    if shown.index.name is not None:  # the index name as the corner cell, not a second row
        shown.columns = pd.MultiIndex.from_arrays([list(map(str, shown.columns))])
        shown.columns.names = [str(shown.index.name)]
        shown.index.name = None
    html = shown.to_html(escape=True, border=0, na_rep="NA")
    return f'<div class="scroll">{html}</div>'


def figure(draw: Callable[[Axes], Any], caption: str, size: tuple[float, float]) -> str:
    """Draw with ``draw(ax)`` on a new Agg figure; embed it as a base64 SVG ``<img>``."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # a fixed salt makes the SVG ids, hence the page, the same on every run
    with matplotlib.rc_context({"svg.hashsalt": "tcrtrack"}):
        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        fig.clear()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img alt="{escape(caption)}" src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def page(title: str, parts: dict[str, str], omitted: Mapping[str, str] | None = None) -> Report:
    nav = "".join(
        f'<li><a href="#{key}">{escape(heading)}</a></li>'
        for key, heading in SECTIONS.items()
        if key in parts
    )
    body = "".join(
        f'<section id="{key}"><h2>{escape(SECTIONS[key])}</h2>{parts[key]}</section>'
        for key in SECTIONS
        if key in parts
    )
    fragment = (
        f'<div class="tcrtrack-report"><style>{STYLE}</style><h1>{escape(title)}</h1>'
        f"<nav><ol>{nav}</ol></nav>{body}</div>"
    )
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="tcrtrack {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )
    return Report(html=html, fragment=fragment, title=title, omitted=dict(omitted or {}))
