"""Reductions over axes: ``axis`` is ``None`` (all axes) or a sorted tuple of axes."""
from __future__ import annotations

import math

from ..backend import get_array_module
from .base import Op


def expand_back(g, shape, axis, keepdims):
    """``g`` (a reduced gradient) with the reduced axes put back as size 1, ready to broadcast."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    return get_array_module(g).expand_dims(g, axis)


def reduced_shape(shape, axis):
    """The shape left after reducing ``axis`` away (keepdims=False)."""
    return () if axis is None else tuple(n for i, n in enumerate(shape) if i not in axis)


class Sum(Op):
    """y = sum(x, axis);  dx = g broadcast back over the summed axes.

    Bool and integer tensors sum to int64, as in torch (NumPy gives uint8's sum as uint64).
    """

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims, dtype="int64" if x.dtype.kind in "biu" else None)

    def backward(self, g):
        g = expand_back(g, self.shape, self.axis, self.keepdims)
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Cumsum(Op):
    """y = cumsum(x, axis) (running sums);  dx = g's running sums taken from the other end.

    Bool and integer tensors sum to int64, as in torch.
    """

    def forward(self, x, axis=0):
        self.axis = axis
        return x.cumsum(axis=axis, dtype="int64" if x.dtype.kind in "biu" else None)

    def backward(self, g):
        xp = get_array_module(g)
        return (xp.flip(xp.flip(g, self.axis).cumsum(axis=self.axis), self.axis),)


class Mean(Op):
    """y = mean(x, axis);  dx = g / n broadcast back, n the number of averaged elements."""

    def forward(self, x, axis=None, keepdims=False):
        if x.dtype.kind not in "fc":
            raise TypeError(f"the mean of a tensor of dtype {x.dtype} is not defined (as "
                            "torch): convert it to a float dtype first")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.n = x.size if axis is None else math.prod(x.shape[a] for a in axis)
        if self.n == 0:  # the mean of nothing is NaN, as torch (NumPy would also warn)
            return x.sum(axis=axis, keepdims=keepdims) * x.dtype.type("nan")
        return x.mean(axis=axis, keepdims=keepdims)

    def backward(self, g):  # with n = 0, x and its gradient have no elements
        g = expand_back(g, self.shape, self.axis, self.keepdims) / g.dtype.type(max(self.n, 1))
        return (get_array_module(g).broadcast_to(g, self.shape),)


class Max(Op):
    """y = max(x, axis);  dx = g at the maxima, shared equally between ties (as torch.amax)."""

    pick = "max"

    def forward(self, x, axis=None, keepdims=False):
        empty = [a for a in (range(x.ndim) if axis is None else axis) if x.shape[a] == 0]
        if empty:  # as torch: no maximum of no elements (other axes may be empty)
            raise ValueError(f"{self.pick}(): expected reduction axis {empty[0]} of shape "
                             f"{x.shape} to have non-zero size")
        y = getattr(x, self.pick)(axis=axis, keepdims=True)
        mask = (x == y).astype(x.dtype)
        self.save(mask / mask.sum(axis=axis, keepdims=True))
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return y if keepdims else y.reshape(reduced_shape(x.shape, axis))

    def backward(self, g):
        (share,) = self.saved
        return (expand_back(g, self.shape, self.axis, self.keepdims) * share,)


class Min(Max):
    """y = min(x, axis);  dx = g at the minima, shared equally between ties (as torch.amin)."""

    pick = "min"
