"""What each drawn box says: the op or the name a cell gave it, the inputs and their words,
and, for scalars, the value and the gradient (as micrograd draws them).

Names come from the recorded graph: a cell names what it computes (``f_t``, ``c_t``, ``h_t``,
see :func:`tinygrad_rnn.trace.named`) and a drawing writes the time step as a subscript
(``f₃ = σ``). ``draw(root, inputs=...)`` says which tensors are the inputs: they are drawn in
a cluster of their own, never among the parameters, and the words of a text input label the
time steps (``t = 4: "arrive"``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..nn.tbptt import CUTS
from ..scopes import parse_scope
from ..tensor import Tensor
from ..trace import Graph, with_step
from . import style
from .grads import scalar_grads
from .grouping import Box


class Inputs:
    """The inputs of a drawing, read from ``draw(inputs=...)``.

    Attributes:
        positions: the graph positions of the input tensors.
        names: position -> the name to draw (``None``: the tensor's own name, else ``"x"``).
        tokens: one label per time step (the words of a text input), or ``None``.
    """

    def __init__(self, graph: Graph, inputs):
        self.positions: frozenset[int] = frozenset()
        self.names: dict[int, str | None] = {}
        self.tokens: list[str] | None = None
        if inputs is None:
            return
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        items = inputs.items() if isinstance(inputs, Mapping) else ((t, None) for t in inputs)
        for t, about in items:
            if not isinstance(t, Tensor) or t not in graph:
                raise ValueError("inputs: each input must be a tensor in the graph of root "
                                 "(the tensor the model read, e.g. inputs={x: words})")
            i = graph.index[id(t)]
            if isinstance(about, str) or about is None:
                self.names[i] = about
            elif isinstance(about, Sequence):
                self.names[i] = None
                self.tokens = [str(w) for w in about] if self.tokens is None else self.tokens
            else:
                raise TypeError(f"inputs: the value for an input must be its name (a str) or "
                                f"one label per time step (a list), got {type(about).__name__}")
        self.positions = frozenset(self.names)

    def label(self, graph: Graph, i: int) -> str | None:
        """The first line of input ``i``'s label, with its words if it has them."""
        if i not in self.names:
            return None
        t = graph.nodes[i]
        name = self.names[i] or t.name or "x"
        if self.tokens is None:
            return name
        words = " ".join(self.tokens)
        return f"{name}: “{words if len(words) <= 40 else words[:39] + '…'}”"

    def step_title(self, step: int) -> str:
        """The title of time step ``step``'s cluster: ``t = 3``, with its word if any."""
        if self.tokens is None or not 0 <= step < len(self.tokens):
            return f"t = {step}"
        return f"t = {step}: “{self.tokens[step]}”"


def number(v: float) -> str:
    """A value as micrograd writes it, with a real minus sign: ``−1.5000``."""
    return f"{v:.4f}".replace("-", "−")


def value_text(t: Tensor, grad: float | None) -> str:
    """The value lines of a scalar: ``data 0.7071`` and ``grad −1.5000`` (if known)."""
    if t.numel() != 1:
        return ""
    text = f"\ndata {number(float(t.data.ravel()[0]))}"
    return text + ("" if grad is None else f"\ngrad {number(grad)}")


def shape_line(t: Tensor, values: bool) -> str:
    """The shape line of a label; none for a number whose value is written instead."""
    return "" if values and t.ndim == 0 else "\n" + style.shape_text(t)


def label_boxes(graph: Graph, boxes: list[Box], names: dict[int, str], cuts: set[int],
                inputs: Inputs, values: bool = False) -> None:
    """Fill in each box's label: op (or name) and shape, leaf name, or the cell's title and size.

    With ``values``, a box of one number also shows its value and its gradient: a leaf's
    ``.grad``, or the gradient recorded by :class:`~tinygrad_rnn.viz.record_grads`.
    """
    grads = scalar_grads(graph) if values else {}
    for b, box in enumerate(boxes):
        if box.label or box.kind == "relay":
            continue
        i = box.members[0]
        t = graph.nodes[i]
        if box.kind in ("param", "leaf"):
            info = CUTS.get(t)
            step = box.step if info is None else parse_scope(info.scope).step
            first = inputs.label(graph, i) or style.leaf_text(t, names.get(id(t)), b in cuts,
                                                              step)
            box.label = first + shape_line(t, values)
            if info is not None:
                box.label += "\nfrom " + ("/".join(info.scope) or "top level")
        elif box.kind == "op":
            first = inputs.label(graph, i) or style.named_op_text(t, box.step)
            box.label = first + shape_line(t, values)
        else:
            box.label = group_label(graph, box)
        if values and box.kind in ("param", "leaf", "op"):
            box.label += value_text(t, grads.get(i))


def group_label(graph: Graph, box: Box) -> str:
    """The label of a cell, step or sequence box: its title and how many ops it holds."""
    tensors = [graph.nodes[i] for i in box.members]
    ops = sum(1 for x in tensors if x.op is not None)
    place = graph.places[box.members[0]]
    title = style.group_title(place, tensors)
    out = ""
    if box.rep is not None:
        t = graph.nodes[box.rep]
        name = "" if t.name is None else with_step(t.name, box.step) + " "
        out = f" → {name}{style.shape_text(t)}"
    if box.kind == "cell":
        arrow = " ←" if place.reverse else ""
        return f"{title}{arrow}\n{ops} ops{out}"
    if box.kind in ("sequence", "after"):
        name = box.cluster[-1] if box.cluster else "layers"
        if box.kind == "sequence":
            return f"{name}: before the steps\n{ops} ops (input projections, W.T)"
        return f"{name}: after the steps\n{ops} ops (stacks of the outputs)"
    cells = len({graph.step_key(i) for i in box.members})
    return f"{title}\n{cells} cell{'s' * (cells != 1)}, {ops} ops{out}"
