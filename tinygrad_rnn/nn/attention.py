r"""Masked softmax: attention weights over the valid positions only, built from ops.

Attention turns scores into weights with a softmax over the keys; padded keys (beyond a
sequence's valid length) or forbidden ones (a mask) must get weight 0. :func:`masked_softmax`
does that without ``-inf``: the scores kept are shifted by their (constant) maximum, the others
are replaced by 0 before ``exp`` and their ``exp`` by 0 after it, so nothing overflows and no
gradient is ``NaN``. :mod:`tinygrad_rnn.nn.functional` (``tg.F``) exports it; the attention
modules (:mod:`tinygrad_rnn.nn.attention_layers`, :mod:`tinygrad_rnn.nn.multihead`) use it.
"""
from __future__ import annotations

import numpy as np

from ..combine import where
from ..tensor import Tensor
from .softmax import softmax


def keep_mask(scores: Tensor, valid_lens=None, mask=None):
    """The bool array (broadcastable to ``scores``) of the positions :func:`masked_softmax`
    keeps, or ``None`` when all are kept; see there for ``valid_lens`` and ``mask``."""
    xp, shape = scores.xp, scores.shape
    keep = None
    if valid_lens is not None:
        lens = valid_lens.data if isinstance(valid_lens, Tensor) else xp.asarray(valid_lens)
        k = lens.ndim
        if lens.dtype.kind not in "iu" or k < 1 or k >= len(shape) or lens.shape != shape[:k]:
            raise ValueError(f"masked_softmax(): valid_lens must hold integers of shape "
                             f"(N,) (one per batch row) or (N, Q) (one per query): a leading "
                             f"part of scores.shape[:-1] = {shape[:-1]}; got {lens.dtype} of "
                             f"shape {lens.shape}")
        if lens.size and (int(lens.min()) < 0 or int(lens.max()) > shape[-1]):
            raise ValueError(f"masked_softmax(): valid_lens must be in [0, {shape[-1]}] (the "
                             f"number of keys), got [{int(lens.min())}, {int(lens.max())}]")
        lens = lens.reshape(lens.shape + (1,) * (len(shape) - k))
        keep = xp.arange(shape[-1]) < lens
    if mask is not None:
        m = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
        if m.dtype != bool:
            raise TypeError(f"masked_softmax(): mask must be a bool array (True = keep), not "
                            f"{m.dtype}")
        try:
            fits = np.broadcast_shapes(m.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"masked_softmax(): mask of shape {m.shape} does not broadcast to "
                             f"scores {shape}")
        keep = m if keep is None else keep & m
    return keep


def masked_softmax(scores: Tensor, valid_lens=None, mask=None) -> Tensor:
    r"""Softmax over the last axis of ``scores`` that gives weight 0 to the positions left out.

    .. math::

        \alpha_{j} = \frac{\mathbb{1}[j \text{ kept}] \, \exp(s_j - m)}
                          {\sum_{j' \text{ kept}} \exp(s_{j'} - m)},
        \qquad m = \max_{j \text{ kept}} s_j \text{ (a constant)}

    A row with no position kept gives zeros (not ``NaN``) and a zero gradient; the scores
    left out get a zero gradient too, whatever their value (even ``inf`` or ``NaN``).

    Args:
        scores: (N, ..., K), K keys per row.
        valid_lens: integers in [0, K], as d2l's: shape (N,) keeps the first ``valid_lens[n]``
            keys in every row of batch element ``n``; shape (N, Q) (scores (N, Q, K)) one
            length per query; generally any leading part of ``scores.shape[:-1]``.
        mask: a bool array broadcastable to ``scores``, **True = keep** (the opposite of
            ``torch.nn.MultiheadAttention``'s ``key_padding_mask``, where True means ignore).
            With ``valid_lens`` too, a position is kept when both keep it.

    Returns:
        The weights, the shape of ``scores``; each row sums to 1 over its kept positions (0
        for a row with none). Without ``valid_lens`` and ``mask``: :func:`softmax`.

    Example:
        >>> import tinygrad_rnn as tg
        >>> w = tg.F.masked_softmax(tg.zeros(2, 1, 4), valid_lens=[2, 0])
        >>> w.numpy().tolist()
        [[[0.5, 0.5, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0.0]]]
    """
    keep = keep_mask(scores, valid_lens, mask)
    if keep is None or scores.size == 0:
        return softmax(scores)
    xp = scores.xp
    keep = xp.broadcast_to(keep, scores.shape)
    m = xp.where(keep, scores.data, -xp.inf).max(axis=-1, keepdims=True)
    none_kept = ~keep.any(axis=-1, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0).astype(scores.dtype)
    e = where(keep, where(keep, scores - Tensor(m), 0.0).exp(), 0.0)
    return e / (e.sum(axis=-1, keepdims=True) + Tensor(none_kept.astype(scores.dtype)))
