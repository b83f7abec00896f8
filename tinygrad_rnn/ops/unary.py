"""Elementwise primitives of one input."""
from __future__ import annotations

import numpy as np

from ..backend import constant, device_of, get_array_module, to_device
from .base import Op


class Neg(Op):
    """y = -x;  dx = -g."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Exp(Op):
    """y = exp(x);  dx = g * y."""

    def forward(self, x):
        y = get_array_module(x).exp(x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * y,)


class Log(Op):
    """y = log(x);  dx = g / x."""

    def forward(self, x):
        self.save(x)
        return get_array_module(x).log(x)

    def backward(self, g):
        (x,) = self.saved
        return (g / x,)


class Tanh(Op):
    """y = tanh(x);  dx = g * (1 - y**2)."""

    def forward(self, x):
        y = get_array_module(x).tanh(x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * (constant(1, y) - y * y),)


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x)), computed as e / (1 + e) with e = exp(x);  dx = g * y * (1 - y).

    x is capped at log(largest float) - 1 so exp cannot overflow (y rounds to 1 long before). For
    very negative x, exp(x) goes down to denormals and 0 (as torch), so tiny outputs keep their
    full relative precision, unlike the (1 + tanh(x/2)) / 2 form. Four NumPy calls.
    """

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(xp.minimum(x, exp_limit(x)))
        y = e / (e + constant(1, e))
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * y * (constant(1, y) - y),)


_exp_limits: dict = {}  # array type -> dtype -> 0-d array (nested, as constant()'s cache)


def exp_limit(like):
    """A bit less than the largest x with a finite exp(x) in ``like``'s dtype (log of the largest
    float, less 1), as a cached 0-d array like :func:`~tinygrad_rnn.backend.constant`."""
    try:
        return _exp_limits[like.__class__][like.dtype]
    except KeyError:
        c = constant(float(np.log(np.finfo(like.dtype).max)) - 1.0, like)
        _exp_limits.setdefault(like.__class__, {})[like.dtype] = c
        return c


class Relu(Op):
    """y = max(x, 0);  dx = 0 where y <= 0, else g (as torch: g passes at a NaN input)."""

    def forward(self, x):
        y = get_array_module(x).maximum(x, constant(0, x))
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (get_array_module(g).where(y <= 0, constant(0, g), g),)


class Abs(Op):
    """y = abs(x);  dx = g * sign(x) (0 at x = 0, as torch)."""

    def forward(self, x):
        self.save(x)
        return abs(x)

    def backward(self, g):
        (x,) = self.saved
        return (g * get_array_module(x).sign(x),)


class Sqrt(Op):
    """y = sqrt(x);  dx = g / (2 y)."""

    def forward(self, x):
        y = get_array_module(x).sqrt(x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g / (y + y),)


class Clip(Op):
    """y = min(max(x, lo), hi);  dx = g where lo <= x <= hi, else 0 (as torch.clamp)."""

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip() needs lo, hi or both")
        xp = get_array_module(x)
        y = x if lo is None else xp.maximum(x, constant(lo, x))
        if hi is not None:
            y = xp.minimum(y, constant(hi, x))
        # true exactly where lo <= x <= hi (false for NaN, as torch): nowhere if lo > hi
        ordered = lo is None or hi is None or lo <= hi
        self.save(y == x if ordered else xp.zeros(x.shape, dtype=bool))
        return y

    def backward(self, g):
        (inside,) = self.saved
        return (get_array_module(g).where(inside, g, constant(0, g)),)


class Cast(Op):
    """y = x as ``dtype``;  dx = g (the engine casts it back to x's dtype)."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g):
        return (g,)


class ToDevice(Op):
    """y = x copied to ``device``;  dx = g copied back."""

    def forward(self, x, device):
        self.source = device_of(x)
        return to_device(x, device)

    def backward(self, g):
        return (to_device(g, self.source),)
