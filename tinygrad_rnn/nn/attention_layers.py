r"""Attention over a sequence: ``AdditiveAttention`` (Bahdanau) and ``DotProductAttention`` (Luong).

Both take queries (N, Q, d_q), keys (N, K, d_k) and values (N, K, d_v), score every query
against every key, turn the scores into weights with :func:`~tinygrad_rnn.nn.attention.masked_softmax`
(keys beyond a sequence's valid length get weight 0) and return the weighted sums of the values,
the context (N, Q, d_v), with the weights (N, Q, K). They differ only in the score, as in d2l
("Dive into Deep Learning", section 11.3).
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .attention import masked_softmax
from .layers import Linear
from .module import Module


def check_qkv(name: str, queries: Tensor, keys: Tensor, values: Tensor) -> None:
    """Queries (N, Q, d_q), keys (N, K, d_k) and values (N, K, d_v), or a clear error."""
    shapes = tuple(tuple(t.shape) for t in (queries, keys, values))
    if any(t.ndim != 3 for t in (queries, keys, values)) or \
            not shapes[0][0] == shapes[1][0] == shapes[2][0] or shapes[1][1] != shapes[2][1]:
        raise ValueError(f"{name}: expected queries (N, Q, d_q), keys (N, K, d_k) and values "
                         f"(N, K, d_v), got {shapes[0]}, {shapes[1]} and {shapes[2]}")


class AdditiveAttention(Module):
    r"""Additive attention (Bahdanau, Cho & Bengio 2015): a one-hidden-layer score network.

    .. math::

        s_{qk} &= w_v^\top \tanh(W_q\, q + W_k\, k) \\
        \alpha_{q\cdot} &= \mathrm{masked\_softmax}(s_{q\cdot}) \\
        c_q &= \textstyle\sum_k \mathrm{dropout}(\alpha_{qk})\, v_k

    Queries and keys may have different sizes: each is projected to ``hidden_size`` first.

    Args:
        query_size: d_q.
        key_size: d_k.
        hidden_size: h, the width of the score network.
        dropout: the probability of dropping an attention weight (training only; the weights
            returned are those before dropout, as d2l's ``attention_weights``).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Attributes:
        W_q: ``Linear(query_size, hidden_size, bias=False)``.
        W_k: ``Linear(key_size, hidden_size, bias=False)``.
        w_v: ``Linear(hidden_size, 1, bias=False)``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> attention = tg.nn.AdditiveAttention(query_size=2, key_size=3, hidden_size=8)
        >>> q, k, v = tg.randn(4, 1, 2), tg.randn(4, 5, 3), tg.randn(4, 5, 6)
        >>> context, weights = attention(q, k, v, valid_lens=[5, 3, 2, 1])
        >>> context.shape, weights.shape, weights.numpy()[3, 0, 1:].tolist()
        ((4, 1, 6), (4, 1, 5), [0.0, 0.0, 0.0, 0.0])
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, dropout: float = 0.0,
                 *, device: str = "cpu", dtype=np.float32):
        self.W_q = Linear(query_size, hidden_size, bias=False, device=device, dtype=dtype)
        self.W_k = Linear(key_size, hidden_size, bias=False, device=device, dtype=dtype)
        self.w_v = Linear(hidden_size, 1, bias=False, device=device, dtype=dtype)
        self.dropout = float(dropout)

    def forward(self, queries: Tensor, keys: Tensor, values: Tensor,
                valid_lens=None) -> tuple[Tensor, Tensor]:
        """``(context (N, Q, d_v), weights (N, Q, K))``; ``valid_lens`` (N,) or (N, Q) as
        :func:`~tinygrad_rnn.nn.attention.masked_softmax`."""
        check_qkv("AdditiveAttention", queries, keys, values)
        (N, Q, _), K = queries.shape, keys.shape[1]
        q, k = self.W_q(queries), self.W_k(keys)  # (N, Q, h), (N, K, h)
        h = q.shape[2]
        features = (q.reshape(N, Q, 1, h) + k.reshape(N, 1, K, h)).tanh()  # (N, Q, K, h)
        scores = self.w_v(features).reshape(N, Q, K)
        weights = masked_softmax(scores, valid_lens)
        return F.dropout(weights, self.dropout, self.training) @ values, weights

    def extra_repr(self) -> str:
        return (f"{self.W_q.in_features}, {self.W_k.in_features}, {self.w_v.in_features}"
                + (f", dropout={self.dropout}" if self.dropout else ""))


class DotProductAttention(Module):
    r"""Dot-product attention (Luong, Pham & Manning 2015), scaled as in Vaswani et al. (2017).

    .. math::

        s_{qk} &= \frac{q^\top k}{\sqrt{d}} \quad (\text{or } q^\top k \text{ with }
                  \texttt{scaled=False}) \\
        \alpha_{q\cdot} &= \mathrm{masked\_softmax}(s_{q\cdot}) \\
        c_q &= \textstyle\sum_k \mathrm{dropout}(\alpha_{qk})\, v_k

    Queries and keys must have the same size d (no parameters).

    Args:
        scaled: divide the scores by :math:`\sqrt{d}` (keeps the softmax out of saturation
            when d is large).
        dropout: the probability of dropping an attention weight (training only; the weights
            returned are those before dropout).

    Example:
        >>> import tinygrad_rnn as tg
        >>> attention = tg.nn.DotProductAttention()
        >>> q, k, v = tg.randn(2, 3, 4), tg.randn(2, 5, 4), tg.randn(2, 5, 6)
        >>> context, weights = attention(q, k, v)  # every key kept
        >>> context.shape, weights.shape
        ((2, 3, 6), (2, 3, 5))
    """

    def __init__(self, scaled: bool = True, dropout: float = 0.0):
        self.scaled, self.dropout = bool(scaled), float(dropout)

    def forward(self, queries: Tensor, keys: Tensor, values: Tensor,
                valid_lens=None) -> tuple[Tensor, Tensor]:
        """``(context (N, Q, d_v), weights (N, Q, K))``; ``valid_lens`` (N,) or (N, Q) as
        :func:`~tinygrad_rnn.nn.attention.masked_softmax`."""
        check_qkv("DotProductAttention", queries, keys, values)
        d = queries.shape[2]
        if keys.shape[2] != d:
            raise ValueError(f"DotProductAttention: queries and keys need one size d, got "
                             f"{tuple(queries.shape)} and {tuple(keys.shape)}")
        scores = queries @ keys.transpose(1, 2)  # (N, Q, K)
        if self.scaled:
            scores = scores * (1 / math.sqrt(d))
        weights = masked_softmax(scores, valid_lens)
        return F.dropout(weights, self.dropout, self.training) @ values, weights

    def extra_repr(self) -> str:
        return f"scaled={self.scaled}" + (f", dropout={self.dropout}" if self.dropout else "")
