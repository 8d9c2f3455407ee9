"""Format detection from a file's header."""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING

from tcrtrack.errors import FormatError
from tcrtrack.io import _files
from tcrtrack.io._registry import Format, formats

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Format", "detect", "known_formats", "read"]


def known_formats() -> list[Format]:
    """Every format :func:`read` can detect, in the order they are tried.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> [f.name for f in tt.io.known_formats()][:2]
    ['10x', 'airr']
    """
    return list(formats())


def detect(path: str | os.PathLike[str]) -> Format:
    """The format of ``path``, from its header line.

    A format matches when its header has every identifying column; failing that, when it
    has one of the format's alternative column sets (a minimal AIRR table: a junction field
    and a locus or gene call field). Failing that, a format
    of which the header has at least half the identifying columns (and more than any other
    format) is chosen, so that its reader can say exactly which required column is missing.
    Last, a generic clone table is recognised by the names of its columns (a junction and a
    count column under any of the names of :data:`~tcrtrack.io._registry.CLONE_TABLE_SYNONYMS`):
    it never takes a file that another format matches.

    Raises
    ------
    tcrtrack.errors.InputError
        The file is missing, a directory, unreadable or truncated.
    tcrtrack.errors.FormatError
        The file is empty or binary, or no known format matches; the message lists the
        columns seen and the formats known.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> tt.io.detect(tt.datasets.path("pbmc3_t_filtered")).name
    '10x'
    """
    p = _files.check_path(path)
    _, header = _files.sniff(p)
    columns = set(header)
    table = formats()
    for fmt in table:
        if fmt.matches(columns):
            return fmt
    for fmt in table:
        if fmt.matches_alternative(columns):
            return fmt
    scores = [len(set(f.signature) & columns) / len(f.signature) for f in table]
    best = max(scores, default=0.0)
    if best >= 0.5 and scores.count(best) == 1:
        return table[scores.index(best)]
    for fmt in table:
        if fmt.recognises(columns):
            return fmt
    shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
    known = "; ".join(f"{f.name} ({f.description}: {', '.join(f.signature)})" for f in table)
    msg = (
        f"{p}: unknown format: columns seen: {shown}. Known formats and the columns that "
        f"identify them: {known}. Check that this is a contig table, or rename its header "
        "columns to one of these"
    )
    raise FormatError(msg)


def read(
    path: str | os.PathLike[str],
    *,
    sample: str | None = None,
    format: str | None = None,
    columns: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read any supported file into a contig table, detecting its format from the header.

    Parameters
    ----------
    path
        The file.
    sample
        Sample name; default: the file name without extensions.
    format
        Skip detection and use this format (a name from :func:`known_formats`).
    columns
        Contig-table columns needed (default: all); readers that can skip the others do
        (the Cell Ranger reader), the others read every column.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read(tt.datasets.path("pbmc3_t_filtered"))
    >>> contigs["sample"].iloc[0]
    'vdj_nextgem_hs_pbmc3_t_filtered_contig_annotations'
    """
    fmt = detect(path) if format is None else by_name(format)
    return fmt.reader(path, sample=sample, columns=columns)


def by_name(name: str) -> Format:
    """The format called ``name``; an unknown name is a :class:`FormatError` listing the names."""
    for fmt in formats():
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in formats())
    msg = f"unknown format {name!r}; known formats: {known}"
    raise FormatError(msg)
