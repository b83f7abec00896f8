r"""Decoding a sequence-to-sequence model to an end symbol: greedy search and beam search.

Both step a decoder (:class:`~tinygrad_rnn.nn.seq2seq.Seq2SeqDecoder`: ``run_step(t, y_prev,
state) -> (logits, state, weights)``) from the begin symbol, feeding back the tokens chosen.
Greedy search keeps the likeliest token at every step; beam search keeps the ``k`` likeliest
prefixes (Graves 2012; Sutskever et al. 2014):

.. math::

    \text{score}(y_{1..L}) = \frac{1}{L^{\alpha}} \sum_{t=1}^{L} \log p(y_t \mid y_{<t}, x)

A hypothesis ends at the end symbol or after ``max_len`` tokens.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .softmax import log_softmax


class Decoded(NamedTuple):
    """One decoded sequence.

    Attributes:
        tokens: the tokens produced, the end symbol last if it was reached.
        weights: the attention weights of each step (len(tokens), S), a NumPy array, or
            ``None`` for a decoder without attention: row ``t`` says where the decoder looked
            when it produced ``tokens[t]``.
        score: the log-probability of ``tokens`` (divided by ``len(tokens) ** length_penalty``
            in beam search).
    """

    tokens: list
    weights: np.ndarray | None
    score: float


def log_probs(logits) -> np.ndarray:
    """Log-probabilities of the next token, (N, V) host array."""
    return log_softmax(logits, axis=-1).numpy()


def row(weights: np.ndarray | None, n: int) -> np.ndarray | None:
    """Row ``n`` of a step's attention weights (N, S) (``None`` without attention)."""
    return None if weights is None else weights[n]


def finish(tokens: list, weights: list, score: float) -> Decoded:
    return Decoded(tokens, None if weights[0] is None else np.stack(weights), score)


def check_search(name: str, max_len: int, beam_size: int = 1) -> None:
    if beam_size < 1 or max_len < 1:
        raise ValueError(f"{name}(): beam_size and max_len must be >= 1, got {beam_size} and "
                         f"{max_len}")


def greedy_search(decoder, state, bos: int, eos: int, max_len: int) -> list[Decoded]:
    """The likeliest token at every step, for every row of the batch at once."""
    check_search("greedy_search", max_len)
    N = len(state.hidden[0][0] if isinstance(state.hidden[0], tuple) else state.hidden[0])
    y = np.full(N, bos)
    out: list[list] = [[] for _ in range(N)]
    weights: list[list] = [[] for _ in range(N)]
    score = np.zeros(N)
    done = np.zeros(N, dtype=bool)
    for t in range(max_len):
        logits, state, w = decoder.run_step(t, y, state)
        lp, w = log_probs(logits), None if w is None else w.numpy()
        y = lp.argmax(axis=1)
        for n in np.flatnonzero(~done):
            out[n].append(int(y[n]))
            weights[n].append(row(w, n))
            score[n] += lp[n, y[n]]
        done |= y == eos
        if done.all():
            break
    return [finish(out[n], weights[n], float(score[n])) for n in range(N)]


class Hypothesis(NamedTuple):
    tokens: list
    weights: list
    log_prob: float


def beam_search(decoder, state, bos: int, eos: int, max_len: int, beam_size: int = 4,
                length_penalty: float = 0.0) -> Decoded:
    """The best hypothesis for one source (``state`` of batch 1), keeping ``beam_size``.

    At every step each live prefix is extended by every token; the ``beam_size`` best
    extensions (by log-probability) are kept, those ending in ``eos`` move to the finished
    ones and the others stay live (one batch row each). After ``max_len`` steps the live
    ones finish too; the best finished one by score is returned.
    """
    check_search("beam_search", max_len, beam_size)
    live, finished = [Hypothesis([], [], 0.0)], []
    y = np.array([bos])
    for t in range(max_len):
        logits, state, w = decoder.run_step(t, y, state)
        total = np.array([h.log_prob for h in live])[:, None] + log_probs(logits)
        w = None if w is None else w.numpy()
        V = total.shape[1]
        best = np.argsort(-total, axis=None, kind="stable")[:beam_size]
        kept, rows_kept = [], []
        for i in best:
            b, v = divmod(int(i), V)
            h = Hypothesis(live[b].tokens + [v], live[b].weights + [row(w, b)],
                           float(total[b, v]))
            if v == eos or t == max_len - 1:
                finished.append(h)
            else:
                kept.append(h)
                rows_kept.append(b)
        if not kept:
            break
        live, state = kept, state.select(rows_kept)
        y = np.array([h.tokens[-1] for h in live])

    def score(h: Hypothesis) -> float:
        return h.log_prob / len(h.tokens) ** length_penalty
    h = max(finished, key=score)
    return finish(h.tokens, h.weights, score(h))
