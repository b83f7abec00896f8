"""Matrix product, with NumPy's ``matmul`` rules (1-D operands, broadcast batch dimensions)."""
from __future__ import annotations

import math

from .base import Op


def rows(a):
    """``a`` (..., K) as a matrix (M, K): the leading axes folded into rows (a view if it can)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])  # not -1: a may be empty


class MatMul(Op):
    """z = x @ y;  dx = g @ y^T, dy = x^T @ g (batch dimensions summed back by the engine).

    A batch ``x`` (..., K) times a matrix ``y`` (K, N), the shape of every layer applied to a
    whole sequence, is one matrix product of rows: forward ``(M, K) @ (K, N)`` and backward
    ``dy = x_rows^T @ g_rows``, a (K, N) sum over all M rows in one BLAS call instead of a
    (..., K, N) batch of products summed afterwards.
    """

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs operands with at least one dimension")
        if x.dtype != y.dtype or x.dtype == bool:
            raise TypeError(f"expected two operands of one numeric dtype, got {x.dtype} and "
                            f"{y.dtype} (as torch)")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(f"inner dimensions {x.shape[-1]} and "
                             f"{y.shape[-2 if y.ndim > 1 else 0]} differ")
        self.save(x, y)
        if x.ndim > 2 and y.ndim == 2:  # rows times a matrix: one product
            return (rows(x) @ y).reshape(*x.shape[:-1], y.shape[1])
        return x @ y

    def backward(self, g):
        x, y = self.saved
        if x.ndim > 2 and y.ndim == 2:
            gx = (rows(g) @ y.T).reshape(x.shape) if self.needs[0] else None
            gy = rows(x).T @ rows(g) if self.needs[1] else None
            return gx, gy
        # a 1-D operand is a row (x) or a column (y) vector for the product; restore it at the end
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        if y.ndim == 1:
            g = g[..., None]
        if x.ndim == 1:
            g = g[..., None, :]
        gx = gy = None
        if self.needs[0]:
            gx = g @ y2.swapaxes(-1, -2)
            if x.ndim == 1:
                gx = gx[..., 0, :]
        if self.needs[1]:
            gy = x2.swapaxes(-1, -2) @ g
            if y.ndim == 1:
                gy = gy[..., 0]
        return gx, gy
