"""Grouping: what a drawing shows, the traced graph grouped into boxes and arrows, then elided.

``level="op"`` draws every tensor; ``"cell"`` one box per cell per step (everything under one
``(..., layer, t<k>)`` scope); ``"step"`` one box per time step (all layers of a step together,
and the work outside the steps one box per module before the steps and one after them).
Parameters are always drawn alone, once, whatever the level. :func:`elide` then replaces the
middle time steps by one box per unrolled layer that says how many steps it hides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..nn.tbptt import cut_origin
from ..scopes import unlayered
from ..trace import Graph, is_parameter

LEVELS = ("op", "cell", "step")
PARAMS = ("@parameters",)  # the cluster path of the shared parameters
INPUTS = ("@inputs",)  # the cluster path of the inputs named by ``draw(inputs=...)``


@dataclass
class Box:
    """One drawn node.

    Attributes:
        cluster: the scope path of the cluster it sits in (``PARAMS`` for parameters).
        outer: the scope before its time step (where an elision box for it would go).
        step: its time step, or ``None``.
        members: positions in the graph's ``nodes`` of the tensors it stands for.
        kind: ``"param"``, ``"leaf"``, ``"op"``, ``"cell"``, ``"step"``, ``"sequence"``,
            ``"after"`` (the work of a module before and after its steps) or ``"elided"``.
        rep: the position of the tensor whose gradient colours it (``None``: none).
        label: its text, filled in by :mod:`tinygrad_rnn.viz.dot`.
    """

    cluster: tuple[str, ...]
    outer: tuple[str, ...]
    step: int | None
    kind: str
    members: list[int] = field(default_factory=list)
    rep: int | None = None
    label: str = ""


@dataclass
class Arrow:
    """One drawn edge from box ``src`` to box ``dst`` carrying graph node ``carried``."""

    src: int
    dst: int
    carried: int | None
    cut: bool = False
    part: str = ""  # a bus segment (see :mod:`tinygrad_rnn.viz.bundles`), else ""


def group_key(graph: Graph, i: int, level: str, modules: set, after: set[int]
              ) -> tuple[str, ...] | None:
    """The key of the group node ``i`` belongs to at ``level`` (``None``: drawn alone).

    At ``level="step"`` the work a layer does outside its steps is one ``"sequence"`` box per
    module before the steps (the input projection of the whole sequence, ``W.T``), keyed
    ``module + ("@sequence",)``, and one ``"after"`` box for what reads the steps' outputs
    (the stack of the outputs, the concat between layers; ``after``), ``module + ("@after",)``.
    """
    key = graph.step_key(i)
    if level == "op" or is_parameter(graph.nodes[i]):
        return None
    if level == "cell":
        return key
    if key is not None:
        return unlayered(key[:-1]) + key[-1:]
    scope = graph.nodes[i].scope
    for module in modules:
        if scope[:len(module)] == module and (module or len(unlayered(scope)) < len(scope)):
            return module + ("@after",) if i in after else module + ("@sequence",)
    return None


def after_steps(graph: Graph) -> set[int]:
    """The nodes outside the steps computed from a step's output."""
    after: set[int] = set()
    for i, t in enumerate(graph.nodes):
        if graph.step_key(i) is None and any(
                j in after or graph.step_key(j) is not None
                for j in (graph.index[id(p)] for p in t.parents)):
            after.add(i)
    return after


def make_boxes(graph: Graph, level: str, inputs: frozenset[int] = frozenset()
               ) -> tuple[list[Box], list[int]]:
    """Boxes at ``level`` and, for each graph node, the index of its box (deterministic order).

    The leaves at the positions ``inputs`` are drawn in the ``INPUTS`` cluster, never among the
    parameters (a leaf that requires grad is a parameter otherwise).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    modules = {unlayered(graph.places[i].outer) for i in range(len(graph))
               if graph.step_key(i) is not None} if level == "step" else set()
    modules = sorted(modules, key=len, reverse=True)  # the innermost module first
    after = after_steps(graph) if level == "step" else set()
    boxes: list[Box] = []
    box_of: list[int] = []
    groups: dict[tuple, int] = {}
    for i, t in enumerate(graph.nodes):
        place = graph.places[i]
        key = group_key(graph, i, level, modules, after)
        if key is not None and key in groups:
            b = groups[key]
        else:
            if i in inputs and t.op is None:
                box = Box(INPUTS, (), None, "leaf", rep=i)
            elif is_parameter(t):
                box = Box(PARAMS, (), None, "param", rep=i)
            elif key is None:
                box = Box(tuple(t.scope), place.outer, place.step,
                          "leaf" if t.op is None else "op", rep=i)
            elif key[-1] in ("@sequence", "@after"):
                box = Box(key[:-1], key[:-1], None, "sequence" if key[-1] == "@sequence"
                          else "after")
                groups[key] = len(boxes)
            else:
                box = Box(key, key[:-1], place.step, level)
                groups[key] = len(boxes)
            b = len(boxes)
            boxes.append(box)
        boxes[b].members.append(i)
        box_of.append(b)
    for box in boxes:
        if box.kind in ("cell", "step"):
            box.rep = graph.main_output(box.members)
    place_parameters(graph, boxes, box_of)
    return boxes, box_of


def place_parameters(graph: Graph, boxes: list[Box], box_of: list[int]) -> None:
    """Move a parameter that no step reads directly next to what reads it.

    A layer hoists ``W.T`` and the input projection out of its time loop, so its parameters
    are read once, by ops in the layer's scope: they go to a ``parameters`` cluster inside that
    scope. Drawn all together at the far left instead, the parameters of a second layer would
    need edges across the whole unroll (and Graphviz minutes to lay them out).
    """
    for box in boxes:
        if box.kind != "param":
            continue
        readers = [boxes[box_of[c]] for c in graph.consumers[box.members[0]]]
        if not readers or any(r.step is not None for r in readers):
            continue
        common = readers[0].cluster
        for r in readers[1:]:
            k = 0
            while k < min(len(common), len(r.cluster)) and common[k] == r.cluster[k]:
                k += 1
            common = common[:k]
        if common and common != PARAMS:
            box.cluster, box.outer = common + PARAMS, common


def make_arrows(graph: Graph, box_of: list[int], merge: bool = False) -> list[Arrow]:
    """Edges between boxes, one per tensor handed from one box to another, and the cuts.

    With ``merge`` (step level) there is one edge per pair of boxes, whatever it carries.

    A cut is found when a leaf that needs no gradient was made by :func:`tinygrad_rnn.nn.cut`
    from a tensor in the graph, or shares its array with one (``detach()`` shares the data).
    """
    arrows, seen = [], set()
    made_by = {id(t.data): i for i, t in enumerate(graph.nodes) if t.op is not None}
    for i, t in enumerate(graph.nodes):
        for p in t.parents:
            j = graph.index[id(p)]
            key = (box_of[j], box_of[i], None if merge else j)
            if box_of[j] != box_of[i] and key not in seen:
                seen.add(key)
                arrows.append(Arrow(box_of[j], box_of[i], j))
        if t.op is None and not t.requires_grad:
            origin = cut_origin(t)
            j = graph.index.get(id(origin)) if origin in graph else made_by.get(id(t.data))
            if j is not None and box_of[j] != box_of[i]:
                arrows.append(Arrow(box_of[j], box_of[i], j, cut=True))
    return arrows


def steps_to_keep(boxes: list[Box], max_steps: int | None, max_nodes: int | None,
                  pinned: set[int], relays: dict[int, int]) -> tuple[set[int] | None, str]:
    """Which time steps to draw: all (``None``), or the first and last ones.

    ``relays`` counts the relay points each step will hold (:mod:`~tinygrad_rnn.viz.bundles`):
    they are nodes too, and ``max_nodes`` counts every node drawn.

    Returns:
        ``(keep, why)``: the steps kept, and ``"max_steps"`` or ``"max_nodes"`` for the reason.
    """
    counts: dict[int, int] = dict(relays)
    for box in boxes:
        if box.step is not None:
            counts[box.step] = counts.get(box.step, 0) + 1
    steps = sorted(counts)
    total = len(boxes) + sum(relays.values())
    if max_steps is not None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be a positive int (or None), got {max_steps!r}")
        m, why = max_steps, "max_steps"
    elif max_nodes is not None and total > max_nodes and len(steps) > 2:
        base = total - sum(counts.values())
        lanes = len({b.outer for b in boxes if b.step is not None})
        m, why = 2, "max_nodes"
        for k in range(len(steps) - 1, 2, -1):
            head = math.ceil(k / 2)
            kept = steps[:head] + steps[len(steps) - (k - head):]
            if base + lanes + sum(counts[s] for s in kept) <= max_nodes:
                m = k
                break
    else:
        return None, ""
    if m >= len(steps):
        return None, ""
    head = math.ceil(m / 2)
    return set(steps[:head]) | set(steps[len(steps) - (m - head):]) | pinned, why


def elide(boxes: list[Box], arrows: list[Arrow], keep: set[int]) -> tuple[list[Box], list[Arrow]]:
    """Replace the boxes of the steps not in ``keep`` by one elision box per unrolled layer."""
    hidden_steps: dict[tuple, set[int]] = {}
    for box in boxes:
        if box.step is not None and box.step not in keep:
            hidden_steps.setdefault(box.outer, set()).add(box.step)
    new_boxes, where = [], {}
    lane_box: dict[tuple, int] = {}
    for b, box in enumerate(boxes):
        if box.step is None or box.step in keep:
            where[b] = len(new_boxes)
            new_boxes.append(box)
            continue
        if box.outer not in lane_box:
            hidden = sorted(hidden_steps[box.outer])
            lane_box[box.outer] = len(new_boxes)
            new_boxes.append(Box(box.outer, box.outer, None, "elided",
                                 label=f"⋯\n{len(hidden)} steps hidden\n"
                                       f"(t = {hidden[0]} … {hidden[-1]})"))
        where[b] = lane_box[box.outer]
        new_boxes[where[b]].members.extend(box.members)
    new_arrows, seen = [], set()
    elided = set(lane_box.values())
    for a in arrows:
        src, dst = where[a.src], where[a.dst]
        key = (src, dst) if src in elided or dst in elided else (src, dst, a.carried)
        if src != dst and key not in seen:
            seen.add(key)
            new_arrows.append(Arrow(src, dst, a.carried, a.cut))
    return new_boxes, new_arrows
