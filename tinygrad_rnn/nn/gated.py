"""``LSTM`` and ``GRU``: the gated layers over whole sequences, with PyTorch's signatures.

Like ``RNN``, each is a :class:`~tinygrad_rnn.nn.recurrent.RecurrentLayer` that says in its
``recurrence`` what it hoists out of the time loop and what one step does. Each has two paths
to the same numbers: by default a step is one fused op (:mod:`tinygrad_rnn.fused`), whose
gradient is written out by hand; ``fused=False`` runs the gates op by op, as the cells do, so
that a drawing shows them.
"""
from __future__ import annotations

import numpy as np

from ..combine import stack
from ..fused import ArrayPool, GRUSequence, GRUStep, LSTMOutput, LSTMSequence, LSTMStep
from ..trace import named
from .cells.gru import cho_gru_step, gru_step
from .cells.lstm import lstm_step
from .recurrent import Recurrence, RecurrentLayer, both, project, sequence_output


class LSTM(RecurrentLayer):
    r"""A multi-layer LSTM over whole sequences, as ``torch.nn.LSTM`` (gate order i, f, g, o).

    Every layer and direction unrolls :class:`~tinygrad_rnn.nn.LSTMCell`'s equations; the
    arguments are :class:`~tinygrad_rnn.nn.RNN`'s (without ``nonlinearity``) plus
    ``forget_bias``, added to the forget slice of every ``bias_ih_l{k}`` at initialisation,
    and ``fused``.

    With ``fused=True`` (the default) a step's gate arithmetic is one primitive,
    :class:`~tinygrad_rnn.fused.LSTMStep`, whose gradient is written out by hand: a step is 5 graph
    nodes instead of 16, which makes small models about twice as fast. ``fused=False`` unrolls
    the gates op by op, each under its own scope (``input``, ``forget``, ``candidate``,
    ``output``), as :class:`~tinygrad_rnn.nn.LSTMCell` does: use it to draw or inspect the gates.
    Both give the same numbers (the tests compare them, and both with ``torch.nn.LSTM``).

    Returns from a call ``lstm(x, (h_0, c_0)=None)``: ``(output, (h_n, c_n))``, output
    (T, N, D*H), h_n and c_n (D*num_layers, N, H).

    Example:
        >>> import tinygrad_rnn as tg
        >>> lstm = tg.nn.LSTM(3, 4, bidirectional=True, batch_first=True)
        >>> output, (h_n, c_n) = lstm(tg.randn(2, 5, 3))  # x: (N, T, I)
        >>> output.shape, h_n.shape, c_n.shape
        ((2, 5, 8), (2, 2, 4), (2, 2, 4))
    """

    gates = 4
    states = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 forget_bias: float = 1.0, fused: bool = True, *, device: str = "cpu",
                 dtype=np.float32):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.forget_bias = forget_bias
        self.fused = bool(fused)
        # the fused steps' arrays (8 per layer and direction), kept for the next call
        self.pool = ArrayPool(keep=10 * self.num_layers * len(self.suffixes))
        H = self.hidden_size
        for k in range(self.num_layers) if bias else ():
            for suffix in self.suffixes:
                getattr(self, f"bias_ih_l{k}{suffix}").data[H:2 * H] += forget_bias

    def recurrence(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        """Hoisted: the input projection and :math:`W_{hh}^T`; a step is the LSTM equations.

        Op by op, both biases fold into the projection. Fused, a step is one
        :class:`~tinygrad_rnn.fused.LSTMStep`, which adds both biases itself (one (T, N, 4H)
        array fewer); the state travels as one tensor ``[h, c]`` (2, N, H), the steps share
        their arrays (:class:`~tinygrad_rnn.fused.LSTMSequence`) and the output is a view of
        them (:class:`~tinygrad_rnn.fused.LSTMOutput`).
        """
        if not self.fused:
            x_proj, w_hh_t = project(x, w_ih, both(b_ih, b_hh)), w_hh.T

            def step(x_t, state):
                h, c = state
                return lstm_step(x_t + h @ w_hh_t, c)
            return Recurrence(step, x_proj, state)
        x_proj = project(x, w_ih)
        weights = (w_hh.T,) if b_ih is None else (w_hh.T, b_ih + b_hh)
        seq = LSTMSequence(len(x), reverse=reverse, pool=self.pool)

        def fused_step(t, hc):
            return named(LSTMStep.apply(x_proj, hc, *weights, t=t, seq=seq), "[h_t, c_t]")

        def finish(hcs, hc):
            return LSTMOutput.apply(*hcs, seq=seq, fold=True), (hc[0], hc[1])
        return Recurrence(fused_step, range(len(x)), stack(list(state)), finish)


class GRU(RecurrentLayer):
    r"""A multi-layer GRU over whole sequences, as ``torch.nn.GRU`` (gate order r, z, n).

    Every layer and direction unrolls :class:`~tinygrad_rnn.nn.GRUCell`'s equations; the
    arguments are :class:`~tinygrad_rnn.nn.RNN`'s (without ``nonlinearity``) plus
    ``reset_after`` (``False``: Cho et al.'s original candidate
    :math:`\tanh(W_{in} x + b_{in} + W_{hn}(r \odot h) + b_{hn})`) and ``fused``: with
    ``reset_after=True`` a step is by default one primitive,
    :class:`~tinygrad_rnn.fused.GRUStep` (gradient written out by hand; the same numbers as the
    op-by-op path, which ``fused=False`` keeps for drawing the gates).

    Returns from a call ``gru(x, h_0=None)``: ``(output, h_n)``, output (T, N, D*H) and h_n
    (D*num_layers, N, H).

    Example:
        >>> import tinygrad_rnn as tg
        >>> gru = tg.nn.GRU(3, 4, num_layers=2)
        >>> output, h_n = gru(tg.randn(5, 2, 3), tg.zeros(2, 2, 4))  # x: (T, N, I)
        >>> output.shape, h_n.shape
        ((5, 2, 4), (2, 2, 4))
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 reset_after: bool = True, fused: bool = True, *, device: str = "cpu",
                 dtype=np.float32):
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.fused = bool(fused) and self.reset_after
        # the fused steps' arrays (8 per layer and direction), kept for the next call
        self.pool = ArrayPool(keep=10 * self.num_layers * len(self.suffixes))

    def recurrence(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        """Hoisted: the input projection and :math:`W_{hh}^T`; a step is the GRU equations.

        Cho et al.'s form folds both biases into the projection (:math:`b_{hn}` is outside the
        reset gate) and splits :math:`W_{hh}^T` at the candidate's rows. PyTorch's form folds
        only :math:`b_{ih}`: :math:`b_{hn}` must stay inside :math:`r \\odot (W_{hn} h + b_{hn})`,
        so :math:`b_{hh}` is added at every step; fused, a step is one
        :class:`~tinygrad_rnn.fused.GRUStep` (the steps share a
        :class:`~tinygrad_rnn.fused.GRUSequence`).
        """
        if not self.reset_after:
            H = self.hidden_size
            x_proj = project(x, w_ih, both(b_ih, b_hh))
            w_hrz_t, w_hn_t = w_hh[:2 * H].T, w_hh[2 * H:].T

            def cho_step(x_t, state):
                return (cho_gru_step(x_t, state[0], w_hrz_t, w_hn_t),)
            return Recurrence(cho_step, x_proj, state)
        x_proj, w_hh_t = project(x, w_ih, b_ih), w_hh.T
        if not self.fused:
            def step(x_t, state):
                h = state[0]
                h_proj = h @ w_hh_t
                return (gru_step(x_t, h_proj if b_hh is None else h_proj + b_hh, h),)
            return Recurrence(step, x_proj, state)
        weights = (w_hh_t,) if b_hh is None else (w_hh_t, b_hh)
        seq = GRUSequence(len(x), reverse=reverse, pool=self.pool)

        def fused_step(t, state):
            return (named(GRUStep.apply(x_proj, state[0], *weights, t=t, seq=seq), "h_t"),)
        return Recurrence(fused_step, range(len(x)), state, sequence_output(seq))

    def extra_repr(self) -> str:
        extra = "" if self.reset_after else ", reset_after=False"
        return super().extra_repr() + extra + ("" if self.fused or not self.reset_after
                                               else ", fused=False")
