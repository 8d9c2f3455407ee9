"""tcrtrack: did the T-cell clones we infused persist in the patient, how many, how large?

>>> import tcrtrack as tt
>>> tt.__version__
'...'

Namespaces: :mod:`tcrtrack.io` reads files into contig tables, :mod:`tcrtrack.pp` filters
them, :mod:`tcrtrack.tl` computes clonotypes and metrics, :mod:`tcrtrack.pl` plots,
:mod:`tcrtrack.datasets` provides bundled and simulated data, :mod:`tcrtrack.report` builds
one HTML page of tables and figures, :mod:`tcrtrack.cohort` keeps a whole cohort's clonotypes
in a store and queries it on local processes or a Dask cluster. Heavy libraries (matplotlib,
scipy, anndata) are imported only when a function needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tcrtrack._version import __version__

if TYPE_CHECKING:
    from tcrtrack import cohort, datasets, errors, io, pl, pp, report, schema, tl
    from tcrtrack._qc import QCLedger

__all__ = [
    "QCLedger",
    "__version__",
    "cohort",
    "datasets",
    "errors",
    "io",
    "pl",
    "pp",
    "qc",
    "report",
    "schema",
    "tl",
]

_SUBMODULES = {"cohort", "datasets", "errors", "io", "pl", "pp", "report", "schema", "tl"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"tcrtrack.{name}")
    if name == "QCLedger":
        from tcrtrack._qc import QCLedger

        return QCLedger
    msg = f"module 'tcrtrack' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    """The public names (also the namespaces not imported yet), not the helpers of this file."""
    return sorted(__all__)


def qc(obj: Any) -> QCLedger:
    """The QC ledger of a contig table or of a result that carries one (``.qc``).

    Examples
    --------
    >>> import tcrtrack as tt
    >>> contigs = tt.io.read_10x(tt.datasets.path("pbmc3_t_filtered"), sample="pbmc3")
    >>> tt.qc(contigs).count("pbmc3", action="read")
    4004
    """
    from tcrtrack._qc import QCLedger, ledger_of

    ledger = getattr(obj, "qc", None)
    if isinstance(ledger, QCLedger):
        return ledger
    return ledger_of(obj)
