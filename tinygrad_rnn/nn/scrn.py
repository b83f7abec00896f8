"""``SCRNCell``: a simple RNN with a slowly changing context state (Mikolov et al. 2015).

Mikolov, Joulin, Chopra, Mathieu & Ranzato, "Learning Longer Memory in Recurrent Neural
Networks", ICLR 2015 workshop (arXiv:1412.7753), the structurally constrained recurrent network.
"""
from __future__ import annotations

import math

import numpy as np

from ..creation import uniform, zeros
from ..tensor import Tensor
from .module import Module, Parameter


class SCRNCell(Module):
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
        input_size: features of ``x``.
        hidden_size: units of the fast state ``h``.
        context_size: units of the slow context state ``s``.
        alpha: the context's decay, in [0, 1].
        bias: add ``bias`` (H,) inside the sigmoid.
        device, dtype: where and in which dtype to create the parameters.

    Shapes:
        ``x``: (N, input_size); ``state = (h, s)`` with ``h`` (N, hidden_size) and ``s``
        (N, context_size); a missing state is zeros. ``forward`` returns ``(h_t, s_t)``.
        Parameters, each :math:`U(-1/\sqrt{n}, 1/\sqrt{n})` with ``n`` the size of the state it
        feeds (PyTorch's rule for recurrent cells): ``weight_ic`` (context_size, input_size)
        = :math:`B`, ``weight_ch`` (H, context_size) = :math:`P`, ``weight_ih``
        (H, input_size) = :math:`A`, ``weight_hh`` (H, H) = :math:`R`, ``bias`` (H,).

    >>> import tinygrad_rnn as tg
    >>> cell = tg.nn.SCRNCell(3, 4, context_size=2)
    >>> h, s = cell(tg.ones(5, 3))
    >>> h.shape, s.shape
    ((5, 4), (5, 2))
    """

    def __init__(self, input_size: int, hidden_size: int, context_size: int,
                 alpha: float = 0.95, bias: bool = True, *, device: str = "cpu",
                 dtype=np.float32):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("context_size", context_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"SCRNCell: {name} must be a positive int, got {value!r}")
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"SCRNCell: alpha must be in [0, 1], got {alpha!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.context_size, self.alpha = int(context_size), float(alpha)
        kh, ks = 1 / math.sqrt(hidden_size), 1 / math.sqrt(context_size)

        def init(shape, k):
            return Parameter(uniform(shape, -k, k, dtype=dtype, device=device))

        self.weight_ic = init((context_size, input_size), ks)
        self.weight_ch = init((hidden_size, context_size), kh)
        self.weight_ih = init((hidden_size, input_size), kh)
        self.weight_hh = init((hidden_size, hidden_size), kh)
        self.bias = init((hidden_size,), kh) if bias else None

    def forward(self, x: Tensor, state: tuple | None = None) -> tuple[Tensor, Tensor]:
        """One step: ``(h_{t-1}, s_{t-1})`` -> ``(h_t, s_t)`` (see the class docstring)."""
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"SCRNCell: input x must be (N, {self.input_size}), got shape "
                             f"{x.shape}")
        n = x.shape[0]
        if state is None:
            h = zeros(n, self.hidden_size, dtype=x.dtype, device=x.device)
            s = zeros(n, self.context_size, dtype=x.dtype, device=x.device)
        else:
            h, s = check_state(state, n, self.hidden_size, self.context_size)
        B, P, A, R = self.weight_ic, self.weight_ch, self.weight_ih, self.weight_hh
        a = self.alpha
        s = (x @ B.T) * (1 - a) + s * a
        pre = s @ P.T + x @ A.T + h @ R.T
        if self.bias is not None:
            pre = pre + self.bias
        return pre.sigmoid(), s

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, context_size={self.context_size}, "
                f"alpha={self.alpha}, bias={self.bias is not None}")


def check_state(state, n: int, hidden_size: int, context_size: int) -> tuple[Tensor, Tensor]:
    """``(h, s)`` checked against the batch size and the two state sizes."""
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError("SCRNCell: state must be a pair (h, s) as returned by the previous "
                         "step")
    h, s = state
    for name, t, size in (("h", h, hidden_size), ("s", s, context_size)):
        if not isinstance(t, Tensor) or t.shape != (n, size):
            raise ValueError(f"SCRNCell: state {name} must be a tensor of shape ({n}, {size}), "
                             f"got {getattr(t, 'shape', type(t).__name__)}")
    return h, s
