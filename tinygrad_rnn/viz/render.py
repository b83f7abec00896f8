"""From DOT text to pictures: :func:`draw` (a ``graphviz.Digraph``) and :func:`write` (a file).

Rendering needs Graphviz's ``dot`` program; when it is missing the error says how to install
it, and the DOT text (:func:`tinygrad_rnn.viz.to_dot`, ``Digraph.source``) still works.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import graphviz

from ..tensor import Tensor
from .dot import HINT, MAX_NODES, body


class DotNotFound(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` is not installed: the message says how to install it."""

    def __init__(self, cmd=("dot",)):
        RuntimeError.__init__(self, f"{HINT} (could not run {cmd[0]!s})")


@contextlib.contextmanager
def install_hint():
    """Turn ``graphviz.ExecutableNotFound`` into :class:`DotNotFound` with the install hint."""
    try:
        yield
    except DotNotFound:
        raise
    except graphviz.ExecutableNotFound as e:
        raise DotNotFound() from e


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering errors say how to install Graphviz."""

    def pipe(self, *args, **kwargs):
        with install_hint():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with install_hint():
            return super().render(*args, **kwargs)

    def _repr_mimebundle_(self, *args, **kwargs):
        with install_hint():
            return super()._repr_mimebundle_(*args, **kwargs)


def draw(root: Tensor | Sequence[Tensor], *, level: str = "op", grads=False,
         max_steps: int | None = None, rankdir: str = "LR", highlight=None, module=None,
         max_nodes: int | None = MAX_NODES) -> Drawing:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    The arguments are :func:`tinygrad_rnn.viz.to_dot`'s; ``draw(...).source`` is its text.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.RNNCell(2, 3)
        >>> hs, h = tg.graph.unroll(cell, tg.randn(4, 1, 2))
        >>> g = tg.viz.draw(h.sum(), level="cell", module=cell)
        >>> g.source.count("cluster_l0/t")
        4
    """
    drawing = Drawing("bptt")
    drawing.body.extend(body(root, level=level, grads=grads, max_steps=max_steps,
                             rankdir=rankdir, highlight=highlight, module=module,
                             max_nodes=max_nodes))
    return drawing


def write(root_or_drawing, path: str | Path, **options) -> Path:
    """Render a graph to ``path``: ``.svg``, ``.png``, ``.pdf`` (needs ``dot``) or ``.dot`` text.

    Args:
        root_or_drawing: a :class:`Drawing` (or any ``graphviz`` graph), or a tensor to draw.
        path: the file to write; its suffix picks the format (SVG for big graphs: PNG is
            capped at 32,767 pixels a side).
        **options: :func:`draw`'s keyword arguments, when a tensor is given.

    Returns:
        The path written.

    Raises:
        DotNotFound: rendering needs Graphviz's ``dot`` and it is missing (``.dot`` works).
    """
    path = Path(path)
    drawing = root_or_drawing if isinstance(root_or_drawing, graphviz.Digraph) else \
        draw(root_or_drawing, **options)
    fmt = path.suffix.lstrip(".").lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
        return path
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"write(): unknown format {path.suffix!r}; use .svg, .png, .pdf or .dot")
    with install_hint():
        data = drawing.pipe(format=fmt)
    path.write_bytes(data)
    return path
