"""Tracing: the graph that produced a tensor, grouped by module, layer, direction and time step.

Every tensor records its op, its parents and its scope (``("lstm", "l0", "t3", "forget")``).
:func:`trace` walks the graph back from one or more roots in a deterministic order (parents
before children, in the order of ``.parents``) and reads every scope as a
:class:`~tinygrad_rnn.scopes.Place` (:func:`~tinygrad_rnn.scopes.parse_scope`): the modules and
layer around the time step, the step, and what is inside it. Drawings (:mod:`tinygrad_rnn.viz`)
and gradient-flow measurements are built on the :class:`Graph` it returns.

>>> import tinygrad_rnn as tg
>>> w = tg.ones(2, requires_grad=True)
>>> with tg.scope("lstm", "l0", "t3"):
...     h = (w * 2.0).tanh()
>>> graph = trace(h)
>>> len(graph), graph.steps(), graph.places[-1].layer
(3, [3], 0)
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .scopes import parse_scope, parse_step, step_name, unlayered
from .tensor import Tensor

SUBSCRIPTS = str.maketrans("0123456789-+", "₀₁₂₃₄₅₆₇₈₉₋₊")
TIME = re.compile(r"_(t|\{t-1\})(?![A-Za-z0-9])")


def named(t: Tensor, name: str) -> Tensor:
    """``t``, named as the equations name it (``"f_t"``, ``"c_t"``): drawings read the name.

    A cell names what it computes; ``_t`` stands for the time step, which a drawing writes as
    a subscript (:func:`with_step`).

    >>> import tinygrad_rnn as tg
    >>> named(tg.ones(2), "h_t").name
    'h_t'
    """
    t.name = name
    return t


def with_step(name: str, step: int | None) -> str:
    """A recorded name with its time step as a subscript: ``("h_t", 3)`` -> ``"h₃"``,
    ``("c_{t-1}", 3)`` -> ``"c₂"``; without a step ``_t`` is written ``ₜ``.

    >>> with_step("W_ih x_t + b", 12), with_step("1 − f_t", None)
    ('W_ih x₁₂ + b', '1 − fₜ')
    """
    def sub(m: re.Match) -> str:
        if step is None:
            return "ₜ" if m.group(1) == "t" else "ₜ₋₁"
        return str(step - (m.group(1) != "t")).translate(SUBSCRIPTS)
    return TIME.sub(sub, name)


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
        places: position -> where the node was made, its scope read as a
            :class:`~tinygrad_rnn.scopes.Place`.
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
        return place.outer + (step_name(place.step),)

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
                found.setdefault(key[:-1], {})[parse_step(key[-1])] = self.nodes[i]
        modules = list(dict.fromkeys(unlayered(k) for k in found))

        def order(k):
            place = parse_scope(k)
            return modules.index(unlayered(k)), place.layer or 0, place.reverse, k
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
