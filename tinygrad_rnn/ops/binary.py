"""Elementwise primitives of two inputs (broadcasting; the engine sums gradients back)."""
from __future__ import annotations

import numpy as np

from ..backend import constant, get_array_module
from .base import BinaryOp, Op


class Add(BinaryOp):
    """z = x + y;  dx = g, dy = g."""

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(BinaryOp):
    """z = x - y;  dx = g, dy = -g."""

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, -g


class Mul(BinaryOp):
    """z = x * y;  dx = g * y, dy = g * x."""

    def forward(self, x, y):
        self.save(x, y)
        return x * y

    def backward(self, g):
        x, y = self.saved
        return g * y, g * x


class Div(BinaryOp):
    """z = x / y;  dx = g / y, dy = -g * z / y."""

    def forward(self, x, y):
        z = x / y
        self.save(y, z)
        return z

    def backward(self, g):
        y, z = self.saved
        gx = g / y
        return gx, -gx * z


class Pow(BinaryOp):
    """z = x ** y;  dx = g * y * x ** (y - 1), dy = g * z * log(x) (0 where x = 0)."""

    wants_needs = True

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
                gx = g * y * x ** (y - 1)
            if self.needs[1]:
                gy = g * xp.where(x == 0, 0, z * xp.log(xp.where(x == 0, 1, x)))
        return gx, gy


class Maximum(BinaryOp):
    """z = max(x, y);  the gradient goes to the larger input, halved between ties (as torch)."""

    def forward(self, x, y):
        self.save(x, y)
        return get_array_module(x).maximum(x, y)

    def backward(self, g):
        x, y = self.saved
        xp = get_array_module(g)
        share = xp.add(x > y, x >= y, dtype=g.dtype)  # 2 where x wins, 1 at a tie, 0 where y wins
        gx = g * share * constant(0.5, g)
        return gx, g - gx


class Where(Op):
    """z = cond ? x : y (cond is not differentiated);  dx = g * cond, dy = g * (not cond)."""

    def forward(self, x, y, cond):
        xp = get_array_module(x)
        cond = xp.asarray(cond, dtype=bool)
        self.save(cond)
        return xp.where(cond, x, y)

    def backward(self, g):
        (cond,) = self.saved
        gx = g * cond
        return gx, g - gx
