"""How big a drawing may be, and how long Graphviz may take to lay it out.

Graphviz's ``dot`` takes a time that depends on the shape of a graph as much as on its size.
Measured here (dot 2.43, SVG, 2 shared cores, so times vary by up to 2x from run to run; nodes and
edges as drawn with ``max_nodes=None``, relay points included; "before" is the layout of the
previous version, "now" this one)::

    graph                                       nodes / edges   before      now
    ctc_loss, 15 frames (no time steps)           326 / 382      2.8 s      0.2 s
    ctc_loss, 20 frames                           431 / 507     29-51 s   0.3-0.5 s
    ctc_loss, 30 frames                           641 / 757        -      0.8-2.5 s
    ctc_loss, 50 frames                          1061 / 1257       -      12-18 s
    ctc_loss, 100 frames                         2111 / 2507     > 60 s    > 60 s
    LSTM, level="step", 100 steps                 306 / 504      3.5 s      0.1 s
    LSTM, level="step", 150 steps                 456 / 754       24 s      0.1 s
    LSTM, level="step", 300 steps                 906 / 1504     > 90 s     0.3 s
    LSTM, level="cell", 600 steps                3013 / 5408     1.1 s      1.0 s
    2-layer biLSTM, level="cell", 100 steps      2051 / 3635     0.5 s      0.5 s
    2-layer biLSTM, level="cell", 200 steps      4051 / 7235     1.9 s      1.5 s
    2-layer biLSTM, level="cell", 450 steps      9051 / 16235    6.8 s     7-10 s
    RNNCell unrolled, level="op", 150 steps      1957 / 2552     0.9 s      0.9 s
    RNNCell unrolled, level="op", 300 steps      3907 / 5102     4.0 s    1.8-3.1 s
    a chain of 2,000 ops                         2002 / 2001     0.2 s      0.2 s
    no clusters, each node reading 1-3 of the    1000 / 2000       -        0.7 s
      5 nodes before it                          2000 / 4000       -        3.1 s
                                                 3000 / 6000       -        9.3 s
    the same, reading up to 50 nodes back        1000 / 2000       -         14 s

Drawings of time steps in clusters take about a second per 3,000 nodes; the same number of nodes
without clusters takes several times longer, and long edges across many ranks (a CTC loss reads
one array at every frame) cost most. "Now" has two changes to the layout: ``nslimit`` bounds
Graphviz's search for x positions (most of the cost of the CTC graphs; the picture is the same
when the search ends within the bound, as for every RNN drawing above), and at
``level="step"`` the buses that gather the steps' outputs rank the layout (left unranked,
Graphviz's crossing minimisation spent minutes on them).

Drawing the steps of each layer in one row (:mod:`tinygrad_rnn.viz.layout`) kept these times
within the noise of this machine, except for long op-level unrolls, whose bus lines now run
along the whole row: an RNNCell over 300 steps took 14 s of ``dot`` with ``nslimit=2`` and
3-4 s with the tighter bound used above 1,000 nodes (the middle column above was measured
before that layout).

No count predicts the time of every shape, so a drawing is guarded three ways:

- above :data:`MAX_NODES` nodes the middle time steps are elided (a warning says so);
- a drawing still bigger than that, or with more than twice as many edges, is refused at once
  with :class:`DrawingTooLarge` (a graph without time-step scopes has nothing to elide);
- ``dot`` runs for at most :data:`TIMEOUT` seconds, then :class:`RenderTimeout`.
"""
from __future__ import annotations

#: The most nodes a drawing holds (relay points included; edges: twice as many): about a
#: second of ``dot`` for time steps in clusters, up to ten without clusters (the timeout stops
#: worse shapes). A 100-step two-layer bidirectional LSTM at ``level="cell"`` (2,051) fits.
MAX_NODES = 3000

#: Seconds ``dot`` may run before :class:`RenderTimeout`.
TIMEOUT = 30.0


class DrawingTooLarge(ValueError):
    """A drawing has more nodes or edges than ``max_nodes`` allows after elision."""


class RenderTimeout(TimeoutError):
    """Graphviz's ``dot`` did not finish within the drawing's ``timeout``."""


def advice(level: str | None, has_steps: bool, limit: str) -> str:
    """What to do instead: draw less, lift ``limit``, or render the DOT text by hand."""
    todo = []
    if has_steps and level in ("op", "cell"):
        todo.append("draw at level='cell' or level='step' (one node per cell or per time step)"
                    if level == "op" else "draw at level='step' (one node per time step)")
    if has_steps or level is None:
        todo.append("pass max_steps=k to draw only the first and the last k time steps")
    if not has_steps and level is not None:
        todo.append("draw a smaller computation (this graph has no time steps to elide)")
    todo.append(limit)
    todo.append("get the DOT text with tg.viz.to_dot(...) (or drawing.source) and render it "
                "yourself: dot -Tsvg graph.dot -o graph.svg")
    return "; or ".join(todo)


def too_large(level: str, nodes: int, edges: int, max_nodes: int, has_steps: bool,
              kept: int | None, steps: int) -> str:
    """The message of :class:`DrawingTooLarge`."""
    if kept is not None:
        why = f", even with {kept} of {steps} time steps drawn"
    else:
        why = ", with every time step drawn" if has_steps else ""
    return (f"This {level}-level drawing would have {nodes} nodes and {edges} edges, more than "
            f"max_nodes={max_nodes} nodes or {2 * max_nodes} edges{why}: Graphviz would take "
            "from many seconds to hours to lay it out. To draw it: " +
            advice(level, has_steps, "pass max_nodes=None to render it anyway (dot stops after "
                                     "timeout= seconds)"))


def too_slow(timeout: float, nodes: int | None, edges: int | None, todo: str) -> str:
    """The message of :class:`RenderTimeout`."""
    size = "this graph" if nodes is None else f"this graph of {nodes} nodes and {edges} edges"
    return (f"Graphviz's dot did not finish within timeout={timeout:g} s on {size} (its time "
            "depends on the shape as much as the size: long edges across many steps cost "
            f"most), and was stopped. To draw it: {todo}")
