"""An image scraper for sphinx-gallery: Graphviz drawings and stand-alone matplotlib figures.

sphinx-gallery's own ``"matplotlib"`` scraper saves the figures that pyplot manages. Lessons
also make pictures that pyplot never sees: ``tg.viz.draw(...)`` returns a ``graphviz.Digraph``,
and ``tg.viz.plot_gradient_flow(...)`` a ``matplotlib.figure.Figure`` made without pyplot.
After every code block, :func:`scraper` looks through the lesson's global variables for such
objects that are new (or, for a graph, whose DOT text changed) and saves each to the next image
path: graphs as SVG through Graphviz's ``dot`` (a big unroll stays sharp at any zoom), figures as
PNG. So a drawing appears on the page when the code block that made it assigns it to a name,
and it is drawn from the code at every build.
"""
from __future__ import annotations

import weakref
from pathlib import Path

import graphviz
from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

GRAPHS = (graphviz.Graph, graphviz.Digraph, graphviz.Source)

# What has been saved already: object -> DOT text (graphs) or None (figures).
SAVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_new(obj) -> bool:
    """Whether ``obj`` is a picture not saved yet (or a graph whose text changed since)."""
    if isinstance(obj, GRAPHS):
        return obj not in SAVED or SAVED[obj] != obj.source
    if isinstance(obj, Figure) and obj not in SAVED:
        if obj.canvas.manager is not None:  # pyplot's: the "matplotlib" scraper saves it,
            SAVED[obj] = None  # and closes it, after which it looks like ours: remember it
            return False
        return True
    return False


def save(obj, path: Path) -> Path:
    """Write ``obj`` to ``path`` (SVG for a graph, PNG for a figure); return the path used."""
    if isinstance(obj, GRAPHS):
        path = path.with_suffix(".svg")
        path.write_bytes(obj.pipe(format="svg"))
        SAVED[obj] = obj.source
    else:
        obj.savefig(path, dpi=100)
        SAVED[obj] = None
    return path


def scraper(block, block_vars, gallery_conf) -> str:
    """sphinx-gallery image scraper: save the new pictures among the example's globals."""
    paths = block_vars["image_path_iterator"]
    new = [obj for obj in list(block_vars["example_globals"].values()) if is_new(obj)]
    saved = [str(save(obj, Path(next(paths)))) for obj in new]
    return figure_rst(saved, gallery_conf["src_dir"])
