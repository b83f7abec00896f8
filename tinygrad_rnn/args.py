"""How arguments are read, the same way in every function: one rule for each convention.

NumPy and PyTorch spell the same array arguments differently (``axis``/``dim``,
``keepdims``/``keepdim``); every function of the package accepts both through :func:`spelled`,
and passing both spellings of one argument is a ``TypeError`` naming both. A shape is given as
sizes or as one tuple (``zeros(2, 3)``, ``zeros((2, 3))``), read by :func:`shape_of`.

What torch refuses is refused here too, by name: a size that is not an integer (a float is not
truncated, a bool is not a size) is a ``TypeError``, a negative one a ``ValueError``.
"""
from __future__ import annotations

import operator

import numpy as np


def spelled(fn: str, numpy_name: str, numpy_value, torch_name: str, torch_value, default=None):
    """The value of one argument that has a NumPy and a PyTorch spelling; ``None`` is unset.

    >>> spelled("sum", "axis", None, "dim", 1)
    1
    >>> spelled("sum", "keepdims", None, "keepdim", None, default=False)
    False
    """
    if numpy_value is not None and torch_value is not None:
        raise TypeError(f"{fn}() got both {numpy_name}={numpy_value!r} and {torch_name}="
                        f"{torch_value!r}: they are two spellings of one argument, pass one")
    if numpy_value is not None:
        return numpy_value
    return default if torch_value is None else torch_value


def axis_and_keepdims(fn: str, axis, keepdims, dim, keepdim) -> tuple:
    """``(axis, keepdims)`` of a reduction called with either spelling (``keepdims`` False if
    unset)."""
    return (spelled(fn, "axis", axis, "dim", dim),
            bool(spelled(fn, "keepdims", keepdims, "keepdim", keepdim, default=False)))


def as_int(n, message: str) -> int:
    """``n`` as a Python int if it is an integer (NumPy's too, bools not), else ``TypeError``."""
    if isinstance(n, (bool, np.bool_)) or not hasattr(n, "__index__"):
        raise TypeError(f"{message}, got {n!r} ({type(n).__name__})")
    return operator.index(n)


def check_size(fn: str, name: str, n, least: int = 0) -> int:
    """``n`` as a Python int if it is an integer ``>= least``; the errors name ``fn`` and ``name``.

    As torch: a ``TypeError`` for a non-integer, a ``ValueError`` for one that is too small.
    """
    n = as_int(n, f"{fn}(): {name} must be an integer")
    if n < least:
        wanted = "non-negative" if least == 0 else "positive" if least == 1 else f">= {least}"
        raise ValueError(f"{fn}(): {name} must be {wanted}, got {n}")
    return n


def sizes_of(sizes: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` (or a list) both give ``(2, 3)``: the sizes, unchecked."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def shape_of(shape: tuple, fn: str) -> tuple:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3); sizes are checked as torch.

    A size that is not an integer raises ``TypeError`` and a negative one ``ValueError``, each
    naming ``fn`` (the creating function).
    """
    shape = tuple(as_int(n, f"{fn}(): sizes must be integers") for n in sizes_of(shape))
    if any(n < 0 for n in shape):
        raise ValueError(f"{fn}(): size {shape} has a negative dimension {min(shape)}")
    return shape
