"""Reverse-mode automatic differentiation: grad mode, scopes and the backward pass.

The backward pass walks the recorded graph in reverse topological order (newest tensor first,
without recursion, so graphs of any depth work: a 50,000-step recurrence is fine). Each op's
``backward`` returns one gradient per input; gradients that were broadcast in the forward pass are
summed back to the input's shape in exactly one place, :func:`fit_to`.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
from heapq import heappop, heappush

import numpy as np

from .backend import get_array_module, scatter_add
from .scopes import step_of


class _State(threading.local):
    """Per-thread recording state: is the graph recorded, under which scope, what is watched."""

    grad_enabled = True
    scope: tuple[str, ...] = ()
    anomaly = False        # check every forward output and gradient for NaN and Inf
    grad_hooks: tuple = ()  # callables (tensor, gradient array) run for every gradient computed
    backward_pass = 0      # a new number at every backward pass (ops that share work across
                           # steps, like the fused LSTM, tell one pass from the next by it)


passes = itertools.count(1)


state = _State()


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator: record the graph (``True``) or not (``False``) inside."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self.prev


class no_grad(set_grad_enabled):
    """Ops inside record no graph (as ``torch.no_grad``)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record the graph again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared; ``tensor`` is the tensor whose value or gradient it is."""

    def __init__(self, message: str, tensor, where: str):
        super().__init__(message)
        self.tensor, self.where = tensor, where


class detect_anomaly(contextlib.ContextDecorator):
    """Raise :class:`AnomalyError` at the first op whose output or input gradient is not finite.

    The error names the op, its scope and the time step (the scope's ``t<k>`` entry), in the
    forward or the backward pass; ``error.tensor`` is the tensor concerned, so a drawing of the
    graph can highlight it. Checking costs one pass over every array: use it to debug.
    """

    def __enter__(self):
        self.prev = state.anomaly
        state.anomaly = True

    def __exit__(self, *exc):
        state.anomaly = self.prev


def check_finite(array, tensor, op, when: str) -> None:
    """Raise :class:`AnomalyError` if ``array`` holds a NaN or an Inf."""
    xp = get_array_module(array)
    if bool(xp.isfinite(array).all()):
        return
    kind = "NaN" if bool(xp.isnan(array).any()) else "Inf"
    where = "/".join(tensor.scope) or "top level"
    step = step_of(tensor.scope)
    at_step = f", time step {step}" if step is not None else ""
    raise AnomalyError(f"detect_anomaly: {type(op).__name__} produced {kind} in the {when} "
                       f"(scope {where}{at_step}, shape {tuple(array.shape)})", tensor, when)


def is_grad_enabled() -> bool:
    """Whether ops record the graph now."""
    return state.grad_enabled


class scope:
    """Context manager: push ``names`` onto the scope that every tensor made inside records.

    Modules push their name when called and recurrent layers push the layer and time step, so
    a graph can be grouped by layer, direction and step (a class, not a generator: cells enter
    one at every time step).

    >>> import tinygrad_rnn as tg
    >>> with tg.scope("lstm", "t0"):
    ...     y = tg.ones(2) * 2
    >>> y.scope
    ('lstm', 't0')
    """

    def __init__(self, *names: str):
        self.names = tuple(map(str, names))

    def __enter__(self):
        self.prev = state.scope
        state.scope = self.prev + self.names
        return state.scope

    def __exit__(self, *exc):
        state.scope = self.prev


def fit_to(g, like):
    """Sum ``g`` over the axes that broadcasting added or stretched, and cast to ``like``'s dtype.

    This is the one place where broadcast gradients are summed back: every op's ``backward`` may
    return a gradient of the broadcast output shape, and the engine calls this to fit it to the
    input tensor ``like``.
    """
    shape = like.shape
    if g.shape != shape:
        extra = g.ndim - len(shape)
        if extra > 0:
            g = g.sum(axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if stretched:
            g = g.sum(axis=stretched, keepdims=True)
        if g.shape != shape:  # pragma: no cover - an op returned a wrong shape
            raise RuntimeError(f"gradient of shape {g.shape} cannot be fitted to shape {shape}")
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    return g


class Scatter:
    """A gradient that is zero except at ``key``: ``zeros(shape)[key] += values``.

    Indexing ops return this instead of a dense array; the engine adds it into the input's
    gradient buffer (repeated integer indices add up).
    """

    __slots__ = ("advanced", "key", "shape", "values")

    def __init__(self, shape, key, values, advanced: bool):
        self.shape, self.key, self.values, self.advanced = shape, key, values, advanced

    @property
    def dtype(self):
        return self.values.dtype

    def add_into(self, buffer) -> None:
        if self.advanced:
            scatter_add(get_array_module(buffer), buffer, self.key, self.values)
        else:
            buffer[self.key] += self.values


def accumulate(store: dict, key, like, g, owned: set) -> None:
    """Add gradient ``g`` for ``key`` (a tensor whose data is ``like``) into ``store[key]``.

    Arrays the engine allocated itself (their keys are in ``owned``) are added to in place;
    arrays that came from an op's ``backward`` may be shared (``Add`` returns ``g`` twice) and
    are never written into.
    """
    prev = store.get(key)
    if g.__class__ is Scatter:
        if prev is not None and key in owned:
            buffer = prev
        else:
            xp = get_array_module(g.values)
            buffer = xp.zeros(like.shape, dtype=g.dtype) if prev is None else xp.array(prev)
            owned.add(key)
            store[key] = buffer
        g.add_into(buffer)
    elif prev is None:
        store[key] = g
    elif key in owned:
        prev += g
    else:
        total = prev + g
        if total.__class__ is not np.ndarray and isinstance(total, np.generic):
            total = np.asarray(total)  # 0-d arithmetic gives an immutable NumPy scalar
        owned.add(key)
        store[key] = total


def run_backward(root, grad, retain_graph: bool = False, capture=None):
    """Propagate ``grad`` (an array shaped like ``root``) from ``root`` to every tensor before it.

    The op-made tensors that receive a gradient wait in a heap ordered by creation number,
    newest first. A tensor is always made after its parents, so when the newest waiting tensor
    is taken, every tensor made from it has already passed its gradient on: this is a reverse
    topological order, found without sorting the graph first (and without recursion). Leaves
    take their gradient as it arrives. When the next tensor is known without asking the heap (an
    op's input that is newer than every waiting tensor, as in a chain of elementwise ops), it
    is taken directly: the same order, for less bookkeeping.

    Without ``capture``, gradients accumulate into ``.grad`` of leaves with ``requires_grad``
    and of tensors that called ``retain_grad()``. With ``capture`` (a list of tensors) nothing
    is accumulated and the gradients of those tensors are returned, in order (``None`` where no
    gradient reached them), as ``torch.autograd.grad`` does.
    """
    from .tensor import Tensor

    state.backward_pass = next(passes)
    hooks, anomaly = state.grad_hooks, state.anomaly
    keep_every, free_saved = capture is not None, not retain_graph
    owned: set = set()     # tensors whose gradient buffer was allocated here (safe to add to)
    finals: dict = {}      # tensor -> gradient, for retained and captured tensors, then leaves
    leaf_grads: dict = {}  # leaf -> gradient
    if root.op is None:    # backward from a leaf: its gradient is the seed itself
        grads, waiting = {}, []
        finals[root] = grad
    else:
        grads, waiting = {root: grad}, [(-root.seq, root)]
    # ``nxt`` is a tensor whose first gradient ``nxt_g`` has just arrived and which is kept out of
    # the heap and the dict: when it is newer than every waiting tensor, it is the one the heap
    # would give next (in a chain of elementwise ops it always is), and it is taken directly.
    nxt = nxt_g = None
    while waiting or nxt is not None:
        if nxt is not None and (not waiting or nxt.seq > -waiting[0][0]):
            t, g = nxt, nxt_g
        else:
            if nxt is not None:  # a newer tensor came in after it: nxt waits in the heap too
                grads[nxt] = nxt_g
                heappush(waiting, (-nxt.seq, nxt))
            t = heappop(waiting)[1]
            g = grads.pop(t)
        nxt = None
        if owned:
            owned.discard(t)  # from here on g may be handed to several inputs
        if keep_every or t.retains_grad:
            finals[t] = g
        op = t.op
        if op.freed:
            where = "/".join(t.scope) or "top level"
            raise RuntimeError(
                f"backward(): trying to backward through {type(op).__name__} (scope {where}) a "
                "second time, but the arrays it saved were freed by the first backward(); "
                "pass retain_graph=True to the first backward() to keep them")
        if op.wants_needs:
            op.needs = [p.requires_grad for p in t.parents]
        if hooks:
            for hook in hooks:
                hook(t, g)
        in_grads = op.backward(g)
        if anomaly:
            for p, pg in zip(t.parents, in_grads):
                if pg is not None and p.requires_grad:
                    check_finite(pg.values if pg.__class__ is Scatter else pg, t, op,
                                 "backward pass (gradient of its input)")
        if op.saved and free_saved:
            op.free()
        parents = t.parents
        if len(parents) == 1 and (not waiting or parents[0].seq > -waiting[0][0]):
            # One input, newer than every waiting tensor (so not waiting itself): its gradient
            # is complete and it comes next.
            p, pg = parents[0], in_grads[0]
            if pg is not None and p.op is not None and p.requires_grad and pg.__class__ is not Scatter:
                if not op.same_shape:
                    data = p.data
                    if pg.shape != data.shape or pg.dtype is not data.dtype:
                        pg = fit_to(pg, data)
                nxt, nxt_g = p, pg
                continue
        elif len(parents) == 2:
            # An op of a tensor and a leaf whose gradient buffer is already ours (h @ W, x * w,
            # h + b in a recurrence): the leaf's gradient is added in place, and the tensor
            # comes next when it is newer than every waiting tensor.
            p, w = parents
            pg, wg = in_grads
            if (w.op is None and w in owned and p.op is not None and p.requires_grad
                    and pg is not None and wg is not None and pg.__class__ is not Scatter
                    and wg.__class__ is not Scatter and (not waiting or p.seq > -waiting[0][0])):
                data = w.data
                if wg.shape != data.shape or wg.dtype is not data.dtype:
                    wg = fit_to(wg, data)
                data = p.data
                if pg.shape != data.shape or pg.dtype is not data.dtype:
                    pg = fit_to(pg, data)
                total = leaf_grads[w]
                total += wg
                nxt, nxt_g = p, pg
                continue
        fresh = op.fresh_grads  # arrays only this gradient uses: later arrivals may go into them
        for p, pg in zip(parents, in_grads):
            if pg is None or not p.requires_grad:
                continue
            data = p.data
            if pg.shape != data.shape or pg.dtype is not data.dtype:
                pg = fit_to(pg, data)
            if p.op is None:
                store = leaf_grads
                prev = store.get(p)
            else:
                if p is nxt:  # the same input twice (x * x): it takes the general path
                    grads[p] = nxt_g
                    heappush(waiting, (-p.seq, p))
                    nxt = None
                store = grads
                prev = store.get(p)
                if prev is None:  # its first gradient
                    if nxt is None and pg.__class__ is not Scatter:
                        nxt, nxt_g = p, pg
                        continue
                    heappush(waiting, (-p.seq, p))  # p waits for its turn
            if pg.__class__ is Scatter:
                accumulate(store, p, data, pg, owned)
            elif prev is None:
                store[p] = pg  # nothing to add it to
                if fresh and (fresh is True or any(pg is in_grads[k] for k in fresh if k < len(in_grads))):
                    owned.add(p)  # (a fitted gradient is a new array too)
            elif p in owned:
                prev += pg
            else:
                accumulate(store, p, data, pg, owned)
    finals.update(leaf_grads)
    if hooks:
        for t, g in finals.items():
            if t.op is None:
                for hook in hooks:
                    hook(t, g)
    if capture is not None:
        return [finals.get(t) for t in capture]
    for t, g in finals.items():
        if t not in owned:
            g = g.copy()  # the array may be shared with other tensors' gradients
        t.grad = Tensor(g) if t.grad is None else Tensor(t.grad.data + g)
    return None


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Args:
        outputs: a tensor (scalar unless ``grad_outputs`` is given).
        inputs: a tensor or a sequence of tensors anywhere in the graph of ``outputs``.
        grad_outputs: the upstream gradient (tensor or array) shaped like ``outputs``.
        retain_graph: keep the saved arrays so that backward can run again.

    Returns:
        A tuple of tensors (``None`` where ``outputs`` does not depend on an input).
    """
    from .tensor import Tensor

    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    g = outputs.initial_grad(grad_outputs)
    found = run_backward(outputs, g, retain_graph=retain_graph, capture=inputs)
    return tuple(None if a is None else Tensor(a.copy()) for a in found)

