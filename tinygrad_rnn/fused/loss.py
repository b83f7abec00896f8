"""A fused loss: softmax cross-entropy of every row in one op.

:func:`tinygrad_rnn.nn.functional.cross_entropy` can build the loss from primitives (``max``,
``exp``, ``sum``, ``log``, indexing: the graph then shows the arithmetic) or, by default, apply
this op, which computes the same numbers with a hand-written gradient: one graph node instead
of eight, two passes over the logits forward and two backward. The tests prove the two equal.
"""
from __future__ import annotations

from ..backend import device_of, get_array_module
from ..ops.base import Op


class CrossEntropy(Op):
    r"""Per-row loss :math:`\ell_n = \log \sum_c e^{x_{nc}} - x_{n, t_n}` of logits ``x`` (N, C).

    ``target`` (N,) holds integer classes (an array, not a tensor: it gets no gradient); rows
    whose target is ``ignore_index`` give 0 and get no gradient. The row maximum is subtracted
    before ``exp`` (:math:`\log \sum_c e^{x_c} = m + \log \sum_c e^{x_c - m}`), so logits of
    any size are safe. ``log_softmax`` of the logits is kept for backward:
    :math:`\bar x_{nc} = \bar\ell_n\,(\mathrm{softmax}(x_n)_c - [c = t_n])`.
    """

    def forward(self, x, target, ignore_index=-100):
        xp = get_array_module(x)
        target = get_array_module(target).asarray(target)
        if x.ndim != 2 or target.shape != (x.shape[0],):
            raise ValueError(f"logits must be (N, C) and target (N,), got {x.shape} and "
                             f"{target.shape}")
        rows = xp.arange(x.shape[0])
        keep = target != ignore_index
        # Knowing that every row counts (the common case) skips the masking. For a target on
        # the GPU, finding out would stall the step (a sync), so its rows are always masked:
        # the same numbers, as the mask multiplies by exactly 1 or 0.
        self.all_kept = device_of(keep) == "cpu" and bool(keep.all())
        target, keep = xp.asarray(target), xp.asarray(keep)  # on the logits' device
        t = target if self.all_kept else xp.where(keep, target, 0)
        logp = x - x.max(axis=1, keepdims=True)
        logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
        loss = -logp[rows, t]
        if not self.all_kept:
            loss *= keep
        self.rows, self.target, self.keep = rows, t, keep
        self.save(logp)
        return loss

    def backward(self, g):
        (logp,) = self.saved
        xp = get_array_module(logp)
        grad = xp.exp(logp)
        grad[self.rows, self.target] -= 1
        if not self.all_kept:
            g = g * self.keep
        grad *= g[:, None]
        return (grad,)
