"""The time loop: the one place where a recurrence runs step by step, each step under its scope.

Backpropagation through time is backpropagation through the graph this loop records: one step
after another, each made under the scope entries ``(layer, "t<k>")`` of
:mod:`tinygrad_rnn.scopes`, so that the graph can be grouped by layer, direction and time step.
A cell (:mod:`tinygrad_rnn.nn.cells`) is run by :func:`unroll` as it is; a layer
(:mod:`tinygrad_rnn.nn.recurrent`) hands it a step of its own, made once per layer and
direction together with the work hoisted out of the loop.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..autograd import state as grad_state
from ..scopes import step_name
from ..tensor import Tensor
from ..trace import named


def unroll(cell: Callable, xs: Sequence, state: Any = None, layer: str = "l0", start: int = 0,
           *, reverse: bool = False, x_name: str = "x_t") -> tuple[list, Any]:
    """Run ``state = cell(xs[t], state)`` over the steps of ``xs``, each under its own scope.

    Step ``t`` runs under ``tg.scope(layer, step_name(start + t))``, after the scope already
    pushed (a module's name): ``("lstm", "l0", "t3")``.

    Args:
        cell: one time step, ``(x_t, state) -> state``: a recurrent cell (an LSTM's state is
            ``(h, c)``), or a layer's own step.
        xs: the inputs, (T, N, I) or a list of (N, I) tensors: anything with ``len(xs)`` and
            ``xs[t]``. A fused step, which reads its row of the hoisted input projection
            itself, is given ``range(T)``: its step numbers.
        state: the initial state (``None``: the cell's zeros).
        layer: the layer entry of the scope: ``"l0"``, or ``"l0_reverse"`` for a backward
            direction (see :func:`tinygrad_rnn.scopes.layer_name`).
        start: the number of the first step (a truncated-BPTT chunk goes on counting, so
            that chunks drawn together keep apart).
        reverse: run the steps backwards in time, ``t = T-1, ..., 0`` (the backward direction
            of a bidirectional layer).
        x_name: what drawings call ``xs[t]`` when ``xs`` is a tensor (the slice is made in
            the step): ``"x_t"``, or a layer's ``"W_ih x_t + b"`` for its input projection.

    Returns:
        ``(hs, state)``: ``hs[t]`` is what step ``t`` handed on, in time order: the state, or
        its first tensor (``h``) when the state is a tuple; and the state after the last step.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.LSTMCell(2, 3)
        >>> hs, (h, c) = tg.nn.unroll(cell, tg.randn(4, 1, 2))  # xs: (T, N, I)
        >>> len(hs), hs[-1] is h, h.scope
        (4, True, ('l0', 't3', 'lstmcell'))
    """
    T, outer = len(xs), grad_state.scope
    hs = [None] * T
    sliced = isinstance(xs, Tensor)
    try:  # what ``with scope(layer, step_name(start + t))`` does, without its call overhead
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            grad_state.scope = outer + (layer, step_name(start + t))
            x_t = named(xs[t], x_name) if sliced else xs[t]
            state = cell(x_t, state)
            hs[t] = state[0] if isinstance(state, tuple) else state
    finally:
        grad_state.scope = outer
    return hs, state
