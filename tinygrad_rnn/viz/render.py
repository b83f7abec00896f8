"""From DOT text to pictures: :func:`draw` (a ``graphviz.Digraph``) and :func:`write` (a file).

Rendering needs Graphviz's ``dot`` program; when it is missing the error says how to install
it, and the DOT text (:func:`tinygrad_rnn.viz.to_dot`, ``Digraph.source``) still works. A
:class:`Drawing` runs ``dot`` itself (the ``graphviz`` package has no time limit), for at most
``timeout`` seconds (see :mod:`tinygrad_rnn.viz.limits`).
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import graphviz

from ..tensor import Tensor
from . import limits
from .dot import HINT, body, to_dot
from .limits import MAX_NODES, TIMEOUT, RenderTimeout, too_slow


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
    """A ``graphviz.Digraph`` that stops ``dot`` after ``timeout`` seconds and says why.

    Attributes:
        timeout: the seconds ``dot`` may run (``None``: no limit); :func:`draw` sets it.
        nodes: the number of nodes drawn (``None`` when not made by :func:`draw`).
        edges: the number of edges drawn.
        advice: what to do when ``dot`` takes too long.
    """

    timeout: float | None = TIMEOUT
    nodes: int | None = None
    edges: int | None = None
    advice: str = limits.advice(None, False, "pass a larger timeout= (None: no limit)")

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: int | None = None, quiet: bool = False,
             *, engine: str | None = None, encoding: str | None = None) -> bytes | str:
        """The picture as bytes (or text with ``encoding``), as ``graphviz``'s ``pipe``.

        Raises:
            DotNotFound: Graphviz's ``dot`` is not installed.
            RenderTimeout: ``dot`` ran longer than ``timeout`` seconds (it is stopped).
            graphviz.CalledProcessError: ``dot`` failed.
        """
        kinds = [k for k in (format or self.format, renderer or self.renderer,
                             formatter or self.formatter) if k]
        cmd = ["dot", f"-K{engine or self.engine}", f"-T{':'.join(kinds)}"]
        cmd += [f"-n{int(neato_no_op)}"] if neato_no_op else []
        try:
            done = subprocess.run(cmd, input=self.source.encode(self.encoding),
                                  capture_output=True, timeout=self.timeout, check=False)
        except FileNotFoundError as e:
            raise DotNotFound(cmd) from e
        except subprocess.TimeoutExpired:
            raise RenderTimeout(too_slow(self.timeout, self.nodes, self.edges,
                                         self.advice)) from None
        if done.stderr and not quiet:
            sys.stderr.write(done.stderr.decode(errors="replace"))
        if done.returncode:
            raise graphviz.CalledProcessError(done.returncode, cmd, output=done.stdout,
                                              stderr=done.stderr)
        return done.stdout if encoding is None else done.stdout.decode(encoding)

    def render(self, filename=None, directory=None, view: bool = False, cleanup: bool = False,
               format: str | None = None, quiet: bool = False, *, outfile=None,
               engine: str | None = None) -> str:
        """Save the source to ``filename`` and the picture beside it, as ``graphviz``'s ``render``.

        The picture goes to ``<source file>.<format>``, or to ``outfile`` (its suffix gives the
        format; the source then goes to the same name with ``.gv``). ``dot`` runs under
        :meth:`pipe`'s time limit.

        Returns:
            The path of the picture.
        """
        if outfile is not None:
            outfile = Path(outfile) if directory is not None else Path(self.directory, outfile)
            format = format or outfile.suffix.lstrip(".")
            filename = outfile.with_suffix(".gv") if filename is None else filename
        source = self.save(filename, directory=directory)
        out = Path(outfile if outfile is not None else f"{source}.{format or self.format}")
        out.write_bytes(self.pipe(format=format, quiet=quiet, engine=engine))
        if cleanup:
            Path(source).unlink()
        if view:
            graphviz.view(out)
        return str(out)


def draw(root: Tensor | Sequence[Tensor], *, level: str = "op", grads=False,
         max_steps: int | None = None, rankdir: str = "LR", highlight=None, module=None,
         max_nodes: int | None = MAX_NODES, inputs=None, values: bool = False,
         timeout: float | None = TIMEOUT) -> Drawing:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    The arguments are :func:`tinygrad_rnn.viz.to_dot`'s, and ``timeout``: the seconds ``dot``
    may run to render it (``None``: no limit; ``drawing.timeout`` changes it later);
    ``draw(...).source`` is the DOT text.

    Raises:
        DrawingTooLarge: more than ``max_nodes`` nodes (or twice as many edges) even after
            eliding the middle steps (a graph without time steps cannot be elided); the message
            says what to do.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.RNNCell(2, 3)
        >>> hs, h = tg.graph.unroll(cell, tg.randn(4, 1, 2))
        >>> g = tg.viz.draw(h.sum(), level="cell", module=cell)
        >>> g.source.count("cluster_l0/t")
        4
    """
    lines, nodes, edges, todo = body(root, level=level, grads=grads, max_steps=max_steps,
                                     rankdir=rankdir, highlight=highlight, module=module,
                                     max_nodes=max_nodes, inputs=inputs, values=values,
                                     refuse=True)
    drawing = Drawing("bptt")
    drawing.body.extend(lines)
    drawing.timeout, drawing.nodes, drawing.edges, drawing.advice = timeout, nodes, edges, todo
    return drawing


def write(root_or_drawing, path: str | Path, **options) -> Path:
    """Render a graph to ``path``: ``.svg``, ``.png``, ``.pdf`` (needs ``dot``) or ``.dot`` text.

    Args:
        root_or_drawing: a :class:`Drawing` (or any ``graphviz`` graph), or a tensor to draw.
        path: the file to write; its suffix picks the format (SVG for big graphs: PNG is
            capped at 32,767 pixels a side).
        **options: :func:`draw`'s keyword arguments (``timeout`` too), when a tensor is
            given; a ``.dot`` file holds :func:`~tinygrad_rnn.viz.to_dot`'s text, whatever
            its size.

    Returns:
        The path written.

    Raises:
        DotNotFound: rendering needs Graphviz's ``dot`` and it is missing (``.dot`` works).
        DrawingTooLarge: the graph is too big to render (see :func:`draw`).
        RenderTimeout: ``dot`` took longer than the drawing's ``timeout`` and was stopped.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf", "dot", "gv"):
        raise ValueError(f"write(): unknown format {path.suffix!r}; use .svg, .png, .pdf or .dot")
    path.parent.mkdir(parents=True, exist_ok=True)
    given = isinstance(root_or_drawing, graphviz.Digraph)
    if fmt in ("dot", "gv"):  # text, whatever its size
        options.pop("timeout", None)
        path.write_text(root_or_drawing.source if given else to_dot(root_or_drawing, **options),
                        encoding="utf-8")
        return path
    drawing = root_or_drawing if given else draw(root_or_drawing, **options)
    with install_hint():
        data = drawing.pipe(format=fmt)
    path.write_bytes(data)
    return path
