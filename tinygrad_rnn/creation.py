"""Creating tensors: from data, filled, ranges and random draws.

Floating data from Python numbers defaults to float32, integer data stays integer; a NumPy array
keeps its dtype, as in ``torch.tensor``. Every function takes ``dtype=``, ``device=`` and
``requires_grad=``.

What torch refuses is refused here too, by name: data that is not numbers or booleans (strings,
objects, dates), sizes that are not integers (a float is not truncated, a bool is not a size),
negative sizes and a zero ``arange`` step.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend
from .args import check_size, shape_of
from .random import generator
from .tensor import Tensor

NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floating point, complex


def check_numeric(fn: str, dtype: np.dtype) -> None:
    """Raise ``TypeError`` unless ``dtype`` holds numbers or booleans (as torch's dtypes do)."""
    if dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{fn}(): dtype {dtype} is not numeric: a tensor holds numbers or "
                        "booleans")


def make(array: np.ndarray, dtype, device, requires_grad: bool, name=None,
         fn: str = "tensor") -> Tensor:
    """A leaf tensor from host ``array`` converted to ``dtype`` and moved to ``device`` (a string
    such as ``"cuda:0"``, a :class:`~tinygrad_rnn.backend.device`, or ``None`` for the CPU)."""
    if dtype is not None:
        check_numeric(fn, np.dtype(dtype))
        array = array.astype(dtype, copy=False)
    check_numeric(fn, array.dtype)
    if requires_grad and array.dtype.kind not in "fc":
        raise TypeError(f"{fn}(): only floating-point tensors can require gradients, not "
                        f"{array.dtype}")
    data = backend.to_device(array, "cpu" if device is None else device)
    return Tensor(data, requires_grad=requires_grad, name=name)


def floating(dtype):
    """``dtype``, or float32 (torch's default) for ``None``."""
    return np.float32 if dtype is None else dtype


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
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} data of "
                        f"dtype {array.dtype} (ragged lists or non-numeric values): a tensor holds "
                        "numbers or booleans")
    return make(array, dtype if dtype is not None else default_dtype(data), device,
                requires_grad, name)


def sizes(shape: tuple, size, fn: str) -> tuple:
    """The shape given as sizes (``zeros(2, 3)``), one tuple, or torch's ``size=`` keyword."""
    if size is not None and shape:
        raise TypeError(f"{fn}() got the shape twice: as sizes {shape} and as size={size}")
    return shape_of(shape if size is None else (size,), fn)


def full(shape, value, *, dtype=None, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``value`` (float32 for a float value)."""
    if dtype is None:
        dtype = np.float32 if isinstance(value, float) else None
    return make(np.full(shape_of((shape,), "full"), value, dtype=dtype), None, device,
                requires_grad, fn="full")


def zeros(*shape, size=None, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of zeros."""
    return make(np.zeros(sizes(shape, size, "zeros"), dtype=floating(dtype)), None, device, requires_grad,
                fn="zeros")


def ones(*shape, size=None, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """A tensor of ones."""
    return make(np.ones(sizes(shape, size, "ones"), dtype=floating(dtype)), None, device, requires_grad,
                fn="ones")


def like(t: Tensor, fill, dtype, device, requires_grad: bool, fn: str) -> Tensor:
    """A leaf shaped like ``t`` holding ``fill(shape, dtype)``, in ``t``'s dtype and on its
    device unless ``dtype`` or ``device`` say otherwise."""
    dtype = t.dtype if dtype is None else np.dtype(dtype)
    return make(np.asarray(fill(t.shape, dtype)), dtype, t.device if device is None else device,
                requires_grad, fn=fn)


def zeros_like(t: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape, dtype and device of ``t``."""
    return like(t, np.zeros, dtype, device, requires_grad, "zeros_like")


def ones_like(t: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape, dtype and device of ``t``."""
    return like(t, np.ones, dtype, device, requires_grad, "ones_like")


def full_like(t: Tensor, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, with the shape, dtype and device of ``t``."""
    return like(t, lambda shape, d: np.full(shape, fill_value, dtype=d), dtype, device,
                requires_grad, "full_like")


def randn_like(t: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal draws (seeded generator) with the shape, dtype and device of ``t``."""
    kind = np.dtype(dtype if dtype is not None else t.dtype).kind
    if kind != "f":
        raise TypeError(f"randn_like(): normal draws need a floating dtype, not "
                        f"{np.dtype(dtype if dtype is not None else t.dtype)} (pass dtype=)")
    return like(t, lambda shape, d: generator().standard_normal(shape), dtype, device,
                requires_grad, "randn_like")


def arange(start, end=None, step=1, *, dtype=None, device="cpu", requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for ints, else float32.

    As in torch, the step must be nonzero and point from ``start`` towards ``end``.
    """
    if end is None:
        start, end = 0, start
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ValueError(f"arange(): start, end and step must be finite, got {start}, {end}, "
                         f"{step}")
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange(): end {end} and start {start} are inconsistent with step "
                         f"{step} (it must point from start towards end)")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else np.float32
    return make(np.arange(start, end, step, dtype=dtype), None, device, requires_grad,
                fn="arange")


def eye(n: int, m: int | None = None, *, dtype=np.float32, device="cpu",
        requires_grad=False) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    n = check_size("eye", "n", n)
    m = None if m is None else check_size("eye", "m", m)
    return make(np.eye(n, m, dtype=floating(dtype)), None, device, requires_grad, fn="eye")


def randn(*shape, size=None, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """Standard normal draws from the seeded generator (the same on every device)."""
    return make(generator().standard_normal(sizes(shape, size, "randn")), floating(dtype), device,
                requires_grad, fn="randn")


def rand(*shape, size=None, dtype=np.float32, device="cpu", requires_grad=False) -> Tensor:
    """Uniform draws in [0, 1) from the seeded generator (the same on every device)."""
    return make(generator().random(sizes(shape, size, "rand")), floating(dtype), device, requires_grad,
                fn="rand")


def uniform(shape, low: float, high: float, *, dtype=np.float32, device="cpu",
            requires_grad=False) -> Tensor:
    """Uniform draws in [low, high) from the seeded generator."""
    return make(generator().uniform(low, high, shape_of((shape,), "uniform")), floating(dtype), device,
                requires_grad, fn="uniform")


def randint(low, high=None, size=None, *, dtype=np.int64, device="cpu") -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (``[0, low)`` when ``high`` is left out),
    as ``torch.randint``: ``randint(10, (2, 3))`` or ``randint(1, 10, (2, 3))``."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if size is None or high is None:
        raise TypeError("randint(): expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise ValueError(f"randint(): empty range [{low}, {high})")
    return make(generator().integers(low, high, shape_of((size,), "randint")), dtype, device,
                False, fn="randint")


def multinomial(weights: Tensor, num_samples: int, replacement: bool = False) -> Tensor:
    """Indices (int64) drawn with probability proportional to ``weights`` (one row of
    non-negative weights, or a batch of rows: ``num_samples`` draws per row), as
    ``torch.multinomial``. Without ``replacement`` an index is drawn at most once, the largest
    of ``weight / Exp(1)`` first (so once the positive weights are used up, the zero ones
    follow, as in torch)."""
    w = weights.numpy() if isinstance(weights, Tensor) else np.asarray(weights)
    if w.ndim not in (1, 2) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"multinomial(): weights must be one or a batch of rows of finite, "
                         f"non-negative numbers, got shape {w.shape}")
    num_samples = check_size("multinomial", "num_samples", num_samples, least=1)
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError(f"multinomial(): a row of weights of shape {w.shape} sums to 0")
    if replacement:
        drawn = np.stack([generator().choice(rows.shape[1], num_samples, p=row / row.sum())
                          for row in rows])
    elif num_samples > rows.shape[1]:
        raise ValueError(f"multinomial(): cannot draw {num_samples} samples without "
                         f"replacement from {rows.shape[1]} categories")
    else:
        keys = rows / generator().exponential(size=rows.shape)
        drawn = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    device = weights.device if isinstance(weights, Tensor) else "cpu"
    return make(drawn.reshape(w.shape[:-1] + (num_samples,)), np.int64, device, False,
                fn="multinomial")
