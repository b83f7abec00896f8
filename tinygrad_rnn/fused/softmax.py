"""A fused ``log_softmax``: the five ops of the stable formula in one, with its gradient.

:func:`tinygrad_rnn.nn.functional.log_softmax` applies it. The plain composite it replaces,
``s = x - max(x)`` (the maximum a constant), ``s - log(sum(exp(s)))``, records five ops and
keeps ``s``, ``exp(s)`` and their sum for backward; this op makes one pass for each step of the
formula, in place where it can, keeps only its output, and the tests prove the two equal.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..ops.base import Op


class LogSoftmax(Op):
    r"""y = x - log(sum(exp(x))) along ``axis``;  dx = g - exp(y) * sum(g) along ``axis``.

    The maximum along the axis is subtracted first, so logits of any size are safe; only the
    output ``y`` is kept (:math:`e^{y}` is the softmax), as torch keeps it.
    """

    def forward(self, x, axis=-1):
        xp = get_array_module(x)
        self.axis = axis
        y = x - x.max(axis=axis, keepdims=True)
        e = xp.exp(y)
        y -= xp.log(e.sum(axis=axis, keepdims=True))
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        xp = get_array_module(y)
        gx = xp.exp(y)
        gx *= -g.sum(axis=self.axis, keepdims=True)
        gx += g
        return (gx,)
