"""``ClockworkRNNCell``: a simple RNN whose hidden modules tick at different clock periods.

Koutník, Greff, Gomez & Schmidhuber, "A Clockwork RNN", ICML 2014 (arXiv:1402.3511), Sec. 3.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ...combine import where
from ...tensor import Tensor
from ...trace import named
from .base import RecurrentCell, init_uniform


class ClockworkRNNCell(RecurrentCell):
    r"""One step of a Clockwork RNN: hidden modules that update only on their own clock ticks.

    The ``hidden_size`` units are split into ``g = len(periods)`` modules of ``k = hidden_size / g``
    units each; module ``i`` (``0``-based, periods sorted in increasing order, so module 0 is the
    fastest) owns units ``i*k .. (i+1)*k - 1`` and has clock period :math:`T_i`. This is the
    simple RNN of the paper's Eq. (1) with the block rows of Eqs. (3)-(4):

    .. math::

        \tilde h_t &= \tanh\big(W_I x_t + (M \odot W_H)\, h_{t-1} + b\big) \\
        h_t^{(i)} &= \begin{cases} \tilde h_t^{(i)} & t \bmod T_i = 0 \\
                                   h_{t-1}^{(i)} & \text{otherwise} \end{cases}

    where :math:`h^{(i)}` is module ``i``'s slice of ``h``. The mask :math:`M` makes :math:`W_H`
    block-upper-triangular: block :math:`(i, j)` (module ``i`` receiving from module ``j``) is
    kept when :math:`T_j \ge T_i`, that is :math:`j \ge i`, so slower modules feed faster ones
    and never the other way round (Sec. 3: "the recurrent connections from module j to module i
    exist only if the period T_i is smaller than period T_j"; the diagonal blocks are the
    modules' own full recurrence). ``weight_hh`` stores the whole (H, H) matrix, its forbidden
    blocks zero; the forward pass multiplies it by the constant mask, so their gradient is
    exactly zero and training never fills them in.

    The time step rides in the state: ``state = (h, t)``, where ``t`` is the index of the step
    about to be computed; ``forward`` returns ``(h_t, t + 1)``, ready to be passed back in. A
    missing state is ``(zeros, 0)``: at ``t = 0`` every module fires (``0 mod T = 0``), so the
    first step is a full RNN step from the zero state. Inactive rows are computed and then
    discarded by ``tg.where`` (the paper skips them for speed; here the graph stays one shape).

    Args:
        input_size: I, the features of ``x``.
        hidden_size: H, the units of ``h``; must be divisible by ``len(periods)``.
        periods: positive, distinct integer clock periods, one per module (sorted here;
            the paper uses :math:`T_i = 2^{i}`).
        bias: add ``bias`` (H,) to the pre-activation (Eq. (1) has none).
        device: where the parameters live (``"cpu"`` or ``"cuda"``).
        dtype: the parameters' dtype.

    Attributes:
        weight_ih: (H, I), :math:`W_I`; like every weight here initialised as PyTorch's
            ``RNNCell``, :math:`U(-1/\sqrt{H}, 1/\sqrt{H})`.
        weight_hh: (H, H), :math:`W_H`.
        bias: (H,) or ``None``.
        hh_mask: (H, H), the constant 0/1 NumPy mask :math:`M`.

    Example:
        >>> import tinygrad_rnn as tg
        >>> cell = tg.nn.ClockworkRNNCell(3, 4, periods=(1, 2))
        >>> h, t = cell(tg.ones(2, 3))           # x: (N, I) -> h: (N, H), from (0, 0)
        >>> h.shape, t
        ((2, 4), 1)
        >>> h2, t = cell(tg.ones(2, 3), (h, t))  # t = 1: the period-2 module keeps its value
        >>> bool((h2.numpy()[:, 2:] == h.numpy()[:, 2:]).all()), t
        (True, 2)
    """

    def __init__(self, input_size: int, hidden_size: int, periods, bias: bool = True, *,
                 device: str = "cpu", dtype=np.float32):
        super().__init__(input_size, hidden_size)
        H, I = self.hidden_size, self.input_size
        self.periods = check_periods(periods, H)
        self.module_size = H // len(self.periods)
        # the period of every hidden unit, and M[i, j] = 1 where unit i may read unit j
        self.unit_periods = np.repeat(np.array(self.periods), self.module_size)
        self.hh_mask = (self.unit_periods[None, :] >= self.unit_periods[:, None]).astype(dtype)
        self.mask_cache: dict = {}
        new = partial(init_uniform, hidden_size=H, device=device, dtype=dtype)
        self.weight_ih, self.weight_hh = new((H, I)), new((H, H))
        self.weight_hh.data *= self.weight_hh.xp.asarray(self.hh_mask, dtype=self.weight_hh.dtype)
        self.bias = new((H,)) if bias else None

    def active(self, t: int) -> np.ndarray:
        """A boolean (H,) array: which hidden units update at time step ``t``."""
        return t % self.unit_periods == 0

    def mask(self) -> Tensor:
        """:math:`M` as a constant tensor on ``weight_hh``'s device and in its dtype (cached)."""
        w = self.weight_hh
        key = (w.device, w.dtype)
        if key not in self.mask_cache:
            self.mask_cache[key] = Tensor(w.xp.asarray(self.hh_mask, dtype=w.dtype))
        return self.mask_cache[key]

    def forward(self, x: Tensor, state: tuple | None = None) -> tuple[Tensor, int]:
        """One step: ``x`` (N, I) and ``(h_{t-1}, t)`` (``None``: ``(zeros, 0)``) ->
        ``(h_t, t + 1)``."""
        self.check_input(x)
        if state is None:
            h, t = self.zeros(x), 0
        else:
            h, t = self.split_pair(state, ("h", "t"), "a tensor and a step number")
            h, t = self.check_state(h, x, "state h"), self.check_step(t)
        active = self.active(t)
        if not active.any():  # no module ticks: the state is carried over unchanged
            return h, t + 1
        pre = x @ self.weight_ih.T + h @ (self.weight_hh * self.mask()).T
        if self.bias is not None:
            pre = pre + self.bias
        h_new = pre.tanh()
        return named(h_new if active.all() else where(active, h_new, h), "h_t"), t + 1

    def check_step(self, t) -> int:
        """The state's time step ``t`` if it is a non-negative int, else a clear error."""
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"{self.label}: state time step t must be a non-negative int, got "
                             f"{t!r}")
        return int(t)

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, periods={self.periods}, "
                f"bias={self.bias is not None}")


def check_periods(periods, hidden_size: int) -> tuple:
    """``periods`` sorted as a tuple of ints, or a ``ValueError`` that names what is wrong."""
    try:
        values = [int(p) for p in periods]
    except (TypeError, ValueError):
        raise ValueError(f"ClockworkRNNCell: periods must be a sequence of positive ints, got "
                         f"{periods!r}") from None
    if not values or any(v != p or v < 1 for v, p in zip(values, periods)):
        raise ValueError(f"ClockworkRNNCell: periods must be a non-empty sequence of positive "
                         f"ints, got {periods!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"ClockworkRNNCell: periods must be distinct, got {periods!r}")
    if hidden_size % len(values):
        raise ValueError(f"ClockworkRNNCell: hidden_size {hidden_size} is not divisible by the "
                         f"number of periods {len(values)} (periods={tuple(values)}); every "
                         "module has hidden_size / len(periods) units")
    return tuple(sorted(values))
