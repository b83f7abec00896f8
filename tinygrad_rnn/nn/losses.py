"""Losses as modules, as ``torch.nn``'s: ``NLLLoss``, ``CrossEntropyLoss`` and ``MSELoss``.

Each keeps its options and calls the function of :mod:`tinygrad_rnn.nn.functional`:
``criterion = nn.CrossEntropyLoss(ignore_index=0); loss = criterion(logits, target)``.
A class ``weight`` is a buffer, so it is saved in ``state_dict`` and moved by ``to()``.
"""
from __future__ import annotations

from ..creation import tensor
from ..tensor import Tensor
from . import functional as F
from .module import Module


def reduction_of(name: str, size_average, reduce, reduction: str) -> str:
    """``reduction``; PyTorch's old ``size_average``/``reduce`` arguments are refused by name."""
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average and reduce are deprecated in torch and not "
                        "supported here: use reduction='mean', 'sum' or 'none'")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    return reduction


class WeightedLoss(Module):
    """A loss with an optional class ``weight`` (C,), kept as a buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        self.reduction = reduction_of(type(self).__name__, size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = tensor(weight)
        self.register_buffer("weight", weight)


class NLLLoss(WeightedLoss):
    """:func:`~tinygrad_rnn.nn.functional.nll_loss` of log-probabilities (after
    ``LogSoftmax``) and integer classes."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(WeightedLoss):
    """:func:`~tinygrad_rnn.nn.functional.cross_entropy` of logits and integer classes (or
    class probabilities of the logits' shape)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class MSELoss(Module):
    """:func:`~tinygrad_rnn.nn.functional.mse_loss`: the squared error, reduced."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        self.reduction = reduction_of("MSELoss", size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)
