"""Sphinx configuration: the lessons gallery (sphinx-gallery) and the API reference (autodoc).

Builds offline with warnings as errors (``make docs``): no intersphinx, no remote images.
Every lesson in ``tutorials/`` is executed at every build, so its printed numbers, plots and
Graphviz drawings always come from the code as it is.
"""
import os
import sys
from pathlib import Path

# Lessons run with the array work on one thread (before NumPy is first imported: OpenBLAS reads
# it once) and with tqdm's bars off.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
# tg.viz.show leaves the pictures to the gallery's scraper (it writes files only in a script).
os.environ["TINYGRAD_RNN_GALLERY"] = "1"

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the package, even without an install
sys.path.insert(0, str(DOCS))  # gallery_scrapers

import tinygrad_rnn

project = "tinygrad_rnn"
author = "the tinygrad_rnn authors"
copyright = "the tinygrad_rnn authors"
release = version = tinygrad_rnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "sphinx-mathjax-offline",  # MathJax from _static: formulas render without the network
]

exclude_patterns = ["_build", "lessons/*.ipynb", "lessons/*.py", "lessons/*.zip"]
html_theme = "furo"
html_title = f"tinygrad_rnn {release}"
html_static_path = ["_static"]
html_css_files = ["drawings.css"]  # drawings at their natural size, scrolling sideways if wide

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # "Attributes:" as fields: no duplicates of a NamedTuple's own fields

# The lessons read tiny Shakespeare from the shared copy beside the repository when there is
# one (CI and the tests), else from the download cache.
shared = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
if shared.exists():
    os.environ.setdefault("TINYGRAD_RNN_DATA", str(shared))

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "tutorials"),
    "gallery_dirs": "lessons",
    "filename_pattern": r"/\d\d_",  # every numbered lesson is executed
    "within_subsection_order": "FileNameSortKey",
    # Ours first: it must see pyplot's figures while pyplot still manages them (and skip them).
    "image_scrapers": ("gallery_scrapers.scraper", "matplotlib"),
    "ignore_repr_types": r"graphviz|matplotlib|tinygrad_rnn\.viz",
    "download_all_examples": False,
    # The downloaded notebooks show pyplot's figures inline, as the page does.
    "first_notebook_cell": "%matplotlib inline",
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "run_stale_examples": True,  # run every lesson at every build, changed or not
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    # Each lesson's CPU and wall time, recorded for tests/test_tutorials.py (see the hook).
    "reset_modules": ("matplotlib", "gallery_scrapers.lesson_clock"),
    "reset_modules_order": "both",
}


def draw_home_picture(app):
    """The home page's picture (``_generated/signature.svg``), drawn by the package at each build."""
    from signature import draw_signature

    draw_signature(DOCS / "_generated")


def setup(app):
    app.connect("builder-inited", draw_home_picture)
