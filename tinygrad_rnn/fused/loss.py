"""A fused loss: softmax cross-entropy of every row in one op.

:func:`tinygrad_rnn.nn.functional.cross_entropy` can build the loss from primitives (``max``,
``exp``, ``sum``, ``log``, indexing: the graph then shows the arithmetic) or, by default, apply
this op, which computes the same numbers with a hand-written gradient: one graph node instead
of eight, four passes over the logits forward (one ``exp``, in place) and one backward. The
tests prove the two equal.
"""
from __future__ import annotations

from ..backend import get_array_module, is_cupy_array, row_max
from ..ops.base import Op


class CrossEntropy(Op):
    r"""Per-row loss :math:`\ell_n = \log \sum_c e^{x_{nc}} - x_{n, t_n}` of logits ``x`` (N, C).

    ``target`` (N,) holds integer classes (an array, not a tensor: it gets no gradient); rows
    whose target is ``ignore_index`` give 0 and get no gradient. The row maximum ``m`` is
    subtracted before ``exp`` (:math:`\log \sum_c e^{x_c} = m + \log \sum_c e^{x_c - m}`), so
    logits of any size are safe. The shifted exponentials :math:`e_{nc} = e^{x_{nc} - m_n}` and
    their row sums :math:`s_n` are kept for backward:
    :math:`\bar x_{nc} = \bar\ell_n\,(e_{nc} / s_n - [c = t_n])`, one pass over (N, C).

    ``reduction`` (``"none"``, ``"sum"`` or ``"mean"``, as torch's) reduces the losses in the
    same op: the mean divides by the number of rows kept, and backward hands each kept row
    :math:`\bar\ell / \text{count}`.
    """

    def forward(self, x, target, ignore_index=-100, reduction="none"):
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
        self.all_kept = not is_cupy_array(keep) and bool(keep.all())
        target, keep = xp.asarray(target), xp.asarray(keep)  # on the logits' device
        t = target if self.all_kept else xp.where(keep, target, 0)
        m = row_max(x)
        e = xp.subtract(x, m)
        xp.exp(e, out=e)
        s = e @ xp.ones(e.shape[1], e.dtype)  # the row sums: one BLAS call, where NumPy's
        # sum along a short contiguous row (a vocabulary of 28 or 65) costs 4-8x more
        loss = xp.log(s) - (x[rows, t] - m[:, 0])
        if not self.all_kept:
            loss *= keep
        self.rows, self.target, self.keep, self.reduction = rows, t, keep, reduction
        self.save(e, s)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        if self.all_kept:  # the mean of no rows is NaN, as torch's (without NumPy's warning)
            self.count = len(loss)  # the sum divided by the count: np.mean's numbers, without
            # its Python wrapper; the mean of no rows is NaN
            return loss.sum() / (self.count or loss.dtype.type("nan"))
        # the rows kept; on the GPU a 0-d array, so that nothing waits for it
        count = keep.sum()
        self.count = count.astype(loss.dtype) if is_cupy_array(count) else float(count)
        return loss.sum() / self.count

    def backward(self, g):
        e, s = self.saved
        if self.reduction == "mean":
            g = g / (g.dtype.type(max(self.count, 1)) if self.all_kept else self.count)
        if not self.all_kept:
            g = g * self.keep
        grad = e * (g / s)[:, None]
        grad[self.rows, self.target] -= g
        return (grad,)
