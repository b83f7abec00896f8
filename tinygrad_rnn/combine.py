"""Functions that combine several tensors into one: ``tg.concat``, ``tg.stack``, ``tg.where``,
``tg.maximum``."""
from __future__ import annotations

from . import ops
from .tensor import Tensor


def as_tensors(ts, name: str) -> list:
    """A non-empty list of tensors, or a clear error."""
    ts = list(ts)
    if not ts:
        raise ValueError(f"{name}() needs at least one tensor")
    return [t if isinstance(t, Tensor) else ts[0].lift(t) if isinstance(ts[0], Tensor) else
            Tensor(t) for t in ts]


def concat(ts, axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (``torch.cat``)."""
    return ops.Concat.apply(*as_tensors(ts, "concat"), axis=axis)


def stack(ts, axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new ``axis``."""
    return ops.Stack.apply(*as_tensors(ts, "stack"), axis=axis)


def where(cond, a, b) -> Tensor:
    """Elements of ``a`` where ``cond`` is true, else of ``b``; ``cond`` gets no gradient."""
    if not isinstance(a, Tensor):
        a = b.lift(a) if isinstance(b, Tensor) else Tensor(a)
    b = a.lift(b)
    cond = cond.data if isinstance(cond, Tensor) else a.xp.asarray(cond)
    return ops.Where.apply(a, b, cond=cond)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; tied elements share the gradient equally (as torch)."""
    if not isinstance(a, Tensor):
        a = b.lift(a)
    return ops.Maximum.apply(a, a.lift(b))
