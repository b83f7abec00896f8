"""The base of every primitive: :class:`Op`.

An op is one small class. ``forward`` works on raw arrays (NumPy or CuPy, taken from its inputs)
and saves what its gradient needs with :meth:`Op.save`; ``backward`` receives the upstream
gradient ``g`` of the output and returns one gradient per input (``None`` for an input that gets
none). ``backward`` may return a gradient of the broadcast output shape: the engine sums it back
(:func:`tinygrad_rnn.autograd.fit_to`). ``backward`` never writes into ``g``.

Gradients that pass only where a mask holds (relu, clip, where, maximum) multiply by the mask
(relu by ``sign(y)``, the same mask as 0s and 1s): NumPy's masked selection is about 20 times
slower on large arrays. An infinite upstream gradient therefore becomes NaN where the mask is
false (``inf * 0``); PyTorch gives 0 there.
"""
from __future__ import annotations

import numpy as np

from ..autograd import state
from ..backend import DeviceError, get_array_module
from ..tensor import Tensor, recorded

ndarray, generic, asarray = np.ndarray, np.generic, np.asarray  # read at every op: no lookups


class Op:
    """A differentiable primitive; subclasses define ``forward`` and ``backward``."""

    saved: tuple = ()
    freed = False
    wants_needs = False  # set True to receive ``self.needs`` (which inputs need a gradient)
    needs: tuple | list = ()  # one flag per input, set by the engine before backward
    # Inputs whose gradient ``backward`` always returns as a new array that nothing else uses
    # (True: every input): the engine may then add later gradients into it in place.
    fresh_grads: tuple | bool = ()
    # True when ``backward`` always returns gradients of its inputs' shapes and dtypes: the
    # engine then skips fitting them (elementwise ops of one tensor).
    same_shape = False

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for ``backward`` (released after it unless ``retain_graph``)."""
        self.saved = arrays

    def free(self) -> None:
        """Release the saved arrays; a second backward through this op then raises."""
        if self.saved:
            self.saved = ()
            self.freed = True

    def forward(self, *arrays, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on tensors ``inputs`` and record it in the graph when a gradient is needed."""
        op = cls()
        n = len(inputs)
        if n == 2:
            x, y = inputs
            a, b = x.data, y.data
            if a.__class__ is not b.__class__ and x.device != y.device:
                raise op_error(cls, inputs, None)
            try:
                out = op.forward(a, b, **attrs) if attrs else op.forward(a, b)
            except Exception as e:
                raise op_error(cls, inputs, e) from e
            needs_grad = x.requires_grad or y.requires_grad
        elif n == 1:
            x = inputs[0]
            try:
                out = op.forward(x.data, **attrs) if attrs else op.forward(x.data)
            except Exception as e:
                raise op_error(cls, inputs, e) from e
            needs_grad = x.requires_grad
        else:
            kind, needs_grad = inputs[0].data.__class__, False
            for t in inputs:
                if t.data.__class__ is not kind and t.device != inputs[0].device:
                    raise op_error(cls, inputs, None)
                needs_grad = needs_grad or t.requires_grad
            try:
                out = op.forward(*[t.data for t in inputs], **attrs)
            except Exception as e:
                raise op_error(cls, inputs, e) from e
        if out.__class__ is not ndarray and isinstance(out, generic):
            out = asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
        y = recorded(out, op, inputs) if needs_grad and state.grad_enabled else Tensor(out)
        if state.anomaly:
            check_forward(y, op, inputs)
        return y


class UnaryOp(Op):
    """An op of one tensor and no settings: ``apply(x)``, :meth:`Op.apply` written out for it.

    Elementwise ops run at every step of every recurrent cell, so their call overhead matters:
    without the argument packing and the checks for other numbers of inputs, a call costs
    about 0.2 us less. :class:`ScalarOp` adds one Python number: ``apply(x, c)``. Subclasses are
    elementwise: their input gradient has the input's shape and dtype.
    """

    same_shape = True

    @classmethod
    def apply(cls, x, c=None):
        op = cls()
        try:
            out = op.forward(x.data) if c is None else op.forward(x.data, c)
        except Exception as e:
            raise op_error(cls, (x,), e) from e
        if out.__class__ is not ndarray and isinstance(out, generic):
            out = asarray(out)
        y = recorded(out, op, (x,)) if x.requires_grad and state.grad_enabled else Tensor(out)
        if state.anomaly:
            check_forward(y, op, (x,))
        return y


class ScalarOp(UnaryOp):
    """An op of one tensor and one Python number ``c``: ``forward(x, c)``, ``apply(x, c)``.

    The number is passed positionally (no keyword packing), as :class:`UnaryOp` does.
    """


class BinaryOp(Op):
    """An op of two tensors and no settings: ``apply(x, y)``, :meth:`Op.apply` written out."""

    @classmethod
    def apply(cls, x, y):
        a, b = x.data, y.data
        if a.__class__ is not b.__class__ and x.device != y.device:
            raise op_error(cls, (x, y), None)
        op = cls()
        try:
            out = op.forward(a, b)
        except Exception as e:
            raise op_error(cls, (x, y), e) from e
        if out.__class__ is not ndarray and isinstance(out, generic):
            out = asarray(out)
        z = recorded(out, op, (x, y)) if (x.requires_grad or y.requires_grad) \
            and state.grad_enabled else Tensor(out)
        if state.anomaly:
            check_forward(z, op, (x, y))
        return z


def check_forward(y, op, inputs) -> None:
    """Under ``detect_anomaly``: a non-finite output from finite inputs is this op's doing."""
    from ..autograd import check_finite

    xp = get_array_module(y.data)
    if y.data.dtype.kind not in "fc" or bool(xp.isfinite(y.data).all()):
        return
    if all(t.data.dtype.kind not in "fc" or bool(get_array_module(t.data).isfinite(t.data).all())
           for t in inputs):
        y.op = y.op or op  # record the op even outside the graph, so the error can be drawn
        check_finite(y.data, y, op, "forward pass")


def op_error(cls, inputs, cause: Exception) -> Exception:
    """A clear error for a failed forward: names the op, the shapes and, if mixed, the devices."""
    name = cls.__name__
    devices = [t.device for t in inputs]
    if len(set(devices)) > 1:
        return DeviceError(f"{name}: tensors are on different devices ({', '.join(devices)}); "
                           "move them to one device with .to(device) first")
    shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
    return ValueError(f"{name}: cannot apply to shapes {shapes}: {cause}")
