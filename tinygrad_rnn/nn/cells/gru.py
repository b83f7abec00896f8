"""``GRUCell`` and its gate arithmetic: PyTorch's ``gru_step`` and Cho et al.'s ``cho_gru_step``."""
from __future__ import annotations

import numpy as np

from ...autograd import scope
from ...tensor import Tensor
from ...trace import named
from .. import functional as F
from .base import RecurrentCell


def gru_step(x_proj: Tensor, h_proj: Tensor, h: Tensor) -> Tensor:
    """The GRU equations with the reset gate after the matmul (PyTorch's, ``reset_after=True``).

    Args:
        x_proj: :math:`W_{ih} x + b_{ih}`, (N, 3H) in gate order r, z, n.
        h_proj: :math:`W_{hh} h + b_{hh}`, (N, 3H) in gate order r, z, n.
        h: the hidden state (N, H).

    Returns:
        ``h'`` (N, H).
    """
    H = h.shape[1]
    with scope("reset"):
        r = named((x_proj[:, :H] + h_proj[:, :H]).sigmoid(), "r_t")
    with scope("update"):
        z = named((x_proj[:, H:2 * H] + h_proj[:, H:2 * H]).sigmoid(), "z_t")
    with scope("candidate"):
        n = named((x_proj[:, 2 * H:] + r * h_proj[:, 2 * H:]).tanh(), "n_t")
    # = (1 - z) * n + z * h in one op fewer, as PyTorch computes it
    return named(n + z * (h - n), "h_t")


def cho_gru_step(x_proj: Tensor, h: Tensor, w_hrz_t: Tensor, w_hn_t: Tensor) -> Tensor:
    """The GRU equations of Cho et al. (2014): the reset gate scales ``h`` before the matmul.

    Args:
        x_proj: :math:`W_{ih} x + b_{ih} + b_{hh}`, (N, 3H) in gate order r, z, n (both biases:
            here :math:`b_{hn}` is outside the reset gate).
        h: the hidden state (N, H).
        w_hrz_t: the r and z rows of ``weight_hh``, transposed: (H, 2H).
        w_hn_t: the n rows of ``weight_hh``, transposed: (H, H).

    Returns:
        ``h'`` (N, H).
    """
    H = h.shape[1]
    h_rz = h @ w_hrz_t
    with scope("reset"):
        r = named((x_proj[:, :H] + h_rz[:, :H]).sigmoid(), "r_t")
    with scope("update"):
        z = named((x_proj[:, H:2 * H] + h_rz[:, H:]).sigmoid(), "z_t")
    with scope("candidate"):
        n = named((x_proj[:, 2 * H:] + (r * h) @ w_hn_t).tanh(), "n_t")
    return named(n + z * (h - n), "h_t")  # = (1 - z) * n + z * h


class GRUCell(RecurrentCell):
    r"""One step of a gated recurrent unit, as ``torch.nn.GRUCell`` (gate order r, z, n).

    .. math::

        r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))
             \quad \text{(reset\_after=True, PyTorch)} \\
        n &= \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn})
             \quad \text{(reset\_after=False, Cho et al. 2014)} \\
        h' &= (1 - z) \odot n + z \odot h

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the features of ``h``.
        bias: whether to learn ``bias_ih`` and ``bias_hh``.
        reset_after: apply the reset gate after the recurrent matmul (PyTorch, cuDNN) or, with
            ``False``, to ``h`` before it (Cho et al., "Learning Phrase Representations using
            RNN Encoder-Decoder for Statistical Machine Translation").
        device: where the parameters live (``"cpu"`` or ``"cuda"``).
        dtype: the parameters' dtype.

    Attributes:
        weight_ih: (3H, I).
        weight_hh: (3H, H).
        bias_ih: (3H,) or ``None``.
        bias_hh: (3H,) or ``None``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.GRUCell(3, 4)
        >>> x = tg.randn(2, 3)
        >>> h = cell(x)                  # x: (N, I) -> h': (N, H), from h = 0
        >>> cell(x, h).shape
        (2, 4)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 reset_after: bool = True, *, device: str = "cpu", dtype=np.float32):
        super().__init__(input_size, hidden_size)
        self.reset_after = reset_after
        self.gate_weights(3, bias, device=device, dtype=dtype)

    def forward(self, x: Tensor, state: Tensor | None = None) -> Tensor:
        """One step: ``x`` (N, I) and ``h`` (N, H) (zeros if ``None``) -> ``h'`` (N, H)."""
        h = self.initial_hidden(x, state)
        x_proj = F.linear(x, self.weight_ih, self.bias_ih)
        if self.reset_after:
            return gru_step(x_proj, F.linear(h, self.weight_hh, self.bias_hh), h)
        if self.bias_hh is not None:
            x_proj = x_proj + self.bias_hh
        H = self.hidden_size
        return cho_gru_step(x_proj, h, self.weight_hh[:2 * H].T, self.weight_hh[2 * H:].T)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
