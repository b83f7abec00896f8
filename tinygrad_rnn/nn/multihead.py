r"""``MultiheadAttention``, as ``torch.nn.MultiheadAttention``: several scaled dot-product
attentions side by side, each over its own slice of learned projections (Vaswani et al. 2017)."""
from __future__ import annotations

import math

import numpy as np

from ..creation import check_size, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .attention import masked_softmax
from .layers import Linear
from .module import Module, Parameter


class MultiheadAttention(Module):
    r"""Multi-head attention with PyTorch's signature, parameter names and initialisation.

    .. math::

        Q_i = q W_{q,i}^\top + b_{q,i}, \quad K_i &= k W_{k,i}^\top + b_{k,i}, \quad
        V_i = v W_{v,i}^\top + b_{v,i} \qquad (i = 1 \dots h,\ d = E / h) \\
        A_i &= \mathrm{masked\_softmax}\Big(\frac{Q_i K_i^\top}{\sqrt{d}} + M\Big) \\
        \mathrm{out} &= [\,\mathrm{dropout}(A_1) V_1, \dots, \mathrm{dropout}(A_h) V_h\,]\,
                        W_o^\top + b_o

    where :math:`W_{q,i}, W_{k,i}, W_{v,i}` are row blocks of ``in_proj_weight`` (or of
    ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` when ``kdim`` or ``vdim`` differ
    from ``embed_dim``, as in torch), and :math:`M` holds the float masks.

    One deliberate difference: a query that may attend to no key at all (every key masked)
    gets zero weights and a zero context, where torch gives ``NaN``.

    Args:
        embed_dim: E, the size of the queries and of the output.
        num_heads: h; must divide E.
        dropout: the probability of dropping an attention weight (training only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias`` (initialised to zeros, as torch).
        kdim: the size of the keys (default E).
        vdim: the size of the values (default E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).
        device: where the parameters live.
        dtype: the parameters' dtype.

    Attributes:
        in_proj_weight: (3E, E), Q, K, V projections stacked (``None`` when kdim or vdim
            differ: then ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
            ``v_proj_weight`` (E, vdim)).
        in_proj_bias: (3E,) or ``None``.
        out_proj: ``Linear(E, E, bias=bias)``.

    Example:
        >>> import tinygrad_rnn as tg
        >>> mha = tg.nn.MultiheadAttention(8, num_heads=2, batch_first=True)
        >>> x = tg.randn(3, 5, 8)                           # (N, L, E)
        >>> pad = tg.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] * 5])
        >>> out, weights = mha(x, x, x, key_padding_mask=pad)  # True = ignore that key
        >>> out.shape, weights.shape, weights.numpy()[1, :, 3:].max()
        ((3, 5, 8), (3, 5, 5), np.float32(0.0))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 *, device: str = "cpu", dtype=np.float32):
        E = self.embed_dim = check_size("MultiheadAttention", "embed_dim", embed_dim, least=1)
        self.num_heads = check_size("MultiheadAttention", "num_heads", num_heads, least=1)
        if E % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {E} must be divisible by "
                             f"num_heads {self.num_heads}")
        self.kdim = E if kdim is None else check_size("MultiheadAttention", "kdim", kdim, 1)
        self.vdim = E if vdim is None else check_size("MultiheadAttention", "vdim", vdim, 1)
        self.head_dim = E // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        new = {"device": device, "dtype": dtype}
        if self.kdim == self.vdim == E:
            self.in_proj_weight = Parameter(zeros(3 * E, E, **new))
        else:
            self.q_proj_weight = Parameter(zeros(E, E, **new))
            self.k_proj_weight = Parameter(zeros(E, self.kdim, **new))
            self.v_proj_weight = Parameter(zeros(E, self.vdim, **new))
            self.in_proj_weight = None
        self.in_proj_bias = Parameter(zeros(3 * E, **new)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, **new)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """As torch: Glorot-uniform projections (each of q, k, v on its own when they are
        separate), zero biases; ``out_proj.weight`` keeps ``Linear``'s initialisation."""
        separate = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight) \
            if self.in_proj_weight is None else (self.in_proj_weight,)
        for w in separate:
            init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def projections(self) -> list[tuple[Tensor, Tensor | None]]:
        """``(weight, bias)`` of the query, key and value projections (row blocks of the
        stacked ``in_proj_weight`` and ``in_proj_bias``)."""
        E = self.embed_dim
        b = self.in_proj_bias
        biases = [None] * 3 if b is None else [b[:E], b[E:2 * E], b[2 * E:]]
        if self.in_proj_weight is None:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        else:
            w = self.in_proj_weight
            weights = [w[:E], w[E:2 * E], w[2 * E:]]
        return list(zip(weights, biases))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True) -> tuple[Tensor, Tensor | None]:
        """Attend from every query position to every key position.

        Args:
            query: (L, N, E) (or (N, L, E) with ``batch_first``; or (L, E) unbatched).
            key: (S, N, kdim), laid out as ``query``.
            value: (S, N, vdim), laid out as ``query``.
            key_padding_mask: (N, S) (or (S,) unbatched): bool, **True = ignore this key**
                (torch's convention), or float, added to the scores.
            need_weights: return the attention weights (else ``None``).
            attn_mask: (L, S) or (N * num_heads, L, S): bool, True = not allowed to attend,
                or float, added to the scores.
            average_attn_weights: average the weights over the heads.

        Returns:
            ``(attn_output, attn_weights)``: attn_output laid out as ``query`` with E
            features; attn_weights (N, L, S) (or (N, num_heads, L, S) without averaging; the
            batch axis dropped for unbatched inputs), after dropout, as torch.
        """
        unbatched = query.ndim == 2
        if unbatched and (key.ndim, value.ndim) != (2, 2):
            raise ValueError(f"MultiheadAttention: an unbatched query (L, E) needs unbatched key "
                             f"and value (S, ·), got shapes {tuple(key.shape)} and "
                             f"{tuple(value.shape)}")
        if unbatched:
            query, key, value = (t.reshape(t.shape[0], 1, t.shape[1]) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = as_array(key_padding_mask, query).reshape(1, -1)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        self.check_shapes(query, key, value)
        (L, N, _), h, d = query.shape, self.num_heads, self.head_dim
        q, k, v = (F.linear(x, w, b).reshape(x.shape[0], N, h, d).transpose((1, 2, 0, 3))
                   for x, (w, b) in zip((query, key, value), self.projections()))  # (N, h, ·, d)
        scores = (q @ k.transpose(2, 3)) * (1 / math.sqrt(d))  # (N, h, L, S)
        scores, keep = self.apply_masks(scores, key_padding_mask, attn_mask)
        weights = F.dropout(masked_softmax(scores, mask=keep), self.dropout, self.training)
        out = (weights @ v).transpose((2, 0, 1, 3)).reshape(L, N, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out.reshape(L, self.embed_dim)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, weights[0] if unbatched else weights

    def check_shapes(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        """(L, N, E), (S, N, kdim), (S, N, vdim) (after ``batch_first``), or a clear error."""
        shapes = [tuple(t.shape) for t in (query, key, value)]
        ok = all(len(s) == 3 for s in shapes) and shapes[0][2] == self.embed_dim and \
            shapes[1][2] == self.kdim and shapes[2][2] == self.vdim and \
            shapes[0][1] == shapes[1][1] == shapes[2][1] and shapes[1][0] == shapes[2][0]
        if not ok:
            layout = "(N, L, ·)" if self.batch_first else "(L, N, ·)"
            raise ValueError(f"MultiheadAttention: expected query, key and value laid out as "
                             f"{layout} with {self.embed_dim}, {self.kdim} and {self.vdim} "
                             f"features and one length S for key and value; got {shapes}"
                             + " (batch first)" * self.batch_first)

    def apply_masks(self, scores: Tensor, key_padding_mask, attn_mask) -> tuple:
        """``(scores, keep)``: the float masks added to ``scores`` (N, h, L, S), and the bool
        array of the pairs that may attend (``None``: all), from the bool masks and from the
        ``-inf`` entries of the float ones."""
        N, h, L, S = scores.shape
        keep = None
        for mask, name, shapes in (
                (key_padding_mask, "key_padding_mask", {(N, S): (N, 1, 1, S)}),
                (attn_mask, "attn_mask", {(L, S): (L, S), (N * h, L, S): (N, h, L, S)})):
            if mask is None:
                continue
            m = as_array(mask, scores)
            if tuple(m.shape) not in shapes:
                raise ValueError(f"MultiheadAttention: {name} must have shape "
                                 f"{' or '.join(map(str, shapes))}, got {tuple(m.shape)}")
            m = m.reshape(shapes[tuple(m.shape)])
            if m.dtype == bool:  # True = may not attend
                allowed = ~m
            else:
                scores, allowed = scores + Tensor(m.astype(scores.dtype)), m > -np.inf
            keep = allowed if keep is None else keep & allowed
        return scores, keep

    def extra_repr(self) -> str:
        extra = f"{self.embed_dim}, num_heads={self.num_heads}"
        for key, default in (("dropout", 0.0), ("kdim", self.embed_dim),
                             ("vdim", self.embed_dim), ("batch_first", False)):
            if getattr(self, key) != default:
                extra += f", {key}={getattr(self, key)}"
        return extra


def as_array(mask, like: Tensor):
    """A mask as a raw array on the device of ``like``."""
    return mask.data if isinstance(mask, Tensor) else like.xp.asarray(mask)
