"""What every recurrent cell shares: PyTorch's initialisation and the checks of ``x`` and state."""
from __future__ import annotations

import math

import numpy as np

from ...creation import uniform, zeros
from ...tensor import Tensor
from ..module import Module, Parameter


def check_size(owner: str, name: str, value) -> int:
    """``value`` if it is a positive int, else a ``ValueError`` naming ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def init_uniform(shape: tuple, hidden_size: int, *, device: str = "cpu",
                 dtype=np.float32) -> Parameter:
    """A parameter ~ U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation of recurrent weights."""
    k = 1 / math.sqrt(hidden_size)
    return Parameter(uniform(shape, -k, k, dtype=dtype, device=device))


class RecurrentCell(Module):
    """Base of the cells: sizes, parameter creation and clear errors for wrong inputs.

    A subclass sets its parameters in ``__init__`` and computes one step in ``forward``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool):
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)

    @property
    def label(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def check_input(self, x) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.label}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{self.label}: input must have shape (N, {self.input_size}), "
                             f"got {tuple(x.shape)}")

    def check_state(self, s, x: Tensor, name: str) -> Tensor:
        """``s`` if it is a tensor of shape (N, H) for the batch of ``x``, else a clear error."""
        expected = (x.shape[0], self.hidden_size)
        if not isinstance(s, Tensor):
            raise TypeError(f"{self.label}: {name} must be a Tensor, got {type(s).__name__}")
        if tuple(s.shape) != expected:
            raise ValueError(f"{self.label}: {name} has shape {tuple(s.shape)}, expected "
                             f"{expected} (the input's batch, hidden_size)")
        return s

    def zeros(self, x: Tensor) -> Tensor:
        """The missing state: zeros (N, H) in the dtype and on the device of ``x``."""
        return zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)

    def initial_hidden(self, x: Tensor, state) -> Tensor:
        """Checks ``x`` and returns the hidden state ``h`` (zeros when ``state`` is ``None``)."""
        self.check_input(x)
        if state is None:
            return self.zeros(x)
        return self.check_state(state, x, "state h")

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
