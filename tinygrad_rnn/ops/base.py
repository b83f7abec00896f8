"""The base of every primitive: :class:`Op`.

An op is one small class. ``forward`` works on raw arrays (NumPy or CuPy, taken from its inputs)
and saves what its gradient needs with :meth:`Op.save`; ``backward`` receives the upstream
gradient ``g`` of the output and returns one gradient per input (``None`` for an input that gets
none). ``backward`` may return a gradient of the broadcast output shape: the engine sums it back
(:func:`tinygrad_rnn.autograd.fit_to`). ``backward`` never writes into ``g``.

Gradients that pass only where a mask holds (relu, clip, where, maximum) select with
``xp.where(mask, g, 0)`` rather than multiply by the mask, so an infinite or NaN upstream gradient
gives 0 where the mask is false, as in PyTorch (``inf * 0`` would be NaN).
"""
from __future__ import annotations

from ..autograd import state
from ..backend import DeviceError, get_array_module
from ..tensor import Tensor


class Op:
    """A differentiable primitive; subclasses define ``forward`` and ``backward``."""

    saved: tuple = ()
    freed = False  # its saved arrays were released: a second backward through it raises
    released = False  # a backward pass went through it without retain_graph (see free)
    needs: list | tuple = ()  # one flag per input: does it need a gradient (fixed when recorded)
    versions: list | tuple = ()  # the inputs' versions when recorded (backward checks them)
    view = False  # True when the output may be a view of the first input's array

    def save(self, *arrays) -> None:
        """Keep ``arrays`` for ``backward`` (released after it unless ``retain_graph``)."""
        self.saved = arrays

    def free(self) -> None:
        """Release the saved arrays; a second backward through this op then raises."""
        self.released = True
        if self.saved:
            self.saved = ()
            self.freed = True

    def forward(self, *arrays, **settings):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, g):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **settings):
        """Run the op on tensors ``inputs`` and record it in the graph when a gradient is needed.

        ``settings`` (an axis, a Python number, a shape) go to ``forward`` as keywords. Which
        inputs need a gradient is fixed here, when the op is recorded (as torch does): ``needs``.
        """
        if len(inputs) > 1 and len({type(t.data) for t in inputs}) > 1 \
                and len({t.device for t in inputs}) > 1:
            raise op_error(cls, inputs, None)
        op = cls()
        try:
            out = op.forward(*[t.data for t in inputs], **settings)
        except Exception as e:
            raise op_error(cls, inputs, e) from e
        out = get_array_module(out).asarray(out)  # NumPy returns scalars from 0-d arithmetic
        op.needs = [t.requires_grad for t in inputs]
        if state.grad_enabled and True in op.needs:
            y = Tensor(out, True, op, inputs)  # requires_grad, op, parents
            if op.saved:  # backward will read these arrays: remember their versions
                op.versions = [t.version[0] for t in inputs]
        else:
            y = Tensor(out)
        if op.view:
            y.version = inputs[0].version  # a view changes with its base: one counter
        if state.anomaly:
            check_forward(y, op, inputs)
        return y


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
