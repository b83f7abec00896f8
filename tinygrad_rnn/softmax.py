"""Softmax and its relatives: ``softmax``, ``log_softmax``, ``logsumexp``, built only from ops.

Each subtracts the maximum along the axis (a constant: no gradient flows through it) before
``exp``, so logits of any size do not overflow. They work through the tensor's own methods and
import nothing from the package, so that :class:`~tinygrad_rnn.Tensor` can offer them as methods
(``x.softmax(dim=1)``, as torch) while :mod:`tinygrad_rnn.nn.functional` (``tg.F``) exports them
beside the losses and :mod:`tinygrad_rnn.nn.ctc` sums its alignments with :func:`logsumexp`.

The axis is ``axis=`` or ``dim=`` (one of them, :func:`tinygrad_rnn.args.spelled`), -1 when
neither is given.
"""
from __future__ import annotations

from .args import axis_and_keepdims, spelled


def softmax(x, axis: int | None = None, *, dim: int | None = None):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the (constant) maximum for stability."""
    axis = spelled("softmax", "axis", axis, "dim", dim, default=-1)
    if x.numel() == 0:  # nothing to normalise (an empty batch, or rows of no classes): as torch
        return x * 1.0
    e = (x - x.max(axis=axis, keepdims=True).detach()).exp()
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int | None = None, *, dim: int | None = None):
    """``x - log(sum(exp(x)))`` along ``axis``, stable for logits of any size."""
    axis = spelled("log_softmax", "axis", axis, "dim", dim, default=-1)
    if x.numel() == 0:
        return x * 1.0
    s = x - x.max(axis=axis, keepdims=True).detach()
    return s - s.exp().sum(axis=axis, keepdims=True).log()


def logsumexp(x, axis: int | None = None, keepdims: bool | None = None, *, dim: int | None = None,
              keepdim: bool | None = None):
    """``log(sum(exp(x)))`` along ``axis``, stable; rows of only ``-inf`` give ``-inf``.

    The row maximum ``m`` (a constant) is subtracted before ``exp``. A row whose maximum is not
    finite is shifted by 0 instead, and a row of only ``-inf`` takes ``log(0 + 1) + (-inf)``, so
    neither the value nor the gradient (0 there) meets ``log(0)`` or ``inf - inf``.
    """
    axis, keepdims = axis_and_keepdims("logsumexp", axis, keepdims, dim, keepdim)
    axis = -1 if axis is None else axis
    xp, constant = x.xp, type(x)  # a constant: a new tensor outside the graph
    m = x.max(axis=axis, keepdims=True).data
    finite = xp.isfinite(m)
    shift = xp.where(finite, m, 0).astype(x.dtype)
    s = (x - constant(shift)).exp().sum(axis=axis, keepdims=True) \
        + constant((~finite).astype(x.dtype))
    out = s.log() + constant(xp.where(finite, shift, m).astype(x.dtype))
    return out if keepdims else out.squeeze(axis)
