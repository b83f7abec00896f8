"""Composite functions (``tg.nn.functional``, alias ``tg.F``): built only from primitive ops.

None of these defines a gradient: each is an expression of the ops in :mod:`tinygrad_rnn.ops`,
so the graph of a loss shows its arithmetic (``cross_entropy`` by default applies the fused
primitive :class:`~tinygrad_rnn.fused.CrossEntropy`; ``fused=False`` gives the arithmetic).
"""
from __future__ import annotations

from .. import backend
from ..random import generator
from ..tensor import Tensor
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
    A class outside ``[0, C)`` raises ``ValueError``: at once for targets on the host, at the
    next transfer to the host for targets on the GPU (:func:`tinygrad_rnn.backend.check_later`).
    """
    t = target.data if isinstance(target, Tensor) else logits.xp.asarray(target)
    if logits.ndim != 2 or t.ndim != 1 or t.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy(): logits must be (N, C) and target (N,), got "
                         f"{logits.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy(): target must hold integer classes, not {t.dtype}")
    n, classes = logits.shape
    keep = t != ignore_index
    if backend.device_of(t) == "cuda":  # reading the targets now would stall every step
        all_kept = False  # unknown without a sync: every row is masked (by exactly 1 or 0)
        backend.check_later((((t < 0) | (t >= classes)) & keep).any(), ValueError,
                            f"cross_entropy(): a target on the 'cuda' device was outside "
                            f"[0, {classes}) (checked at this transfer to the host; results "
                            "computed from it are invalid)")
    else:
        all_kept = bool(keep.all())
        picked = t if all_kept else t[keep]
        if picked.size and (int(picked.min()) < 0 or int(picked.max()) >= classes):
            raise ValueError(f"cross_entropy(): target classes must be in [0, {classes})")
    if fused:
        losses = CrossEntropy.apply(logits, target=t, ignore_index=ignore_index)
    else:
        xp = logits.xp  # the classes and the mask go to the logits' device
        cols = xp.asarray(backend.get_array_module(t).where(keep, t, 0))
        losses = -log_softmax(logits, axis=1)[xp.arange(n), cols]
        if not all_kept:
            losses = losses * Tensor(xp.asarray(keep.astype(logits.dtype)))
    if reduction == "mean" and not all_kept:
        count = keep.sum()  # on the GPU, a 0-d array: no sync
        return losses.sum() / (Tensor(count.astype(logits.dtype)) if backend.device_of(count)
                               == "cuda" else float(count))
    return reduce_loss(losses, reduction, "cross_entropy")


def mse_loss(a: Tensor, b: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(a - b) ** 2``, averaged, summed or per element."""
    if a.shape != b.shape:
        raise ValueError(f"mse_loss(): shapes {a.shape} and {b.shape} differ")
    return reduce_loss((a - b) ** 2, reduction, "mse_loss")


def embedding(idx, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num, dim) picked by integer ``idx`` of any shape -> idx.shape + (dim,).

    An index outside ``[0, num)`` raises ``IndexError``: at once for indices on the host; for
    indices on the GPU at the next transfer to the host (``loss.item()``), since reading them
    now would stall every step (:func:`tinygrad_rnn.backend.check_later`).
    """
    i = idx.data if isinstance(idx, Tensor) else weight.xp.asarray(idx)
    if i.dtype.kind not in "iu":
        raise TypeError(f"embedding(): indices must be integers, not {i.dtype}")
    n = weight.shape[0]
    if i.size and backend.device_of(i) == "cuda":
        backend.check_later((i.min() < 0) | (i.max() >= n), IndexError,
                            f"embedding(): an index on the 'cuda' device was outside [0, {n}) "
                            "(checked at this transfer to the host; results computed from it "
                            "are invalid)")
    elif i.size and (int(i.min()) < 0 or int(i.max()) >= n):
        raise IndexError(f"embedding(): indices must be in [0, {n}), got "
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
