"""Sphinx configuration of the taafs-sk documentation.

Build with ``make -C docs html`` (``SPHINXOPTS="-W --keep-going"`` in CI). The gallery
runs every ``examples/plot_*.py`` on small real data; point ``TAAFS_SK_DATA`` at the data
folder (the top-level Makefile does).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
os.environ.setdefault("TAAFS_SK_DATA", str((ROOT.parent / "shared" / "data").resolve()))
if importlib.util.find_spec("taafs_sk") is None:  # building from a clone without installing
    sys.path.insert(0, str(ROOT))

import taafs_sk  # noqa: E402

project = "taafs-sk"
author = "taafs-sk developers"
copyright = "2026, taafs-sk developers"
release = taafs_sk.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
HAVE_MYST = importlib.util.find_spec("myst_parser") is not None
ANALOG_MD = HERE / "analog_results.md"

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.md5", "auto_examples/*.codeobj.json"]
source_suffix = {".rst": "restructuredtext"}
if HAVE_MYST:
    extensions.append("myst_parser")
    source_suffix[".md"] = "markdown"
    myst_enable_extensions = ["dollarmath"]
    myst_heading_anchors = 3
    suppress_warnings = ["myst.header"]
    if ANALOG_MD.exists():
        exclude_patterns.append("analog_results.rst")  # the .md page replaces the fallback

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "reference_url": {"taafs_sk": None},
    "doc_module": ("taafs_sk",),
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
    "show_memory": False,
    "min_reported_time": 1,
}
# Training loops may warn (ConvergenceWarning) in the deliberately short gallery runs.
warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
warnings.filterwarnings("ignore", message=".*Matplotlib is currently using agg.*")

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"taafs-sk {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"install": [], "quickstart": [], "citing": []}
html_show_sourcelink = False


def _analog_results_fallback(app, docname, source):
    """Without MyST, show ``analog_results.md`` (written by the analog study) as text."""
    if docname != "analog_results" or not ANALOG_MD.exists():
        return  # the reST page (written by benchmarks/analog_study.py --report) stands
    title = "Analog-hardware results\n=======================\n\n"
    if ANALOG_MD.exists():
        body = (
            "The study's write-up, as recorded in ``docs/analog_results.md`` (install "
            "``myst-parser`` to render it as a page).\n\n"
            ".. literalinclude:: analog_results.md\n   :language: markdown\n"
        )
    else:
        body = ("The analog-hardware study has not recorded its results yet. Run "
                "``taafs-sk study noise`` and ``taafs-sk study naf`` to produce them.\n")
    source[0] = title + body


# In "ndarray of shape (n_outputs_,)" reST would read ``n_outputs_`` as a link target.
_SHAPE_NAME = re.compile(r"(?<![\w`\\])([A-Za-z]\w*)_(?=[,)])")


def _normalise_docstring(app, what, name, obj, options, lines):
    """Before numpydoc: join raw-docstring lines continued with a backslash (long parameter
    types) and escape the trailing underscore of fitted-attribute names in shape specs."""
    i = 0
    while i < len(lines) - 1:
        if lines[i].endswith("\\"):
            lines[i : i + 2] = [lines[i][:-1].rstrip() + " " + lines[i + 1].strip()]
        else:
            i += 1
    for i, line in enumerate(lines):
        at = line.find("shape (")
        if at >= 0:
            lines[i] = line[:at] + _SHAPE_NAME.sub(r"\1\\_", line[at:])


def setup(app):
    app.connect("source-read", _analog_results_fallback)
    app.connect("autodoc-process-docstring", _normalise_docstring, priority=100)
