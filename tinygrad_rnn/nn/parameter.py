"""``Parameter``, a tensor a module owns, and ``UninitializedParameter``, of a lazy module."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a module owns and an optimiser updates (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class UninitializedParameter(Parameter):
    """The parameter of a lazy module before its first call: its shape is not known yet.

    :meth:`materialize` gives it an array and turns it into a plain :class:`Parameter`, the
    same object, so an optimiser given it before still updates it (as PyTorch).
    """

    __slots__ = ()

    def __init__(self, requires_grad: bool = True, dtype=np.float32, device: str = "cpu"):
        super().__init__(backend.xp_for(device).empty((0,), dtype=dtype), requires_grad)

    def materialize(self, shape: tuple) -> None:
        self.data = self.xp.empty(shape, dtype=self.dtype)
        self.__class__ = Parameter

    def numpy(self):
        raise ValueError("a lazy module's parameter has no value before the module's first "
                         "call: call it once on an input (or load a state dict) first")

    def __repr__(self) -> str:
        return "<UninitializedParameter>"
