"""The concept view: one cell drawn as colah's LSTM diagrams and the lectures draw it.

:func:`tinygrad_rnn.viz.diagram` reads one time step of a recorded graph and keeps what the equations name:

- the **gates** (a tensor the cell named, made by σ, tanh or relu: ``f_t``, ``r_t``, an RNN's
  ``h_t``) as boxes, each standing for its whole pre-activation (the matrix products with the
  shared weights, the biases, the slices, a peephole's ``w ⊙ c``);
- the **pointwise** operations between them (×, +, −, ``1 −``, tanh) as circles;
- the step's inputs (``x_t``, ``h_{t-1}``, ``c_{t-1}``) and outputs (``h_t``, ``c_t``).

An arrow goes into a gate from every input or circle its pre-activation reads, so the picture
is the recorded computation, for every variant: a peephole LSTM has arrows from ``c`` into its
gates, a coupled one a ``1 −`` instead of an input gate, PyTorch's GRU sends ``r`` into the
candidate's box (the reset gate scales ``W_hn h``) and Cho's through a × with ``h`` (it scales
``h`` before the product). The state that runs through the step by pointwise operations only
(an LSTM's ``c``, a GRU's ``h``) is drawn as one straight line along the top.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..tensor import Tensor
from ..trace import Graph, is_parameter, trace, with_step
from . import style
from .dot import attributes
from .render import Drawing

ACTIVATIONS = {"Sigmoid": "σ", "Tanh": "tanh", "Relu": "relu"}
VIEWS = {"Index", "Reshape", "Transpose"}
POINTWISE = {"Mul", "Add", "Sub", "Div", "Neg", "Tanh", "Sigmoid", "Relu", "AddScalar",
             "RSubScalar", "MulScalar", "Where"}


def weightlike(graph: Graph) -> list[bool]:
    """For every node: computed from parameters alone (``W.T``, ``b_ih + b_hh``)."""
    out: list[bool] = []
    for t in graph.nodes:
        if t.op is None:
            out.append(is_parameter(t))
        else:
            out.append(all(out[graph.index[id(p)]] for p in t.parents))
    return out


def pick_step(graph: Graph, step: int | None) -> list[int]:
    """The positions of the nodes of one step (the last one, or ``step``) of the first
    layer; every op when the graph has no time steps (one call of a cell)."""
    groups = graph.groups()
    if not groups:
        return [i for i, t in enumerate(graph.nodes) if t.op is not None]
    first = next(iter(groups))[:-1]
    keys = {k[-1]: k for k in groups if k[:-1] == first}
    steps = sorted(graph.places[groups[k][0]].step for k in keys.values())
    chosen = steps[-1] if step is None else step
    if chosen not in steps:
        raise ValueError(f"diagram: step {step} is not in the graph (it has steps {steps[0]} "
                         f"to {steps[-1]})")
    return groups[first + (f"t{chosen}",)]


class Diagram:
    """One step of ``graph`` reduced to gates, pointwise circles, inputs and outputs."""

    def __init__(self, graph: Graph, members: list[int]):
        self.graph = graph
        inside = set(members)
        weights = weightlike(graph)
        self.kind: dict[int, str] = {}  # position -> "input", "gate" or "pointwise"
        for i in members:
            t = graph.nodes[i]
            parents = [graph.index[id(p)] for p in t.parents]
            if weights[i]:
                continue
            if t.op is None or type(t.op).__name__ in VIEWS and not any(p in inside
                                                                        for p in parents):
                self.kind[i] = "input"  # made in the step, a view of what is outside: x_t
                continue
            for p in parents:
                if p not in inside and not weights[p] and p not in self.kind:
                    self.kind[p] = "input"
            if t.name is not None and type(t.op).__name__ in ACTIVATIONS:
                self.kind[i] = "gate"
            elif type(t.op).__name__ in POINTWISE and all(p in self.kind for p in parents):
                self.kind[i] = "pointwise"
        self.sources = {i: self.shown_parents(i) for i in self.kind if self.kind[i] != "input"}
        roots = {graph.index[id(r)] for r in graph.roots}
        states = {f"{graph.nodes[i].name.split('_')[0]}_t" for i in self.kind
                  if self.kind[i] == "input" and graph.nodes[i].name}
        self.outputs = [i for i in members if i in self.kind and self.kind[i] != "input" and (
            i in roots or graph.nodes[i].name in states
            or any(c not in inside for c in graph.consumers[i]))]
        if not any(k == "gate" for k in self.kind.values()):
            raise ValueError("diagram: no gate found in this step: draw a graph computed op by "
                             "op (a cell, or a layer made with fused=False), whose cell names "
                             "its gates")
        self.line = self.state_line()

    def shown_parents(self, i: int) -> list[int]:
        """The shown nodes that node ``i`` reads, directly or through hidden ones."""
        found, todo, seen = [], [i], {i}
        while todo:
            for p in self.graph.nodes[todo.pop()].parents:
                j = self.graph.index[id(p)]
                if j in seen:
                    continue
                seen.add(j)
                if j in self.kind:
                    found.append(j)
                elif p.op is not None:
                    todo.append(j)
        return sorted(found)

    def state_line(self) -> list[int]:
        """The chain input -> pointwise ... -> output with no gate on it that carries the state
        straight through the step: the cell state ``c`` of an LSTM, else the longest (a GRU's
        ``h``)."""
        chains = [(not (self.graph.nodes[out].name or "").startswith("c"), -len(chain), chain)
                  for out in self.outputs if (chain := self.chain_back(out))]
        return min(chains)[2] if chains else []  # an LSTM's c first, else the longest

    def chain_back(self, i: int) -> list[int]:
        """The longest path from an input to ``i`` through pointwise nodes only."""
        if self.kind[i] == "input":
            return [i]
        if self.kind[i] != "pointwise":
            return []
        paths = [self.chain_back(j) for j in self.sources[i]]
        longest = max((p for p in paths if p), key=len, default=[])
        return longest + [i] if longest else []


def input_label(graph: Graph, i: int, members: set[int]) -> str:
    """An input's name, as the previous step's when it was made there (``h_t`` -> ``hₜ₋₁``)."""
    t = graph.nodes[i]
    if t.name is None:
        return "input"
    name = t.name if i in members else t.name.replace("_t", "_{t-1}")
    return with_step(name, None)


def node_attrs(d: Diagram, i: int, members: set[int]) -> dict:
    """The attributes of a shown node: a gate box, a pointwise circle or an input's name."""
    t = d.graph.nodes[i]
    if d.kind[i] == "input":
        return {"label": input_label(d.graph, i, members), **style.DIAGRAM_TERMINAL}
    if d.kind[i] == "gate":
        return {"label": f"{ACTIVATIONS[type(t.op).__name__]}\n{with_step(t.name, None)}",
                **style.DIAGRAM_GATE}
    return {"label": style.op_text(t), **style.DIAGRAM_POINTWISE}


def line_label(d: Diagram, members: set[int], out: str | None) -> str:
    """The state line as one HTML-like node: its input, circles and output in one row, each a
    port (``p0``, ``p1``, ...) that the other arrows join (one node keeps the order)."""
    cells = []
    for k, i in enumerate(d.line):
        if d.kind[i] == "input":
            text, attrs = input_label(d.graph, i, members), ""
        else:
            text = style.op_text(d.graph.nodes[i])
            attrs = style.DIAGRAM_LINE_CELL
        cells.append(f'<TD PORT="p{k}" {attrs}>{escape(text)}</TD>')
    if out is not None:
        cells.append(f'<TD PORT="p{len(d.line)}">{escape(out)}</TD>')
    arrow = f'<TD><FONT COLOR="#333333">{style.DIAGRAM_ARROW}</FONT></TD>'
    return f"<<TABLE {style.DIAGRAM_LINE_TABLE}><TR>{arrow.join(cells)}</TR></TABLE>>"


def dot_text(d: Diagram, members: set[int]) -> list[str]:
    """The DOT statements of a diagram: the state line on top, read left to right; the gates
    below it and the inputs at the bottom (the edges from below are laid out top down and
    drawn pointing up)."""
    lines = [f"\tgraph [{attributes(style.DIAGRAM)}]\n",
             f"\tnode [{attributes(style.NODE)}]\n",
             f"\tedge [{attributes(style.DIAGRAM_EDGE)}]\n"]
    port = {i: f"line:p{k}:s" for k, i in enumerate(d.line)}
    on_line_out = next((k for k, i in enumerate(d.outputs) if d.line and i == d.line[-1]), None)
    if d.line:
        name = d.graph.nodes[d.line[-1]].name if on_line_out is not None else None
        out = with_step(name, None) if name else None
        lines.append(f"\tline [label={line_label(d, members, out)} "
                     f"{attributes(style.DIAGRAM_TERMINAL)}]\n")
    for i in sorted(d.kind):
        if i not in port:
            lines.append(f"\tn{i} [{attributes(node_attrs(d, i, members))}]\n")
    for k, i in enumerate(d.outputs):
        if k != on_line_out:
            name = d.graph.nodes[i].name
            label = with_step(name, None) if name else "output"
            lines.append(f"\tout{k} [{attributes({'label': label, **style.DIAGRAM_TERMINAL})}]\n")
    edges = [(j, i) for i in sorted(d.sources) for j in d.sources[i]]
    edges += [(i, f"out{k}") for k, i in enumerate(d.outputs) if k != on_line_out]
    for src, dst in edges:
        if src in port and dst in port:
            continue  # drawn inside the line
        a = port.get(src, f"n{src}")
        b = port.get(dst, dst if isinstance(dst, str) else f"n{dst}")
        if src in port:  # read off the line: below it
            lines.append(f"\t{a} -> {b}\n")
        else:  # from the inputs up: laid out top down, drawn pointing up
            lines.append(f"\t{b} -> {a} [dir=\"back\"]\n")
    return lines


def diagram(root: Tensor | Sequence[Tensor], *, step: int | None = None) -> Drawing:
    """One step of the cell that produced ``root``, drawn as a concept diagram (colah's style).

    Gates are boxes (σ, tanh), pointwise operations circles (×, +, ``1 −``, tanh), the state
    that flows through by pointwise operations alone (an LSTM's ``c``) a line along the top;
    see :mod:`tinygrad_rnn.viz.concept`. It is read from the recorded graph, so it shows what
    the cell computed (peepholes, coupled gates, either GRU form). The op-by-op graph of the
    same step is :func:`~tinygrad_rnn.viz.draw`'s.

    Args:
        root: a tensor (or tensors) computed by a cell, or by a layer made with
            ``fused=False``.
        step: which time step to draw (default: the last one of the first layer).

    Raises:
        ValueError: the step has no named gate (a fused layer step: pass ``fused=False``), or
            ``step`` is not in the graph.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.LSTMCell(2, 3, coupled=True)
        >>> hs, _ = tg.graph.unroll(cell, tg.randn(2, 1, 2))
        >>> source = tg.viz.diagram(hs[-1]).source
        >>> r"σ\\nfₜ" in source, r"σ\\niₜ" in source, "1 −" in source  # i = 1 − f
        (True, False, True)
    """
    graph = trace(root)
    members = pick_step(graph, step)
    d = Diagram(graph, members)
    drawing = Drawing("cell")
    drawing.body.extend(dot_text(d, set(members)))
    drawing.nodes = len(d.kind) + len(d.outputs)
    return drawing

