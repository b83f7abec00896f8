"""Where a decoder looked: the attention weights of a decoded sequence as a heatmap.

As the gradient-flow figures (:mod:`tinygrad_rnn.viz.flow`), it uses matplotlib's object API:
no pyplot, no global backend; save it with ``fig.savefig(path)`` (Jupyter shows it as it is).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..tensor import Tensor
from .flow import new_axes


def attention_heatmap(weights, source_tokens: Sequence, target_tokens: Sequence, ax=None):
    """A target × source heatmap of attention weights, each axis labelled with its tokens.

    Args:
        weights: (T, S): row ``t`` holds the weights over the source when the decoder produced
            target token ``t`` (a :class:`~tinygrad_rnn.nn.beam.Decoded`'s ``weights``, or one
            row of ``Seq2Seq.attention_weights``); a Tensor or an array.
        source_tokens: the S labels of the columns (the source tokens, as strings or ids).
        target_tokens: the T labels of the rows (the target tokens).
        ax: the matplotlib axes to draw in (a new figure when ``None``).

    Returns:
        The ``matplotlib.figure.Figure`` (that of ``ax`` when given).

    Example:
        >>> import numpy as np, tinygrad_rnn as tg
        >>> fig = tg.viz.attention_heatmap(np.eye(3)[::-1], ["a", "b", "c"], ["c", "b", "a"])
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['a', 'b', 'c']
    """
    w = weights.numpy() if isinstance(weights, Tensor) else np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(f"attention_heatmap(): weights must be (T, S) = ({len(target_tokens)}, "
                         f"{len(source_tokens)}) for {len(target_tokens)} target and "
                         f"{len(source_tokens)} source tokens, got shape {w.shape}")
    fig, ax = new_axes(ax, size=(1.0 + 0.45 * w.shape[1], 1.0 + 0.45 * w.shape[0]))
    image = ax.imshow(w, cmap="Reds", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(range(w.shape[1]), [str(s) for s in source_tokens], rotation=90)
    ax.set_yticks(range(w.shape[0]), [str(t) for t in target_tokens])
    ax.set_xlabel("source")
    ax.set_ylabel("target")
    fig.colorbar(image, ax=ax, label="attention weight")
    return fig
