"""Recurrent layers over whole sequences: what they share (``RecurrentLayer``) and ``RNN``.

Each layer holds its parameters under PyTorch's names (``weight_ih_l0``, ``bias_hh_l1_reverse``)
and runs every layer and direction through the time loop :func:`~tinygrad_rnn.nn.unroll`, one
step per time step, each recorded under its own scope (``"l1_reverse", "t3"``): the graph that
backpropagation through time walks is the unrolled graph.

What each kind of layer does is said once, in its ``recurrence``: the work hoisted out of the
time loop and the step. The input projection of the whole sequence is one matmul before the
loop (with the biases folded in where the equations allow) and ``W_hh`` is transposed once, so
a step costs one matmul plus the gate arithmetic of the cell. ``RNN`` is here (its step is
fused by default, :class:`~tinygrad_rnn.fused.RNNStep`); the gated layers ``LSTM`` and ``GRU``,
whose steps are fused too (:mod:`tinygrad_rnn.fused`), are in :mod:`tinygrad_rnn.nn.gated`.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from ..autograd import scope
from ..combine import concat, stack
from ..creation import check_size, zeros
from ..fused import ArrayPool, RNNSequence, RNNStep, SequenceOutput
from ..scopes import REVERSE, layer_name
from ..tensor import Tensor
from ..trace import named
from . import functional as F
from .cells.base import init_uniform
from .cells.rnn import INITS, activation, identity_init
from .loop import unroll
from .module import Module

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def project(x: Tensor, w_ih: Tensor, bias: Tensor | None = None) -> Tensor:
    """The whole sequence's input projection in one matmul: ``x W_ih^T + bias``,
    (T, N, I) -> (T, N, G*H)."""
    T, N, I = x.shape
    y = x.reshape(T * N, I) @ w_ih.T
    y = y if bias is None else y + bias
    return y.reshape(T, N, y.shape[1])


def both(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """``b_ih + b_hh`` (``None`` without biases): the biases folded into one."""
    return None if b_ih is None else b_ih + b_hh


def stacked(hs: list, state: tuple) -> tuple:
    """The usual end of a layer's loop: the steps' ``h`` as one (T, N, H) tensor, the state."""
    return stack(hs), state


def sequence_output(seq) -> Callable:
    """The end of a loop of fused steps: their ``h`` as one (T, N, H) tensor
    (:class:`~tinygrad_rnn.fused.SequenceOutput`, whose gradient rows the steps add), the state."""
    def finish(hs: list, state: tuple) -> tuple:
        return SequenceOutput.apply(*hs, seq=seq, fold=True), state
    return finish


class Recurrence(NamedTuple):
    """One layer and direction made ready for the time loop (a layer's ``recurrence``).

    Attributes:
        step: ``(xs[t], state) -> state``, one time step.
        xs: what the loop hands the step: the hoisted input projection (T, N, G*H), or
            ``range(T)`` for a fused step (it reads its own row of the projection).
        state: the state the loop starts from.
        finish: ``(hs, state) -> (output (T, N, H), final state tuple)``, after the loop.
        x_name: what drawings call the step's row of ``xs`` (see :func:`~tinygrad_rnn.nn.unroll`).
    """

    step: Callable
    xs: Sequence
    state: Any
    finish: Callable = stacked
    x_name: str = "W_ih x_t + b"


class RecurrentLayer(Module):
    """What RNN, LSTM and GRU share: parameters, checks, the loops over layers and directions.

    A subclass sets ``gates`` (rows of ``weight_ih`` per hidden unit) and ``states`` (the
    names of its state tensors) and says in ``recurrence`` what it hoists out of the time loop
    and what one step does; :meth:`run` hands that to the time loop
    (:func:`~tinygrad_rnn.nn.unroll`).
    """

    gates = 1
    states = ("h",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *, device: str = "cpu", dtype=np.float32):
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size, least=1)
        self.hidden_size = H = check_size(name, "hidden_size", hidden_size, least=1)
        self.num_layers = check_size(name, "num_layers", num_layers, least=1)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers, not after the last, "
                          "so it does nothing with num_layers=1", stacklevel=2)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.dropout = float(dropout)
        self.suffixes = ("", REVERSE) if bidirectional else ("",)  # torch's names: weight_ih_l0_reverse
        new = partial(init_uniform, hidden_size=H, device=device, dtype=dtype)
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else H * len(self.suffixes)
            for suffix in self.suffixes:
                setattr(self, f"weight_ih_l{k}{suffix}", new((self.gates * H, fan_in)))
                setattr(self, f"weight_hh_l{k}{suffix}", new((self.gates * H, H)))
                if bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", new((self.gates * H,)))
                    setattr(self, f"bias_hh_l{k}{suffix}", new((self.gates * H,)))

    @property
    def _flat_weights_names(self) -> list[str]:
        """The parameter names in torch's order, under torch's private name (which code that
        initialises a ``torch.nn.GRU`` weight by weight reads, with ``_parameters``)."""
        return [name for name, _ in self.own_parameters()]

    def flatten_parameters(self) -> None:
        """Nothing to do: torch packs the weights into one buffer for cuDNN here; each weight
        of ours is already its own contiguous array."""

    def weights(self, k: int, suffix: str) -> tuple:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer ``k`` (biases ``None`` if none)."""
        return tuple(getattr(self, f"{p}_l{k}{suffix}", None) for p in PARAMS)

    def recurrence(self, x: Tensor, state: tuple, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh,
                   reverse: bool) -> Recurrence:  # pragma: no cover - abstract
        """The work hoisted out of the time loop and the step, for one layer and direction.

        Args:
            x: the layer's input (T, N, I).
            state: the initial state, a tuple of (N, H) tensors (``states``).
            w_ih, w_hh, b_ih, b_hh: the layer's parameters (biases ``None`` without bias).
            reverse: the backward direction (the loop runs t = T-1, ..., 0).
        """
        raise NotImplementedError

    # ---- the loops over layers and directions ------------------------------------------------
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
                out, state = self.run(x, initial[k * len(self.suffixes) + d], k, suffix)
                outputs.append(out)
                finals.append(state)
            x = outputs[0] if len(outputs) == 1 else concat(outputs, axis=2)
        if self.batch_first:
            x = x.transpose(1, 0, 2)
        final = tuple(stack([s[j] for s in finals]) for j in range(len(self.states)))
        return x, final[0] if len(final) == 1 else final

    def run(self, x: Tensor, state: tuple, k: int, suffix: str) -> tuple:
        """One layer, one direction: (T, N, I) -> outputs (T, N, H) and the last state."""
        reverse = bool(suffix)
        layer = layer_name(k, reverse)
        with scope(layer):
            plan = self.recurrence(x, state, *self.weights(k, suffix), reverse)
        hs, state = unroll(plan.step, plan.xs, plan.state, layer, reverse=reverse,
                           x_name=plan.x_name)
        with scope(layer):
            return plan.finish(hs, state)

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
        dtype = self.weight_ih_l0.dtype
        if x.dtype != dtype:  # as torch: no silent cast (an int input is a mistake, not data)
            raise TypeError(f"{name}: input dtype {x.dtype} does not match the parameters' dtype "
                            f"{dtype}: convert the input with x.astype({str(dtype)!r}), or the "
                            f"model with .to(dtype=...)")
        return x.transpose(1, 0, 2) if self.batch_first else x

    def initial_states(self, hx, x: Tensor) -> list:
        """One state tuple per layer and direction, from ``hx`` or zeros."""
        name, layers = type(self).__name__, self.num_layers * len(self.suffixes)
        N, H = x.shape[1], self.hidden_size
        if hx is None:
            zero = named(zeros(N, H, dtype=x.dtype, device=x.device), "initial state = 0")
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
        fused: by default a step is one primitive, :class:`~tinygrad_rnn.fused.RNNStep`
            (gradient written out by hand; the same numbers as the op-by-op path, which
            ``fused=False`` keeps for drawing the step's ops).
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
                 fused: bool = True, device: str = "cpu", dtype=np.float32):
        if init not in INITS:
            raise ValueError(f"RNN: unknown init {init!r}; expected 'default' (PyTorch's "
                             "uniform) or 'identity' (IRNN, Le et al. 2015)")
        self.nonlinearity, self.init = nonlinearity, init
        self.activation = activation("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.fused = bool(fused)
        # the fused steps' arrays (3 per layer and direction), kept for the next call
        self.pool = ArrayPool(keep=3 * self.num_layers * len(self.suffixes))
        if init == "identity":
            identity_init(self)

    def recurrence(self, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
        """Hoisted: :math:`x W_{ih}^T + b_{ih} + b_{hh}` and :math:`W_{hh}^T`; a step is
        :math:`h' = \\phi(x_t + h W_{hh}^T)`, fused one :class:`~tinygrad_rnn.fused.RNNStep`
        (the steps share an :class:`~tinygrad_rnn.fused.RNNSequence`)."""
        x_proj, w_hh_t, phi = project(x, w_ih, both(b_ih, b_hh)), w_hh.T, self.activation
        if not self.fused:
            def step(x_t, state):
                return (named(phi(x_t + state[0] @ w_hh_t), "h_t"),)
            return Recurrence(step, x_proj, state)
        seq, nonlinearity = RNNSequence(len(x), reverse=reverse, pool=self.pool), self.nonlinearity

        def fused_step(t, state):
            return (named(RNNStep.apply(x_proj, state[0], w_hh_t, t=t, seq=seq,
                                        nonlinearity=nonlinearity), "h_t"),)
        return Recurrence(fused_step, range(len(x)), state, sequence_output(seq))

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        extra += "" if self.init in (None, "default") else f", init={self.init!r}"
        return super().extra_repr() + extra + ("" if self.fused else ", fused=False")
