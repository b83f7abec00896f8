"""Creating tensors: from data, filled, ranges and random draws.

Floating data from Python numbers defaults to float32, integer data stays integer; a NumPy array
keeps its dtype, as in ``torch.tensor``. Every function takes ``dtype=``, ``device=`` and
``requires_grad=``.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .random import generator
from .tensor import Tensor


def make(array: np.ndarray, dtype, device: str, requires_grad: bool, name=None) -> Tensor:
    """A leaf tensor from host ``array`` converted to ``dtype`` and moved to ``device``."""
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    if requires_grad and array.dtype.kind not in "fc":
        raise TypeError(f"only floating-point tensors can require gradients, not {array.dtype}")
    data = backend.to_device(array, backend.check_device(device))
    return Tensor(data, requires_grad=requires_grad, name=name)


def default_dtype(data) -> np.dtype | None:
    """float32 for Python floats (and lists of them); ``None`` keeps the data's own dtype."""
    if isinstance(data, (np.ndarray, np.generic)):
        return None
    if np.asarray(data).dtype == np.float64:
        return np.dtype(np.float32)
    return None


def tensor(data, *, dtype=None, device: str = "cpu", requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (a number, nested list or array).

    >>> import tinygrad_rnn as tg
    >>> tg.tensor([1.0, 2.0]).dtype
    dtype('float32')
    >>> tg.tensor([1, 2]).dtype
    dtype('int64')
    """
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_cupy_array(data):
        data = backend.to_numpy(data)
    try:
        array = np.array(data, copy=True)
    except ValueError as e:
        raise TypeError(f"tensor(): cannot make a tensor from ragged {type(data).__name__} "
                        f"data: {e}") from e
    if array.dtype == object:
        raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} data "
                        "(ragged lists or non-numeric values)")
    return make(array, dtype if dtype is not None else default_dtype(data), device,
                requires_grad, name)


def shape_of(shape) -> tuple:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def full(shape, value, *, dtype=None, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``value`` (float32 for a float value)."""
    if dtype is None:
        dtype = np.float32 if isinstance(value, float) else None
    return make(np.full(shape_of((shape,)), value, dtype=dtype), None, device, requires_grad)


def zeros(*shape, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of zeros."""
    return make(np.zeros(shape_of(shape), dtype=dtype), None, device, requires_grad)


def ones(*shape, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of ones."""
    return make(np.ones(shape_of(shape), dtype=dtype), None, device, requires_grad)


def zeros_like(t: Tensor, *, dtype=None, requires_grad=False) -> Tensor:
    """Zeros with the shape, dtype and device of ``t``."""
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, *, dtype=None, requires_grad=False) -> Tensor:
    """Ones with the shape, dtype and device of ``t``."""
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device="cpu", requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = np.int64 if ints else np.float32
    return make(np.arange(start, end, step, dtype=dtype), None, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=np.float32, device="cpu",
        requires_grad=False) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    return make(np.eye(n, m, dtype=dtype), None, device, requires_grad)


def randn(*shape, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """Standard normal draws from the seeded generator (the same on every device)."""
    return make(generator().standard_normal(shape_of(shape)), dtype, device, requires_grad)


def rand(*shape, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """Uniform draws in [0, 1) from the seeded generator (the same on every device)."""
    return make(generator().random(shape_of(shape)), dtype, device, requires_grad)


def uniform(shape, low: float, high: float, *, dtype=np.float32, device="cpu",
            requires_grad=False) -> Tensor:
    """Uniform draws in [low, high) from the seeded generator."""
    return make(generator().uniform(low, high, shape_of((shape,))), dtype, device, requires_grad)
