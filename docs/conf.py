"""Sphinx configuration for the omixgan documentation.

Two checks make the build fail (``sphinx -W``) rather than publish an empty page: a public object
whose docstring is empty, and a public name of an ``omixgan`` subpackage (its ``__all__``) that the
API page does not list.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from pathlib import Path

from sphinx.util import logging

import omixgan

HERE = Path(__file__).parent
logger = logging.getLogger("omixgan.docs")

project = "omixgan"
author = "omixgan developers"
copyright = "2026, omixgan developers"
release = omixgan.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
]

# The API stubs that autosummary writes are reStructuredText: ".rst" must come first in
# source_suffix, otherwise autosummary names them ".md" and MyST shows the directives as text.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
autosummary_generate = True
templates_path = ["_templates"]
# Members are listed by the templates in _templates/autosummary, not by autodoc's defaults.
autodoc_default_options: dict = {}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autoclass_content = "class"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = True
napoleon_custom_sections = [("Params", "params_style")]

# Notebooks are committed with their outputs, executed by `make tutorials`; building the docs
# never trains a model.
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# Intersphinx needs the network. Read the Docs has it (READTHEDOCS is set there) and so does a
# user who sets OMIXGAN_DOCS_INTERSPHINX=1; an offline build gets no mapping, and references to
# other projects' objects (mudata.MuData, ...) render as code instead of failing the build.
_INTERSPHINX = {
    "anndata": ("https://anndata.readthedocs.io/en/stable/", None),
    "mudata": ("https://mudata.readthedocs.io/en/latest/", None),
    "scanpy": ("https://scanpy.readthedocs.io/en/stable/", None),
    "scvi": ("https://docs.scvi-tools.org/en/stable/", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "pandas": ("https://pandas.pydata.org/pandas-docs/stable/", None),
    "python": ("https://docs.python.org/3", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
_online = os.environ.get("READTHEDOCS") == "True" or os.environ.get("OMIXGAN_DOCS_INTERSPHINX")
intersphinx_mapping = _INTERSPHINX if _online else {}
intersphinx_timeout = 10
nitpicky = False
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

exclude_patterns = [
    "_build",
    "_templates",
    "generated/*.ipynb",
    "**/.ipynb_checkpoints",
    "Thumbs.db",
    ".DS_Store",
]
html_theme = "furo"
html_title = "omixgan"
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# Inherited members of these classes are not omixgan's API (scvi-tools' and Lightning's
# internals); only the ones a user calls on an omixgan model are kept.
_KEEP_INHERITED = {"save", "is_trained", "device"}


def _defined_in_omixgan(obj) -> bool | None:
    """Whether a class member is defined by omixgan (None when that cannot be told)."""
    target = (
        obj.fget if isinstance(obj, property) else inspect.unwrap(getattr(obj, "__func__", obj))
    )
    module = getattr(target, "__module__", None)
    return None if module is None else module.split(".")[0] == "omixgan"


def skip_member(app, what, name, obj, skip, options):
    """Hide members of omixgan classes that come from scvi-tools or Lightning base classes."""
    if name.startswith("_") or name in _KEEP_INHERITED:
        return None
    if _defined_in_omixgan(obj) is False:
        return True
    return None


def _is_header(lines: list[str], i: int) -> bool:
    """Whether lines[i] starts a numpydoc section (a title underlined with dashes)."""
    return (
        i + 1 < len(lines)
        and bool(lines[i].strip())
        and not lines[i].startswith(" ")
        and set(lines[i + 1].strip()) == {"-"}
    )


def free_form_returns(app, what, name, obj, options, lines):
    """Render a prose Returns section (scanpy style: a sentence, then a bullet list of what is
    written where) as written, instead of napoleon's one-item-per-line type list.

    A Returns section counts as prose when it holds a bullet list; a ``name : type`` section is
    left to napoleon. Runs before napoleon (priority 400 < 500).
    """
    for i in range(len(lines)):
        if lines[i].strip() == "Returns" and _is_header(lines, i):
            break
    else:
        return
    end = next((j for j in range(i + 2, len(lines)) if _is_header(lines, j)), len(lines))
    body = lines[i + 2 : end]
    if not any(line.startswith(("- ", "* ")) for line in body):
        return
    fixed: list[str] = []
    for line in body:
        previous = fixed[-1] if fixed else ""
        bullet = line.startswith(("- ", "* "))
        in_list = previous.startswith(("- ", "* ", "  ")) and bool(previous.strip())
        # docutils needs a blank line around a list that follows or precedes a paragraph
        if previous.strip() and (
            (bullet and not in_list)
            or (in_list and not bullet and not line.startswith(" ") and line.strip())
        ):
            fixed.append("")
        fixed.append(line)
    while fixed and not fixed[-1].strip():
        fixed.pop()
    # two blank lines end the section before (napoleon would read the field as a parameter)
    lines[i:end] = (
        ["", "", ":returns:"] + [f"    {line}" if line.strip() else "" for line in fixed] + [""]
    )


_MISSING: list[str] = []
_CHECKED_PREFIX = "omixgan."


def check_docstring(app, what, name, obj, options, lines):
    """Record a public omixgan object documented without a docstring."""
    if name.startswith(_CHECKED_PREFIX) and what in {"function", "class", "method", "property"}:
        if not any(line.strip() for line in lines):
            _MISSING.append(f"{what} {name}")


def report_missing(app, exception):
    for item in sorted(set(_MISSING)):
        logger.warning("no docstring: %s (the API page would be empty)", item)


def check_api_lists_everything(app):
    """Every name in a public subpackage's __all__ must be listed on the API page."""
    text = (HERE / "api.md").read_text()
    listed = set(re.findall(r"^\s+~?([\w.]+)\s*$", text, flags=re.MULTILINE))
    for sub in ("datasets", "io", "metrics", "models", "pl", "pp", "tl"):
        module = importlib.import_module(f"omixgan.{sub}")
        for name in getattr(module, "__all__", []):
            qualified = f"{sub}.{name}"
            if qualified not in listed and name not in listed:
                logger.warning("omixgan.%s.%s is public but not listed in docs/api.md", sub, name)


def setup(app):
    app.connect("builder-inited", check_api_lists_everything)
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-docstring", free_form_returns, priority=400)
    app.connect("autodoc-process-docstring", check_docstring)
    app.connect("build-finished", report_missing)
