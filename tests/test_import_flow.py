"""The flow runs one way: files → ``io`` → ``pp`` → ``tl`` → ``pl`` → ``report`` / ``cli``.

The test reads every module of ``src/tcrtrack`` with :mod:`ast` (so imports inside functions and
under ``TYPE_CHECKING`` count too) and checks three rules:

1. **No arrow up the flow.** A package imports only packages below it: ``io`` and
   ``datasets`` (the sources) nothing but the base modules, ``pp`` also ``io``, ``tl`` also
   ``pp``, ``pl`` also ``tl``, ``report`` also ``pl``, ``cli`` everything. The base modules at
   the top of the package (``schema``, ``errors``, ``_qc``, ``_contigs``, ...) import only each
   other. ``tcrtrack/__init__.py`` (the lazy namespace) and ``__main__.py`` are the entry points
   and exempt.
2. **What one package needs from another is public there.** Across packages, no import names a
   private module (``tcrtrack.tl._sharing``) or a private name (``_check_reference``): it goes
   through the package's ``__init__`` (``from tcrtrack.tl import Track``). The base modules are
   shared by all packages, so their modules may be private, but their private names are not
   imported from outside. Within one package, private modules and names are free.
3. **No import circle** between two modules, counting imports made inside functions (a circle
   hidden in a function still ties the two modules together).

``import tcrtrack as tt`` followed by ``tt.pp.concat`` counts as an import of ``tcrtrack.pp``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import tcrtrack

SRC = Path(tcrtrack.__file__).parent

#: Rank of each package along the flow; a package imports only packages of a lower rank.
RANK = {"io": 1, "datasets": 1, "pp": 2, "tl": 3, "pl": 4, "cohort": 4, "report": 5, "cli": 6}
#: Modules outside the rules: the namespace root (imports its packages lazily) and ``-m``.
ENTRY = {"tcrtrack", "tcrtrack.__main__"}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    names: tuple[str, ...]  # names taken from it
    where: str  # file:line


def _module_name(path: Path) -> str:
    parts = ["tcrtrack", *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def _package(module: str) -> str | None:
    """The package a module belongs to (``io``, ``tl``...), None for a base module."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK):
        return parts[1]
    return None


def _edges(path: Path) -> Iterator[Edge]:
    source = _module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases: set[str] = set()  # names bound to the tcrtrack package itself
    where = f"{path.relative_to(SRC.parent)}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tcrtrack":
                    aliases.add(alias.asname or "tcrtrack")
                elif alias.name.startswith("tcrtrack."):
                    yield Edge(source, alias.name, (), f"{where}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level or not node.module.startswith("tcrtrack"):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if _is_module(sub):  # from tcrtrack.io import _files
                    yield Edge(source, sub, (), f"{where}:{node.lineno}")
                else:
                    yield Edge(source, node.module, (alias.name,), f"{where}:{node.lineno}")
    for node in ast.walk(tree):  # tt.pp.concat after `import tcrtrack as tt`
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            target = f"tcrtrack.{node.attr}"
            if _is_module(target):
                yield Edge(source, target, (), f"{where}:{node.lineno}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in aliases
        ):
            module = f"tcrtrack.{node.value.attr}"
            if _is_module(f"{module}.{node.attr}"):
                yield Edge(source, f"{module}.{node.attr}", (), f"{where}:{node.lineno}")
            elif _is_module(module):
                yield Edge(source, module, (node.attr,), f"{where}:{node.lineno}")


EDGES = [e for path in sorted(SRC.rglob("*.py")) for e in _edges(path)]


def _upward(edge: Edge) -> bool:
    if edge.source in ENTRY:
        return False
    here, there = _package(edge.source), _package(edge.target)
    if there is None or here == there:
        return False
    return here is None or RANK[there] >= RANK[here]


def _private(edge: Edge) -> bool:
    if edge.source in ENTRY:
        return False
    here, there = _package(edge.source), _package(edge.target)
    if here == there and here is not None:
        return False
    if here is None and there is None and not any(n.startswith("_") for n in edge.names):
        return False  # base modules among themselves
    inner = edge.target.split(".")[2:] if there is not None else []
    private_module = any(part.startswith("_") for part in inner)
    private_name = any(n.startswith("_") and n != "__version__" for n in edge.names)
    return private_module or private_name


def test_the_flow_runs_one_way():
    upward = sorted(f"{e.where}: {e.source} imports {e.target}" for e in EDGES if _upward(e))
    assert upward == [], "imports up the flow:\n" + "\n".join(upward)


def test_packages_share_only_public_names():
    private = sorted(
        f"{e.where}: {e.source} imports {e.target}"
        + (f" ({', '.join(e.names)})" if e.names else "")
        for e in EDGES
        if _private(e)
    )
    assert private == [], "private imports across packages:\n" + "\n".join(private)


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for e in EDGES:
        if e.source in ENTRY or e.target in ENTRY or e.source == e.target:
            continue
        # a package's __init__ re-exports its modules; its own modules reaching back to it
        # for another module's name is no circle of theirs
        if e.target == e.source.rsplit(".", 1)[0]:
            continue
        graph.setdefault(e.source, set()).add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    circles = _circles()
    assert circles == [], "import circles: " + "; ".join(" ↔ ".join(c) for c in circles)


@pytest.mark.parametrize(
    ("source", "target", "names", "upward", "private"),
    [
        ("tcrtrack.io._sheet", "tcrtrack.pp", ("concat",), True, False),
        ("tcrtrack.tl._track", "tcrtrack.pl", ("track",), True, False),
        ("tcrtrack.pl._venn", "tcrtrack.tl._sharing", ("VennRegions",), False, True),
        ("tcrtrack.report._build", "tcrtrack.tl", ("_check_reference",), False, True),
        ("tcrtrack.io._bulk", "tcrtrack._translate", ("_buffers",), False, True),
        ("tcrtrack._qc", "tcrtrack.tl", ("CloneCounts",), True, False),
        ("tcrtrack.tl._digest", "tcrtrack._contigs", ("filter_masks",), False, False),
        ("tcrtrack.cli._share", "tcrtrack.tl", ("sharing",), False, False),
        ("tcrtrack.tl._rarefy", "tcrtrack.tl._sharing", ("_check",), False, False),
    ],
    ids=[
        "io-to-pp",
        "tl-to-pl",
        "private-module",
        "private-name",
        "private-base-name",
        "base-to-tl",
        "base-module",
        "cli-to-tl",
        "within-package",
    ],
)
def test_the_rules_catch_what_they_should(source, target, names, upward, private):
    edge = Edge(source, target, names, "x.py:1")
    assert _upward(edge) is upward
    assert _private(edge) is private


def test_the_walk_sees_local_and_attribute_imports():
    assert any(e.source == "tcrtrack.cli._common" and e.target == "tcrtrack.tl" for e in EDGES)
    assert len({e.source for e in EDGES}) > 40
