"""In-place writes (``x[mask] = v``, ``p -= lr * p.grad``, ``g.zero_()``): a mixin of
:class:`~tinygrad_rnn.Tensor`.

PyTorch code writes into tensors: an optimiser step from scratch (``p -= lr * p.grad`` under
``no_grad``), gradient clipping (``p.grad[:] *= c``), masks (``X[~mask] = 0``). The rules are
torch's, and they exist so that a write never makes a recorded graph silently wrong:

- every write bumps the tensor's version counter (shared with its views), so a backward pass
  through an op that saved the old values raises
  (:func:`~tinygrad_rnn.autograd.check_versions`), as torch's "modified by an inplace operation";
- a leaf that requires grad (a parameter) may be written only under ``tg.no_grad()``;
- with grad mode on, a tensor that is part of the recorded graph (made by an op, requires grad)
  cannot be written into, nor can a value that requires grad be written anywhere. Torch records
  such a write as an op of its own and re-routes the tensor's history; here the ops record the
  tensors themselves, so the write would change what earlier ops recorded. The error says what
  to write instead (out of place: ``x = x + y``, ``tg.where``, ``tg.stack``).

An in-place operator keeps the tensor's shape and dtype, as torch: ``x += y`` must not broadcast
``x`` to a larger shape, and an integer tensor cannot take a float result.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd import no_grad, state


def unwrap_index(key):
    """An index with tensors replaced by their arrays (integer-array and boolean indexing)."""
    if isinstance(key, InPlace):  # a tensor
        return key.data
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, InPlace) else k for k in key)
    if isinstance(key, list):
        return np.asarray(key)
    return key


def index_on(xp, key):
    """``key`` with its NumPy index arrays moved to ``xp``'s device (CuPy wants CuPy arrays)."""
    if xp is np:
        return key
    if isinstance(key, tuple):  # pragma: no cover - needs a GPU
        return tuple(xp.asarray(k) if isinstance(k, np.ndarray) else k for k in key)
    return xp.asarray(key) if isinstance(key, np.ndarray) else key  # pragma: no cover


class InPlace:
    """``x[key] = value``, the in-place operators and the ``*_`` methods, under torch's rules."""

    __slots__ = ()

    def check_write(self, what: str, value=None) -> None:
        """Raise if writing into this tensor (``value`` into it) would break a recorded graph."""
        if not state.grad_enabled:
            return
        if self.requires_grad and self.op is None:
            raise RuntimeError(
                f"{what}: a leaf tensor that requires grad (a parameter, shape {self.shape}) is "
                "being used in an in-place operation (as torch); update it under "
                "`with tg.no_grad():`")
        if self.requires_grad:
            raise RuntimeError(
                f"{what}: this tensor (shape {self.shape}, made by {type(self.op).__name__}) is "
                "part of the recorded graph, and a write into it cannot be recorded. Compute "
                "out of place instead: x = x + y, x = tg.where(mask, value, x) or "
                "x = x.masked_fill(mask, value)")
        if getattr(value, "requires_grad", False):
            raise RuntimeError(
                f"{what}: the value written (shape {value.shape}) requires grad, and a write "
                "into a tensor cannot be recorded in the graph; collect the pieces in a list "
                "and join them with tg.stack or tg.cat, or use tg.where")

    def write(self, what: str, value, key=Ellipsis):
        """``self.data[key] = value`` (a tensor, array or number) after :meth:`check_write`;
        bumps the version."""
        self.check_write(what, value)
        if isinstance(value, InPlace):
            if value.device != self.device:
                raise backend.DeviceError(f"{what}: the value is on {value.device} but the "
                                          f"tensor is on {self.device}")
            value = value.data
        elif isinstance(value, np.ndarray):
            value = backend.to_device(value, self.device)
        try:
            self.data[index_on(self.xp, unwrap_index(key))] = value
        except ValueError as e:
            shape = getattr(value, "shape", ())
            raise ValueError(f"{what}: cannot write a value of shape {tuple(shape)} into a "
                             f"tensor of shape {self.shape}: {e}") from e
        self.version[0] += 1
        return self

    def __setitem__(self, key, value) -> None:
        self.write("x[key] = value", value, key)

    def update(self, what: str, result, other=None):
        """Overwrite this tensor with ``result(self)`` (computed without recording), which must
        keep its shape and fit its dtype."""
        self.check_write(what, other)
        with no_grad():
            out = result(self)
        if out.shape != self.shape:
            raise ValueError(f"{what}: the result has the broadcast shape {out.shape}, but the "
                             f"tensor has shape {self.shape}: an in-place op keeps the shape "
                             "(as torch)")
        if not np.can_cast(out.dtype, self.dtype, "same_kind"):
            raise TypeError(f"{what}: the result type {out.dtype} cannot be written into a "
                            f"tensor of dtype {self.dtype} (as torch); compute out of place")
        return self.write(what, out)

    def __iadd__(self, other):
        return self.update("+=", lambda x: x + other, other)

    def __isub__(self, other):
        return self.update("-=", lambda x: x - other, other)

    def __imul__(self, other):
        return self.update("*=", lambda x: x * other, other)

    def __itruediv__(self, other):
        return self.update("/=", lambda x: x / other, other)

    def add_(self, other, alpha=1):
        """``x += alpha * other`` in place."""
        return self.update("add_()", lambda x: x + scaled(other, alpha), other)

    def sub_(self, other, alpha=1):
        """``x -= alpha * other`` in place."""
        return self.update("sub_()", lambda x: x - scaled(other, alpha), other)

    def mul_(self, other):
        return self.update("mul_()", lambda x: x * other, other)

    def div_(self, other):
        return self.update("div_()", lambda x: x / other, other)

    def clamp_(self, min=None, max=None):  # torch's argument names
        return self.update("clamp_()", lambda x: x.clip(min, max))

    def zero_(self):
        """Fill with zeros, in place (``p.grad.zero_()``)."""
        return self.write("zero_()", 0)

    def fill_(self, value):
        """Fill with ``value``, in place."""
        return self.write("fill_()", value)

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, converted to this dtype, from any device) into
        this tensor, in place."""
        if isinstance(src, InPlace):
            self.check_write("copy_()", src)
            src = src.data
        return self.write("copy_()", backend.to_device(src, self.device))

    def detach_(self):
        """Make this tensor a leaf that does not require grad, in place (d2l detaches the
        recurrent state so between batches).

        Torch keeps the cut history for graphs recorded before; here the ops record the tensors
        themselves, so the cut shows in every later backward pass. It is therefore refused while
        the op that made this tensor has not been through a backward pass (one without
        ``retain_graph``): call ``backward()`` first, or use ``x = x.detach()``.
        """
        if self.op is not None and not self.op.released:
            raise RuntimeError(
                f"detach_(): the graph that made this tensor (shape {self.shape}, by "
                f"{type(self.op).__name__}) has not been backpropagated yet, and cutting it in "
                "place would change it; call backward() first, or write x = x.detach()")
        self.op, self.parents, self.requires_grad = None, (), False
        return self


def scaled(other, alpha):
    """``alpha * other``, or ``other`` itself when ``alpha`` is 1 (``add_(y, alpha=-lr)``)."""
    return other if alpha == 1 else other * alpha
