"""``Tensor``: one array (NumPy or CuPy), and how it was made.

A tensor made by an op records that op, its parents (a tuple, so graphs are deterministic) and
the scope it was made in. ``backward()`` hands the graph to :mod:`tinygrad_rnn.autograd`.
Operators delegate to the primitives in :mod:`tinygrad_rnn.ops`. PyTorch's other names for
what a tensor does (``view``, ``size()``, ``unsqueeze``, ...) come from the mixin
:class:`~tinygrad_rnn.torch_methods.TorchMethods`, and in-place writes (``x[mask] = 0``,
``p -= lr * p.grad``) from :class:`~tinygrad_rnn.inplace.InPlace`.
"""
from __future__ import annotations

import itertools
import threading

import numpy as np

from . import backend
from .args import axis_and_keepdims, sizes_of, spelled
from .autograd import run_backward, state
from .inplace import InPlace, unwrap_index
from .torch_methods import TorchMethods

creation_numbers = itertools.count()
accumulating = threading.Lock()  # one backward() at a time adds into .grad (threads share leaves)


class Tensor(TorchMethods, InPlace):
    """An array with an optional gradient and the record of the op that made it.

    Attributes:
        data: the raw array (``numpy.ndarray`` on ``"cpu"``, ``cupy.ndarray`` on ``"cuda"``).
        grad: a :class:`Tensor` holding the accumulated gradient, or ``None``.
        requires_grad: whether gradients flow to this tensor.
        op: the primitive that made this tensor (``None`` for leaves).
        parents: the tensors ``op`` was applied to (a tuple).
        name: an optional label (used by graph drawing).
        scope: the names pushed by ``tg.scope`` and module calls when it was made.
        seq: its creation number; a tensor is always newer than its parents, so the backward
            pass visits tensors newest first.
        version: ``[n]``, the number of in-place changes of the data (an optimiser step), shared
            by a tensor and its views; backward refuses an op whose saved input has changed.
    """

    __slots__ = (
        "__weakref__",
        "data",
        "grad",
        "name",
        "op",
        "parents",
        "requires_grad",
        "retains_grad",
        "scope",
        "seq",
        "version",
    )
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data, requires_grad: bool = False, op=None, parents: tuple = (),
                 name: str | None = None):
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.op = op
        self.parents = parents
        self.name = name
        self.scope = state.scope
        self.retains_grad = False
        self.seq = next(creation_numbers)
        self.version = [0]

    def __setstate__(self, state) -> None:
        """Restore a copied or unpickled tensor (``copy``, ``pickle``) with a new ``seq``.

        Both restore the parents before the tensor itself, so a new number keeps every tensor
        newer than its parents; the old number could clash with the original's, or, in another
        process, be newer than tensors made later from this one.
        """
        for name, value in (state[1] or {}).items():
            setattr(self, name, value)
        self.seq = next(creation_numbers)

    # ---- properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> backend.device:
        """``"cpu"`` or ``"cuda"``: a :class:`tinygrad_rnn.device`, equal to its string."""
        return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module of ``data`` (``numpy`` or ``cupy``)."""
        return backend.get_array_module(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __repr__(self) -> str:
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4,
                               prefix="tensor(")
        extra = f", dtype={self.dtype}"
        if self.device != "cpu":
            extra += f", device='{self.device}'"
        if self.op is not None:
            extra += f", op={type(self.op).__name__}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(backend.item(self.data))

    def __format__(self, spec: str) -> str:
        """Format a one-element tensor as its number (``f"{loss:.3f}"``), others as ``repr``."""
        if self.numel() == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the host array of a CPU tensor (shared, as torch); a CUDA tensor
        raises, as CuPy and torch do: copying from the GPU is spelled ``.numpy()``."""
        if self.device != "cpu":
            raise TypeError(f"a tensor on {self.device} (shape {self.shape}) cannot be turned "
                            "into a NumPy array implicitly; call .numpy() or .cpu() first")
        a = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return a.copy() if copy and a is self.data else a

    def __dlpack__(self, **kwargs):
        """The data through DLPack, without a copy (``torch.from_dlpack(t)``)."""
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    # ---- conversion --------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a host NumPy array (a copy when the tensor is on the GPU)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise ValueError(f"item(): tensor of shape {self.shape} has {self.numel()} elements, not 1")
        return backend.item(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def to(self, device=None, dtype=None) -> Tensor:
        """This tensor on ``device`` and/or in ``dtype`` (differentiable), as torch's ``to``:
        ``t.to("cuda")``, ``t.to(tg.float64)``, ``t.to(other)`` (other's device and dtype)."""
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif device is not None and not isinstance(device, str):  # to(dtype)
            device, dtype = None, device
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)
        if device is not None and backend.check_device(device) != out.device:
            backend.xp_for(device)  # an unusable GPU raises CudaUnavailableError, as creation does
            out = ops.ToDevice.apply(out, device=device)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph (as ``torch.detach``)."""
        t = Tensor(self.data, name=self.name)
        t.version = self.version  # the same array: an in-place change shows in both (as torch)
        return t

    def astype(self, dtype) -> Tensor:
        """This tensor converted to ``dtype``; the gradient is converted back. An integer or
        bool result is outside the graph, as in torch (such tensors carry no gradient)."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc" and self.requires_grad:
            return Tensor(self.data.astype(dtype))
        return ops.Cast.apply(self, dtype=dtype)

    # ---- autograd ----------------------------------------------------------------------
    def initial_grad(self, grad=None):
        """The array that starts a backward pass from this tensor (checked against its shape)."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad: it was not "
                               "computed from any tensor with requires_grad=True")
        if grad is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward(): grad can be implicitly created only for a "
                                   f"scalar output, but this tensor has shape {self.shape}; "
                                   "pass grad= with the same shape")
            return self.xp.ones_like(self.data)
        g = grad.data if isinstance(grad, Tensor) else self.xp.asarray(grad, dtype=self.dtype)
        if g.shape != self.shape:
            raise RuntimeError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                               f"{self.shape}")
        if backend.device_of(g) != self.device:
            raise backend.DeviceError(f"backward(): grad is on {backend.device_of(g)} but the "
                                      f"tensor is on {self.device}")
        return g

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        Args:
            grad: the upstream gradient, needed when this tensor is not a scalar.
            retain_graph: keep the arrays the ops saved, so that backward can run again.
        """
        grads = run_backward(self, self.initial_grad(grad), retain_graph=retain_graph)
        with accumulating:
            for t, g in grads.items():  # leaves that require grad, and tensors that retain_grad()
                t.grad = Tensor(g) if t.grad is None else Tensor(t.grad.data + g)

    def retain_grad(self) -> Tensor:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after ``backward()``."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        self.retains_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self.op is not None:
            raise RuntimeError("requires_grad_(): only leaf tensors can change requires_grad; "
                               "use detach() first")
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require gradients, not {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # ---- arithmetic --------------------------------------------------------------------
    def lift(self, value) -> Tensor:
        """``value`` as a tensor on this tensor's device; a Python scalar takes this dtype (an
        integer that does not fit wraps around, as in torch)."""
        if isinstance(value, Tensor):
            return value
        xp = self.xp
        if isinstance(value, (bool, int, float)):
            kind = self.dtype.kind
            if kind in "fc" or (isinstance(value, int) and kind in "iub"):
                return Tensor(xp.asarray(value).astype(self.dtype))
            return Tensor(xp.asarray(value, dtype=np.float32))
        return Tensor(xp.asarray(value))

    def with_scalar(self, value):
        """``(x, c)``: ``c`` is ``value`` as a Python number (``None`` if it is not a number).

        ``x`` is this tensor, or this tensor as float32 when an integer tensor meets a float, or
        as int64 when a bool tensor meets an int, as in PyTorch: a Python number never makes a
        float32 tensor float64.
        """
        kind = value.__class__
        if kind is float:
            if self.data.dtype.kind in "fc":
                return self, value
            return self.astype(np.float32), value
        if kind is int and self.data.dtype.kind == "b":
            return self.astype(np.int64), value
        if kind is int or kind is bool:
            return self, value
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return self.with_scalar(value.item())
        return self, None

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self.lift(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self.lift(other), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __getitem__(self, key):
        return ops.Index.apply(self, key=unwrap_index(key))

    # comparisons give boolean tensors outside the graph (masks for tg.where, as torch); a
    # tensor still hashes by identity, so it can be a dict key or a set member (as in torch)
    def __eq__(self, other):
        return Tensor(self.data == self.lift(other).data)

    def __ne__(self, other):
        return Tensor(self.data != self.lift(other).data)

    def __lt__(self, other):
        return Tensor(self.data < self.lift(other).data)

    def __le__(self, other):
        return Tensor(self.data <= self.lift(other).data)

    def __gt__(self, other):
        return Tensor(self.data > self.lift(other).data)

    def __ge__(self, other):
        return Tensor(self.data >= self.lift(other).data)

    __hash__ = object.__hash__

    # logical (bool tensors) and bitwise (integer tensors) operators, outside the graph
    def __invert__(self):
        return Tensor(~self.logical("~"))

    def __and__(self, other):
        return Tensor(self.logical("&") & self.lift(other).logical("&"))

    def __or__(self, other):
        return Tensor(self.logical("|") | self.lift(other).logical("|"))

    def __xor__(self, other):
        return Tensor(self.logical("^") ^ self.lift(other).logical("^"))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def logical(self, operator: str):
        """The data, for a logical or bitwise ``operator``: bool and integer tensors only."""
        if self.dtype.kind not in "biu":
            raise TypeError(f"{operator} needs bool or integer tensors, not {self.dtype} (as torch)")
        return self.data

    def numeric(self, name: str) -> Tensor:
        """This tensor, or a TypeError naming ``name`` if it is a bool tensor (as torch)."""
        if self.dtype.kind == "b":
            raise TypeError(f"{name}(): not defined for a bool tensor of shape {self.shape} (as "
                            "torch); convert it with astype first")
        return self

    def floating(self) -> Tensor:
        """This tensor, or a float32 copy of an integer or bool one (the default dtype, as torch's
        ``exp``, ``tanh``, ... of an integer tensor)."""
        return self if self.data.dtype.kind in "fc" else self.astype(np.float32)

    # ---- functions as methods ----------------------------------------------------------
    def exp(self):
        return ops.Exp.apply(self.floating())

    def log(self):
        return ops.Log.apply(self.floating())

    def tanh(self):
        return ops.Tanh.apply(self.floating())

    def sigmoid(self):
        return ops.Sigmoid.apply(self.floating())

    def relu(self):
        return ops.Relu.apply(self.numeric("relu"))

    def abs(self):
        return ops.Abs.apply(self.numeric("abs"))

    def sqrt(self):
        return ops.Sqrt.apply(self.floating())

    def clip(self, lo=None, hi=None):
        """Values limited to ``[lo, hi]``; the gradient passes where the value was inside.

        The bounds promote the tensor as the operand of an operator does (an integer tensor with
        a float bound gives float32), as ``torch.clamp``.
        """
        x = self
        for bound in (lo, hi):
            x = x if bound is None else x.with_scalar(bound)[0]
        return ops.Clip.apply(x, lo=lo, hi=hi)

    def cumsum(self, dim: int, *, dtype=None):
        """Running sums along ``dim``: ``y[..., j] = x[..., 0] + ... + x[..., j]``, as torch.

        One primitive (:class:`tinygrad_rnn.ops.Cumsum`); integer and bool tensors sum to int64,
        as torch.
        """
        x = self if dtype is None else self.to(dtype=dtype)
        if x.ndim == 0:
            x.check_axis_0d(dim, "cumsum")
            return x.reshape(1).cumsum(0).reshape(())
        return ops.Cumsum.apply(x, axis=x.check_axis(dim, "cumsum"))

    def sum(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        """The sum over ``axis`` (or ``dim``: an int, several, or ``None`` for all)."""
        axis, keepdims = axis_and_keepdims("sum", axis, keepdims, dim, keepdim)
        return ops.Sum.apply(self, axis=self.reduced_axes(axis, "sum"), keepdims=keepdims)

    def mean(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        """The mean over ``axis`` (or ``dim``)."""
        axis, keepdims = axis_and_keepdims("mean", axis, keepdims, dim, keepdim)
        return ops.Mean.apply(self, axis=self.reduced_axes(axis, "mean"), keepdims=keepdims)

    def max(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """The largest values, in NumPy's way or in PyTorch's, by how it is called.

        - ``x.max()``: the largest element (0-d); tied maxima share the gradient equally.
        - ``x.max(axis=a, keepdims=False)`` (NumPy's spelling): the largest values along ``a``
          (an int or several axes), tied maxima sharing the gradient (as ``torch.amax``).
        - ``x.max(d)`` or ``x.max(dim=d, keepdim=False)`` (PyTorch's): a named tuple
          ``(values, indices)`` as ``torch.max(x, d)``; the gradient goes to the element at the
          index (the first of tied maxima).
        - ``x.max(other)`` with a tensor: the elementwise maximum (``tg.maximum``).
        """
        return self.reduce_extreme("max", ops.Max, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """The smallest values: called as :meth:`max` is, with the same results."""
        return self.reduce_extreme("min", ops.Min, dim, keepdim, axis, keepdims)

    def reduce_extreme(self, fn: str, op, dim, keepdim, axis, keepdims):
        """``max`` or ``min`` (``op``), as their docstring says."""
        if isinstance(dim, Tensor):
            pairwise = ops.Minimum if fn == "min" else ops.Maximum
            return pairwise.apply(*promoted_pair(self, dim))
        axis, keepdims = axis_and_keepdims(fn, axis, keepdims, dim, keepdim)
        if dim is not None:
            return self.extreme(fn, dim, keepdims)
        return op.apply(self, axis=self.reduced_axes(axis, fn), keepdims=keepdims)

    def masked_fill(self, mask, value) -> Tensor:
        """``value`` where the bool ``mask`` is true, else this tensor (out of place, as torch:
        the gradient passes where the mask is false)."""
        mask = mask.data if isinstance(mask, Tensor) else self.xp.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"masked_fill(): the mask must be a bool tensor, not {mask.dtype}")
        x, fill = promoted_pair(self, value)
        return ops.Where.apply(fill, x, cond=mask)

    def reduced_axes(self, axis, name: str):
        """``axis`` (an int or several) as a sorted tuple of non-negative axes, or ``None`` for
        all of them: also for ``()`` and for axis 0 or -1 of a 0-d tensor, as torch."""
        if axis is None:
            return None
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        n = max(self.ndim, 1)
        for a in axes:
            if not -n <= a < n:
                raise IndexError(f"{name}(): axis {a} is out of range for a tensor of shape "
                                 f"{self.shape} (expected in [{-n}, {n - 1}])")
        return tuple(sorted(a % n for a in axes)) if axes and self.ndim else None

    def reshape(self, *shape):
        """The same elements in ``shape`` (sizes or one tuple; one size may be -1)."""
        return ops.Reshape.apply(self, shape=sizes_of(shape))

    def transpose(self, *axes):
        """Two axes swapped, as torch's ``transpose(a, b)``; or all axes permuted, as NumPy's
        ``transpose(axes)`` (a tuple, or three or more axes; reversed when none are given)."""
        if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
            a, b = (self.check_axis(a, "transpose") for a in axes)
            order = list(range(self.ndim))
            order[a], order[b] = b, a
            axes = tuple(order)
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return ops.Transpose.apply(self, axes=tuple(a % self.ndim for a in axes))

    def split(self, sizes, axis: int | None = None, *, dim: int | None = None) -> list:
        """Pieces along ``axis`` (or ``dim``, 0 by default): of ``sizes`` each (an int) or of
        the listed sizes (as torch)."""
        axis = self.check_axis(spelled("split", "axis", axis, "dim", dim, default=0), "split")
        n = self.shape[axis]
        if isinstance(sizes, int):
            if sizes < 0 or sizes == 0 < n:  # an empty axis gives one empty piece, as torch
                raise ValueError(f"split(): size must be positive, got {sizes} for axis {axis} "
                                 f"of shape {self.shape}")
            sizes = [min(sizes, n - s) for s in range(0, max(n, 1), max(sizes, 1))]
        elif min(sizes, default=0) < 0:
            raise ValueError(f"split(): sizes {list(sizes)} for axis {axis} of shape "
                             f"{self.shape} must not be negative (as torch)")
        elif sum(sizes) != n:
            raise ValueError(f"split(): sizes {list(sizes)} do not add up to {n}, the length of "
                             f"axis {axis} of shape {self.shape}")
        axis = axis % self.ndim
        pieces, start = [], 0
        for s in sizes:
            key = (slice(None),) * axis + (slice(start, start + s),)
            pieces.append(self[key])
            start += s
        return pieces

    def check_axis(self, axis: int, name: str) -> int:
        """``axis`` as a non-negative int, or an IndexError naming ``name`` (as torch)."""
        if not -self.ndim <= axis < self.ndim:
            raise IndexError(f"{name}(): axis {axis} is out of range for a tensor of shape "
                             f"{self.shape} (expected in [{-self.ndim}, {self.ndim - 1}])")
        return axis % self.ndim

    def chunk(self, n: int, axis: int | None = None, *, dim: int | None = None) -> list:
        """``n`` pieces along ``axis`` (or ``dim``, 0 by default), the last one smaller if it
        does not divide (as torch)."""
        if n <= 0:
            raise ValueError(f"chunk(): number of chunks must be positive, got {n}")
        axis = self.check_axis(spelled("chunk", "axis", axis, "dim", dim, default=0), "chunk")
        length = self.shape[axis]
        if length == 0:  # n empty pieces, as torch
            return self.split([0] * n, axis)
        return self.split(-(-length // n), axis)


def grad(outputs: Tensor, inputs, grad_outputs=None, retain_graph: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Args:
        outputs: a tensor (scalar unless ``grad_outputs`` is given).
        inputs: a tensor or a sequence of tensors anywhere in the graph of ``outputs``.
        grad_outputs: the upstream gradient (tensor or array) shaped like ``outputs``.
        retain_graph: keep the saved arrays so that backward can run again.

    Returns:
        A tuple of tensors (``None`` where ``outputs`` does not depend on an input), as
        ``torch.autograd.grad``.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    found = run_backward(outputs, outputs.initial_grad(grad_outputs), retain_graph=retain_graph,
                         keep=frozenset(inputs))
    return tuple(Tensor(found[t]) if t in found else None for t in inputs)


CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < floating < complex


def result_dtype(*tensors: Tensor) -> np.dtype:
    """The dtype of an elementwise op of ``tensors``, by PyTorch's promotion rule.

    The highest category wins (bool < integer < float), and within it the widest dtype:
    int64 + float32 -> float32 (NumPy would give float64). Tensors with dimensions decide before
    0-d ones, unless a 0-d tensor is of a higher category: float32 + 0-d float64 -> float32,
    int64 + 0-d float64 -> float64.
    """

    def promote(dtypes):
        top = max(CATEGORY[d.kind] for d in dtypes)
        return np.result_type(*[d for d in dtypes if CATEGORY[d.kind] == top])

    sized = [t.dtype for t in tensors if t.ndim > 0]
    zero_d = [t.dtype for t in tensors if t.ndim == 0]
    if not sized or not zero_d:
        return promote(sized or zero_d)
    d, z = promote(sized), promote(zero_d)
    return z if CATEGORY[z.kind] > CATEGORY[d.kind] else d


def promoted(*tensors: Tensor) -> tuple:
    """``tensors`` cast to their :func:`result_dtype` where they differ from it."""
    first = tensors[0].data.dtype
    if all(t.data.dtype == first for t in tensors):
        return tensors
    dtype = result_dtype(*tensors)
    return tuple(t if t.dtype == dtype else t.astype(dtype) for t in tensors)


def is_bool(value) -> bool:
    """Whether ``value`` is a bool tensor, array or number."""
    return value.__class__ is bool or getattr(value, "dtype", None) == np.bool_


def refuse_bool(op, a, b) -> None:
    """Raise TypeError where torch refuses bools: subtraction with a bool operand, and a power
    of two bools."""
    if op is ops.Sub or is_bool(a) and is_bool(b):
        what = "subtraction with a bool operand" if op is ops.Sub else "a power of bools"
        shapes = " and ".join(str(getattr(v, "shape", "a number")) for v in (a, b))
        raise TypeError(f"{op.__name__}: {what} is not supported (as torch), shapes {shapes}; "
                        "use ~, ^ or astype for masks")


def promoted_pair(a, b) -> tuple:
    """Tensors or numbers ``a`` and ``b`` as two tensors of the dtype torch gives their result
    (``tg.where``, ``tg.maximum``); two numbers take torch's defaults (float32, int64, bool)."""
    if not isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return promoted_pair(b, a)[::-1]
        a = Tensor(np.asarray(a, dtype=np.float32 if isinstance(a, float) else None))
    x, c = a.with_scalar(b)
    return promoted(x, x.lift(b if c is None else c))


def binary_operator(tensor_op, scalar_op, *, reflected=False, negate=False, true_divide=False):
    """A Tensor operator: a Python number goes to ``scalar_op``, anything else to ``tensor_op``.

    ``reflected`` serves ``number - x`` style calls (``__rsub__``); ``negate`` turns ``x - c``
    into ``x + (-c)``; ``true_divide`` makes an integer result float32, as torch does. Two
    tensors of different dtypes are promoted as torch promotes them (:func:`result_dtype`).
    Subtraction and powers refuse bools as torch does (:func:`refuse_bool`).
    """
    bool_rule = tensor_op is ops.Sub or tensor_op is ops.Pow

    def operator(self, other):
        if bool_rule and (self.data.dtype.kind == "b" or is_bool(other)):
            refuse_bool(tensor_op, self, other)
        x, c = (self, None) if isinstance(other, Tensor) else self.with_scalar(other)
        if c is None:  # another tensor (the common case: it runs at every op) or an array
            x, y = promoted(x, other if isinstance(other, Tensor) else x.lift(other))
            if true_divide:
                x, y = x.floating(), y.floating()
            return tensor_op.apply(y, x) if reflected else tensor_op.apply(x, y)
        if true_divide:
            x = x.floating()
        return scalar_op.apply(x, c=-c if negate else c)

    return operator


from . import ops  # ops need Tensor, so they come after it; the operators need ops

Tensor.__add__ = binary_operator(ops.Add, ops.AddScalar)
Tensor.__radd__ = binary_operator(ops.Add, ops.AddScalar, reflected=True)
Tensor.__sub__ = binary_operator(ops.Sub, ops.AddScalar, negate=True)
Tensor.__rsub__ = binary_operator(ops.Sub, ops.RSubScalar, reflected=True)
Tensor.__mul__ = binary_operator(ops.Mul, ops.MulScalar)
Tensor.__rmul__ = binary_operator(ops.Mul, ops.MulScalar, reflected=True)
Tensor.__truediv__ = binary_operator(ops.Div, ops.DivScalar, true_divide=True)
Tensor.__rtruediv__ = binary_operator(ops.Div, ops.RDivScalar, reflected=True, true_divide=True)
Tensor.__pow__ = binary_operator(ops.Pow, ops.PowScalar)
Tensor.__rpow__ = binary_operator(ops.Pow, ops.RPowScalar, reflected=True)
