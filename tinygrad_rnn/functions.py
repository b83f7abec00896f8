"""PyTorch's function forms: ``tg.tanh(x)`` is ``x.tanh()``, ``tg.cat`` is ``tg.concat``, ...

Code from books and examples calls ``torch.tanh(x)``, ``torch.cat(outputs, dim=0)``,
``torch.zeros_like(h)``; with ``import tinygrad_rnn as torch`` it runs unchanged because the
package namespace exports these. Each is the method of the same name (or an existing function),
so the semantics, the gradients and the graph drawn are the method's; only ``bmm`` and ``mm``
add torch's shape rules to ``matmul``.
"""
from __future__ import annotations

import numpy as np

from .combine import concat
from .tensor import Tensor


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def abs(x: Tensor) -> Tensor:
    return x.abs()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def sum(x: Tensor, *args, **kwargs) -> Tensor:
    """``x.sum(dim, keepdim)`` (``dim=`` or ``axis=``)."""
    return x.sum(*args, **kwargs)


def mean(x: Tensor, *args, **kwargs) -> Tensor:
    """``x.mean(dim, keepdim)``."""
    return x.mean(*args, **kwargs)


def max(x: Tensor, *args, **kwargs):
    """``x.max(...)``: the largest element, ``(values, indices)`` along a ``dim``, or the
    elementwise maximum of two tensors (see :meth:`Tensor.max`)."""
    return x.max(*args, **kwargs)


def min(x: Tensor, *args, **kwargs):
    """``x.min(...)``, as :func:`max`."""
    return x.min(*args, **kwargs)


def argmax(x: Tensor, *args, **kwargs) -> Tensor:
    return x.argmax(*args, **kwargs)


def argmin(x: Tensor, *args, **kwargs) -> Tensor:
    return x.argmin(*args, **kwargs)


def softmax(x: Tensor, *args, **kwargs) -> Tensor:
    return x.softmax(*args, **kwargs)


def log_softmax(x: Tensor, *args, **kwargs) -> Tensor:
    return x.log_softmax(*args, **kwargs)


def logsumexp(x: Tensor, *args, **kwargs) -> Tensor:
    return x.logsumexp(*args, **kwargs)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    return x.clamp(min, max)


def reshape(x: Tensor, shape) -> Tensor:
    return x.reshape(shape)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    return x.transpose(dim0, dim1)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    return x.unsqueeze(dim)


def squeeze(x: Tensor, dim=None) -> Tensor:
    return x.squeeze(dim)


def numel(x: Tensor) -> int:
    return x.numel()


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
