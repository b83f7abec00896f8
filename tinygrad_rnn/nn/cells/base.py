"""What every recurrent cell shares: PyTorch's initialisation and the checks of its arguments."""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from ...creation import check_size, uniform, zeros
from ...tensor import Tensor
from ...trace import named
from ..module import Module, Parameter


def init_uniform(shape: tuple, hidden_size: int, *, device: str = "cpu",
                 dtype=np.float32) -> Parameter:
    """A parameter ~ U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation of recurrent weights."""
    k = 1 / math.sqrt(hidden_size)
    return Parameter(uniform(shape, -k, k, dtype=dtype, device=device))


class RecurrentCell(Module):
    """Base of the cells: sizes, parameter creation and clear errors for wrong inputs.

    A subclass checks its own arguments after ``super().__init__`` (which checks the sizes),
    sets its parameters (:meth:`gate_weights` makes PyTorch's four) and computes one step in
    ``forward``, starting from :meth:`initial_hidden` (a state ``h``) or :meth:`initial_pair`
    (a state of two tensors, such as an LSTM's ``(h, c)``). A missing state is zeros.
    """

    def __init__(self, input_size: int, hidden_size: int):
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size, least=1)
        self.hidden_size = check_size(name, "hidden_size", hidden_size, least=1)

    def gate_weights(self, gates: int, bias: bool, *, device: str, dtype) -> None:
        """PyTorch's parameters for ``gates`` gates (G), each ~ U(-1/sqrt(H), 1/sqrt(H)).

        Sets ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh``
        (G*H,) or ``None``, and the flag ``bias``, in PyTorch's order.
        """
        G, H, I = gates, self.hidden_size, self.input_size
        self.bias = bool(bias)
        new = partial(init_uniform, hidden_size=H, device=device, dtype=dtype)
        self.weight_ih, self.weight_hh = new((G * H, I)), new((G * H, H))
        self.bias_ih = new((G * H,)) if bias else None
        self.bias_hh = new((G * H,)) if bias else None

    @property
    def label(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    # ---- checks ------------------------------------------------------------------------------
    def check_input(self, x) -> None:
        """``x`` must be a tensor (N, input_size), or a clear error."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{self.label}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            got, I = tuple(x.shape), self.input_size
            raise ValueError(f"{self.label}: input must have shape (N, {I}), got {got}")

    def check_state(self, s, x: Tensor, name: str, size: str = "hidden_size") -> Tensor:
        """``s`` if it is a tensor (N, ``size``) for the batch of ``x``, else a clear error.

        Args:
            s: the state tensor.
            x: the step's input (its batch N).
            name: how the error calls ``s`` (``"state h"``).
            size: the attribute that holds the state's width (``"hidden_size"``).
        """
        expected = (x.shape[0], getattr(self, size))
        if not isinstance(s, Tensor):
            raise TypeError(f"{self.label}: {name} must be a Tensor, got {type(s).__name__}")
        if tuple(s.shape) != expected:
            raise ValueError(f"{self.label}: {name} has shape {tuple(s.shape)}, expected "
                             f"{expected} = (the input's batch, {size})")
        return s

    def split_pair(self, state, names: tuple[str, str], kinds: str = "two tensors") -> tuple:
        """``state`` if it is a pair (a tuple or list of two), else a ``TypeError``."""
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            got = f"a {type(state).__name__} of {len(state)}" if isinstance(state, (tuple, list)) \
                else f"a {type(state).__name__}"
            pair = f"({names[0]}, {names[1]})"
            raise TypeError(f"{self.label}: state must be a tuple {pair} of {kinds}, got {got}: "
                             f"the pair {pair} that the previous step returned")
        return tuple(state)

    # ---- the state a step starts from ------------------------------------------------------
    def zeros(self, x: Tensor, size: str = "hidden_size", name: str = "h") -> Tensor:
        """The missing state: zeros (N, ``size``) in the dtype and on the device of ``x``,
        named for drawings as the state before the first step (``"h_{t-1} = 0"``)."""
        return named(zeros(x.shape[0], getattr(self, size), dtype=x.dtype, device=x.device),
                     f"{name}_{{t-1}} = 0")

    def initial_hidden(self, x: Tensor, state) -> Tensor:
        """Checks ``x`` and returns the hidden state ``h`` (zeros when ``state`` is ``None``)."""
        self.check_input(x)
        if state is None:
            return self.zeros(x)
        return self.check_state(state, x, "state h")

    def initial_pair(self, x: Tensor, state, names: tuple[str, str] = ("h", "c"),
                     sizes: tuple[str, str] = ("hidden_size", "hidden_size")) -> tuple:
        """Checks ``x`` and a state of two tensors and returns it (zeros when ``None``).

        Args:
            x: the step's input (N, input_size).
            state: the pair, e.g. ``(h, c)``, or ``None``.
            names: the two tensors' names, for the errors and the drawings.
            sizes: the attributes that hold their widths.
        """
        self.check_input(x)
        if state is None:
            return tuple(self.zeros(x, size, name) for size, name in zip(sizes, names))
        pair = self.split_pair(state, names)
        return tuple(self.check_state(s, x, f"state {name}", size)
                     for s, name, size in zip(pair, names, sizes))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
