"""``tg.viz.show``: a figure visible wherever the lesson runs — Jupyter, the docs, or a terminal.

A lesson makes two kinds of picture: Graphviz drawings (:func:`~tinygrad_rnn.viz.draw`) and
matplotlib figures. Where each appears depends on where the code runs:

- **In Jupyter** a drawing shows only when it is a cell's last expression, and a matplotlib
  figure made without pyplot never shows. ``show`` displays what the notebook would not: every
  drawing, and every figure pyplot does not manage (pyplot's own figures the inline backend
  shows when the cell ends, so ``show`` leaves them to it rather than show them twice).
- **In the documentation** (sphinx-gallery) the page's image scraper saves each new figure and
  drawing the lesson holds in a variable; ``show`` does nothing there. ``docs/conf.py`` says
  so by setting the environment variable :data:`GALLERY` to ``1``.
- **As a plain script** (``python tutorials/04_bptt_gradients.py``) there is no screen to show
  on: ``show`` writes the picture under ``out/<lesson>/`` (SVG for drawings, PNG for figures,
  numbered in order) and prints where.

So a lesson binds each picture to a name and calls ``show`` on it::

    g = tg.viz.draw(loss, level="cell")
    tg.viz.show(g)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: Set to ``1`` by the docs build: the gallery's scraper collects the pictures, ``show`` is quiet.
GALLERY = "TINYGRAD_RNN_GALLERY"
#: Where a script's pictures go: ``out/<lesson>/`` under the current folder.
OUT = Path("out")
_written: dict[str, int] = {}  # lesson -> pictures written so far


def where() -> str:
    """``"gallery"``, ``"jupyter"`` or ``"script"``: where the code runs now."""
    if os.environ.get(GALLERY) == "1":
        return "gallery"
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return "jupyter"
    return "script"


def lesson_name() -> str:
    """The running script's name without its suffix (``04_bptt_gradients``), else ``figures``."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else "figures"


def is_drawing(obj) -> bool:
    return hasattr(obj, "pipe") and hasattr(obj, "source")  # a graphviz graph


def pyplot_managed(figure) -> bool:
    return getattr(getattr(figure, "canvas", None), "manager", None) is not None


def show(*pictures, name: str | None = None) -> None:
    """Show Graphviz drawings and matplotlib figures wherever the code runs (see the module).

    Args:
        *pictures: drawings (``tg.viz.draw``'s result or any ``graphviz`` graph) and
            ``matplotlib.figure.Figure`` objects.
        name: the folder under ``out/`` for a script's files (default: the script's name).

    Returns ``None``, so that a ``show(...)`` ending a notebook cell does not show the picture a
    second time as the cell's value.

    Raises:
        TypeError: something that is neither a drawing nor a figure.
    """
    for obj in pictures:
        if not (is_drawing(obj) or hasattr(obj, "savefig")):
            raise TypeError(f"show(): expected a Graphviz drawing or a matplotlib Figure, got "
                            f"{type(obj).__name__}")
    place = where()
    if place == "jupyter":
        from IPython.display import display

        for obj in pictures:
            if not pyplot_managed(obj):
                display(obj)
    elif place == "script":
        folder = OUT / (name or lesson_name())
        folder.mkdir(parents=True, exist_ok=True)
        for obj in pictures:
            count = _written[str(folder)] = _written.get(str(folder), 0) + 1
            if is_drawing(obj):
                path = folder / f"{count:02d}.svg"
                path.write_bytes(obj.pipe(format="svg"))
            else:
                path = folder / f"{count:02d}.png"
                obj.savefig(path, dpi=100)
                if pyplot_managed(obj):  # written: free it (pyplot warns past 20 open figures)
                    import matplotlib.pyplot as plt

                    plt.close(obj)
            print(f"figure written to {path}")
