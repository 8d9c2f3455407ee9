"""Exceptions raised by tcrtrack.

Every exception derives from :class:`TcrtrackError`. Errors about the content or shape of
input data also derive from :class:`ValueError`, so ``except ValueError`` keeps working.
The command-line interface turns each of them into one line on stderr and exit status 1.
"""

from __future__ import annotations

__all__ = ["FormatError", "InputError", "SchemaError", "TcrtrackError"]


class TcrtrackError(Exception):
    """Base class of all tcrtrack errors."""


class InputError(TcrtrackError, OSError):
    """A file cannot be opened or read (missing, a directory, unreadable, truncated)."""


class FormatError(TcrtrackError, ValueError):
    """A file's content is not in a format tcrtrack knows, or is malformed."""


class SchemaError(TcrtrackError, ValueError):
    """A table lacks a required column or holds values of the wrong kind."""
