"""Elementwise primitives of a tensor and a Python number ``c`` (Chainer's ``*Constant`` ops).

A Python number never changes the tensor's dtype, and needs no tensor of its own in the graph:
``x * 0.5`` is one node, drawn with its constant (``self.value``). The forward pass turns ``c``
into a 0-d array of ``x``'s dtype (:func:`tinygrad_rnn.backend.constant`).
"""
from __future__ import annotations

from ..backend import constant, get_array_module
from .base import Op


class AddScalar(Op):
    """y = x + c (also x - c, as x + (-c));  dx = g."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        return x + c

    def backward(self, g):
        return (g,)


class RSubScalar(Op):
    """y = c - x;  dx = -g."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        return c - x

    def backward(self, g):
        return (-g,)


class MulScalar(Op):
    """y = x * c;  dx = g * c."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        return x * c

    def backward(self, g):
        return (g * self.c,)


class DivScalar(Op):
    """y = x / c;  dx = g / c."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        return x / c

    def backward(self, g):
        return (g / self.c,)


class RDivScalar(Op):
    """y = c / x;  dx = -g * y / x."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        y = c / x
        self.save(x, y)
        return y

    def backward(self, g):
        x, y = self.saved
        return (-g * y / x,)


class PowScalar(Op):
    """y = x ** c;  dx = g * c * x ** (c - 1)."""

    def forward(self, x, c):
        if c < 0 and x.dtype.kind in "iu":
            raise ValueError("Integers to negative integer powers are not allowed (as torch)")
        self.value, c = c, constant(c, x)
        self.c = c
        self.save(x)
        return x ** c

    def backward(self, g):
        (x,) = self.saved
        if self.value == 0:  # x ** 0 is 1 everywhere, also at x = 0 (where c x ** (c-1) is NaN)
            return (get_array_module(g).zeros_like(g),)
        if self.value == 2:
            return (g * (x + x),)
        return (g * (self.c * x ** constant(self.value - 1, x)),)


class RPowScalar(Op):
    """y = c ** x;  dx = g * y * log(c)."""

    def forward(self, x, c):
        self.value, c = c, constant(c, x)
        self.c = c
        y = get_array_module(x).power(c, x)
        self.save(y)
        return y

    def backward(self, g):
        (y,) = self.saved
        return (g * y * get_array_module(y).log(self.c),)
