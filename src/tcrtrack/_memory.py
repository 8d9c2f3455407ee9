"""Keeping the resident memory of large runs close to the memory in use.

Two allocators hold a run's data: Arrow's pool (mimalloc) and the C library's ``malloc``
(numpy). Each keeps memory freed by its own users for later reuse, which the other cannot
reuse: at 3 x 1M cells, several hundred MB between one file's digest and the next file's parse
(docs/performance.md, "Memory at 3 x 1M cells"). For tables of :data:`LARGE_ROWS` rows or
more, the steps that free much give it back (:func:`release_memory`).
"""

from __future__ import annotations

import functools
import sys
from typing import Final

import pyarrow as pa

#: Tables of at least this many rows give the memory their steps freed back to the system;
#: for smaller ones it would cost more time than it saves memory.
LARGE_ROWS: Final = 1 << 20


@functools.cache
def _libc() -> object | None:
    """The C library when it is glibc (``malloc_trim``), else None (looked up once)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl)
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_memory(*, trim: bool = True) -> None:
    """Give freed memory back to the system: the blocks Arrow's pool keeps and, with
    ``trim``, the free memory of the C library's heaps (``malloc_trim``)."""
    pa.default_memory_pool().release_unused()
    if trim:
        libc = _libc()
        if libc is not None:
            libc.malloc_trim(0)  # type: ignore[attr-defined]
