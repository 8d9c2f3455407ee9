"""The one writer of tcrtrack's outputs: a temporary file in the target's folder, renamed over
the target when complete, so an interrupted or failed write (Ctrl-C, a full disk) leaves the
previous file or none, never half of one. The command line and the library (``Report.write``,
``tt.io.write_table``, ``tt.io.write_airr``) write through it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tcrtrack.errors import InputError

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path`` (same folder, same suffix, so a
    writer that reads the compression from the suffix still sees ``.gz``), then rename it over
    ``path`` with the permissions the file had (or the umask's for a new file).

    Raises
    ------
    tcrtrack.errors.InputError
        The folder is missing or not writable, or writing failed (the message says that any
        previous file is unchanged).

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> write_atomic(out, lambda tmp: tmp.write_text("hello")).read_text()
    'hello'
    """
    target = Path(path)
    try:
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix
        )
    except OSError as e:
        msg = (
            f"{str(target)!r}: cannot write ({e.strerror or e}); check that the folder exists "
            "and is writable, or choose another path"
        )
        raise InputError(msg) from e
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        tmp.chmod(mode)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        msg = (
            f"{str(target)!r}: cannot write ({e.strerror or e}); any previous file is "
            "unchanged: free space or choose another path"
        )
        raise InputError(msg) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
