"""``F.softmax``, ``F.log_softmax`` and ``F.logsumexp``: the stable formulas of
:mod:`tinygrad_rnn.softmax`, which sits below the tensor methods (``x.softmax(dim=1)``) so that
both share one definition. Each takes ``axis=`` or PyTorch's ``dim=``. ``F.log_softmax``
applies the fused :class:`~tinygrad_rnn.fused.LogSoftmax` (one op instead of five), which the
tests prove equal to the composite :func:`tinygrad_rnn.softmax.log_softmax` (the tensor method
``x.log_softmax(dim)``, whose graph shows the arithmetic)."""
from ..args import spelled
from ..fused import LogSoftmax
from ..softmax import logsumexp, softmax


def log_softmax(x, axis: int | None = None, *, dim: int | None = None):
    """``x - log(sum(exp(x)))`` along ``axis``, stable for logits of any size, in one fused op."""
    axis = spelled("log_softmax", "axis", axis, "dim", dim, default=-1)
    if x.numel() == 0:
        return x * 1.0
    return LogSoftmax.apply(x, axis=axis)


__all__ = ["log_softmax", "logsumexp", "softmax"]
