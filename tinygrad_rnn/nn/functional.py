"""Composite functions (``tg.nn.functional``, alias ``tg.F``): built only from primitive ops.

None of these defines a gradient: each is an expression of the ops in :mod:`tinygrad_rnn.ops`,
so the graph of a loss shows its arithmetic (``cross_entropy`` by default applies the fused
primitive :class:`~tinygrad_rnn.fused.CrossEntropy`; ``fused=False`` gives the arithmetic).
"""
from __future__ import annotations

from ..random import generator
from ..tensor import Tensor
from .attention import masked_softmax  # noqa: F401  (tg.F.masked_softmax)
from .ctc import ctc_loss
from .softmax import log_softmax, logsumexp, softmax

# isort: split
from ..fused import CrossEntropy


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with ``weight`` of shape (out, in), as ``torch.nn.functional.linear``."""
    y = x @ weight.T
    return y if bias is None else y + bias


def reduce_loss(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}(): reduction must be 'mean', 'sum' or 'none', not {reduction!r}")


def cross_entropy(logits: Tensor, target, reduction: str = "mean",
                  ignore_index: int = -100, fused: bool = True) -> Tensor:
    """Softmax cross-entropy of ``logits`` (N, C) against integer classes ``target`` (N,).

    As ``torch.nn.functional.cross_entropy``: targets equal to ``ignore_index`` add nothing, and
    the mean divides by the number of the other targets. ``fused=False`` builds the loss from
    primitives, ``-log_softmax(logits)[n, target[n]]``, so its graph shows the arithmetic; the
    default applies :class:`tinygrad_rnn.fused.CrossEntropy`, the same numbers in one op.
    """
    t = target.data if isinstance(target, Tensor) else logits.xp.asarray(target)
    if logits.ndim != 2 or t.ndim != 1 or t.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy(): logits must be (N, C) and target (N,), got "
                         f"{logits.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy(): target must hold integer classes, not {t.dtype}")
    n, classes = logits.shape
    keep = t != ignore_index
    all_kept = bool(keep.all())
    picked = t if all_kept else t[keep]
    if picked.size and (int(picked.min()) < 0 or int(picked.max()) >= classes):
        raise ValueError(f"cross_entropy(): target classes must be in [0, {classes})")
    if fused:
        losses = CrossEntropy.apply(logits, target=t, ignore_index=ignore_index)
    else:
        losses = -log_softmax(logits, axis=1)[logits.xp.arange(n), logits.xp.where(keep, t, 0)]
        if not all_kept:
            losses = losses * Tensor(keep.astype(logits.dtype))
    if reduction == "mean" and not all_kept:
        return losses.sum() / float(keep.sum())
    return reduce_loss(losses, reduction, "cross_entropy")


def mse_loss(a: Tensor, b: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(a - b) ** 2``, averaged, summed or per element."""
    if a.shape != b.shape:
        raise ValueError(f"mse_loss(): shapes {a.shape} and {b.shape} differ")
    return reduce_loss((a - b) ** 2, reduction, "mse_loss")


def embedding(idx, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num, dim) picked by integer ``idx`` of any shape -> idx.shape + (dim,)."""
    i = idx.data if isinstance(idx, Tensor) else weight.xp.asarray(idx)
    if i.dtype.kind not in "iu":
        raise TypeError(f"embedding(): indices must be integers, not {i.dtype}")
    if i.size and (int(i.min()) < 0 or int(i.max()) >= weight.shape[0]):
        raise IndexError(f"embedding(): indices must be in [0, {weight.shape[0]}), got "
                         f"[{int(i.min())}, {int(i.max())}]")
    return weight[i]


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout(): p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = generator().random(x.shape) >= p
    mask = x.xp.asarray((keep / (1 - p)).astype(x.dtype))
    return x * Tensor(mask)


__all__ = [
    "cross_entropy",
    "ctc_loss",
    "dropout",
    "embedding",
    "linear",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "softmax",
]
