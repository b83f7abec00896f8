"""Primitives that move, select or join elements without arithmetic."""
from __future__ import annotations

import numpy as np

from ..autograd import Scatter
from ..backend import get_array_module
from ..inplace import index_on
from .base import Op


class Reshape(Op):
    """y = x.reshape(shape);  dx = g.reshape(x.shape)."""

    view = True

    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class Transpose(Op):
    """y = x.transpose(axes);  dx = g.transpose(inverse of axes)."""

    view = True

    def forward(self, x, axes):
        y = x.transpose(axes)  # first: it names a bad permutation
        self.inverse = tuple(sorted(range(len(axes)), key=list(axes).__getitem__))
        return y

    def backward(self, g):
        return (g.transpose(self.inverse),)


def has_array(key) -> bool:
    """Whether an index uses integer or boolean arrays (advanced indexing)."""
    keys = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "shape") and k.ndim > 0 or isinstance(k, list) for k in keys)


def has_ellipsis(key) -> bool:
    return any(k is Ellipsis for k in (key if isinstance(key, tuple) else (key,)))


class Index(Op):
    """y = x[key] (basic or integer-array indexing);  dx = zeros with g scatter-added at key.

    The gradient is returned as a :class:`~tinygrad_rnn.autograd.Scatter`: the engine adds all
    the slices taken of one tensor (every time step of a sequence, every gate of a cell) into
    one buffer instead of making a zero array per slice.
    """

    def forward(self, x, key):
        key = index_on(get_array_module(x), key)  # index arrays must live on x's device
        self.shape, self.dtype, self.key = x.shape, x.dtype, key
        if key.__class__ is np.ndarray and key.ndim and key.dtype.kind in "iu" \
                and x.__class__ is np.ndarray:
            # rows picked by one integer array (an embedding): take copies them in a third of
            # the time of NumPy's general indexing (1.7 against 3.6 us for 256 of 65 x 32)
            self.view = False
            return np.take(x, key, axis=0)
        self.view = not has_array(key)  # basic indexing gives a view, integer arrays a copy
        if self.view and not has_ellipsis(key):  # x[0] of a 1-D x: a 0-d view, not a copy
            return x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return x[key]

    def backward(self, g):
        return (Scatter(self.shape, self.key, g, advanced=has_array(self.key)),)


class Concat(Op):
    """y = concatenate(xs, axis);  dx_k = the slice of g that came from x_k."""

    def forward(self, *xs, axis=0):
        y = get_array_module(xs[0]).concatenate(xs, axis=axis)  # first: it names a bad axis
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return y

    def backward(self, g):
        axis = self.axis % g.ndim
        out, start = [], 0
        for s in self.sizes:
            out.append(g[(slice(None),) * axis + (slice(start, start + s),)])
            start += s
        return out


class Stack(Op):
    """y = stack(xs, axis);  dx_k = g[..., k, ...] along ``axis``."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.n = len(xs)
        xp, shape = get_array_module(xs[0]), xs[0].shape
        if axis == 0 and shape and all(x.shape == shape for x in xs):
            # the same array as xp.stack, from one call: stack's own loop over the inputs
            # costs more than the copy for the (N, H) steps of a sequence
            return xp.concatenate(xs).reshape(len(xs), *shape)
        return xp.stack(xs, axis=axis)

    def backward(self, g):
        axis = self.axis % g.ndim
        return [g[(slice(None),) * axis + (k,)] for k in range(self.n)]
