"""``LSTMCell`` (with peephole and coupled-gate variants) and ``lstm_step``, its gate arithmetic."""
from __future__ import annotations

from functools import partial

import numpy as np

from ...autograd import scope
from ...tensor import Tensor
from ...trace import named
from .. import functional as F
from .base import RecurrentCell, init_uniform


def peep(a: Tensor, w: Tensor | None, c: Tensor) -> Tensor:
    """``a + w * c``: a gate pre-activation looking at the cell state (``a`` if no peephole)."""
    return a if w is None else a + w * c


def lstm_step(gates: Tensor, c: Tensor, coupled: bool = False, w_ci: Tensor | None = None,
              w_cf: Tensor | None = None, w_co: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The LSTM equations (see :class:`LSTMCell`) from the gates' pre-activations.

    Args:
        gates: :math:`W_{ih} x + b_{ih} + W_{hh} h + b_{hh}`, (N, 4H) in gate order i, f, g, o,
            or (N, 3H) in order f, g, o when ``coupled``.
        c: the cell state :math:`c` (N, H).
        coupled: the input gate is :math:`1 - f` (CIFG) instead of a gate of its own.
        w_ci: the input gate's peephole (H,), or ``None``.
        w_cf: the forget gate's peephole (H,), or ``None``.
        w_co: the output gate's peephole (H,), or ``None``.

    Returns:
        ``(h', c')``, each (N, H).
    """
    H = c.shape[1]
    k = 0 if coupled else H  # where the forget gate starts
    with scope("forget"):
        f = named(peep(gates[:, k:k + H], w_cf, c).sigmoid(), "f_t")
    with scope("input"):
        i = named(1 - f if coupled else peep(gates[:, :H], w_ci, c).sigmoid(), "i_t")
    with scope("candidate"):
        g = named(gates[:, k + H:k + 2 * H].tanh(), "g_t")
    c = named(f * c + i * g, "c_t")
    with scope("output"):
        o = named(peep(gates[:, k + 2 * H:], w_co, c).sigmoid(), "o_t")
    return named(o * c.tanh(), "h_t"), c


class LSTMCell(RecurrentCell):
    r"""One step of a long short-term memory network, as ``torch.nn.LSTMCell`` (gates i, f, g, o).

    .. math::

        i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi} + w_{ci} \odot c) \\
        f &= \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf} + w_{cf} \odot c) \\
        g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        c' &= f \odot c + i \odot g \\
        o &= \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho} + w_{co} \odot c') \\
        h' &= o \odot \tanh(c')

    The peephole terms :math:`w_{c\cdot}` (Gers & Schmidhuber 2000; Gers, Schraudolph &
    Schmidhuber 2002) are there only with ``peephole=True``: i and f look at :math:`c`, o at
    :math:`c'`. With ``coupled=True`` (CIFG, Greff et al. 2017, "LSTM: A Search Space Odyssey")
    there is no input gate: :math:`i = 1 - f`, so :math:`c' = f \odot c + (1 - f) \odot g`.

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the features of ``h`` and ``c``.
        bias: whether to learn ``bias_ih`` and ``bias_hh``.
        forget_bias: added to the forget gate's slice of ``bias_ih`` at initialisation, so the
            cell remembers by default (a loaded state dict is taken as it is).
        peephole: add the diagonal peepholes ``weight_ci`` (not when ``coupled``),
            ``weight_cf`` and ``weight_co``.
        coupled: drop the input gate (CIFG); the gates are then f, g, o.
        device: where the parameters live (``"cpu"`` or ``"cuda"``).
        dtype: the parameters' dtype.

    Attributes:
        weight_ih: (G*H, I) with G = 4 (i, f, g, o), or 3 (f, g, o) when ``coupled``.
        weight_hh: (G*H, H).
        bias_ih: (G*H,) or ``None``.
        bias_hh: (G*H,) or ``None``.
        weight_ci: (H,) or ``None``; likewise ``weight_cf`` and ``weight_co``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.LSTMCell(3, 4)
        >>> x = tg.randn(2, 3)
        >>> h, c = cell(x)               # x: (N, I) -> h', c': (N, H), from h = c = 0
        >>> h, c = cell(x, (h, c))
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 forget_bias: float = 1.0, peephole: bool = False, coupled: bool = False, *,
                 device: str = "cpu", dtype=np.float32):
        super().__init__(input_size, hidden_size)
        self.forget_bias, self.peephole, self.coupled = forget_bias, peephole, coupled
        H = self.hidden_size
        self.gate_weights(3 if coupled else 4, bias, device=device, dtype=dtype)
        if bias:
            k = 0 if coupled else H
            self.bias_ih.data[k:k + H] += forget_bias
        new = partial(init_uniform, hidden_size=H, device=device, dtype=dtype)
        self.weight_ci = new((H,)) if peephole and not coupled else None
        self.weight_cf = new((H,)) if peephole else None
        self.weight_co = new((H,)) if peephole else None

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        """One step: ``x`` (N, I) and ``(h, c)``, each (N, H) (zeros if None) -> ``(h', c')``."""
        h, c = self.initial_pair(x, state)
        gates = (F.linear(x, self.weight_ih, self.bias_ih)
                 + F.linear(h, self.weight_hh, self.bias_hh))
        return lstm_step(gates, c, self.coupled, self.weight_ci, self.weight_cf, self.weight_co)

    def extra_repr(self) -> str:
        extra = "" if self.forget_bias == 1.0 else f", forget_bias={self.forget_bias}"
        extra += ", peephole=True" if self.peephole else ""
        extra += ", coupled=True" if self.coupled else ""
        return super().extra_repr() + extra
