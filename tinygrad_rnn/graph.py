"""Tracing: the graph that produced a tensor, grouped by module, layer, direction and time step.

Every tensor records its op, its parents and its scope (``("lstm", "l0", "t3", "forget")``).
:func:`trace` walks the graph back from one or more roots in a deterministic order (parents
before children, in the order of ``.parents``), and :func:`parse_scope` reads a scope as a
:class:`Place`: the modules and layer around the time step, the step, and what is inside it.
Drawings (:mod:`tinygrad_rnn.viz`) and gradient-flow measurements are built on these.

Truncated BPTT cuts the graph with ``detach()``, which leaves no trace: use :func:`cut` instead
of :func:`tinygrad_rnn.nn.detach_state` to remember where each cut was, so a drawing shows it.

>>> import tinygrad_rnn as tg
>>> parse_scope(("lstm", "l1_reverse", "t3", "forget"))
Place(outer=('lstm', 'l1_reverse'), step=3, inner=('forget',), layer=1, reverse=True)
"""
from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import Any, NamedTuple

from .nn.loop import unroll  # noqa: F401  (tg.graph.unroll is tg.nn.unroll)
from .nn.tbptt import detach_state
from .tensor import Tensor
from .weak import WeakTensorDict

STEP = re.compile(r"t(\d+)$")
LAYER = re.compile(r"l(\d+)(_reverse)?$")


class Place(NamedTuple):
    """Where a tensor was made, read from its scope.

    Attributes:
        outer: the scope entries before the time step (modules, ``l<k>`` layer entries); the
            whole scope when there is no step.
        step: the time step ``k`` of the last ``t<k>`` entry, or ``None``.
        inner: the entries after the step (a cell module, a gate: ``("forget",)``).
        layer: ``k`` of the last ``l<k>`` / ``l<k>_reverse`` entry in ``outer``, or ``None``.
        reverse: whether that layer entry is a backward direction (``_reverse``).
    """

    outer: tuple[str, ...]
    step: int | None
    inner: tuple[str, ...]
    layer: int | None
    reverse: bool


def parse_scope(names: Sequence[str]) -> Place:
    """Read a scope tuple as a :class:`Place` (the last ``t<k>`` entry is the time step)."""
    names = tuple(names)
    at = next((i for i in range(len(names) - 1, -1, -1) if STEP.match(names[i])), None)
    outer = names if at is None else names[:at]
    step = None if at is None else int(names[at][1:])
    inner = () if at is None else names[at + 1:]
    layer, reverse = None, False
    for name in reversed(outer):
        m = LAYER.match(name)
        if m:
            layer, reverse = int(m.group(1)), m.group(2) is not None
            break
    return Place(outer, step, inner, layer, reverse)


def is_parameter(t: Tensor) -> bool:
    """A leaf that requires grad: a module parameter (or any trainable leaf)."""
    return t.op is None and t.requires_grad


def walk(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that ``roots`` were computed from, parents first (iterative, deterministic).

    The order is the post-order of a depth-first search that visits ``parents`` in order, so
    the same computation always gives the same list, whatever the memory addresses.
    """
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


class Graph:
    """The graph that produced ``roots``, with the questions drawings ask of it.

    Attributes:
        roots: the tensors the graph was traced from (a tuple).
        nodes: every tensor in it, parents before children (see :func:`walk`).
        index: ``id(tensor)`` -> position in ``nodes`` (ids of live tensors only: the graph
            holds them, so they cannot be reused while it lives).
        consumers: position -> positions of the nodes that use it as a parent (in order).
    """

    def __init__(self, roots: Tensor | Sequence[Tensor]):
        self.roots = (roots,) if isinstance(roots, Tensor) else tuple(roots)
        if not self.roots or not all(isinstance(r, Tensor) for r in self.roots):
            raise TypeError("trace(): root must be a Tensor or a non-empty sequence of Tensors")
        self.nodes = walk(self.roots)
        self.index = {id(t): i for i, t in enumerate(self.nodes)}
        self.consumers: dict[int, list[int]] = {i: [] for i in range(len(self.nodes))}
        for i, t in enumerate(self.nodes):
            for p in dict.fromkeys(self.index[id(p)] for p in t.parents):
                self.consumers[p].append(i)
        self.places = [parse_scope(t.scope) for t in self.nodes]

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, t) -> bool:
        return id(t) in self.index and self.nodes[self.index[id(t)]] is t

    def parameters(self) -> list[Tensor]:
        """The leaves that require grad, in traversal order."""
        return [t for t in self.nodes if is_parameter(t)]

    def steps(self) -> list[int]:
        """The time steps that occur in the graph, sorted."""
        return sorted({p.step for p in self.places if p.step is not None})

    def step_key(self, i: int) -> tuple[str, ...] | None:
        """The scope of node ``i`` up to and including its step entry (``None`` outside steps)."""
        place = self.places[i]
        if place.step is None or is_parameter(self.nodes[i]):
            return None
        return place.outer + (f"t{place.step}",)

    def groups(self) -> dict[tuple, list[int]]:
        """Step key -> positions of the nodes computed in that step of that layer (in order)."""
        out: dict[tuple, list[int]] = {}
        for i in range(len(self.nodes)):
            key = self.step_key(i)
            if key is not None:
                out.setdefault(key, []).append(i)
        return out

    def outputs(self, members: Sequence[int]) -> list[int]:
        """Positions in ``members`` used outside them (or roots): what a group hands on."""
        inside = set(members)
        roots = {self.index[id(r)] for r in self.roots}
        return [i for i in members
                if i in roots or any(c not in inside for c in self.consumers[i])]

    def main_output(self, members: Sequence[int]) -> int | None:
        """The hidden state ``h`` a step hands on: among its outputs, the one the layer itself
        (a consumer in the scope just outside the step) reads, else the one computed last
        (an LSTM's ``h = o * tanh(c)`` comes after ``c``)."""
        outs = self.outputs(members)
        if not outs:
            return None
        outer = self.places[members[0]].outer
        to_layer = [i for i in outs
                    if any(self.nodes[c].scope == outer for c in self.consumers[i])]
        return to_layer[0] if len(to_layer) == 1 else outs[-1]

    def hidden_states(self) -> dict[tuple[str, ...], dict[int, Tensor]]:
        """``h_t`` of every unrolled layer and direction: ``{outer scope: {t: tensor}}``.

        The layers are ordered by module (first seen), then layer number, forward before
        reverse: PyTorch's order of ``h_n`` rows for a bidirectional stack.
        """
        found: dict[tuple, dict[int, Tensor]] = {}
        for key, members in self.groups().items():
            i = self.main_output(members)
            if i is not None:
                found.setdefault(key[:-1], {})[int(key[-1][1:])] = self.nodes[i]
        modules = list(dict.fromkeys(tuple(n for n in k if not LAYER.match(n)) for k in found))

        def order(k):
            place = parse_scope(k)
            unlayered = tuple(n for n in k if not LAYER.match(n))
            return modules.index(unlayered), place.layer or 0, place.reverse, k
        return {k: dict(sorted(found[k].items())) for k in sorted(found, key=order)}


def trace(root: Tensor | Sequence[Tensor]) -> Graph:
    """The :class:`Graph` that produced ``root`` (a tensor or a sequence of tensors).

    >>> import tinygrad_rnn as tg
    >>> w = tg.ones(2, requires_grad=True)
    >>> with tg.scope("t0"):
    ...     h = (w * 2.0).tanh()
    >>> [type(t.op).__name__ for t in trace(h).nodes]
    ['NoneType', 'MulScalar', 'Tanh']
    """
    return Graph(root)


# ---- truncated BPTT: remember where the graph was cut ------------------------------------
class Cut(NamedTuple):
    """Where a detached state came from: a weak link to the tensor and its scope."""

    origin: weakref.ref
    scope: tuple[str, ...]


CUTS: WeakTensorDict = WeakTensorDict()


def flatten(state: Any) -> list[Tensor]:
    """The tensors in a state structure (tensor, tuples, lists, dicts), in order."""
    if isinstance(state, Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in flatten(s)]
    if isinstance(state, dict):
        return [t for s in state.values() for t in flatten(s)]
    return []


def cut(state: Any) -> Any:
    """:func:`tinygrad_rnn.nn.detach_state`, remembering each cut so that drawings show it.

    Use it where truncated BPTT detaches the carried state. The link to the original tensor
    is weak: the earlier graph is freed as usual.

    >>> import tinygrad_rnn as tg
    >>> h = tg.ones(2, requires_grad=True) * 2.0
    >>> h2 = cut(h)
    >>> h2.requires_grad, cut_origin(h2) is h
    (False, True)
    """
    detached = detach_state(state)
    for old, new in zip(flatten(state), flatten(detached)):
        CUTS[new] = Cut(weakref.ref(old), old.scope)
    return detached


def cut_origin(t: Tensor) -> Tensor | None:
    """The tensor ``t`` was detached from by :func:`cut`, if it is still alive."""
    info = CUTS.get(t)
    return None if info is None else info.origin()
