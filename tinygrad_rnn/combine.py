"""Functions that combine several tensors into one: ``tg.concat``, ``tg.stack``, ``tg.where``,
``tg.maximum``."""
from __future__ import annotations

from . import ops
from .args import spelled
from .tensor import Tensor, promoted, promoted_pair


def as_tensors(ts, name: str) -> list:
    """A non-empty list of tensors, or a clear error."""
    ts = list(ts)
    if not ts:
        raise ValueError(f"{name}() needs at least one tensor")
    return [t if isinstance(t, Tensor) else ts[0].lift(t) if isinstance(ts[0], Tensor) else
            Tensor(t) for t in ts]


def concat(ts, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing ``axis`` (or ``dim``, 0 by default), as ``torch.cat``
    (``tg.cat``). As in torch, a 1-D empty tensor is left out, so ``tg.zeros(0)`` can start a
    concatenation of tensors of any shape."""
    axis = spelled("concat", "axis", axis, "dim", dim, default=0)
    ts = promoted(*as_tensors(ts, "concat"))
    return ops.Concat.apply(*([t for t in ts if t.shape != (0,)] or ts), axis=axis)


def stack(ts, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new ``axis`` (or ``dim``, 0 by default)."""
    axis = spelled("stack", "axis", axis, "dim", dim, default=0)
    return ops.Stack.apply(*promoted(*as_tensors(ts, "stack")), axis=axis)


def where(cond, a, b) -> Tensor:
    """Elements of ``a`` where the bool ``cond`` is true, else of ``b`` (tensors or numbers,
    promoted as torch); ``cond`` gets no gradient."""
    a, b = promoted_pair(a, b)
    cond = cond.data if isinstance(cond, Tensor) else a.xp.asarray(cond)
    if cond.dtype != bool:
        raise TypeError(f"where(): cond must be a bool tensor, not {cond.dtype} of shape "
                        f"{tuple(cond.shape)} (as torch); compare it first (cond != 0)")
    return ops.Where.apply(a, b, cond=cond)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; tied elements share the gradient equally (as torch)."""
    return ops.Maximum.apply(*promoted_pair(a, b))
