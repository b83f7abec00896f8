"""``SCRNCell``: a simple RNN with a slowly changing context state (Mikolov et al. 2015).

Mikolov, Joulin, Chopra, Mathieu & Ranzato, "Learning Longer Memory in Recurrent Neural
Networks", ICLR 2015 workshop (arXiv:1412.7753), the structurally constrained recurrent network.
"""
from __future__ import annotations

import numpy as np

from ...creation import check_size
from ...tensor import Tensor
from ...trace import named
from .base import RecurrentCell, init_uniform


class SCRNCell(RecurrentCell):
    r"""One step of a structurally constrained recurrent network (SCRN).

    Next to the fast hidden state :math:`h` the cell keeps a context state :math:`s` whose
    recurrent matrix is fixed to :math:`\alpha I`: an exponential moving average of a projection
    of the inputs, so it changes slowly and carries information over long spans. With the
    paper's letters (the equations of its section on the SCRN):

    .. math::

        s_t &= (1 - \alpha)\, B x_t + \alpha\, s_{t-1} \\
        h_t &= \sigma\big(P s_t + A x_t + R h_{t-1} + b\big)

    :math:`\sigma` is the logistic sigmoid. The paper writes no bias; ``bias=False`` gives its
    equations exactly. Its output layer :math:`y_t = f(U h_t + V s_t)` reads both states and
    belongs to the model, not the cell: feed ``h`` and ``s`` to two ``Linear`` layers (one
    without bias) and add them. :math:`\alpha` is a constant, not a parameter (the paper fixes
    it, 0.95 in its experiments).

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the units of the fast state ``h``.
        context_size: C, the units of the slow context state ``s``.
        alpha: the context's decay, in [0, 1].
        bias: add ``bias`` (H,) inside the sigmoid.
        device: where the parameters live (``"cpu"`` or ``"cuda"``).
        dtype: the parameters' dtype.

    Attributes:
        weight_ic: (C, I), :math:`B`; every parameter is :math:`U(-1/\sqrt{n}, 1/\sqrt{n})`
            with ``n`` the size of the state it feeds (PyTorch's rule for recurrent cells).
        weight_ch: (H, C), :math:`P`.
        weight_ih: (H, I), :math:`A`.
        weight_hh: (H, H), :math:`R`.
        bias: (H,) or ``None``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.SCRNCell(3, 4, context_size=2)
        >>> h, s = cell(tg.ones(5, 3))   # x: (N, I) -> h: (N, H), s: (N, C), from zeros
        >>> h, s = cell(tg.ones(5, 3), (h, s))
        >>> h.shape, s.shape
        ((5, 4), (5, 2))
    """

    def __init__(self, input_size: int, hidden_size: int, context_size: int,
                 alpha: float = 0.95, bias: bool = True, *, device: str = "cpu",
                 dtype=np.float32):
        super().__init__(input_size, hidden_size)
        self.context_size = check_size("SCRNCell", "context_size", context_size, least=1)
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"SCRNCell: alpha must be in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        H, I, C = self.hidden_size, self.input_size, self.context_size
        self.weight_ic = init_uniform((C, I), C, device=device, dtype=dtype)
        self.weight_ch = init_uniform((H, C), H, device=device, dtype=dtype)
        self.weight_ih = init_uniform((H, I), H, device=device, dtype=dtype)
        self.weight_hh = init_uniform((H, H), H, device=device, dtype=dtype)
        self.bias = init_uniform((H,), H, device=device, dtype=dtype) if bias else None

    def forward(self, x: Tensor, state: tuple | None = None) -> tuple[Tensor, Tensor]:
        """One step: ``x`` (N, I) and ``(h_{t-1}, s_{t-1})`` (zeros if ``None``) ->
        ``(h_t, s_t)``."""
        h, s = self.initial_pair(x, state, ("h", "s"), ("hidden_size", "context_size"))
        B, P, A, R = self.weight_ic, self.weight_ch, self.weight_ih, self.weight_hh
        a = self.alpha
        s = named((x @ B.T) * (1 - a) + s * a, "s_t")
        pre = s @ P.T + x @ A.T + h @ R.T
        if self.bias is not None:
            pre = pre + self.bias
        return named(pre.sigmoid(), "h_t"), s

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, context_size={self.context_size}, "
                f"alpha={self.alpha}, bias={self.bias is not None}")
