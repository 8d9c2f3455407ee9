"""Exceptions raised by tcrtrack.

Every error about what a user gave tcrtrack (a file, a table, an argument, a name) derives
from :class:`TcrtrackError`. Errors about values also derive from :class:`ValueError`, and
:class:`NotFoundError` from :class:`KeyError`, so ``except ValueError`` and ``except KeyError``
keep working. The command-line interface turns each of them into one line on stderr and exit
status 1; any other exception is a bug in tcrtrack (exit status 3). Warnings are
:class:`TcrtrackWarning`, one line on stderr each.
"""

__all__ = [
    "ClusterError",
    "EmptyError",
    "FormatError",
    "InputError",
    "NotFoundError",
    "ParameterError",
    "SchemaError",
    "TcrtrackError",
    "TcrtrackWarning",
    "UnitError",
]


class TcrtrackError(Exception):
    """Base class of all tcrtrack errors."""


class TcrtrackWarning(UserWarning):
    """Something legal but worth a look: a filter reason that removed a large share of a
    file's rows; Fisher's test asked for on read counts, whose p-values are not calibrated
    for overdispersed reads. The command-line interface prints it as one line on stderr."""


class InputError(TcrtrackError, OSError):
    """A file cannot be opened or read (missing, a directory, unreadable, truncated)."""


class ClusterError(TcrtrackError, ConnectionError):
    """A Dask scheduler cannot be reached, or its workers failed while running a task."""


class FormatError(TcrtrackError, ValueError):
    """A file's content is not in a format tcrtrack knows, or is malformed."""


class SchemaError(TcrtrackError, ValueError):
    """A table lacks a required column or holds values of the wrong kind."""


class ParameterError(TcrtrackError, ValueError):
    """An argument's value is not allowed (out of range, unknown option, inconsistent)."""


class UnitError(TcrtrackError, ValueError):
    """Samples counted in different units (templates, reads, UMIs, cells) given to an analysis
    that compares counts across samples, or a unit impossible for a sample (a unit other than
    cells for single-cell data). The message names the samples, their files and units."""


class EmptyError(TcrtrackError, ValueError):
    """Nothing to analyse: no table given, or a sample left without clonotypes."""


class NotFoundError(TcrtrackError, KeyError):
    """A name (sample, patient, clonotype, data set) is not among those known.

    Unlike a plain :class:`KeyError`, ``str()`` gives the message without quotes.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
