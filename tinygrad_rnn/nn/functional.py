"""Composite functions (``tg.nn.functional``, alias ``tg.F``): built only from primitive ops.

None of these defines a gradient: each is an expression of the ops in :mod:`tinygrad_rnn.ops`,
so the graph of a loss shows its arithmetic (``cross_entropy`` by default applies the fused
primitive :class:`~tinygrad_rnn.fused.CrossEntropy`; ``fused=False`` gives the arithmetic).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor
from .attention import masked_softmax  # noqa: F401  (tg.F.masked_softmax)
from .ctc import ctc_beam_search, ctc_greedy_decode, ctc_loss
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


def cross_entropy(logits: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0,
                  fused: bool = True) -> Tensor:
    """Softmax cross-entropy of ``logits`` (N, C) against integer classes ``target`` (N,).

    As ``torch.nn.functional.cross_entropy``: targets equal to ``ignore_index`` add nothing, and
    the mean divides by the number of the other targets. ``fused=False`` builds the loss from
    primitives, ``-log_softmax(logits)[n, target[n]]``, so its graph shows the arithmetic; the
    default applies :class:`tinygrad_rnn.fused.CrossEntropy`, the same numbers in one op.
    Logits (N, C, d1, ...) with targets (N, d1, ...), or (C,) with a 0-d target, class
    ``weight`` (C,) and ``label_smoothing`` go to :func:`cross_entropy_classes`; float targets
    of the logits' shape are class probabilities (:func:`cross_entropy_probabilities`).
    A class outside ``[0, C)`` raises ``ValueError``: at once for targets on the host, at the
    next transfer to the host for targets on the GPU (:func:`tinygrad_rnn.backend.check_later`).
    """
    if is_float(target):
        return cross_entropy_probabilities(logits, target, weight, reduction, label_smoothing)
    if weight is not None or label_smoothing or logits.ndim != 2:
        return cross_entropy_classes(logits, target, weight, ignore_index, reduction,
                                     label_smoothing, fused)
    t = target.data if isinstance(target, Tensor) else logits.xp.asarray(target)
    if t.ndim != 1 or t.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy(): logits must be (N, C) and target (N,), got "
                         f"{logits.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy(): target must hold integer classes, not {t.dtype}")
    n, classes = logits.shape
    keep = t != ignore_index
    backend.check_range(t, classes, ValueError, "cross_entropy(): target classes", keep)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy(): reduction must be 'mean', 'sum' or 'none', not "
                         f"{reduction!r}")
    if fused:  # the reduction inside the op too
        return CrossEntropy.apply(logits, target=t, ignore_index=ignore_index,
                                  reduction=reduction)
    # On the GPU whether every row is kept is unknown without a sync: every row is then
    # masked (by exactly 1 or 0).
    all_kept = not backend.is_cupy_array(t) and bool(keep.all())
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


def cross_entropy_classes(logits: Tensor, target, weight=None, ignore_index: int = -100,
                          reduction: str = "mean", label_smoothing: float = 0.0,
                          fused: bool = True) -> Tensor:
    r""":func:`cross_entropy` of any of PyTorch's shapes, with class weights and smoothing.

    The logits become rows (M, C) (the class axis moved last) for the 2-D loss. With weights
    :math:`w`, each loss is :math:`w_{t_n} \ell_n` and the mean divides by
    :math:`\sum_n w_{t_n}` over the targets not ignored. Label smoothing :math:`\varepsilon`
    gives :math:`(1 - \varepsilon)\,\ell_n + \frac{\varepsilon}{C}\sum_c -w_c \log p_{nc}`,
    reduced as torch reduces it.
    """
    if isinstance(weight, str):
        raise TypeError(f"cross_entropy(): weight is a tensor of class weights (the third "
                        f"argument, as in torch), not {weight!r}: pass reduction={weight!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    rows, t, shape = class_rows("cross_entropy", logits, target)
    keep, w = target_weights("cross_entropy", rows, t, weight, ignore_index)
    reduce = partial(weighted_reduction, w=w, reduction=reduction, shape=shape,
                     name="cross_entropy")
    if not label_smoothing:
        losses = cross_entropy(rows, t, ignore_index=ignore_index, reduction="none", fused=fused)
        return reduce(losses if weight is None else losses * Tensor(w))
    logp = log_softmax(rows, axis=1)
    nll = nll_loss(logp, t, weight, ignore_index, reduction="none")
    if weight is not None:
        logp = logp * Tensor(class_weights("cross_entropy", rows, weight)[None, :])
    smooth = -logp.sum(axis=1) * Tensor(keep.astype(rows.dtype))
    classes = rows.shape[1]
    return reduce(nll) * (1 - label_smoothing) + reduce(smooth) * (label_smoothing / classes)


def is_float(target) -> bool:
    """Whether ``target`` (a tensor, array or list) holds floating-point numbers."""
    data = target.data if isinstance(target, Tensor) else target
    dtype = data.dtype if hasattr(data, "dtype") else np.asarray(data).dtype
    return dtype.kind == "f"


def cross_entropy_probabilities(logits: Tensor, target, weight=None, reduction: str = "mean",
                                label_smoothing: float = 0.0) -> Tensor:
    r""":func:`cross_entropy` against class probabilities (soft labels), as torch takes them.

    ``target`` has the shape of ``logits``, (N, C, d1, ...) or (C,), the classes on axis 1
    (axis 0 for (C,)): :math:`\ell_n = -\sum_c w_c\, y_{nc} \log p_{nc}`, with
    :math:`y \leftarrow (1 - \varepsilon)\, y + \varepsilon / C` under label smoothing. As in
    torch, ``ignore_index`` does not apply and the mean divides by the number of losses
    whatever the weights. A ``target`` tensor that requires grad gets its gradient.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    y = target if isinstance(target, Tensor) else Tensor(logits.xp.asarray(target))
    if logits.ndim == 0 or y.shape != logits.shape:
        raise ValueError(f"cross_entropy(): a float target holds class probabilities and "
                         f"must have the shape of the logits, (N, C, d1, ...) or (C,); got "
                         f"logits {logits.shape} and target {y.shape} (integer classes need an "
                         f"integer dtype)")
    if y.dtype != logits.dtype:
        y = y.astype(logits.dtype)
    axis = 1 if logits.ndim > 1 else 0
    classes = logits.shape[axis]
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        w = class_weights("cross_entropy", logits, weight, axis)
        y = y * Tensor(w.reshape((classes,) + (1,) * (logits.ndim - axis - 1)))
    return reduce_loss(-(log_softmax(logits, axis=axis) * y).sum(axis=axis), reduction,
                       "cross_entropy")


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    r"""Negative log-likelihood of log-probabilities ``input`` (N, C) at the classes ``target``.

    As ``torch.nn.functional.nll_loss``: :math:`\ell_n = -w_{t_n}\, x_{n, t_n}` (``w`` = 1
    without ``weight``), 0 where the target is ``ignore_index``; ``"mean"`` divides the sum by
    :math:`\sum_n w_{t_n}` over the targets not ignored. ``input`` may also be (N, C, d1, ...)
    with ``target`` (N, d1, ...), or (C,) with a 0-d target.
    """
    rows, t, shape = class_rows("nll_loss", input, target)
    keep, w = target_weights("nll_loss", rows, t, weight, ignore_index)
    xp = rows.xp
    picked = rows[xp.arange(t.shape[0]), xp.where(keep, t, 0)]
    return weighted_reduction(-picked * Tensor(w), w, reduction, shape, "nll_loss")


def class_rows(name: str, x: Tensor, target) -> tuple:
    """``(rows, t, shape)``: ``x`` (N, C, d...) or (C,) as rows (M, C) with the class axis last,
    ``target`` (N, d...) or () as an integer array (M,) on ``x``'s device, and the shape of
    the losses."""
    t = x.xp.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}(): target must hold integer classes, not {t.dtype}")
    expected = () if x.ndim == 1 else (x.shape[0], *x.shape[2:])
    if x.ndim == 0 or t.shape != expected:
        raise ValueError(f"{name}(): input must be (N, C, d1, ...) or (C,) and target "
                         f"(N, d1, ...) or (), got {x.shape} and {t.shape}")
    if x.ndim > 2:
        x = x.transpose(0, *range(2, x.ndim), 1)
    return x.reshape(-1, x.shape[-1]), t.reshape(-1), t.shape


def class_weights(name: str, x: Tensor, weight, axis: int = 1):
    """``weight`` (C,) as an array of ``x``'s dtype and device, C = ``x.shape[axis]``."""
    classes = x.shape[axis]
    w = weight.data if isinstance(weight, Tensor) else x.xp.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{name}(): weight must have one entry per class, shape "
                         f"({classes},), got {w.shape}")
    return x.xp.asarray(w, dtype=x.dtype)


def target_weights(name: str, rows: Tensor, t, weight, ignore_index: int) -> tuple:
    """``(keep, w)``: which targets count, and each target's weight (0 where ignored)."""
    keep = t != ignore_index
    backend.check_range(t, rows.shape[1], ValueError, f"{name}(): target classes", keep)
    w = keep.astype(rows.dtype)
    if weight is not None:
        w *= class_weights(name, rows, weight)[rows.xp.where(keep, t, 0)]
    return keep, w


def weighted_reduction(losses: Tensor, w, reduction: str, shape: tuple, name: str) -> Tensor:
    """Per-target ``losses`` (M,) reduced as torch: the mean divides by the weights' sum."""
    if reduction == "mean":
        return losses.sum() / Tensor(losses.xp.asarray(w.sum()))
    if reduction == "none":
        return losses.reshape(*shape)
    return reduce_loss(losses, reduction, name)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer classes (any shape) as one-hot rows: int64 of shape ``tensor.shape + (C,)``.

    As ``torch.nn.functional.one_hot``; ``num_classes=-1`` takes one more than the largest.

    >>> import tinygrad_rnn as tg
    >>> tg.F.one_hot(tg.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    i = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    xp = backend.get_array_module(i)
    if i.dtype.kind not in "iu":
        raise TypeError(f"one_hot(): the classes must be integers, not {i.dtype}")
    if num_classes == -1:
        if i.size == 0:
            raise ValueError("one_hot(): cannot infer the number of classes from an empty "
                             "tensor: pass num_classes")
        num_classes = int(i.max()) + 1
    backend.check_range(i, num_classes, ValueError, "one_hot(): class values")
    # C order whatever the layout of the classes, as torch's (d2l one-hot encodes x.T: in the
    # layout of the transposed view, the layer's reshape of its input had to copy it)
    return Tensor((i[..., None] == xp.arange(num_classes)).astype(np.int64, order="C"))


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
    backend.check_range(i, weight.shape[0], IndexError, "embedding(): indices")
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
    "ctc_beam_search",
    "ctc_greedy_decode",
    "ctc_loss",
    "dropout",
    "embedding",
    "linear",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "softmax",
]
