"""The decoders of :mod:`tinygrad_rnn.nn.seq2seq`: one step at a time, with or without attention.

A decoder embeds the previous target token, joins a context to it and steps a stack of cells,
each step under the scope ``("decoder", "t<k>")``; a final ``Linear`` gives the logits. The
context is fixed (:class:`Seq2SeqDecoder`: the encoder's last output) or read at every step by
Bahdanau attention over all the encoder's outputs (:class:`AttentionDecoder`). What travels
from step to step is a :class:`DecoderState`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd import scope
from ..combine import concat, stack
from ..creation import check_size
from ..scopes import layer_name, step_name
from ..tensor import Tensor
from . import functional as F
from .attention_layers import AdditiveAttention
from .cells import GRUCell, LSTMCell, RNNCell
from .containers import ModuleList
from .layers import Embedding, Linear
from .module import Module

CELLS = {"rnn": RNNCell, "gru": GRUCell, "lstm": LSTMCell}


def check_cell(name: str, cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"{name}: cell must be one of {sorted(CELLS)}, got {cell!r}")
    return cell


def tokens(name: str, x, ndim: int = 2) -> np.ndarray:
    """Token ids as a host integer array of ``ndim`` dimensions (at least one step), or a
    clear error."""
    a = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind not in "iu" or a.ndim != ndim or (ndim == 2 and a.shape[1] == 0):
        want = "(N, S) with S >= 1" if ndim == 2 else "(N,)"
        raise ValueError(f"{name}: tokens must be integers of shape {want}, got {a.dtype} of "
                         f"shape {a.shape}")
    return a


class DecoderState(NamedTuple):
    """What a decoder carries from step to step.

    Attributes:
        hidden: one state per layer: ``h`` (N, H), or ``(h, c)`` for an LSTM.
        memory: what the context is read from: the encoder's last output (N, H)
            (:class:`Seq2SeqDecoder`), or all its outputs (N, S, H) (:class:`AttentionDecoder`).
        valid_len: the source lengths (N,), or ``None`` (every source position is valid).
    """

    hidden: tuple
    memory: Tensor
    valid_len: np.ndarray | None = None

    def select(self, rows) -> DecoderState:
        """The state of the batch rows ``rows`` (repeated or reordered: beam search)."""
        rows = np.asarray(rows)
        hidden = tuple(tuple(s[rows] for s in h) if isinstance(h, tuple) else h[rows]
                       for h in self.hidden)
        lens = None if self.valid_len is None else self.valid_len[rows]
        return DecoderState(hidden, self.memory[rows], lens)


class Seq2SeqDecoder(Module):
    r"""A recurrent decoder whose context is the encoder's last output, fixed for every step.

    .. math::

        s_t &= \mathrm{cell}([\,\mathrm{embedding}(y_{t-1});\ c\,],\ s_{t-1})
               \qquad (\text{a stack of cells}, s_0 = \text{the encoder's final state}) \\
        \mathrm{logits}_t &= W_o\, h_t + b_o \qquad (h_t: \text{the last layer's } h)

    with :math:`c = h^{enc}_S`, the encoder's last-layer output at its last step (as d2l's
    ``Seq2SeqDecoder``; taken from its final state, so the graph shows that the decoder reads
    the last encoder step only). Each step runs under the scope ``t<k>`` inside the decoder's.

    Args:
        vocab_size: V, the target vocabulary.
        embed_size: the width of the embedding.
        hidden_size: H, as the encoder's.
        num_layers: stacked cells, as the encoder's layers.
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"``, as the encoder's.
        dropout: dropout between the cells (training only).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Attributes:
        embedding: ``Embedding(vocab_size, embed_size)``.
        rnn: a ``ModuleList`` of cells; cell 0 reads ``embed_size + hidden_size`` features.
            Cell ``k`` of step ``t`` runs under the scope ``("decoder", "t<t>", "l<k>")``.
        dense: ``Linear(hidden_size, vocab_size)``.
        attention_weights: ``None`` here (see :class:`AttentionDecoder`).
    """

    attention_weights = None

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "gru", dropout: float = 0.0, *, device: str = "cpu",
                 dtype=np.float32):
        name = type(self).__name__
        self.cell = check_cell(name, cell)
        self.hidden_size = check_size(name, "hidden_size", hidden_size, least=1)
        num_layers = check_size(name, "num_layers", num_layers, least=1)
        self.dropout = float(dropout)
        new = {"device": device, "dtype": dtype}
        self.embedding = Embedding(vocab_size, embed_size, **new)
        self.rnn = ModuleList([CELLS[cell](embed_size + hidden_size if k == 0 else hidden_size,
                                           hidden_size, **new) for k in range(num_layers)])
        self.dense = Linear(hidden_size, vocab_size, **new)

    def init_state(self, enc_outputs: Tensor, enc_state, src_valid_len=None) -> DecoderState:
        """The state before the first step, from the encoder's ``(output, state)``."""
        hidden = self.layer_states(enc_outputs, enc_state)
        top = hidden[-1][0] if isinstance(hidden[-1], tuple) else hidden[-1]
        return DecoderState(hidden, top,
                            None if src_valid_len is None else tokens(
                                type(self).__name__, src_valid_len, ndim=1))

    def layer_states(self, enc_outputs: Tensor, enc_state) -> tuple:
        """The encoder's final state split by layer (an LSTM's ``(h_n, c_n)`` by layer too)."""
        h_n = enc_state[0] if isinstance(enc_state, tuple) else enc_state
        L, H = len(self.rnn), self.hidden_size
        if h_n.shape[0] != L or h_n.shape[2] != H or enc_outputs.shape[2] != H or \
                isinstance(enc_state, tuple) != (self.cell == "lstm"):
            raise ValueError(f"{type(self).__name__}: the encoder must be a {self.cell} of "
                             f"{L} layers of size {H}, as the decoder; got a final state of "
                             f"shape {tuple(h_n.shape)}")
        if isinstance(enc_state, tuple):
            return tuple((enc_state[0][k], enc_state[1][k]) for k in range(L))
        return tuple(enc_state[k] for k in range(L))

    def context(self, state: DecoderState) -> tuple[Tensor, Tensor | None]:
        """``(context (N, H), attention weights (N, S) or None)`` for the next step."""
        return state.memory, None

    def step(self, y_prev, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One step: the previous tokens (N,) -> ``(h (N, H), state, weights)``, ``h`` the last
        layer's output (the logits are ``dense(h)``)."""
        x = self.embedding(y_prev)
        context, weights = self.context(state)
        x = concat([x, context], axis=1)
        hidden = []
        for k, cell in enumerate(self.rnn):
            if k > 0:
                x = F.dropout(x, self.dropout, self.training)
            with scope(layer_name(k)):
                s = cell(x, state.hidden[k])
            hidden.append(s)
            x = s[0] if isinstance(s, tuple) else s
        return x, state._replace(hidden=tuple(hidden)), weights

    def run_step(self, t: int, y_prev, state: DecoderState) -> tuple:
        """:meth:`step` and the logits (N, V), under the decoder's scope and the step's,
        ``(..., "decoder", "t<k>")``: ``(logits, state, weights)``, for decoding."""
        with scope(self.scope_name or type(self).__name__.lower(), step_name(t)):
            h, state, weights = self.step(y_prev, state)
            return self.dense(h), state, weights

    def forward(self, tgt_in, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """Teacher forcing: step ``t`` reads ``tgt_in[:, t]`` (N, T) -> logits (N, T, V).

        The steps hand on ``h``; ``dense`` maps all of them to logits in one matmul after the
        loop (as d2l's). Keeps the attention weights of every step in ``attention_weights``
        (N, T, S), detached (``None`` without attention).
        """
        tgt = tokens(type(self).__name__, tgt_in)
        hs, weights = [], []
        for t in range(tgt.shape[1]):
            with scope(step_name(t)):
                h, state, w = self.step(tgt[:, t], state)
            hs.append(h)
            weights.append(w)
        self.attention_weights = None if weights[0] is None else \
            stack([w.detach() for w in weights], axis=1)
        return self.dense(stack(hs, axis=1)), state

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}" + (f", dropout={self.dropout}" if self.dropout else "")


class AttentionDecoder(Seq2SeqDecoder):
    r"""A recurrent decoder that reads all the encoder's outputs through Bahdanau attention.

    .. math::

        c_t, \alpha_t &= \mathrm{AdditiveAttention}(h_{t-1},\ h^{enc}_{1..S},\ h^{enc}_{1..S})
            \qquad (\text{query: the last layer's } h_{t-1}) \\
        s_t &= \mathrm{cell}([\,\mathrm{embedding}(y_{t-1});\ c_t\,],\ s_{t-1}) \\
        \mathrm{logits}_t &= W_o\, h_t + b_o

    As d2l's ``Seq2SeqAttentionDecoder``: one step at a time, so the weights
    :math:`\alpha_t` (N, S) of every step are kept (``attention_weights``, (N, T, S)); the
    source positions beyond ``src_valid_len`` get weight 0. Each step runs under the scope
    ``t<k>`` inside the decoder's, its attention under ``("decoder", "t<k>", "attention")``.
    The arguments are :class:`Seq2SeqDecoder`'s; ``dropout`` also drops attention weights.

    Attributes:
        attention: ``AdditiveAttention(hidden_size, hidden_size, hidden_size)``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> encoder, decoder = tg.nn.Seq2SeqEncoder(6, 4, 8), tg.nn.AttentionDecoder(6, 4, 8)
        >>> state = decoder.init_state(*encoder([[3, 4, 5]]))    # source (N, S) = (1, 3)
        >>> logits, state, weights = decoder.run_step(0, [1], state)  # previous tokens (N,)
        >>> logits.shape, weights.shape
        ((1, 6), (1, 3))
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "gru", dropout: float = 0.0, *, device: str = "cpu",
                 dtype=np.float32):
        self.attention = AdditiveAttention(hidden_size, hidden_size, hidden_size, dropout,
                                           device=device, dtype=dtype)
        super().__init__(vocab_size, embed_size, hidden_size, num_layers, cell, dropout,
                         device=device, dtype=dtype)

    def init_state(self, enc_outputs: Tensor, enc_state, src_valid_len=None) -> DecoderState:
        state = super().init_state(enc_outputs, enc_state, src_valid_len)
        return state._replace(memory=enc_outputs.transpose(0, 1))  # (N, S, H)

    def context(self, state: DecoderState) -> tuple[Tensor, Tensor]:
        top = state.hidden[-1]
        h = top[0] if isinstance(top, tuple) else top
        N, H = h.shape
        context, weights = self.attention(h.reshape(N, 1, H), state.memory, state.memory,
                                          state.valid_len)
        return context.reshape(N, H), weights.reshape(N, weights.shape[2])
