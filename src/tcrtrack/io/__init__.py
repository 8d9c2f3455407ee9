"""Reading and writing TCR data: ``tt.io``.

Every reader returns a contig table (see :mod:`tcrtrack.schema`) whose QC ledger records the
rows read.

The names are imported from their modules on first use (module-level ``__getattr__``), so
that a command reading Cell Ranger files does not load the other readers (and pandas).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tcrtrack._lazy import lazy_names

if TYPE_CHECKING:
    from tcrtrack.io._airr import read_airr, write_airr
    from tcrtrack.io._bulk import read_immunoseq
    from tcrtrack.io._clonetable import read_clone_table
    from tcrtrack.io._clonotypes10x import read_10x_clonotypes
    from tcrtrack.io._detect import detect, known_formats, read
    from tcrtrack.io._each import ContigFiles, read_each
    from tcrtrack.io._files import file_digest, sample_name
    from tcrtrack.io._mixcr import read_mixcr
    from tcrtrack.io._paired import read_paired
    from tcrtrack.io._scirpy import from_scirpy
    from tcrtrack.io._sheet import SampleSheet, read_sheet
    from tcrtrack.io._tenx import read_10x
    from tcrtrack.io._vdjtools import read_vdjtools
    from tcrtrack.io._write import write_counts, write_table

#: Public name -> the module that defines it.
_WHERE = {
    "ContigFiles": "_each",
    "SampleSheet": "_sheet",
    "detect": "_detect",
    "file_digest": "_files",
    "from_scirpy": "_scirpy",
    "known_formats": "_detect",
    "read": "_detect",
    "read_10x": "_tenx",
    "read_10x_clonotypes": "_clonotypes10x",
    "read_airr": "_airr",
    "read_clone_table": "_clonetable",
    "read_each": "_each",
    "read_immunoseq": "_bulk",
    "read_mixcr": "_mixcr",
    "read_paired": "_paired",
    "read_sheet": "_sheet",
    "read_vdjtools": "_vdjtools",
    "sample_name": "_files",
    "write_airr": "_airr",
    "write_counts": "_write",
    "write_table": "_write",
}

__all__ = [
    "ContigFiles",
    "SampleSheet",
    "detect",
    "file_digest",
    "from_scirpy",
    "known_formats",
    "read",
    "read_10x",
    "read_10x_clonotypes",
    "read_airr",
    "read_clone_table",
    "read_each",
    "read_immunoseq",
    "read_mixcr",
    "read_paired",
    "read_sheet",
    "read_vdjtools",
    "sample_name",
    "write_airr",
    "write_counts",
    "write_table",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
