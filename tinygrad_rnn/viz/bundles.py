"""Edge bundles ("buses"): one line along the steps instead of one long edge per step.

A parameter (or a hoisted ``W.T``, or the input projection of the whole sequence) is read by
every time step, and the ``stack`` of a layer's outputs reads every step's ``h``. Drawn as T
edges each, they span up to T ranks: Graphviz then lays out ~T²/2 hidden nodes per such tensor
and a 100-step graph takes minutes. A bus runs one chain of tiny relay points along the steps,
with one short branch into (or out of) each step: still one arrow per step, a picture of "the
same weights used again and again", and a layout in about a second.
"""
from __future__ import annotations

from ..scopes import step_name
from .grouping import Arrow, Box

FAN = 8  # a box read by (or reading) more steps than this gets a bus (few: direct edges)


def fans(boxes: list[Box], arrows: list[Arrow]) -> tuple[dict, dict]:
    """``(out, into)``: box -> {step: [arrow indices]} for arrows between steps and the rest."""
    out: dict[int, dict[int, list[int]]] = {}
    into: dict[int, dict[int, list[int]]] = {}
    for k, a in enumerate(arrows):
        src, dst = boxes[a.src], boxes[a.dst]
        if a.cut:
            continue
        if src.step is None and dst.step is not None:
            out.setdefault(a.src, {}).setdefault(dst.step, []).append(k)
        elif dst.step is None and src.step is not None:
            into.setdefault(a.dst, {}).setdefault(src.step, []).append(k)
    return out, into


def relay(boxes: list[Box], near: Box) -> int:
    """A new relay point inside the cluster of ``near``'s time step; its index.

    Inside, the bus crosses from step to step as the hidden state does; a relay outside the
    step clusters would have to be laid out around them, which costs Graphviz 100 times more.
    """
    cluster = near.outer + (step_name(near.step),)
    boxes.append(Box(cluster, near.outer, None, "relay"))
    return len(boxes) - 1


def ordered(per_step: dict[int, list[int]], done_at, by_time: bool) -> list[list[int]]:
    """The arrow lists of ``per_step`` by time step, or in the order their steps finished."""
    if by_time:
        return [per_step[t] for t in sorted(per_step)]
    return sorted(per_step.values(), key=lambda ks: min(done_at(k) for k in ks))


def bus_out(boxes: list[Box], arrows: list[Arrow], src: int,
            groups: list[list[int]]) -> list[Arrow]:
    """A fan out of box ``src``: a chain of relays, one per step, each branching into its step."""
    new, prev = [], src
    for ks in groups:
        r = relay(boxes, boxes[arrows[ks[0]].dst])
        new.append(Arrow(prev, r, arrows[ks[0]].carried, part="start" if prev == src else "chain"))
        new += [Arrow(r, arrows[k].dst, arrows[k].carried, part="branch") for k in ks]
        prev = r
    return new


def bus_in(boxes: list[Box], arrows: list[Arrow], dst: int,
           groups: list[list[int]]) -> list[Arrow]:
    """A fan into box ``dst``: each step gathers into its relay, the relays collect into ``dst``."""
    new, prev = [], None
    for ks in groups:
        r = relay(boxes, boxes[arrows[ks[0]].src])
        new += [Arrow(arrows[k].src, r, arrows[k].carried, part="gather") for k in ks]
        new += [] if prev is None else [Arrow(prev, r, None, part="collect")]
        prev = r
    return new + [Arrow(prev, dst, None, part="end")]


def add_buses(boxes: list[Box], arrows: list[Arrow], by_time: bool = False) -> list[Arrow]:
    """Reroute every fan of more than ``FAN`` steps through a bus (``boxes`` grows in place).

    Relays follow the order the steps were computed in (where the last tensor of each step
    comes in the traversal: the first one of a step can be an input read early), so a
    backward-direction layer's bus runs from its last step to its first, as its computation
    does; with ``by_time`` they follow the time steps instead (for step nodes that hold both
    directions).

    Returns:
        The new arrows; a bus arrow has ``part`` ``"start"``, ``"chain"``, ``"branch"`` (relay
        to step) when it fans out, ``"gather"`` (step to relay), ``"collect"`` or ``"end"``
        when it fans in.
    """
    out, into = fans(boxes, arrows)
    finished: dict[tuple, int] = {}  # (layer scope, step) -> its last tensor in the traversal
    for box in boxes:
        if box.step is not None and box.members:
            key = (box.outer, box.step)
            finished[key] = max(finished.get(key, -1), max(box.members))

    def done_at(b: int) -> int:
        return finished[boxes[b].outer, boxes[b].step]

    bused: set[int] = set()
    extra: list[Arrow] = []
    for src, per_step in out.items():
        if len(per_step) > FAN:
            groups = ordered(per_step, lambda k: done_at(arrows[k].dst), by_time)
            extra += bus_out(boxes, arrows, src, groups)
            bused.update(k for ks in groups for k in ks)
    for dst, per_step in into.items():
        if len(per_step) > FAN:
            groups = ordered(per_step, lambda k: done_at(arrows[k].src), by_time)
            extra += bus_in(boxes, arrows, dst, groups)
            bused.update(k for ks in groups for k in ks)
    return [a for k, a in enumerate(arrows) if k not in bused] + extra
