r"""Sequence to sequence: an RNN encoder, an RNN decoder (with or without attention), ``Seq2Seq``.

The encoder reads the source (embedding, then the package's ``GRU``, ``LSTM`` or ``RNN``
layer, each time step under its own scope). The decoder runs one step at a time, each under
the scope ``("decoder", "t<k>")``: it embeds the previous target token, joins a context to it
and steps a stack of cells; a final ``Linear`` gives the logits over the vocabulary. The
context is fixed (the encoder's last output, :class:`Seq2SeqDecoder`, Sutskever et al. 2014;
Cho et al. 2014) or read at every step by Bahdanau attention over all the encoder's outputs
(:class:`AttentionDecoder`, Bahdanau et al. 2015). :class:`Seq2Seq` joins the two: teacher
forcing for training, greedy and beam-search decoding (:mod:`tinygrad_rnn.nn.beam`) to an end
symbol. The shapes follow d2l ("Dive into Deep Learning", chapters 10.7 and 11.4); the token
arrays are batch first, (N, S) and (N, T), as there.
"""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .beam import Decoded, beam_search, greedy_search
from .decoder import AttentionDecoder, DecoderState, Seq2SeqDecoder, check_cell, tokens
from .gated import GRU, LSTM
from .layers import Embedding
from .module import Module
from .recurrent import RNN

LAYERS = {"rnn": RNN, "gru": GRU, "lstm": LSTM}
__all__ = ["AttentionDecoder", "DecoderState", "Seq2Seq", "Seq2SeqDecoder", "Seq2SeqEncoder"]


class Seq2SeqEncoder(Module):
    r"""Embed the source tokens and run a recurrent layer over them.

    .. math::

        h_s = \mathrm{RNN}(\mathrm{embedding}(x_s), h_{s-1}), \qquad s = 1 \dots S

    Args:
        vocab_size: the source vocabulary.
        embed_size: the width of the embedding.
        hidden_size: H, the width of the recurrent state.
        num_layers: stacked recurrent layers.
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"`` (the layers ``GRU``, ``LSTM``, ``RNN``).
        dropout: dropout between the recurrent layers (training only).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Returns from a call ``encoder(src)`` with ``src`` (N, S) integer tokens: the layer's
    ``(output, state)``: output (S, N, H), state (num_layers, N, H) (a pair ``(h_n, c_n)``
    for an LSTM). Padding is read like any token (as d2l's encoder); attention ignores it.

    Example:
        >>> import tinygrad_rnn as tg
        >>> encoder = tg.nn.Seq2SeqEncoder(10, 8, 16, num_layers=2)
        >>> output, h_n = encoder([[1, 2, 3], [4, 5, 6]])
        >>> output.shape, h_n.shape
        ((3, 2, 16), (2, 2, 16))
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "gru", dropout: float = 0.0, *, device: str = "cpu",
                 dtype=np.float32):
        self.cell = check_cell("Seq2SeqEncoder", cell)
        self.embedding = Embedding(vocab_size, embed_size, device=device, dtype=dtype)
        self.rnn = LAYERS[cell](embed_size, hidden_size, num_layers, dropout=dropout,
                                device=device, dtype=dtype)

    def forward(self, src) -> tuple:
        return self.rnn(self.embedding(tokens("Seq2SeqEncoder", src).T))

class Seq2Seq(Module):
    """An encoder and a decoder: teacher forcing, greedy and beam-search decoding.

    Args:
        encoder: a :class:`Seq2SeqEncoder`.
        decoder: a :class:`Seq2SeqDecoder` or :class:`AttentionDecoder` of the same cell,
            layers and hidden size.

    Attributes:
        attention_weights: after a call, the decoder's attention weights (N, T, S), detached
            (``None`` without attention).

    Example:
        >>> import tinygrad_rnn as tg
        >>> tg.manual_seed(0)
        >>> model = tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(6, 4, 8), tg.nn.AttentionDecoder(6, 4, 8))
        >>> src, tgt_in = [[3, 4, 5], [5, 4, 1]], [[1, 5, 4], [1, 1, 4]]
        >>> logits = model(src, tgt_in, src_valid_len=[3, 2])
        >>> logits.shape, model.attention_weights.shape
        ((2, 3, 6), (2, 3, 3))
        >>> out = model.greedy(src, bos=1, eos=2, max_len=4)[0]
        >>> len(out.tokens) <= 4, out.weights.shape[1]
        (True, 3)
    """

    attention_weights = None

    def __init__(self, encoder: Module, decoder: Seq2SeqDecoder):
        self.encoder, self.decoder = encoder, decoder

    def encode(self, src, src_valid_len=None) -> DecoderState:
        """Run the encoder over ``src`` (N, S); the decoder's state before its first step."""
        enc_outputs, enc_state = self.encoder(src)
        return self.decoder.init_state(enc_outputs, enc_state, src_valid_len)

    def forward(self, src, tgt_in, src_valid_len=None) -> Tensor:
        """Teacher forcing: ``src`` (N, S) and ``tgt_in`` (N, T) (the target shifted right,
        starting with the begin symbol) integer tokens -> logits (N, T, V).

        ``src_valid_len`` (N,): the source lengths; attention gives the padding beyond them
        weight 0 (the encoder still reads it, and the plain decoder's context is the state
        after the last position, padding or not, as in d2l).
        """
        logits, _ = self.decoder(tgt_in, self.encode(src, src_valid_len))
        self.attention_weights = self.decoder.attention_weights
        return logits

    def greedy(self, src, bos: int, eos: int, max_len: int,
               src_valid_len=None) -> list[Decoded]:
        """Decode each row of ``src`` (N, S) by taking the likeliest token at every step.

        Stops at ``eos`` (kept as the last token) or after ``max_len`` tokens. Runs without
        recording a graph; call ``eval()`` first if the model has dropout.

        Returns:
            One :class:`~tinygrad_rnn.nn.beam.Decoded` per row: its tokens, the attention
            weights of each step (len(tokens), S) (``None`` without attention) and the
            log-probability of the tokens.
        """
        with no_grad():
            return greedy_search(self.decoder, self.encode(src, src_valid_len), bos, eos,
                                 max_len)

    def beam_search(self, src, bos: int, eos: int, max_len: int, beam_size: int = 4,
                    length_penalty: float = 0.0, src_valid_len=None) -> list[Decoded]:
        """Decode each row of ``src`` (N, S) keeping the ``beam_size`` best prefixes.

        A hypothesis ends at ``eos`` or after ``max_len`` tokens; the best one maximises
        ``log p(tokens) / len(tokens) ** length_penalty`` (0: the likeliest sequence among
        those the beam kept; d2l suggests 0.75 to favour longer ones). ``beam_size=1`` is
        greedy decoding; a beam of ``V ** max_len`` keeps every prefix, an exhaustive search.

        Returns:
            One :class:`~tinygrad_rnn.nn.beam.Decoded` per row (as :meth:`greedy`); ``score``
            is the penalised log-probability.
        """
        src = tokens("Seq2Seq.beam_search", src)
        lens = None if src_valid_len is None else np.asarray(src_valid_len)
        with no_grad():
            return [beam_search(self.decoder, self.encode(src[n:n + 1], None if lens is None
                                                          else lens[n:n + 1]),
                                bos, eos, max_len, beam_size, length_penalty)
                    for n in range(len(src))]
