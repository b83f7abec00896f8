"""Softmax and its relatives: ``softmax``, ``log_softmax``, ``logsumexp``, built only from ops.

Each subtracts the maximum along the axis (a constant: no gradient flows through it) before
``exp``, so logits of any size do not overflow. :mod:`tinygrad_rnn.nn.functional` (``tg.F``)
exports them beside the losses; :mod:`tinygrad_rnn.nn.ctc` sums its alignments with
:func:`logsumexp`.
"""
from __future__ import annotations

from ..fused import LogSoftmax
from ..tensor import Tensor


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the (constant) maximum for stability."""
    if x.size == 0:  # nothing to normalise (an empty batch, or rows of no classes): as torch
        return x * 1.0
    e = (x - x.max(axis=axis, keepdims=True).detach()).exp()
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``axis``, stable for logits of any size.

    One fused op, :class:`tinygrad_rnn.fused.LogSoftmax`, tested equal to the composite
    ``s = x - max(x)`` (a constant), ``s - log(sum(exp(s)))``.
    """
    if x.size == 0:
        return x * 1.0
    return LogSoftmax.apply(x, axis=axis)


def logsumexp(x: Tensor, axis: int = -1, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` along ``axis``, stable; rows of only ``-inf`` give ``-inf``.

    The row maximum ``m`` (a constant) is subtracted before ``exp``. A row whose maximum is not
    finite is shifted by 0 instead, and a row of only ``-inf`` takes ``log(0 + 1) + (-inf)``, so
    neither the value nor the gradient (0 there) meets ``log(0)`` or ``inf - inf``.
    """
    xp = x.xp
    m = x.max(axis=axis, keepdims=True).data
    finite = xp.isfinite(m)
    shift = xp.where(finite, m, 0).astype(x.dtype)
    s = (x - Tensor(shift)).exp().sum(axis=axis, keepdims=True) + Tensor((~finite).astype(x.dtype))
    out = s.log() + Tensor(xp.where(finite, shift, m).astype(x.dtype))
    return out if keepdims else out.reshape(*[n for i, n in enumerate(out.shape)
                                             if i != axis % x.ndim])
