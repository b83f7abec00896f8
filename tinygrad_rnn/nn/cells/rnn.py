"""The Elman cell ``RNNCell`` and its identity-initialised ReLU variant ``IRNNCell``."""
from __future__ import annotations

import numpy as np

from ...creation import eye, randn
from ...tensor import Tensor
from ...trace import named
from .. import functional as F
from .base import RecurrentCell

ACTIVATIONS = {"tanh": Tensor.tanh, "relu": Tensor.relu}
INITS = (None, "default", "identity")  # None and "default": PyTorch's uniform


def identity_init(module, scale: float = 1.0) -> None:
    """Le, Jaitly & Hinton's (2015) IRNN initialisation of every parameter of ``module`` in place:
    each ``weight_hh*`` = ``scale`` * I, each ``weight_ih*`` ~ N(0, 0.001^2), every bias 0."""
    for name, p in module.named_parameters():
        if name.startswith("weight_hh"):
            p.data[...] = eye(p.shape[0], dtype=p.dtype, device=p.device).data * scale
        elif name.startswith("weight_ih"):
            p.data[...] = randn(*p.shape, dtype=p.dtype, device=p.device).data * 0.001
        else:
            p.data[...] = 0


def activation(owner: str, nonlinearity: str):
    """The elementwise function named ``nonlinearity`` ("tanh" or "relu")."""
    if nonlinearity not in ACTIVATIONS:
        raise ValueError(f"{owner}: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or "
                         "'relu'")
    return ACTIVATIONS[nonlinearity]


class RNNCell(RecurrentCell):
    r"""One step of a simple (Elman) recurrent network, as ``torch.nn.RNNCell``.

    .. math::

        h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}), \qquad
        \phi = \tanh \text{ or } \mathrm{relu}

    ``init="identity"`` is the IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize
    Recurrent Networks of Rectified Linear Units": :math:`W_{hh} = \text{scale} \cdot I`, zero
    biases and :math:`W_{ih} \sim \mathcal{N}(0, 0.001^2)`; use it with ``nonlinearity="relu"``.

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the features of ``h``.
        bias: whether to learn ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        init: ``None``: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's);
            ``"identity"``: the IRNN initialisation above.
        scale: the multiple of the identity that ``init="identity"`` puts in ``weight_hh``.
        device: where the parameters live (``"cpu"`` or ``"cuda"``).
        dtype: the parameters' dtype.

    Attributes:
        weight_ih: (H, I).
        weight_hh: (H, H).
        bias_ih: (H,) or ``None``.
        bias_hh: (H,) or ``None``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.RNNCell(3, 4)
        >>> x = tg.randn(2, 3)
        >>> h = cell(x)                  # x: (N, I) -> h': (N, H), from h = 0
        >>> cell(x, h).shape
        (2, 4)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", init: str | None = None, *, scale: float = 1.0,
                 device: str = "cpu", dtype=np.float32):
        super().__init__(input_size, hidden_size)
        self.nonlinearity = nonlinearity
        self.activation = activation(type(self).__name__, nonlinearity)
        if init not in INITS:
            raise ValueError(f"{type(self).__name__}: unknown init {init!r}; expected None or "
                             "'default' (PyTorch's uniform) or 'identity' (IRNN)")
        if init != "identity" and scale != 1.0:
            raise ValueError(f"{type(self).__name__}: scale={scale} needs init='identity'")
        self.init = None if init == "default" else init
        self.gate_weights(1, bias, device=device, dtype=dtype)
        if init == "identity":
            identity_init(self, scale)

    def forward(self, x: Tensor, state: Tensor | None = None) -> Tensor:
        """One step: ``x`` (N, I) and ``h`` (N, H) (zeros if ``None``) -> ``h'`` (N, H)."""
        h = self.initial_hidden(x, state)
        return named(self.activation(F.linear(x, self.weight_ih, self.bias_ih)
                                     + F.linear(h, self.weight_hh, self.bias_hh)), "h_t")

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        extra += "" if self.init is None else f", init={self.init!r}"
        return super().extra_repr() + extra


class IRNNCell(RNNCell):
    r"""IRNN (Le, Jaitly & Hinton 2015): a ReLU :class:`RNNCell` that starts as the identity.

    .. math::

        h' = \mathrm{relu}(W_{ih} x + b_{ih} + W_{hh} h + b_{hh}), \qquad
        W_{hh} = \text{scale} \cdot I,\ b = 0,\ W_{ih} \sim \mathcal{N}(0, 0.001^2)
        \text{ at initialisation}

    With the identity recurrence the hidden state is copied forward unchanged until learning
    moves it, so gradients neither vanish nor explode at the start of training.

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the features of ``h``.
        scale: the multiple of the identity in ``weight_hh`` (1.0 in the paper).
        bias: whether to learn ``bias_ih`` and ``bias_hh`` (initialised to zero).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.IRNNCell(3, 2)
        >>> cell.weight_hh.numpy().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        >>> cell(tg.randn(5, 3)).shape  # x: (N, I) -> h': (N, H)
        (5, 2)
    """

    def __init__(self, input_size: int, hidden_size: int, scale: float = 1.0, *,
                 bias: bool = True, device: str = "cpu", dtype=np.float32):
        super().__init__(input_size, hidden_size, bias, nonlinearity="relu", init="identity",
                         scale=scale, device=device, dtype=dtype)
        self.scale = scale

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, scale={self.scale}"
