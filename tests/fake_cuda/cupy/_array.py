"""The stand-in's ``cupy.ndarray``: a NumPy array behind CuPy's interface and CuPy's rules.

What CuPy refuses, this refuses with CuPy's error (``np.asarray(a)``, a NumPy array in an
operation with a device array); what CuPy allows but pays for with a device->host copy, this
allows and counts in :data:`transfers` (``.get()``, ``cupy.asnumpy``: explicit; ``.item()``,
``.tolist()``, ``bool()``, ``int()``, ``float()``, printing, pickling, boolean-mask indexing,
``nonzero``: implicit syncs). Integer-array indices wrap around as on the GPU (``a[[5]]`` of a
length-3 array is ``a[[2]]``: CuPy's kernels do not check bounds).

One deliberate difference: real CuPy dispatches a NumPy function called on a device array to its
own (``np.exp(a)`` runs ``cupy.exp(a)``, NEP 13/18); the stand-in refuses it with ``TypeError``,
so that the package's code keeps to its array module (``xp``) and never reaches NumPy with a
device array by accident.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../fake_cuda
SCALARS = (bool, int, float, complex, np.generic)


class DeviceSynchronized(RuntimeError):
    """A device->host transfer happened inside ``cupyx.allow_synchronize(False)``."""


class Transfers:
    """Device->host copies so far: ``explicit`` ones and ``implicit`` syncs, with a ``log``.

    ``log`` holds ``(kind, what, "file:line")``, the line being the first caller outside the
    stand-in (the first 1,000 events). ``reset()`` starts again from zero.
    """

    def __init__(self):
        self.allowed = True
        self.reset()

    def reset(self) -> None:
        self.explicit = 0
        self.implicit = 0
        self.log: list = []

    @property
    def total(self) -> int:
        return self.explicit + self.implicit

    def record(self, kind: str, what: str) -> None:
        where = caller()
        if not self.allowed:
            raise DeviceSynchronized(f"{what}: a device->host transfer at {where} inside "
                                     "cupyx.allow_synchronize(False)")
        if kind == "explicit":
            self.explicit += 1
        else:
            self.implicit += 1
        if len(self.log) < 1000:
            self.log.append((kind, what, where))

    def __repr__(self) -> str:
        return f"Transfers(explicit={self.explicit}, implicit={self.implicit})"


transfers = Transfers()


def caller() -> str:
    """``file:line`` of the innermost frame outside the stand-in."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(HERE):
        f = f.f_back
    return "?" if f is None else f"{f.f_code.co_filename}:{f.f_lineno}"


def check_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype, or CuPy's ``ValueError`` for kinds a GPU array cannot hold."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSUVMm" or dtype == np.longdouble and dtype.itemsize > 8:
        raise ValueError(f"Unsupported dtype {dtype}")
    return dtype


def wrap(a):
    """Results on the device: arrays (and NumPy scalars, as 0-d arrays, which CuPy returns)."""
    if isinstance(a, np.ndarray):
        check_dtype(a.dtype)
        out = object.__new__(ndarray)
        out._a = a
        return out
    if isinstance(a, np.generic):
        return wrap(np.asarray(a))
    if isinstance(a, tuple):
        return tuple(wrap(x) for x in a)
    if isinstance(a, list):
        return [wrap(x) for x in a]
    return a


def mixed(x) -> TypeError:
    return TypeError(f"Unsupported type {type(x)}: a NumPy array cannot be mixed with a device "
                     "array (CuPy raises this TypeError); move it with cupy.asarray() first")


def unwrap(x):
    """The NumPy value behind an argument of a ``cupy`` function: host arrays are refused."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, np.ndarray):
        raise mixed(x)
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(v) for v in x)
    return x


def operand(x):
    """The NumPy value behind an operator's other operand, or ``NotImplemented`` to let it try."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, SCALARS):
        return x
    if isinstance(x, np.ndarray):
        raise mixed(x)
    if getattr(type(x), "__array_ufunc__", 0) is None:  # e.g. a Tensor: its reflected op runs
        return NotImplemented
    raise TypeError(f"Unsupported type {type(x)}")


def binary(fn, reflected=False):
    def op(self, other):
        o = operand(other)
        if o is NotImplemented:
            return NotImplemented
        return wrap(fn(o, self._a) if reflected else fn(self._a, o))
    return op


def compare(fn):
    def op(self, other):
        if isinstance(other, np.ndarray) and other.ndim == 0:  # CuPy takes a 0-d one's value
            other = other.item()
        return binary(fn)(self, other)
    return op


def inplace(fn):
    def op(self, other):
        o = operand(other)
        if o is NotImplemented:
            raise TypeError(f"Unsupported type {type(other)}")
        fn(self._a, o, out=self._a)
        return self
    return op


def synced(convert, what: str):
    """A method that reads the array on the host: allowed, as in CuPy, and counted."""
    def read(self, *args):
        transfers.record("implicit", what)
        return convert(self._a, *args)
    return read


def method(name):
    def forward(self, *args, **kwargs):
        out = kwargs.get("out")
        result = getattr(self._a, name)(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
        if out is not None:
            return out
        return self if result is self._a else wrap(result)
    forward.__name__ = name
    return forward


def index(a: np.ndarray, key):
    """``key`` with device arrays unwrapped and integer arrays wrapped around, as CuPy's kernels.

    A boolean mask costs a sync on the GPU (its number of true values sets the result's shape).
    """
    key = key if isinstance(key, tuple) else (key,)
    parts = []
    for k in key:
        if type(k) is ndarray:
            k = k._a
        elif isinstance(k, (list, np.ndarray)) and not isinstance(k, np.generic):
            k = np.asarray(k)  # host indices: CuPy copies them to the device
            if k.dtype.kind == "f" and k.size == 0:
                k = k.astype(np.int32)
        parts.append(k)
    used = sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else
               0 if k is None or k is Ellipsis else 1 for k in parts)
    out, axis = [], 0
    for k in parts:
        if k is None:
            out.append(k)
            continue
        if k is Ellipsis:
            axis += a.ndim - used
            out.append(k)
            continue
        if isinstance(k, np.ndarray) and k.dtype == bool:
            transfers.record("implicit", "boolean-mask indexing")
            axis += k.ndim
        elif isinstance(k, np.ndarray) and k.dtype.kind in "iu" and axis < a.ndim:
            if a.shape[axis]:
                k = k % a.shape[axis]  # wraps around, never raises (CuPy's take/scatter)
            axis += 1
        else:
            axis += 1
        out.append(k)
    return tuple(out)


class ndarray:
    """A device array of the stand-in (a NumPy array inside, never handed out implicitly)."""

    __slots__ = ("__weakref__", "_a")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype=check_dtype(dtype), order=order)

    # ---- what NumPy may not do with it ---------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        outs = kwargs.get("out", ())
        for x in inputs + tuple(outs):
            if isinstance(x, np.ndarray):
                raise mixed(x)
        if method == "__call__" and not kwargs and any(isinstance(x, np.generic) for x in inputs):
            # a NumPy scalar's operator (np.float32(2) * a) arrives here; CuPy computes it
            args = [operand(x) for x in inputs]
            return NotImplemented if any(a is NotImplemented for a in args) else wrap(ufunc(*args))
        raise TypeError(f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
                        f"() was called on a device array: use cupy.{ufunc.__name__} (the "
                        "array's module, xp). The CuPy stand-in refuses what real CuPy would "
                        "dispatch, so that code keeps to xp")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__}() was called on a device array: use "
                        f"cupy.{func.__name__} (the array's module, xp), or .get() for a host "
                        "copy. The CuPy stand-in refuses what real CuPy would dispatch")

    # ---- attributes ----------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: wrap(self._a.T))
    real = property(lambda self: wrap(self._a.real))
    imag = property(lambda self: wrap(self._a.imag))

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    # ---- device -> host ------------------------------------------------------------------
    def get(self, stream=None, order="C", out=None):
        """A host copy (an explicit transfer, counted)."""
        transfers.record("explicit", "ndarray.get()")
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype or arr.shape != self.shape:
            raise ValueError(f"cannot set {arr.dtype} {arr.shape} into {self.dtype} {self.shape}")
        self._a[...] = arr

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        transfers.record("implicit", "ndarray.item()")
        return self._a.item()

    def __bool__(self):
        if self.size == 0:
            warnings.warn("The truth value of an empty array is ambiguous. Returning False, but "
                          "in future this will result in an error.", DeprecationWarning,
                          stacklevel=2)
            return False
        if self.size > 1:
            raise ValueError("The truth value of an array with more than one element is "
                             "ambiguous. Use a.any() or a.all()")
        transfers.record("implicit", "bool(ndarray)")
        return bool(self._a)

    tolist = synced(np.ndarray.tolist, "ndarray.tolist()")
    tobytes = synced(np.ndarray.tobytes, "ndarray.tobytes()")
    __int__ = synced(int, "int(ndarray)")
    __float__ = synced(float, "float(ndarray)")
    __complex__ = synced(complex, "complex(ndarray)")
    __repr__ = synced(repr, "repr(ndarray)")
    __str__ = synced(str, "str(ndarray)")
    __format__ = synced(format, "format(ndarray)")

    def __reduce__(self):
        transfers.record("implicit", "pickling an ndarray")
        return rebuild, (self._a.copy(),)

    def __copy__(self):
        return wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return wrap(self._a.copy())

    # ---- containers ----------------------------------------------------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        return wrap(self._a[index(self._a, key)])

    def __setitem__(self, key, value):
        if type(value) is ndarray:
            value = value._a
        elif isinstance(value, (list, np.ndarray)):
            value = np.asarray(value)  # host values: CuPy copies them to the device
        self._a[index(self._a, key)] = value

    def scatter_add(self, slices, value):
        """``cupyx.scatter_add``: repeated indices add up; integer indices wrap around."""
        np.add.at(self._a, index(self._a, slices), unwrap(value))

    def nonzero(self):
        transfers.record("implicit", "ndarray.nonzero()")
        return wrap(self._a.nonzero())

    # ---- operators -----------------------------------------------------------------------
    __add__, __radd__ = binary(np.add), binary(np.add, True)
    __sub__, __rsub__ = binary(np.subtract), binary(np.subtract, True)
    __mul__, __rmul__ = binary(np.multiply), binary(np.multiply, True)
    __truediv__, __rtruediv__ = binary(np.true_divide), binary(np.true_divide, True)
    __floordiv__, __rfloordiv__ = binary(np.floor_divide), binary(np.floor_divide, True)
    __mod__, __rmod__ = binary(np.remainder), binary(np.remainder, True)
    __pow__, __rpow__ = binary(np.power), binary(np.power, True)
    __matmul__, __rmatmul__ = binary(np.matmul), binary(np.matmul, True)
    __and__, __rand__ = binary(np.bitwise_and), binary(np.bitwise_and, True)
    __or__, __ror__ = binary(np.bitwise_or), binary(np.bitwise_or, True)
    __xor__, __rxor__ = binary(np.bitwise_xor), binary(np.bitwise_xor, True)
    __lshift__, __rshift__ = binary(np.left_shift), binary(np.right_shift)
    __lt__, __le__ = compare(np.less), compare(np.less_equal)
    __gt__, __ge__ = compare(np.greater), compare(np.greater_equal)
    __eq__, __ne__ = compare(np.equal), compare(np.not_equal)
    __hash__ = None
    __iadd__, __isub__ = inplace(np.add), inplace(np.subtract)
    __imul__, __itruediv__ = inplace(np.multiply), inplace(np.true_divide)
    __ifloordiv__, __imod__, __ipow__ = (inplace(np.floor_divide), inplace(np.remainder),
                                         inplace(np.power))
    __iand__, __ior__, __ixor__ = (inplace(np.bitwise_and), inplace(np.bitwise_or),
                                   inplace(np.bitwise_xor))

    def __neg__(self):
        return wrap(-self._a)

    def __pos__(self):
        return self

    def __abs__(self):
        return wrap(abs(self._a))

    def __invert__(self):
        return wrap(~self._a)

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        dtype = check_dtype(dtype)
        if not copy and dtype == self.dtype:
            return self
        return wrap(self._a.astype(dtype, order=order))


for _name in ("reshape", "transpose", "ravel", "flatten", "copy", "view", "squeeze", "swapaxes",
              "repeat", "take", "sum", "mean", "max", "min", "argmax", "argmin", "all", "any",
              "prod", "cumsum", "cumprod", "var", "std", "clip", "round", "dot", "fill", "sort",
              "argsort", "diagonal", "trace", "conj", "conjugate"):
    setattr(ndarray, _name, method(_name))


def rebuild(a: np.ndarray) -> ndarray:
    """Unpickle a device array (CuPy's ``__reduce__`` goes through the host too)."""
    return wrap(a)
