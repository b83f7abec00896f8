"""Reverse-mode automatic differentiation: grad mode, scopes and the backward pass.

The backward pass (:func:`run_backward`) walks the recorded graph in reverse topological order
(newest tensor first, without recursion, so graphs of any depth work: a 50,000-step recurrence is
fine). Each op's ``backward`` returns one gradient per input; gradients that were broadcast in the
forward pass are summed back to the input's shape in exactly one place, :func:`fit_to`. This
module works on the recorded graph and raw arrays only: :class:`~tinygrad_rnn.Tensor` builds
``.grad`` from what :func:`run_backward` returns.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
from heapq import heappop, heappush

from .backend import accumulator, get_array_module, scatter_add, sum_leading
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


def check_versions(t) -> None:
    """Raise if the op that made ``t`` saved the array of an input that was changed in place
    since the op was recorded (backward would silently use the new values), as torch does."""
    if [p.version[0] for p in t.parents] == t.op.versions:  # nothing changed (the usual case)
        return
    for k, (p, recorded) in enumerate(zip(t.parents, t.op.versions)):
        if p.version[0] != recorded and any(a is p.data for a in t.op.saved):
            name = p.name or ("a parameter" if p.op is None and p.requires_grad else "a tensor")
            raise RuntimeError(
                f"backward(): input {k} of {type(t.op).__name__} (scope "
                f"{'/'.join(t.scope) or 'top level'}), {name} of shape {tuple(p.shape)}, was "
                f"modified by an inplace operation (an optimizer step?) after the forward pass: "
                f"it is at version {p.version[0]}, the op saved version {recorded}. Call "
                "backward() before optimizer.step(), or run the forward pass again")


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
    input tensor ``like``. A long float32 sum accumulates in float64
    (:func:`tinygrad_rnn.backend.sum_leading`).
    """
    shape = like.shape
    if g.shape != shape:
        acc = accumulator(g, g.size // max(1, like.size))
        extra = g.ndim - len(shape)
        if extra > 0:
            g = sum_leading(g, extra)
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if stretched:
            g = g.sum(axis=stretched, keepdims=True, dtype=acc)
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


def accumulate(grads: dict, owned: set, t, g) -> None:
    """Add the gradient ``g`` of tensor ``t`` into ``grads[t]``.

    The first gradient is kept as it came (an op may hand the same array to several inputs:
    ``Add`` returns ``g`` twice, so it is never written into). The second makes a new array,
    which the engine owns (``owned``); later ones are added into it in place.
    """
    prev = grads.get(t)
    if g.__class__ is Scatter:  # zero except at g.key: add it into an array of our own
        if t not in owned:
            xp = get_array_module(g.values)
            grads[t] = xp.zeros(t.shape, dtype=g.dtype) if prev is None else xp.array(prev)
            owned.add(t)
        g.add_into(grads[t])
    elif prev is None:
        grads[t] = g
    elif t in owned:
        prev += g
    else:
        grads[t] = get_array_module(g).asarray(prev + g)  # asarray: 0-d sums give a scalar
        owned.add(t)


def run_backward(root, grad, retain_graph: bool = False, keep: frozenset = frozenset()) -> dict:
    """Propagate ``grad`` (an array shaped like ``root``) from ``root`` to every tensor before it.

    Tensors that receive a gradient wait in a heap ordered by creation number, newest first. A
    tensor is always made after its parents, so when the newest waiting tensor is taken, every
    tensor made from it has already passed its gradient on: its gradient is complete. This is a
    reverse topological order, found without sorting the graph first and without recursion.

    Returns the gradient arrays of the leaves that require grad, of the tensors that called
    ``retain_grad()`` and of the tensors in ``keep``, by tensor; no other gradient is kept.
    The arrays are the caller's: none is shared with another tensor's gradient.
    """
    state.backward_pass = next(passes)  # fused ops tell one pass from the next by it
    grads, owned, finals = {root: grad}, set(), {}
    waiting = [(-root.seq, root)]
    hooks, anomaly = state.grad_hooks, state.anomaly
    while waiting:
        t = heappop(waiting)[1]
        g = grads.pop(t)
        for hook in hooks:
            hook(t, g)
        op = t.op
        if op is None or t.retains_grad or t in keep:
            finals[t] = g if t in owned else g.copy()
        if op is None:
            continue
        if op.freed:
            raise RuntimeError(
                f"backward(): trying to backward through {type(op).__name__} (scope "
                f"{'/'.join(t.scope) or 'top level'}) a second time, but the arrays it saved "
                "were freed by the first backward(); pass retain_graph=True to the first "
                "backward() to keep them")
        if op.saved:
            check_versions(t)
        in_grads = op.backward(g)
        if not retain_graph:
            op.free()
        for p, pg in zip(t.parents, in_grads):
            if pg is None or not p.requires_grad:
                continue
            if anomaly:
                check_finite(pg.values if pg.__class__ is Scatter else pg, t, op,
                             "backward pass (gradient of its input)")
            if pg.__class__ is not Scatter:
                pg = fit_to(pg, p.data)
            if p not in grads:
                heappush(waiting, (-p.seq, p))
            accumulate(grads, owned, p, pg)
    return finals
