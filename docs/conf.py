"""Sphinx configuration for the omixgan documentation."""

from __future__ import annotations

import omixgan

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
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": False}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = [("Params", "params_style")]

# Notebooks are committed with their outputs, executed by `make tutorials`; building the docs
# never trains a model.
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "dollarmath"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# No network at build time: intersphinx inventories are not fetched, so references to other
# projects' objects render as plain text instead of failing the build.
intersphinx_mapping = {}
nitpicky = False
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

exclude_patterns = ["_build", "generated/*.ipynb", "**/.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path = []
html_theme = "furo"
html_title = "omixgan"
