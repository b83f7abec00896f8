"""``tg.graph``: graph tracing under the name the API contract gives it, and :func:`unroll`.

The tracing itself lives in :mod:`tinygrad_rnn.trace` (:func:`trace`, :class:`Graph`,
:func:`walk`, :func:`is_parameter`), the scope grammar in :mod:`tinygrad_rnn.scopes`
(:class:`Place`, :func:`parse_scope`) and the truncated-BPTT cuts in
:mod:`tinygrad_rnn.nn.tbptt` (:func:`cut`, :func:`cut_origin`); this module re-exports them.

>>> import tinygrad_rnn as tg
>>> tg.graph.trace is tg.trace.trace and tg.graph.cut is tg.nn.cut
True
"""
from __future__ import annotations

from collections.abc import Sequence

from .autograd import scope
from .nn.tbptt import CUTS, Cut, cut, cut_origin, flatten
from .scopes import Place, parse_scope
from .tensor import Tensor
from .trace import Graph, is_parameter, trace, walk

__all__ = ["CUTS", "Cut", "Graph", "Place", "cut", "cut_origin", "flatten", "is_parameter",
           "parse_scope", "trace", "unroll", "walk"]


# ---- the unroll that drawings expect -------------------------------------------------------
def unroll(cell, xs: Sequence[Tensor] | Tensor, state=None, layer: str = "l0",
           start: int = 0) -> tuple:
    """Run ``cell`` over the steps of ``xs``, each under ``tg.scope(layer, f"t{start + t}")``.

    Args:
        cell: a recurrent cell (``cell(x_t, state) -> state``; an LSTM's state is ``(h, c)``).
        xs: the inputs, (T, N, I) or a list of (N, I) tensors.
        state: the initial state (``None``: the cell's zeros).
        layer: the layer entry of the scope (``"l0"``; ``"l0_reverse"`` for a backward one).
        start: the number of the first step (a truncated-BPTT chunk goes on counting, so
            that chunks drawn together keep apart).

    Returns:
        ``(hs, state)``: the hidden state ``h`` after every step, and the last state.
    """
    hs = []
    for t in range(len(xs)):
        with scope(layer, f"t{start + t}"):
            state = cell(xs[t], state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    return hs, state
