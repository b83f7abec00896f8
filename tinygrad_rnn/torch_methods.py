"""PyTorch's names for what a tensor already does: a mixin of :class:`~tinygrad_rnn.Tensor`.

Students arrive with PyTorch code (``x.view(-1, n)``, ``x.size(0)``, ``h.unsqueeze(0)``,
``logits.argmax(dim=1)``) and leave for PyTorch, so the tensor answers to those names with
PyTorch's semantics. None of them is a new primitive: each is written with the methods of
``tensor.py`` (``reshape``, ``transpose``, indexing, ``astype``), so the graph drawn for
``x.unsqueeze(0)`` shows the ``Reshape`` it is. They live here, apart from the engine's own
methods, so that ``tensor.py`` stays the short file a student reads to see what a tensor is.

This module imports nothing above the array backend: a new tensor is ``type(self)(array)``.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from . import backend
from . import softmax as stable
from .args import axis_and_keepdims, check_size, sizes_of

#: What ``x.max(dim)`` and ``x.min(dim)`` return, as ``torch.return_types.max``.
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def host(value) -> np.ndarray:
    """A tensor's data, an array or a (nested) sequence as a host NumPy array."""
    return backend.to_numpy(value.data if isinstance(value, TorchMethods) else value)


def converter(dtype):
    """The method ``x -> x.to(dtype=dtype)``, as ``torch.Tensor.float`` and the like."""

    def convert(self):
        return self.to(dtype=dtype)

    convert.__doc__ = f"This tensor as {np.dtype(dtype).name} (itself when it is already)."
    return convert


class TorchMethods:
    """Shape, conversion and indexing methods under PyTorch's names and with its semantics."""

    __slots__ = ()

    # ---- sizes ------------------------------------------------------------------------
    def size(self, dim: int | None = None):
        """The shape (a tuple), or the length of axis ``dim``, as ``torch.Tensor.size``."""
        if dim is None:
            return self.shape
        return self.shape[self.check_axis(dim, "size")]

    def numel(self) -> int:
        """The number of elements (the product of the shape)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.ndim

    # ---- shape ------------------------------------------------------------------------
    def view(self, *shape):
        """``reshape``: a tensor here has no strides, so every view is a reshape (-1 allowed)."""
        return self.reshape(*shape)

    def contiguous(self):
        """This tensor (its array is what NumPy or CuPy make of it; there are no strides)."""
        return self

    def t(self):
        """A 2-D tensor transposed; a 0-D or 1-D one as it is (as torch: at most 2-D)."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor with at most 2 dimensions, but this one has "
                             f"shape {self.shape}; use transpose(a, b) or permute")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def permute(self, *dims):
        """The axes reordered: axis ``k`` of the result is axis ``dims[k]`` of this tensor."""
        if not dims:
            raise TypeError(f"permute(): give the new order of the axes of shape {self.shape}")
        dims = sizes_of(dims)
        axes = [self.check_axis(d, "permute") for d in dims]
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute(): dims {dims} are not a permutation of the "
                             f"{self.ndim} axes of shape {self.shape}")
        return self.transpose(tuple(axes))

    def swapaxes(self, a: int, b: int):
        """Axes ``a`` and ``b`` swapped (``transpose(a, b)``)."""
        return self.transpose(a, b)

    swapdims = swapaxes

    def flip(self, *dims):
        """The order of the elements reversed along each axis of ``dims`` (``x.flip(0)``,
        ``x.flip((0, 1))``), as torch; an indexing with negative steps (``x[::-1]``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if not dims:
            raise TypeError(f"flip(): give the axes to reverse of shape {self.shape}")
        axes = {self.check_axis(d, "flip") for d in dims}
        return self[tuple(slice(None, None, -1) if d in axes else slice(None)
                          for d in range(self.ndim))]

    def __reversed__(self):
        """``reversed(x)``: the tensor with its first axis reversed (``x[::-1]``), as torch."""
        if self.ndim == 0:
            raise TypeError("reversed() of a 0-d tensor")
        return self.flip(0)

    def unsqueeze(self, dim: int):
        """A new axis of size 1 at ``dim`` (``-1`` appends one)."""
        n = self.ndim + 1
        if not -n <= dim < n:
            raise IndexError(f"unsqueeze(): dim {dim} is out of range for a tensor of shape "
                             f"{self.shape} (expected in [{-n}, {n - 1}])")
        shape = list(self.shape)
        shape.insert(dim % n, 1)
        return self.reshape(shape)

    def squeeze(self, dim=None):
        """Axes of size 1 removed: all of them, or those of ``dim`` (an int or a tuple); an axis
        of another size is left as it is (as torch)."""
        if dim is None:
            axes = range(self.ndim)
        else:
            dims = (dim,) if isinstance(dim, int) else tuple(dim)
            axes = {self.check_axis(d, "squeeze") for d in dims} if self.ndim else ()
            for d in dims if not self.ndim else ():
                self.check_axis_0d(d, "squeeze")
        gone = {a for a in axes if self.shape[a] == 1}
        return self.reshape([n for a, n in enumerate(self.shape) if a not in gone])

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Axes ``start_dim`` to ``end_dim`` (inclusive) merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        a, b = self.check_axis(start_dim, "flatten"), self.check_axis(end_dim, "flatten")
        if a > b:
            raise ValueError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(self.shape[:a] + (math.prod(self.shape[a:b + 1]),) + self.shape[b + 1:])

    def narrow(self, dim: int, start: int, length: int):
        """``length`` elements of axis ``dim`` from ``start`` (negative counts from the end)."""
        d = self.check_axis(dim, "narrow")
        n = self.shape[d]
        if not -n <= start <= n:
            raise IndexError(f"narrow(): start {start} is out of range for axis {dim} of shape "
                             f"{self.shape}")
        start = start + n if start < 0 else start
        length = check_size("narrow", "length", length)
        if start + length > n:
            raise ValueError(f"narrow(): start {start} + length {length} exceeds the length {n} "
                             f"of axis {dim} of shape {self.shape}")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def repeat(self, *sizes):
        """This tensor tiled ``sizes[k]`` times along axis ``k`` (``torch.Tensor.repeat``, which
        is NumPy's ``tile``; there may be more sizes than axes: new leading axes)."""
        if not sizes:
            raise TypeError(f"repeat(): give a number of copies for each axis of shape "
                            f"{self.shape}")
        sizes = tuple(check_size("repeat", "each size", r) for r in sizes_of(sizes))
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat(): {len(sizes)} sizes for a tensor of shape {self.shape}: "
                             "give at least one per axis (as torch)")
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        return x[np.ix_(*[np.tile(np.arange(n), r) for n, r in zip(x.shape, sizes)])]

    def repeat_interleave(self, repeats, dim: int | None = None):
        """Each element repeated ``repeats`` times (an int, or one count per element) along
        ``dim``; over the flattened tensor when ``dim`` is ``None`` (as torch)."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else x.check_axis(dim, "repeat_interleave")
        counts = host(repeats)
        if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
            raise ValueError(f"repeat_interleave(): repeats must be non-negative integers, "
                             f"got {repeats!r}")
        n = x.shape[d]
        if counts.ndim == 1 and counts.size not in (1, n):
            raise ValueError(f"repeat_interleave(): {counts.size} repeats for {n} elements of "
                             f"axis {d} of shape {x.shape}")
        return x[(slice(None),) * d + (np.repeat(np.arange(n), counts.reshape(-1)
                                                 if counts.ndim else counts),)]

    # ---- new tensors like this one ------------------------------------------------------
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False):
        """A new leaf holding a copy of ``data``, in this tensor's dtype and on its device
        unless ``dtype`` or ``device`` say otherwise."""
        data = host(data)
        return self.new_leaf(np.array(data, dtype=self.dtype if dtype is None else dtype), device, requires_grad,
                             "new_tensor")

    def new_full(self, size, fill_value, *, dtype=None, device=None,
                 requires_grad: bool = False):
        """A new leaf of shape ``size`` filled with ``fill_value`` (dtype and device as above)."""
        shape = tuple(check_size("new_full", "each size", n) for n in sizes_of((size,)))
        return self.new_leaf(np.full(shape, fill_value, dtype=self.dtype if dtype is None else dtype), device,
                             requires_grad, "new_full")

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False):
        """A new leaf of zeros (``x.new_zeros(2, 3)`` or ``x.new_zeros((2, 3))``)."""
        return self.new_full(sizes_of(size), 0, dtype=dtype, device=device,
                             requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False):
        """A new leaf of ones."""
        return self.new_full(sizes_of(size), 1, dtype=dtype, device=device,
                             requires_grad=requires_grad)

    def new_leaf(self, array: np.ndarray, device, requires_grad: bool, fn: str):
        """``array`` (host) as a leaf on ``device`` (this tensor's when ``None``)."""
        if requires_grad and array.dtype.kind not in "fc":
            raise TypeError(f"{fn}(): only floating-point tensors can require gradients, not "
                            f"{array.dtype}")
        device = self.device if device is None else device
        return type(self)(backend.to_device(array, device), requires_grad=requires_grad)

    # ---- dtypes -------------------------------------------------------------------------
    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return self.to(dtype=other.dtype)

    def type(self, dtype=None):
        """This tensor in ``dtype`` (``x.type(tg.float32)``); the dtype's name without one."""
        return self.dtype.name if dtype is None else self.to(dtype=dtype)

    # ---- operators as methods -------------------------------------------------------------
    def add(self, other, alpha=1):
        """``self + alpha * other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """``self - alpha * other``."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return self @ other

    def neg(self):
        return -self

    # ---- indices of extremes (not differentiable) -------------------------------------
    def argmax(self, dim: int | None = None, keepdim: bool | None = None, *, axis=None,
               keepdims=None):
        """The index (int64) of the largest element along ``dim``, of the flattened tensor
        when ``dim`` is ``None``; the first one where several tie (NaN counts as largest)."""
        return self.arg_extreme("argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim: int | None = None, keepdim: bool | None = None, *, axis=None,
               keepdims=None):
        """The index (int64) of the smallest element along ``dim`` (see :meth:`argmax`)."""
        return self.arg_extreme("argmin", dim, keepdim, axis, keepdims)

    def arg_extreme(self, fn: str, dim, keepdim, axis, keepdims):
        """``argmax`` or ``argmin`` (``fn``), called with either spelling."""
        dim, keepdim = axis_and_keepdims(fn, axis, keepdims, dim, keepdim)
        xp, x = self.xp, self.data
        if self.numel() == 0 and (dim is None or self.shape[self.check_axis(dim, fn)] == 0):
            raise ValueError(f"{fn}(): cannot reduce an empty axis of shape {self.shape} (as "
                             "torch)")
        if dim is None:
            i = getattr(xp, fn)(x).astype(np.int64)
            return type(self)(i.reshape((1,) * self.ndim) if keepdim else i)
        if self.ndim == 0:
            self.check_axis_0d(dim, fn)
            return type(self)(xp.zeros((), dtype=np.int64))
        d = self.check_axis(dim, fn)
        i = getattr(xp, fn)(x, axis=d, keepdims=True).astype(np.int64)
        return type(self)(i if keepdim else i.squeeze(d))

    def extreme(self, fn: str, dim: int, keepdim: bool):
        """``(values, indices)`` of the largest (``fn="max"``) or smallest (``"min"``) element
        along ``dim``: the values are picked at the indices, so the gradient goes to that
        element alone (as torch's ``max(dim)``)."""
        result = MaxResult if fn == "max" else MinResult
        if self.ndim == 0:
            self.check_axis_0d(dim, fn)
            return result(self.reshape(()), self.arg_extreme("arg" + fn, None, None, None, None))
        d = self.check_axis(dim, fn)
        indices = self.arg_extreme("arg" + fn, d, True, None, None)
        key = [self.xp.arange(n).reshape((-1,) + (1,) * (self.ndim - 1 - a))
               for a, n in enumerate(indices.shape)]
        key[d] = indices.data
        values = self[tuple(key)]
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        return result(values, indices)

    def check_axis_0d(self, dim: int, fn: str) -> None:
        """A 0-d tensor takes ``dim`` 0 or -1, as torch."""
        if dim not in (0, -1):
            raise IndexError(f"{fn}(): dim {dim} is out of range for a tensor of shape () "
                             "(expected 0 or -1)")

    # ---- the functions of tinygrad_rnn.softmax, as methods -----------------------------
    def softmax(self, dim: int | None = None, *, axis: int | None = None):
        """``exp(x) / sum(exp(x))`` along ``dim`` (stable; see :mod:`tinygrad_rnn.softmax`)."""
        return stable.softmax(self, axis, dim=dim)

    def log_softmax(self, dim: int | None = None, *, axis: int | None = None):
        """``x - logsumexp(x)`` along ``dim`` (stable)."""
        return stable.log_softmax(self, axis, dim=dim)

    def logsumexp(self, dim: int | None = None, keepdim: bool | None = None, *, axis=None,
                  keepdims=None):
        """``log(sum(exp(x)))`` along ``dim`` (stable)."""
        return stable.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def clamp(self, min=None, max=None):  # torch's argument names
        """Values limited to ``[min, max]`` (``clip``, with torch's argument names)."""
        return self.clip(min, max)

    # x.float(), x.long(), ...: the conversions of torch (the tensor itself when it has the dtype)
    half, float, double = (converter(d) for d in (np.float16, np.float32, np.float64))
    int, long, bool = (converter(d) for d in (np.int32, np.int64, np.bool_))

