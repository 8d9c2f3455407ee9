"""Reading and writing TCR data: ``tt.io``.

Every reader returns a contig table (see :mod:`tcrtrack.schema`) whose QC ledger records the
rows read.
"""

from tcrtrack.io._airr import read_airr, write_airr
from tcrtrack.io._detect import detect, known_formats, read
from tcrtrack.io._tenx import read_10x

__all__ = ["detect", "known_formats", "read", "read_10x", "read_airr", "write_airr"]
