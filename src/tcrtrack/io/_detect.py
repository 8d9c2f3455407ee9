"""Format detection from a file's header."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Final

import pandas as pd

from tcrtrack.errors import FormatError
from tcrtrack.io import _files


@dataclass(frozen=True)
class Format:
    """A format tcrtrack reads: its name, the header columns that identify it, its reader."""

    name: str
    description: str
    signature: tuple[str, ...]
    reader: Callable[..., pd.DataFrame]


def _formats() -> list[Format]:
    from tcrtrack.io._airr import read_airr
    from tcrtrack.io._tenx import TENX_SIGNATURE, read_10x

    return [
        Format("10x", "Cell Ranger contig annotations (CSV)", TENX_SIGNATURE, read_10x),
        Format(
            "airr",
            "AIRR Rearrangement TSV",
            ("sequence_id", "v_call", "junction_aa", "productive"),
            read_airr,
        ),
        *EXTRA_FORMATS,
    ]


#: Formats registered by other modules (bulk, paired); checked after 10x and AIRR.
EXTRA_FORMATS: Final[list[Format]] = []


def known_formats() -> list[Format]:
    """Every format :func:`read` can detect, in the order they are tried."""
    return _formats()


def detect(path: str | os.PathLike[str]) -> Format:
    """The format of ``path``, from its header line.

    A format matches when its header has every identifying column. Failing that, a format
    of which the header has at least half the identifying columns (and more than any other
    format) is chosen, so that its reader can say exactly which required column is missing.

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
    formats = _formats()
    for fmt in formats:
        if set(fmt.signature) <= columns:
            return fmt
    scores = [len(set(f.signature) & columns) / len(f.signature) for f in formats]
    best = max(scores, default=0.0)
    if best >= 0.5 and scores.count(best) == 1:
        return formats[scores.index(best)]
    shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
    known = "; ".join(f"{f.name} ({f.description}: {', '.join(f.signature)})" for f in formats)
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
        Contig-table columns needed (default: all); readers that support it skip the others.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read(tt.datasets.path("pbmc3_t_filtered"))
    >>> contigs["sample"].iloc[0]
    'vdj_nextgem_hs_pbmc3_t_filtered_contig_annotations'
    """
    if format is None:
        fmt = detect(path)
    else:
        by_name = {f.name: f for f in _formats()}
        if format not in by_name:
            msg = f"unknown format {format!r}; known formats: {', '.join(by_name)}"
            raise FormatError(msg)
        fmt = by_name[format]
    if columns is not None and "columns" in inspect.signature(fmt.reader).parameters:
        return fmt.reader(path, sample=sample, columns=columns)  # type: ignore[call-arg]
    return fmt.reader(path, sample=sample)
