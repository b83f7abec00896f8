"""Elementwise primitives of one input."""
from __future__ import annotations

import numpy as np

from ..backend import device_of, get_array_module, to_device
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
        return (g * (1 - y * y),)


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x));  dx = g * y * (1 - y).

    exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) = 0 is the right limit, so
    the overflow warning is silenced; tiny values keep their full relative precision.
    """

    def forward(self, x):
        xp = get_array_module(x)
        with np.errstate(over="ignore"):
            y = xp.exp(-x)
        y += 1
        xp.reciprocal(y, out=y)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * y * (1 - y),)


class Relu(Op):
    """y = max(x, 0);  dx = g where x > 0, else 0."""

    def forward(self, x):
        mask = x > 0
        self.save(mask)
        return x * mask

    def backward(self, g):
        (mask,) = self.saved
        return (g * mask,)


class Abs(Op):
    """y = |x|;  dx = g * sign(x) (0 at x = 0, as torch)."""

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
        return (g / (2 * y),)


class Clip(Op):
    """y = min(max(x, lo), hi);  dx = g where lo <= x <= hi, else 0 (as torch.clamp)."""

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip() needs lo, hi or both")
        xp = get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        self.save(inside)
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g):
        (inside,) = self.saved
        return (g * inside,)


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
