"""Gradient norms for drawings: record them during ``backward()``, or compute them on the spot.

``backward()`` keeps the gradients of leaves only. Inside ``with tg.viz.record_grads():`` a hook
(``tg.autograd.state.grad_hooks``) stores the norm of every gradient the engine computes, for
every tensor of that backward pass, so ``draw(loss, grads=True)`` can colour each node:

>>> import tinygrad_rnn as tg
>>> w = tg.tensor([3.0, 4.0], requires_grad=True)
>>> h = w * 2.0
>>> loss = (h * h).sum()
>>> with tg.viz.record_grads() as record:
...     loss.backward()
>>> round(record[h], 3), round(record[w], 3)   # dL/dh = 2h, dL/dw = 4h
(20.0, 40.0)
"""
from __future__ import annotations

from typing import Self

from .. import backend
from ..autograd import state
from ..tensor import Tensor, grad
from ..trace import Graph
from ..weak import WeakTensorDict

#: The latest recorded norm of every tensor still alive, from any ``record_grads`` block.
RECORDED: WeakTensorDict = WeakTensorDict()
#: The latest recorded gradient of every one-element tensor still alive, with its sign.
SCALARS: WeakTensorDict = WeakTensorDict()

HOW = ("record them during backward: `with tg.viz.record_grads(): loss.backward()`, then "
       "draw(loss, grads=True)")


def norm(array) -> float:
    """The 2-norm of a gradient array (NumPy or CuPy), in float64, as a Python float."""
    xp = backend.get_array_module(array)
    return float(xp.linalg.norm(array.astype(xp.float64).ravel()))


class record_grads:
    """Context manager: store ``‖gradient‖`` of every tensor of the backward passes inside it.

    The norms are kept weakly (they go when the tensor goes): look one up with
    ``record[tensor]`` or ``record.get(tensor)``; :func:`tinygrad_rnn.viz.draw` finds them by
    itself. A leaf's entry is its gradient from this backward pass (not the accumulated
    ``.grad``).
    """

    def __init__(self):
        self.norms: WeakTensorDict = WeakTensorDict()

    def hook(self, t: Tensor, g) -> None:
        value = norm(g)
        self.norms[t] = value
        RECORDED[t] = value
        if g.size == 1:
            SCALARS[t] = float(g.ravel()[0])

    def __enter__(self) -> Self:
        state.grad_hooks = state.grad_hooks + (self.hook,)
        return self

    def __exit__(self, *exc) -> None:
        state.grad_hooks = tuple(h for h in state.grad_hooks if h != self.hook)

    def __getitem__(self, t: Tensor) -> float:
        return self.norms[t]

    def __contains__(self, t) -> bool:
        return t in self.norms

    def __len__(self) -> int:
        return len(self.norms)

    def get(self, t: Tensor, default=None):
        return self.norms.get(t, default)


def graph_norms(graph: Graph, source=None) -> list[float | None]:
    """The gradient norm of every node of ``graph`` (``None`` where no gradient reached it).

    Args:
        graph: the traced graph.
        source: a :class:`record_grads` (or a mapping tensor -> norm); ``None`` looks in every
            recording made so far.

    Raises:
        RuntimeError: nothing was recorded for this graph and its saved arrays were freed by
            ``backward()``, so the gradients cannot be computed again; the message says how
            to record them.
    """
    found = RECORDED if source is None else getattr(source, "norms", source)
    norms = [found.get(t) for t in graph.nodes]
    if any(n is not None for n in norms):
        return norms
    return on_the_spot(graph)


def scalar_grads(graph: Graph) -> dict[int, float]:
    """Position -> the gradient of each one-element node, with its sign (``draw(values=True)``):
    the one recorded by :class:`record_grads`, else a leaf's ``.grad``."""
    found = {}
    for i, t in enumerate(graph.nodes):
        if t.numel() != 1:
            continue
        g = SCALARS.get(t)
        if g is None and t.grad is not None:
            g = float(t.grad.data.ravel()[0])
        if g is not None:
            found[i] = g
    return found


def on_the_spot(graph: Graph) -> list[float | None]:
    """Compute every node's gradient norm now with ``tg.grad(root, nodes, retain_graph=True)``."""
    if len(graph.roots) != 1:
        raise RuntimeError(f"draw(grads=True): no gradients were recorded for these "
                           f"{len(graph.roots)} roots; {HOW}")
    (root,) = graph.roots
    if not root.requires_grad:
        raise RuntimeError("draw(grads=True): the root does not require grad, so there are no "
                           "gradients to show")
    freed = [t for t in graph.nodes if t.op is not None and t.op.freed]
    if freed:
        where = "/".join(freed[0].scope) or "top level"
        raise RuntimeError(
            f"draw(grads=True): no gradient norms were recorded for this graph, and backward() "
            f"freed the arrays its ops saved ({type(freed[0].op).__name__} at {where}, and "
            f"{len(freed) - 1} more), so they cannot be computed again; {HOW} (or pass "
            "retain_graph=True to backward())")
    targets = [t for t in graph.nodes if t.requires_grad]
    seed = None if root.numel() == 1 else root.xp.ones_like(root.data)
    grads = grad(root, targets, grad_outputs=seed, retain_graph=True)
    by_id = {id(t): None if g is None else norm(g.data) for t, g in zip(targets, grads)}
    return [by_id.get(id(t)) for t in graph.nodes]
