"""Public names of a package imported from their modules on first use.

``tt.io`` and ``tt.tl`` list their public names in ``__all__`` and where each is defined; the
module-level ``__getattr__`` made here imports that module when a name is first looked up (so
``tcrtrack share`` does not load the code of the other commands) and stores the value in the
package, so the next look-up is a plain attribute.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_names(
    package: str, where: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public ``names`` are defined
    in its submodules ``where[name]``.

    >>> getattr_, dir_ = lazy_names("tcrtrack.tl", {"ClonotypeSpec": "_spec"}, ["ClonotypeSpec"])
    >>> getattr_("ClonotypeSpec").__name__, dir_()
    ('ClonotypeSpec', ['ClonotypeSpec'])
    """

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next look-up is a plain attribute
        return value

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__
