"""Layout: time runs left to right in one row per layer and direction, layers stacked below.

Graphviz ranks a graph along its edges, so the drawing follows the data: left alone, each
step of an op-level LSTM starts where its input slice is made and the steps climb diagonally.
Three rules give the picture of the textbooks (d2l's unrolled RNN, colah's chain of cells):

- **ordering edges**: an invisible edge from the last boxes of step ``t - 1`` to the first
  boxes of step ``t`` of the same layer and direction, so that a whole step lies right of the
  step before it;
- **reversed rows**: in the backward direction of a bidirectional layer every edge inside a
  step, and every edge handing the state from step ``t + 1`` to step ``t``, is laid out
  reversed (drawn with its arrowhead at the real end, ``dir="back"``), so that row reads right
  to left, as its computation runs, with each step under the forward step of the same ``t``;
- **stacked layers**: the edges that gather a layer's outputs into the sequence that the next
  layer reads (``stack``, ``concat``, its input projection) do not rank the layout, so layer
  ``k + 1`` starts at the left under layer ``k`` instead of after its last step.

Edges from the shared parameters never rank the layout either (the weights would pull every
step to the left). At ``level="step"`` a step node holds every layer and direction, so only
the ordering edges apply there.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from ..scopes import parse_scope, parse_step
from .grouping import PARAMS, Arrow, Box

#: Edges that do not rank the layout at ``level="step"`` when what they gather feeds steps
#: again (see :mod:`tinygrad_rnn.viz.limits`): the end of a bus that gathers the steps'
#: outputs (a step node holds every layer, so layer 1 reads layer 0's gathered outputs in the
#: same nodes: ranked, it would make cycles).
FAN_IN = ("end",)


@dataclass(frozen=True)
class Lane:
    """Where a box sits in the unroll: its layer and direction (``outer``) and time step."""

    outer: tuple[str, ...]
    step: int
    reverse: bool


def lane(box: Box) -> Lane | None:
    """The lane of a box inside a time step (a relay point too), else ``None``."""
    if box.kind == "relay":
        step = parse_step(box.cluster[-1]) if box.cluster else None
    else:
        step = box.step
    if step is None:
        return None
    return Lane(box.outer, step, parse_scope(box.outer).reverse)


def flipped(a: Lane | None, b: Lane | None) -> bool:
    """Whether an edge from lane ``a`` to lane ``b`` is laid out reversed (a backward row)."""
    if a is None or b is None or a.outer != b.outer or not a.reverse:
        return False
    return a.step >= b.step  # inside a step, or handing the state from t + 1 to t


def feeds_steps(boxes: list[Box], arrows: list[Arrow]) -> set[int]:
    """The boxes outside the steps (not the elided middle steps) from which a box of some step
    can be reached."""
    into: dict[int, list[int]] = {}
    for a in arrows:
        into.setdefault(a.dst, []).append(a.src)
    found: set[int] = set()
    todo = [b for b, box in enumerate(boxes) if lane(box) is not None]
    seen = set(todo)
    while todo:
        for src in into.get(todo.pop(), []):
            if src not in seen:
                seen.add(src)
                todo.append(src)
                if lane(boxes[src]) is None and boxes[src].kind != "elided":
                    found.add(src)
    return found


@dataclass
class EdgeLayout:
    """How one arrow is laid out: reversed (``flip``) and/or not ranking (``constraint``)."""

    flip: bool = False
    constraint: bool = True


def edge_layouts(boxes: list[Box], arrows: list[Arrow], level: str) -> list[EdgeLayout]:
    """The layout of every arrow (see the module docstring)."""
    lanes = [lane(box) for box in boxes]
    feeders = feeds_steps(boxes, arrows)
    out = []
    for a in arrows:
        src, dst = boxes[a.src], boxes[a.dst]
        ls, ld = lanes[a.src], lanes[a.dst]
        how = EdgeLayout()
        if src.cluster[-1:] == PARAMS:
            how.constraint = False
        elif level == "step":
            if a.part in FAN_IN and a.dst in feeders or (
                    src.step is not None and dst.step is not None and dst.step < src.step):
                how.constraint = False
        elif ls is not None and ld is None and a.dst in feeders:
            how.constraint = False  # gathered for the next layer: stack the layers
        else:
            how.flip = flipped(ls, ld)
        out.append(how)
    return out


def ordering_edges(boxes: list[Box], arrows: list[Arrow],
                   layouts: list[EdgeLayout]) -> list[tuple[int, int]]:
    """Invisible edges from the last boxes of each step to the first boxes of the next one.

    "Last" and "first" are read on the edges as laid out (reversed in a backward row), inside
    the step, relay points of the buses included (a bus's chain alone would let step ``t``'s
    relay sit beside step ``t - 1``'s cell, and the steps climb diagonally); for each lane,
    step ``t - 1`` is joined to step ``t`` (time order, left to right), except where a drawn
    edge joins the two boxes already (the state handed on, at ``level="cell"``).
    """
    lanes = [lane(box) for box in boxes]
    members: dict[tuple, dict[int, list[int]]] = {}
    for b, ln in enumerate(lanes):
        if ln is not None:
            members.setdefault(ln.outer, {}).setdefault(ln.step, []).append(b)
    has_in, has_out, drawn = set(), set(), set()
    for a, how in zip(arrows, layouts):
        src, dst = (a.dst, a.src) if how.flip else (a.src, a.dst)
        drawn.add((src, dst))
        if lanes[src] is not None and lanes[src] == lanes[dst]:
            has_out.add(src)
            has_in.add(dst)
    hoisted: dict[tuple, set[int]] = {}  # lane -> its boxes outside the steps feeding them
    for a in arrows:
        ld = lanes[a.dst]
        if ld is not None and lanes[a.src] is None and boxes[a.src].outer == ld.outer \
                and boxes[a.src].kind not in ("relay", "elided"):
            hoisted.setdefault(ld.outer, set()).add(a.src)
    edges = []
    for outer, steps in members.items():
        order = sorted(steps)
        first = [b for b in steps[order[0]] if b not in has_in]
        edges += [(s, d) for s in sorted(hoisted.get(outer, ())) for d in first
                  if (s, d) not in drawn]  # a backward row starts after its input projection
        for prev, nxt in pairwise(order):
            last = [b for b in steps[prev] if b not in has_out]
            first = [b for b in steps[nxt] if b not in has_in]
            edges += [(s, d) for s in last for d in first if (s, d) not in drawn]
    return edges
