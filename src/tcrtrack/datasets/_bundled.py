"""Small real files shipped inside the package, for examples and doctests.

Provenance and licences: ``src/tcrtrack/datasets/_data/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from tcrtrack.errors import NotFoundError

_DIR: Final = Path(__file__).parent / "_data"

#: Name -> (file, description)
_FILES: Final = {
    "pbmc3_t_filtered": (
        "vdj_nextgem_hs_pbmc3_t_filtered_contig_annotations.csv.gz",
        "10x Genomics public PBMC T-cell VDJ run (Cell Ranger 3.x layout), filtered contigs",
    ),
}


def available() -> dict[str, str]:
    """Names of the bundled files with a one-line description."""
    return {name: desc for name, (_, desc) in _FILES.items()}


def path(name: str) -> Path:
    """Path of a bundled file.

    Examples
    --------
    >>> import tcrtrack as tt
    >>> tt.datasets.path("pbmc3_t_filtered").name
    'vdj_nextgem_hs_pbmc3_t_filtered_contig_annotations.csv.gz'
    """
    if name not in _FILES:
        msg = f"unknown bundled data set {name!r}; available: {', '.join(_FILES)}"
        raise NotFoundError(msg)
    return _DIR / _FILES[name][0]
