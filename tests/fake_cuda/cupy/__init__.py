"""A strict stand-in for CuPy that runs on the CPU: the test suite's "cuda" device without a GPU.

It is never shipped with the package. ``tests/conftest.py`` puts this folder first on the import
path (``--fake-cuda``, see there), so that ``import cupy`` and ``import cupyx`` inside
``tinygrad_rnn`` find it, and ``tg.cuda`` probes it like the real thing. Its arrays
(:class:`ndarray`, in ``_array.py``) keep a NumPy array inside and follow CuPy's rules where they
matter to code written for both devices: no implicit conversion to NumPy (``np.asarray(a)``
raises CuPy's ``TypeError``), no NumPy array in an operation with a device array, integer
indices that wrap around instead of raising, and every device->host transfer or sync counted in
:data:`transfers` (``cupy.transfers.reset()``, ``.explicit``, ``.implicit``, ``.log``).
``cupyx.allow_synchronize(False)`` turns any such transfer into an error, as in CuPy.

Only what the package and its tests use is here; a missing name is an ``AttributeError``.
"""
from __future__ import annotations

import functools

import numpy as np

from ._array import check_dtype, ndarray, transfers, unwrap, wrap

__version__ = "13.0.0+stand-in"
__stand_in__ = ("CuPy stand-in of the test suite (tests/fake_cuda): NumPy arrays behind CuPy's "
                "interface, on the CPU, no GPU")

# dtypes and constants, as CuPy re-exports them from NumPy
for _name in ("bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64", "complex64", "complex128", "intp", "dtype",
              "finfo", "iinfo", "result_type", "promote_types", "can_cast", "issubdtype",
              "isscalar", "newaxis", "pi", "e", "inf", "nan"):
    globals()[_name] = getattr(np, _name)


def lifted(fn, name: str | None = None):
    """``fn`` of NumPy as a ``cupy`` function: device arrays in, device arrays out."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        out = kwargs.get("out")
        if out is not None and type(out) is not ndarray:
            raise TypeError(f"cupy.{call.__name__}(): out must be a cupy.ndarray, not {type(out)}")
        if "dtype" in kwargs and kwargs["dtype"] is not None:
            check_dtype(kwargs["dtype"])
        result = fn(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()})
        return out if out is not None else wrap(result)

    if name:
        call.__name__ = name
    return call


# creation from shapes (no array inputs)
for _name in ("zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace",
              "zeros_like", "ones_like", "empty_like", "full_like"):
    globals()[_name] = lifted(getattr(np, _name))

# elementwise functions (CuPy's ufuncs) and array routines
for _name in ("add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "negative",
              "power", "square", "sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "tanh",
              "sin", "cos", "abs", "absolute", "sign", "maximum", "minimum", "fmax", "fmin",
              "isfinite", "isnan", "isinf", "logical_and", "logical_or", "logical_not",
              "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "floor",
              "ceil", "rint", "round", "around", "logaddexp", "remainder", "reciprocal",
              "clip", "where", "stack", "concatenate", "broadcast_to", "expand_dims", "squeeze",
              "transpose", "reshape", "ravel", "moveaxis", "swapaxes", "split", "array_split",
              "tile", "repeat", "flip", "pad", "diag", "tril", "triu", "outer", "sum", "mean",
              "max", "min", "amax", "amin", "argmax", "argmin", "all", "any", "prod", "cumsum",
              "var", "std", "dot", "matmul", "einsum", "tensordot", "take", "take_along_axis",
              "sort", "argsort", "isclose", "count_nonzero", "copyto", "atleast_1d",
              "atleast_2d", "ascontiguousarray", "copy", "allclose", "array_equal"):
    globals()[_name] = lifted(getattr(np, _name))


def asarray(a, dtype=None, order=None):
    """``a`` on the device: a device array as it is (cast if asked), host data copied over."""
    if type(a) is ndarray:
        return a if dtype is None else a.astype(dtype, copy=False)
    return array(a, dtype=dtype, order=order)


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array (host data is copied to the device, as CuPy does)."""
    if type(obj) is ndarray:
        out = obj.astype(dtype or obj.dtype, copy=copy)
        return out if ndmin <= out.ndim else wrap(np.array(out._a, copy=False, ndmin=ndmin))
    if isinstance(obj, (list, tuple)):
        obj = unwrap_nested(obj)
    a = np.array(obj, dtype=None if dtype is None else check_dtype(dtype), order=order,
                 ndmin=ndmin, copy=True)
    return wrap(a)


def unwrap_nested(obj):
    if type(obj) is ndarray:
        return obj._a
    if isinstance(obj, (list, tuple)):
        return [unwrap_nested(x) for x in obj]
    return obj


def asnumpy(a, stream=None, order="C", out=None):
    """A host copy of ``a`` (an explicit transfer when ``a`` is on the device)."""
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    """This module when any argument is a device array, else NumPy."""
    import cupy

    return cupy if any(type(a) is ndarray for a in args) else np


def nonzero(a):
    return a.nonzero()


def flatnonzero(a):
    return a.ravel().nonzero()[0]


def unique(a, **kwargs):
    transfers.record("implicit", "cupy.unique()")  # its size is known only on the host
    return wrap(np.unique(a._a, **kwargs))


def fuse(*args, **kwargs):
    """``cupy.fuse``: the function itself (no kernel to compile on the CPU)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


def get_default_memory_pool():
    from .cuda import MemoryPool

    return MemoryPool()


def is_available() -> bool:
    return True


from . import cuda, linalg, random  # noqa: F401 - CuPy's submodules (they use lifted)
