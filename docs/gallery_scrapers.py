"""An image scraper for sphinx-gallery: Graphviz drawings and stand-alone matplotlib figures.

sphinx-gallery's own ``"matplotlib"`` scraper saves the figures that pyplot manages. Lessons
also make pictures that pyplot never sees: ``tg.viz.draw(...)`` returns a ``graphviz.Digraph``,
and ``tg.viz.plot_gradient_flow(...)`` a ``matplotlib.figure.Figure`` made without pyplot.
After every code block, :func:`scraper` looks through the lesson's global variables for such
objects that are new (or, for a graph, whose DOT text changed) and saves each to the next image
path: graphs as SVG through Graphviz's ``dot`` (a big unroll stays sharp at any zoom), figures as
PNG. So a drawing appears on the page when the code block that made it assigns it to a name
(shown once, also when it is the block's last expression, as a notebook shows it), and it is
drawn from the code at every build.
"""
from __future__ import annotations

import hashlib
import json
import resource
import textwrap
import time
import warnings
import weakref
from pathlib import Path

import graphviz
from matplotlib.figure import Figure
from package_digest import package_digest
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
    # By identity, once: sphinx-gallery also keeps a block's last expression as ``___``.
    found = {id(obj): obj for obj in list(block_vars["example_globals"].values())}
    new = [obj for obj in found.values() if is_new(obj)]
    saved = [str(save(obj, Path(next(paths)))) for obj in new]
    return "".join(picture_rst(path, gallery_conf["src_dir"]) for path in saved)


def picture_rst(path: str, src_dir: str) -> str:
    """The reST of one picture, one below the other. A Graphviz drawing (SVG) sits in a
    ``tg-drawing`` box: ``_static/drawings.css`` keeps it at its natural size, so its labels stay
    readable, and lets a drawing wider than the page scroll sideways instead of shrinking."""
    rst = figure_rst([path], src_dir)
    if path.endswith(".svg"):
        rst = "\n.. container:: tg-drawing\n" + textwrap.indent(rst, "   ")
    return rst


# --- How long each lesson took, for tests/test_tutorials.py -----------------------------------
#: Where the docs build records each lesson's run: stem -> {"sha256", "cpu_s", "wall_s"}. The
#: tests read it instead of running every lesson a second time (CI builds the docs first).
RUNS = Path(__file__).resolve().parent / "_build" / "lesson_runs.json"
TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"

_started: dict[str, tuple[float, float, warnings.catch_warnings, list]] = {}


def _cpu_seconds() -> float:
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def lesson_clock(gallery_conf, fname, when):
    """sphinx-gallery reset hook: time each lesson (CPU and wall) and record it in ``RUNS``.

    Called before and after every example; ``fname`` is None when a gallery folder is entered.
    The record keeps the SHA-256 of the lesson's source and of the package's, so a test never
    trusts the run of a lesson, or of a package, that has changed since the build, and the warnings the lesson raised (a lesson must
    raise none, as when a reader runs it as a script).
    """
    if fname is None:
        return
    lesson = TUTORIALS / Path(fname).name
    if when == "before":
        catcher = warnings.catch_warnings(record=True)
        caught = catcher.__enter__()
        warnings.simplefilter("always")
        _started[lesson.stem] = (_cpu_seconds(), time.perf_counter(), catcher, caught)
        return
    cpu0, wall0, catcher, caught = _started.pop(lesson.stem)
    catcher.__exit__(None, None, None)
    runs = json.loads(RUNS.read_text()) if RUNS.exists() else {}
    runs[lesson.stem] = {"sha256": hashlib.sha256(lesson.read_bytes()).hexdigest(),
                         "package": package_digest(),
                         "cpu_s": round(_cpu_seconds() - cpu0, 2),
                         "wall_s": round(time.perf_counter() - wall0, 2),
                         "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    RUNS.write_text(json.dumps(runs, indent=1, sort_keys=True))
