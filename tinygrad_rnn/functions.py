"""PyTorch's function forms: ``tg.tanh(x)`` is ``x.tanh()``, ``tg.cat`` is ``tg.concat``, ...

Code from books and examples calls ``torch.tanh(x)``, ``torch.cat(outputs, dim=0)``,
``torch.zeros_like(h)``; with ``import tinygrad_rnn as torch`` it runs unchanged because the
package namespace exports these. Each is the method of the same name (or an existing function),
so the semantics, the gradients and the graph drawn are the method's (``tg.max(x, dim=1)`` is
``x.max(dim=1)``: the named tuple ``(values, indices)``); only ``bmm`` and ``mm`` add torch's
shape rules to ``matmul``.
"""
from __future__ import annotations

import numpy as np

from .combine import concat
from .tensor import Tensor


def method_form(name: str):
    """The function ``f(x, *args, **kwargs) = x.<name>(*args, **kwargs)``, named ``name``."""

    def form(x: Tensor, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"``x.{name}(...)``: see :meth:`tinygrad_rnn.Tensor.{name}`."
    return form


tanh, sigmoid, relu, exp, log, abs, sqrt = map(
    method_form, ("tanh", "sigmoid", "relu", "exp", "log", "abs", "sqrt"))
sum, mean, max, min, argmax, argmin = map(
    method_form, ("sum", "mean", "max", "min", "argmax", "argmin"))
softmax, log_softmax, logsumexp, clamp = map(
    method_form, ("softmax", "log_softmax", "logsumexp", "clamp"))
reshape, transpose, unsqueeze, squeeze, numel = map(
    method_form, ("reshape", "transpose", "unsqueeze", "squeeze", "numel"))
permute, flatten, narrow, repeat_interleave, pow, cumsum, flip = map(
    method_form, ("permute", "flatten", "narrow", "repeat_interleave", "pow", "cumsum", "flip"))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` (NumPy's and torch's rules: 1-D operands, broadcast batch dimensions)."""
    return a @ b


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two matrices, ``(n, m) @ (m, p)``; other shapes raise, as torch."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm(): expected two 2-D tensors, got shapes {a.shape} and {b.shape}; "
                         "use tg.matmul (or @) for other shapes")
    return a @ b


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix products ``(B, n, m) @ (B, m, p) -> (B, n, p)``: 3-D tensors of one batch
    size only (no broadcasting), as torch."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm(): expected two 3-D tensors (B, n, m) and (B, m, p) of one batch "
                         f"size B, got shapes {a.shape} and {b.shape}; use tg.matmul (or @) "
                         "to broadcast")
    return a @ b


cat = concat


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing the memory of NumPy array ``a``, with its dtype (as torch)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy(): dtype {a.dtype} is not numeric")
    return Tensor(a)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
