"""Sphinx configuration of the tcrtrack documentation.

Build: ``pip install -e ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html``.

The Markdown pages are the content (MyST); the notebooks of ``examples/`` are rendered with
myst-nb (``docs/examples`` links to them); the API reference is generated at build time from
the ``__all__`` of each public namespace (:func:`write_api_pages`), so a new public function
gets its page without editing the docs; the CLI reference is generated from the click commands
(``sphinx-click``, docs/cli-reference.md).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
# the notebooks' kernels are subprocesses: give them the source tree as well
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
)

import tcrtrack  # noqa: E402

project = "tcrtrack"
author = "tcrtrack developers"
copyright = "tcrtrack developers"
version = release = tcrtrack.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_click",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "examples/data/**",
    "examples/*.py",
    "examples/*.tsv",
    "**.ipynb_checkpoints",
]

# -- MyST and notebooks ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
# "## Title" sections get anchors, so that links such as cli.md#tcrtrack-report resolve
myst_heading_anchors = 4
# The notebooks are executed (their own asserts check the numbers); the result is cached in
# docs/_build/.jupyter_cache, so a rebuild without changes does not run them again.
nb_execution_mode = "cache"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_merge_streams = True

# -- API reference --------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
templates_path = ["_templates"]


# -- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"tcrtrack {release}"
html_static_path: list[str] = []
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
}

#: The order of the namespaces in the API reference (the flow); any other public submodule of
#: ``tcrtrack.__all__`` follows them, so a new namespace is documented without editing this file.
_ORDER = ["io", "pp", "tl", "pl", "report", "cohort", "datasets", "errors", "schema"]
NAMESPACES = sorted(
    (n for n in tcrtrack.__all__ if isinstance(getattr(tcrtrack, n), types.ModuleType)),
    key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n),
)


def _rst_page(title: str, body: list[str]) -> str:
    return "\n".join([title, "=" * len(title), "", *body, ""])


def _autosummary(module: str, names: list[str]) -> list[str]:
    return [
        f".. currentmodule:: {module}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "",
        *(f"   {name}" for name in names),
    ]


def write_api_pages() -> None:
    """Write docs/api/*.rst from the namespaces' ``__all__`` (generated, not committed).

    One page per namespace, listing its ``__all__``; autosummary then writes one page per
    function or class into docs/api/generated. Pages of names no longer public are removed.
    """
    out = DOCS / "api"
    (out / "generated").mkdir(parents=True, exist_ok=True)
    top = [n for n in sorted(tcrtrack.__all__) if not n.startswith("_") and n not in NAMESPACES]
    pages = {
        "index": _rst_page(
            "API reference",
            [
                "Generated from the ``__all__`` of each namespace (``import tcrtrack as tt``).",
                "",
                *_autosummary("tcrtrack", top),
                "",
                ".. toctree::",
                "   :maxdepth: 1",
                "",
                *(f"   {ns}" for ns in NAMESPACES),
            ],
        )
    }
    objects = {f"tcrtrack.{name}" for name in top}
    for ns in NAMESPACES:
        module = importlib.import_module(f"tcrtrack.{ns}")
        names = sorted(getattr(module, "__all__", []))
        # a module of constants without __all__ (tt.schema): its docstring is the page
        body = [f".. automodule:: {module.__name__}", "   :no-members:", ""]
        if names:
            body += _autosummary(module.__name__, names)
        pages[ns] = _rst_page(f"``tt.{ns}``", body)
        objects |= {f"{module.__name__}.{name}" for name in names}
    for path in out.glob("*.rst"):
        if path.stem not in pages:
            path.unlink()
    for path in (out / "generated").iterdir():
        if path.stem not in objects:
            path.unlink()
    for name, text in pages.items():
        path = out / f"{name}.rst"
        if not path.exists() or path.read_text() != text:  # keep mtimes: incremental builds
            path.write_text(text)


write_api_pages()

# -- CLI reference --------------------------------------------------------------------------
# Click help is plain text (shown by ``--help``), not reStructuredText: escape what RST would
# read as markup (``|A and B|``, ``*.csv``, ``count_*``), keeping sphinx-click's own line blocks
# (``| `` from click's ``\b`` paragraphs), directives and option fields.
_RST_MARKUP = re.compile(r"([\\*|`_])")
_KEEP = re.compile(r"^\s*(\.\. |:[a-z]+:)")
_LINE_BLOCK = re.compile(r"^\s*\| ")


def _help_as_plain_text(app: object, ctx: object, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if _KEEP.match(line):
            continue
        head = _LINE_BLOCK.match(line)
        cut = head.end() if head else 0
        lines[i] = line[:cut] + _RST_MARKUP.sub(r"\\\1", line[cut:])


def setup(app: object) -> None:
    for event in ("description", "options", "arguments", "epilog"):
        app.connect(f"sphinx-click-process-{event}", _help_as_plain_text)  # type: ignore[attr-defined]
smartquotes = False  # "--samples" stays two hyphens in the CLI reference
