"""``RNN``, ``LSTM`` and ``GRU``: cells unrolled over whole sequences, with PyTorch's signatures.

Each layer holds its parameters under PyTorch's names (``weight_ih_l0``, ``bias_hh_l1_reverse``)
and unrolls an explicit Python loop over the time steps, one cell step per step, each recorded
under its own scope (``"l1_reverse", "t3"``): the graph that backpropagation through time walks is
the unrolled graph. Per layer and direction, the input projection of the whole sequence is one
matmul before the loop (with the biases folded in where the equations allow) and ``W_hh`` is
transposed once, so a step costs one matmul plus the gate arithmetic of the cell.
"""
from __future__ import annotations

import warnings
from functools import partial

import numpy as np

from ..autograd import scope
from ..autograd import state as grad_state
from ..combine import concat, stack
from ..creation import eye, randn, zeros
from ..fused import ArrayPool, GRUSequence, GRUStep, LSTMOutput, LSTMSequence, LSTMStep
from ..tensor import Tensor
from . import functional as F
from .cells.base import check_size, init_uniform
from .cells.gru import cho_gru_step, gru_step
from .cells.lstm import lstm_step
from .cells.rnn import activation
from .module import Module

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class RecurrentLayer(Module):
    """What RNN, LSTM and GRU share: parameters, the loops over layers, directions and steps.

    A subclass sets ``gates`` (rows of ``weight_ih`` per hidden unit) and ``states`` (the
    names of its state tensors) and defines ``step``; it may override ``input_projection`` and
    ``recurrent_weights``, the work hoisted out of the time loop.
    """

    gates = 1
    states = ("h",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *, device: str = "cpu", dtype=np.float32):
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = H = check_size(name, "hidden_size", hidden_size)
        self.num_layers = check_size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers, not after the last, "
                          "so it does nothing with num_layers=1", stacklevel=2)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.suffixes = ("", "_reverse") if bidirectional else ("",)
        new = partial(init_uniform, hidden_size=H, device=device, dtype=dtype)
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else H * len(self.suffixes)
            for suffix in self.suffixes:
                setattr(self, f"weight_ih_l{k}{suffix}", new((self.gates * H, fan_in)))
                setattr(self, f"weight_hh_l{k}{suffix}", new((self.gates * H, H)))
                if bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", new((self.gates * H,)))
                    setattr(self, f"bias_hh_l{k}{suffix}", new((self.gates * H,)))

    def weights(self, k: int, suffix: str) -> tuple:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer ``k`` (biases ``None`` if none)."""
        return tuple(getattr(self, f"{p}_l{k}{suffix}", None) for p in PARAMS)

    # ---- the hoisted work and the step: overridden by the subclasses -------------------------
    def input_projection(self, x, w_ih, b_ih, b_hh) -> Tensor:
        """``x @ W_ih^T + b_ih + b_hh`` for the whole sequence at once: (T*N, I) -> (T*N, GH)."""
        y = x @ w_ih.T
        return y if b_ih is None else y + (b_ih + b_hh)

    def recurrent_weights(self, w_hh, b_ih, b_hh) -> tuple:
        """What every step needs of ``W_hh`` (and the biases): here ``W_hh^T``, made once."""
        return (w_hh.T,)

    def step(self, x_proj, state: tuple, weights: tuple) -> tuple:  # pragma: no cover
        """One time step: this step's input projection (N, GH) and state -> the next state."""
        raise NotImplementedError

    # ---- the loops ---------------------------------------------------------------------------
    def forward(self, x: Tensor, hx=None) -> tuple:
        """Run every layer and direction over the sequence ``x``.

        Args:
            x: (T, N, I), or (N, T, I) with ``batch_first``.
            hx: the initial states, each (D * num_layers, N, H), ``None`` for zeros.

        Returns:
            ``(output, final)``: output (T, N, D*H) (or (N, T, D*H)) holds the last layer's
            ``h`` at every step, both directions side by side; ``final`` holds the states after
            the last step, each (D * num_layers, N, H), in PyTorch's order (layer-major).
        """
        x = self.check_input(x)
        initial = self.initial_states(hx, x)
        finals = []
        for k in range(self.num_layers):
            if k > 0:
                x = F.dropout(x, self.dropout, self.training)
            outputs = []
            for d, suffix in enumerate(self.suffixes):
                out, state = self.unroll(x, initial[k * len(self.suffixes) + d], k, suffix)
                outputs.append(out)
                finals.append(state)
            x = outputs[0] if len(outputs) == 1 else concat(outputs, axis=2)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        final = tuple(stack([s[j] for s in finals]) for j in range(len(self.states)))
        return x, final[0] if len(final) == 1 else final

    def hoist(self, x: Tensor, k: int, suffix: str) -> tuple:
        """The work before the time loop: ``(x_proj, weights)``, the whole sequence's input
        projection (T, N, gates * H) and the recurrent weights (``recurrent_weights``)."""
        w_ih, w_hh, b_ih, b_hh = self.weights(k, suffix)
        T, N, I = x.shape
        with scope(f"l{k}{suffix}"):
            x_proj = self.input_projection(x.reshape(T * N, I), w_ih, b_ih, b_hh)
            return x_proj.reshape(T, N, x_proj.shape[1]), self.recurrent_weights(w_hh, b_ih, b_hh)

    @staticmethod
    def fused_loop(op, x_proj: Tensor, state: Tensor, weights: tuple, seq, name: str) -> tuple:
        """The time loop of a fused layer: one ``op`` per step, each under its own scope.

        Returns the steps' states in time order and the last state.
        """
        T, outer = x_proj.shape[0], grad_state.scope
        states = [None] * T
        try:  # what ``with scope(name, f"t{t}")`` does at every step, without its call overhead
            for t in (range(T - 1, -1, -1) if seq.reverse else range(T)):
                grad_state.scope = outer + (name, f"t{t}")
                state = states[t] = op.apply(x_proj, state, *weights, t=t, seq=seq)
        finally:
            grad_state.scope = outer
        return states, state

    def unroll(self, x: Tensor, state: tuple, k: int, suffix: str) -> tuple:
        """One layer, one direction: (T, N, I) -> outputs (T, N, H) and the last state."""
        x_proj, weights = self.hoist(x, k, suffix)
        T, name = x.shape[0], f"l{k}{suffix}"
        hs = [None] * T
        for t in (range(T - 1, -1, -1) if suffix else range(T)):
            with scope(name, f"t{t}"):
                state = self.step(x_proj[t], state, weights)
            hs[t] = state[0]
        with scope(name):
            return stack(hs), state

    # ---- checks ------------------------------------------------------------------------------
    def check_input(self, x) -> Tensor:
        """``x`` as (T, N, I), or a clear error."""
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
        layout = "(N, T, I)" if self.batch_first else "(T, N, I)"
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[int(self.batch_first)] < 1:
            raise ValueError(f"{name}: input must have shape {layout} with T >= 1 and I = "
                             f"{self.input_size}, got {tuple(x.shape)}")
        return x.transpose(1, 0, 2) if self.batch_first else x

    def initial_states(self, hx, x: Tensor) -> list:
        """One state tuple per layer and direction, from ``hx`` or zeros."""
        name, layers = type(self).__name__, self.num_layers * len(self.suffixes)
        N, H = x.shape[1], self.hidden_size
        if hx is None:
            zero = zeros(N, H, dtype=x.dtype, device=x.device)
            return [(zero,) * len(self.states)] * layers
        hx = (hx,) if len(self.states) == 1 and isinstance(hx, Tensor) else hx
        if not isinstance(hx, (tuple, list)) or len(hx) != len(self.states) \
                or not all(isinstance(s, Tensor) for s in hx):
            wanted = "a Tensor h_0" if len(self.states) == 1 else "a tuple (h_0, c_0) of Tensors"
            raise TypeError(f"{name}: hx must be {wanted}, got {type(hx).__name__}")
        for s, label in zip(hx, self.states):
            if tuple(s.shape) != (layers, N, H):
                raise ValueError(f"{name}: {label}_0 has shape {tuple(s.shape)}, expected "
                                 f"{(layers, N, H)} (D * num_layers, N, hidden_size)")
        return [tuple(s[j] for s in hx) for j in range(layers)]

    def extra_repr(self) -> str:
        extra = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                             ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                extra += f", {key}={getattr(self, key)}"
        return extra


class RNN(RecurrentLayer):
    r"""A multi-layer Elman RNN over whole sequences, as ``torch.nn.RNN``.

    Every layer and direction unrolls :class:`~tinygrad_rnn.nn.RNNCell`'s equation
    :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})` over the sequence; layer
    ``k > 0`` reads the outputs of layer ``k - 1`` (both directions side by side), with dropout
    in between during training.

    Args:
        input_size: I, the features of each input step.
        hidden_size: H, the features of ``h``.
        num_layers: stacked layers.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        bias: whether to learn the biases.
        batch_first: input and output are (N, T, ·) instead of (T, N, ·).
        dropout: the probability of dropout on the inputs of layers 1, 2, ... (training only).
        bidirectional: add a layer that reads the sequence backwards (suffix ``_reverse``).
        init: ``"default"``: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's);
            ``"identity"``: the IRNN of Le, Jaitly & Hinton (2015), "A Simple Way to Initialize
            Recurrent Networks of Rectified Linear Units": every ``weight_hh`` is the identity,
            every bias zero, every ``weight_ih`` ~ N(0, 0.001^2); pass
            ``nonlinearity="relu"`` with it, as the paper does.
        device: where the parameters live.
        dtype: the parameters' dtype.

    Returns from a call ``rnn(x, h_0=None)``: ``(output, h_n)``, output (T, N, D*H) and h_n
    (D*num_layers, N, H), D = 2 if bidirectional else 1.

    Example:
        >>> import tinygrad_rnn as tg
        >>> rnn = tg.nn.RNN(3, 4, num_layers=2)
        >>> output, h_n = rnn(tg.randn(5, 2, 3))      # x: (T, N, I)
        >>> output.shape, h_n.shape
        ((5, 2, 4), (2, 2, 4))
        >>> irnn = tg.nn.RNN(3, 4, nonlinearity="relu", init="identity")
        >>> irnn.weight_hh_l0.numpy().diagonal().tolist(), bool(irnn.bias_hh_l0.numpy().any())
        ([1.0, 1.0, 1.0, 1.0], False)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, *, init: str = "default",
                 device: str = "cpu", dtype=np.float32):
        if init not in ("default", "identity"):
            raise ValueError(f"RNN: unknown init {init!r}; expected 'default' (PyTorch's "
                             "uniform) or 'identity' (IRNN, Le et al. 2015)")
        self.nonlinearity, self.init = nonlinearity, init
        self.activation = activation("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        if init == "identity":
            for name, p in self.named_parameters():
                if name.startswith("weight_hh"):
                    p.data[...] = eye(hidden_size, dtype=dtype, device=device).data
                elif name.startswith("weight_ih"):
                    p.data[...] = randn(*p.shape, dtype=dtype, device=device).data * 0.001
                else:
                    p.data[...] = 0

    def step(self, x_proj, state, weights):
        (h,), (w_hh_t,) = state, weights
        return (self.activation(x_proj + h @ w_hh_t),)

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        extra += "" if self.init == "default" else f", init={self.init!r}"
        return super().extra_repr() + extra


class LSTM(RecurrentLayer):
    r"""A multi-layer LSTM over whole sequences, as ``torch.nn.LSTM`` (gate order i, f, g, o).

    Every layer and direction unrolls :class:`~tinygrad_rnn.nn.LSTMCell`'s equations; the
    arguments are :class:`RNN`'s (without ``nonlinearity``) plus ``forget_bias``, added to the
    forget slice of every ``bias_ih_l{k}`` at initialisation, and ``fused``.

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

    def unroll(self, x: Tensor, state: tuple, k: int, suffix: str) -> tuple:
        """One layer, one direction; fused: one :class:`~tinygrad_rnn.fused.LSTMStep` per step.

        The state travels as one tensor ``[h, c]`` (2, N, H); every step reads its slice of the
        hoisted input projection itself, so a step is one node of the graph. The steps of the
        layer share their arrays (:class:`~tinygrad_rnn.fused.LSTMSequence`).
        """
        if not self.fused:
            return super().unroll(x, state, k, suffix)
        x_proj, weights = self.hoist(x, k, suffix)
        T, name = x.shape[0], f"l{k}{suffix}"
        with scope(name):
            hc = stack(list(state))
        seq = LSTMSequence(T, reverse=bool(suffix), pool=self.pool)
        hcs, hc = self.fused_loop(LSTMStep, x_proj, hc, weights, seq, name)
        with scope(name):
            return LSTMOutput.apply(*hcs, seq=seq), (hc[0], hc[1])

    def input_projection(self, x, w_ih, b_ih, b_hh):
        if not self.fused:
            return super().input_projection(x, w_ih, b_ih, b_hh)
        return x @ w_ih.T  # the fused step adds the biases itself: one (T, N, 4H) array fewer

    def recurrent_weights(self, w_hh, b_ih, b_hh):
        if not self.fused or b_ih is None:
            return super().recurrent_weights(w_hh, b_ih, b_hh)
        return w_hh.T, b_ih + b_hh

    def step(self, x_proj, state, weights):
        (h, c), (w_hh_t,) = state, weights
        return lstm_step(x_proj + h @ w_hh_t, c)


class GRU(RecurrentLayer):
    r"""A multi-layer GRU over whole sequences, as ``torch.nn.GRU`` (gate order r, z, n).

    Every layer and direction unrolls :class:`~tinygrad_rnn.nn.GRUCell`'s equations; the
    arguments are :class:`RNN`'s (without ``nonlinearity``) plus ``reset_after`` (``False``:
    Cho et al.'s original candidate :math:`\tanh(W_{in} x + b_{in} + W_{hn}(r \odot h) + b_{hn})`)
    and ``fused``: with ``reset_after=True`` a step is by default one primitive,
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

    def unroll(self, x: Tensor, state: tuple, k: int, suffix: str) -> tuple:
        """One layer, one direction; fused: one :class:`~tinygrad_rnn.fused.GRUStep` per step.

        Only PyTorch's form (``reset_after=True``) has a fused step; the steps of the layer
        share their arrays (:class:`~tinygrad_rnn.fused.GRUSequence`).
        """
        if not self.fused:
            return super().unroll(x, state, k, suffix)
        x_proj, weights = self.hoist(x, k, suffix)
        weights = weights[:1] if weights[1] is None else weights
        T, name = x.shape[0], f"l{k}{suffix}"
        seq = GRUSequence(T, reverse=bool(suffix), pool=self.pool)
        hs, h = self.fused_loop(GRUStep, x_proj, state[0], weights, seq, name)
        with scope(name):
            return stack(hs), (h,)

    def input_projection(self, x, w_ih, b_ih, b_hh):
        if not self.reset_after:  # b_hn is outside the reset gate: both biases fold in
            return super().input_projection(x, w_ih, b_ih, b_hh)
        y = x @ w_ih.T  # b_hn must stay inside r * (W_hn h + b_hn): b_hh is added per step
        return y if b_ih is None else y + b_ih

    def recurrent_weights(self, w_hh, b_ih, b_hh):
        if self.reset_after:
            return w_hh.T, b_hh
        H = self.hidden_size
        return w_hh[:2 * H].T, w_hh[2 * H:].T

    def step(self, x_proj, state, weights):
        (h,) = state
        if not self.reset_after:
            return (cho_gru_step(x_proj, h, *weights),)
        w_hh_t, b_hh = weights
        h_proj = h @ w_hh_t
        return (gru_step(x_proj, h_proj if b_hh is None else h_proj + b_hh, h),)

    def extra_repr(self) -> str:
        extra = "" if self.reset_after else ", reset_after=False"
        return super().extra_repr() + extra + ("" if self.fused or not self.reset_after
                                               else ", fused=False")
