"""Elementwise primitives of two inputs (broadcasting; the engine sums gradients back)."""
from __future__ import annotations

import numpy as np

from ..backend import constant, get_array_module
from .base import Op


class Add(Op):
    """z = x + y;  dx = g, dy = g."""

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Op):
    """z = x - y;  dx = g, dy = -g."""

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, -g


class Mul(Op):
    """z = x * y;  dx = g * y, dy = g * x."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return g * y, g * x


class Div(Op):
    """z = x / y;  dx = g / y, dy = -g * z / y."""

    def forward(self, x, y):
        z = x / y
        self.save(y, z)
        return z

    def backward(self, g):
        y, z = self.saved
        gx = g / y
        return gx, -gx * z


class Pow(Op):
    """z = x ** y;  dx = g * y * x ** (y - 1) (0 where y = 0), dy = g * z * log(x) (0 where
    x = 0 and y >= 0), as torch."""

    def forward(self, x, y):
        z = x ** y
        self.save(x, y, z)
        return z

    def backward(self, g):
        x, y, z = self.saved
        xp = get_array_module(x)
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** negative is inf, as torch
            if self.needs[0]:
                gx = g * xp.where(y == 0, 0, y * x ** (y - 1))
            if self.needs[1]:
                gy = g * xp.where((x == 0) & (y >= 0), 0, z * xp.log(xp.where(x == 0, 1, x)))
        return gx, gy


class Maximum(Op):
    """z = max(x, y);  dx = g where x > y, g / 2 where x = y, 0 where x < y (dy alike), as torch."""

    pick = "maximum"  # the array function; Minimum picks the other way

    def forward(self, x, y):
        self.save(x, y)
        return getattr(get_array_module(x), self.pick)(x, y)

    def backward(self, g):
        x, y = self.saved
        if self.pick == "minimum":
            x, y = y, x  # x wins where it is the smaller
        xp, zero = get_array_module(g), constant(0, g)
        g_tie = xp.where(x == y, g * constant(0.5, g), g)
        return xp.where(x < y, zero, g_tie), xp.where(x > y, zero, g_tie)


class Minimum(Maximum):
    """z = min(x, y);  dx = g where x < y, g / 2 where x = y, 0 where x > y (dy alike), as torch."""

    pick = "minimum"


class Where(Op):
    """z = cond ? x : y (cond is not differentiated);  dx = cond ? g : 0, dy = cond ? 0 : g."""

    def forward(self, x, y, cond):
        xp = get_array_module(x)
        cond = xp.asarray(cond, dtype=bool)
        self.save(cond)
        return xp.where(cond, x, y)

    def backward(self, g):
        (cond,) = self.saved
        xp, zero = get_array_module(g), constant(0, g)
        return xp.where(cond, g, zero), xp.where(cond, zero, g)
