"""Many files read one at a time: ``tt.io.read_each`` and :class:`ContigFiles`."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tcrtrack.errors import NotFoundError, ParameterError
from tcrtrack.io._detect import detect, read
from tcrtrack.io._files import sample_name

__all__ = ["ContigFiles", "read_each"]

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

T = TypeVar("T")

#: Files listed by ``repr`` before "... and N more".
_SHOWN = 6


@dataclass(frozen=True)
class ContigFiles:
    """Files named for their samples, read one at a time: what :func:`read_each` returns.

    Nothing is read until the object is iterated; each pass reads the files again, one contig
    table per file in order (so it can be passed to :func:`tcrtrack.tl.clonotypes` more than
    once, and a second pass gives the same tables). With ``read_ahead``, the next file is parsed
    in a background thread while the caller works on the current table, unless it is larger
    than 64 MB on disk: at most two files are in memory at once, and at most one large one.

    Attributes
    ----------
    paths
        The files, in order.
    samples
        The sample name of each file (the file name without extensions unless given).
    columns
        The contig-table columns read (None: all).
    read_ahead
        Parse the next file while the current one is used (files up to 64 MB on disk).
    """

    paths: tuple[Path, ...]
    samples: tuple[str, ...]
    columns: tuple[str, ...] | None = None
    read_ahead: bool = True

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self._each(read)

    def parsed(self) -> Iterator[pa.Table | pd.DataFrame]:
        """Each file as parsed, for :func:`tcrtrack.tl.clonotypes`'s engine: an Arrow table
        with the contig table's columns (its QC ledger and unit in the schema metadata; no
        DataFrame is built) for every format with an Arrow-stage reader (all of
        :func:`tcrtrack.io.known_formats`), else the contig table :func:`read` returns. Read
        one at a time like iterating the object."""
        return self._each(_parse)

    def _each(self, reader: Callable[..., T]) -> Iterator[T]:
        jobs = list(zip(self.paths, self.samples, strict=True))
        if not self.read_ahead or len(jobs) < 2:
            for p, x in jobs:
                yield reader(p, sample=x, columns=self.columns)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(reader, jobs[0][0], sample=jobs[0][1], columns=self.columns)
            for i in range(len(jobs)):
                table = pending.result()
                ahead = i + 1 < len(jobs) and _small(jobs[i + 1][0])
                if ahead:
                    p, x = jobs[i + 1]
                    pending = pool.submit(reader, p, sample=x, columns=self.columns)
                yield table
                del table
                if i + 1 < len(jobs) and not ahead:  # a large file: read after this one
                    p, x = jobs[i + 1]
                    pending = pool.submit(reader, p, sample=x, columns=self.columns)

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, sample: str) -> pd.DataFrame:
        """The contig table of one sample's file (read now, with the same columns).

        Raises
        ------
        tcrtrack.errors.NotFoundError
            No file has that sample name; the message lists the names.
        """
        if sample not in self.samples:
            msg = f"no file of sample {sample!r}; samples: {', '.join(self.samples)}"
            raise NotFoundError(msg)
        i = self.samples.index(sample)
        return read(self.paths[i], sample=sample, columns=self.columns)

    def to_frame(self) -> pd.DataFrame:
        """One row per file: ``sample`` and ``path`` (nothing is read)."""
        import pandas as pd

        return pd.DataFrame({"sample": list(self.samples), "path": [str(p) for p in self.paths]})

    def __repr__(self) -> str:
        listed = [f"{x!r}: {str(p)!r}" for x, p in zip(self.samples, self.paths, strict=True)]
        if len(listed) > _SHOWN:
            listed = [*listed[:_SHOWN], f"... and {len(listed) - _SHOWN} more"]
        columns = "" if self.columns is None else f", {len(self.columns)} columns"
        return (
            f"ContigFiles({len(self)} file(s), read one at a time{columns}: "
            + "{"
            + ", ".join(listed)
            + "})"
        )

    def _repr_html_(self) -> str:
        columns = "" if self.columns is None else f"; columns: {', '.join(self.columns)}"
        return (
            f"<p><b>ContigFiles</b>: {len(self)} file(s), read one at a time when iterated"
            f"{escape(columns)}</p>" + self.to_frame().to_html(index=False)
        )


#: Files larger than this (bytes on disk) are not read ahead: two large files in memory at
#: once would cost more memory than the overlap saves time (docs/performance.md).
READ_AHEAD_LIMIT = 64 << 20


def _small(path: Path) -> bool:
    """Whether ``path`` may be parsed while the previous file is used (named pipes and
    streams, whose size is unknown, are)."""
    try:
        return path.stat().st_size <= READ_AHEAD_LIMIT
    except OSError:
        return True  # the reader will say what is wrong with it


def _parse(path: Path, *, sample: str, columns: Collection[str] | None) -> pa.Table | pd.DataFrame:
    """One file for :meth:`ContigFiles.parsed`: the format's Arrow-stage reader
    (:attr:`~tcrtrack.io._registry.Format.parse`; every format has one), else its reader."""
    fmt = detect(path)
    parse = fmt.parse if fmt.parse is not None else fmt.reader
    return parse(path, sample=sample, columns=columns)


def read_each(
    paths: Sequence[str | os.PathLike[str]],
    *,
    samples: Sequence[str] | None = None,
    columns: Collection[str] | None = None,
    read_ahead: bool = True,
) -> ContigFiles:
    """Name files for their samples, to be read one after the other.

    Returns a :class:`ContigFiles`: nothing is read yet. Iterating it yields one contig
    table per file (any format :func:`read` detects), and every pass reads the files again.
    Pass it to :func:`tcrtrack.tl.clonotypes`, which reduces each table to integer codes
    before asking for the next one, so only one file's rows (two with ``read_ahead``) are in
    memory at a time.

    Parameters
    ----------
    paths
        The files (any format :func:`read` detects).
    samples
        One sample name per file; default: the file names without extensions.
    columns
        Contig-table columns needed (default: all), as for :func:`read`.
    read_ahead
        Parse the next file while the current one is being used, unless it is larger than
        64 MB on disk (two large files at once would cost more memory than the overlap saves
        time).

    Raises
    ------
    tcrtrack.errors.ParameterError
        Not one sample name per file, or a sample name given twice.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> path = tt.datasets.path("pbmc3_t_filtered")
    >>> files = tt.io.read_each([path, path], samples=["a", "b"])
    >>> len(files), files.samples
    (2, ('a', 'b'))
    >>> tt.tl.clonotypes(files).samples
    ('a', 'b')
    >>> [len(table) for table in files]  # read again, one table per file
    [4004, 4004]
    """
    files = tuple(Path(p) for p in paths)
    names = tuple(samples) if samples is not None else tuple(sample_name(p) for p in files)
    if len(names) != len(files):
        msg = (
            f"read_each: {len(files)} file(s) but {len(names)} sample name(s); "
            "give one sample name per file, in the same order"
        )
        raise ParameterError(msg)
    twice = sorted({x for x in names if names.count(x) > 1})
    if twice:
        msg = (
            f"read_each: sample name(s) {', '.join(map(repr, twice))} given to more than one "
            "file; give each file its own sample name (samples=)"
        )
        raise ParameterError(msg)
    return ContigFiles(
        paths=files,
        samples=tuple(str(x) for x in names),
        columns=None if columns is None else tuple(columns),
        read_ahead=read_ahead,
    )
