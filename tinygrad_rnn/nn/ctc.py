"""Connectionist temporal classification: ``ctc_loss``, built only from primitive ops, and decoding.

Graves, Fernández, Gomez & Schmidhuber, "Connectionist Temporal Classification", ICML 2006,
Sec. 4.1 (the forward variables) and Sec. 3.2 (decoding: best path, prefix search). The
gradient of the loss is whatever the ops' chain rule gives: no hand-written backward, so the
drawn graph shows the whole recursion, one cluster per frame (each frame is scoped as a time
step, ``t<k>``). The decoders work on host arrays and record no graph. ``F.logsumexp`` gives
``-inf`` with a zero gradient where every term is ``-inf`` (positions no alignment reaches), so
neither the loss nor its gradient meets ``log(0)``.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .. import backend
from ..autograd import scope
from ..combine import concat, stack, where
from ..scopes import step_name
from ..tensor import Tensor
from .softmax import logsumexp

REDUCTIONS = ("mean", "sum", "none")


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    r"""CTC loss: minus the log-probability of every alignment that collapses to the target.

    As ``torch.nn.functional.ctc_loss``. For sequence ``n`` with target
    :math:`l = (l_1..l_S)`, the extended label :math:`l'` puts a blank around every label
    (:math:`l' = (b, l_1, b, l_2, .., l_S, b)`, :math:`2S + 1` positions) and the forward
    variables :math:`\alpha_t(s) = \log` (probability of the prefixes that end at :math:`l'_s`
    at frame :math:`t`), with :math:`y_t(k)` = ``log_probs[t, n, k]``, obey

    .. math::

        \alpha_0(0) &= y_0(b), \quad \alpha_0(1) = y_0(l_1), \quad \alpha_0(s) = -\infty
        \text{ for } s \ge 2 \
        \alpha_t(s) &= y_t(l'_s) + \operatorname{logsumexp}\big(\alpha_{t-1}(s),\
            \alpha_{t-1}(s-1),\ \alpha_{t-1}(s-2)\,[l'_s \ne b \text{ and } l'_s \ne l'_{s-2}]\big)
        \
        \mathcal{L}_n &= -\operatorname{logsumexp}\big(\alpha_{T_n-1}(2S),\
            \alpha_{T_n-1}(2S-1)\big)

    (a term outside the sequence, or whose bracket is false, is :math:`-\infty`). The recursion
    runs over all sequences and positions at once, one Python step per frame; sequence ``n``
    is read at its own last frame :math:`T_n - 1`. An alignment that cannot exist (a target
    longer than the input, counting one blank between repeated labels) has
    :math:`\alpha = -\infty` at the end, so its loss is ``inf`` as in torch, with a zero
    gradient (torch's is ``nan``); ``zero_infinity=True`` makes such losses 0.

    The gradient is the true derivative with respect to ``log_probs``. torch's differs from it
    by ``exp(log_probs)`` (times the upstream gradient) on every frame in the input length: it
    assumes ``log_probs`` came from ``log_softmax`` and returns the gradient of the logits
    (pytorch/pytorch#52241). Through ``log_softmax`` both give the same gradient of the logits.

    Args:
        log_probs: (T, N, C) log-probabilities (already ``log_softmax``-ed over C).
        targets: integer labels in ``[0, C)``, never ``blank``: padded (N, S_max) with sequence
            ``n`` in ``targets[n, :target_lengths[n]]``, or 1-D, all targets concatenated
            (length ``sum(target_lengths)``). A tensor, an array or a nested list.
        input_lengths: (N,) frames of each sequence, each in ``[0, T]``.
        target_lengths: (N,) labels of each target, each ``>= 0``.
        blank: the class index of the blank.
        reduction: ``"none"`` (N,) losses, ``"sum"``, or ``"mean"``: each loss divided by its
            target length (at least 1), then averaged over the batch.
        zero_infinity: replace infinite losses (and their gradients) by zero.

    Returns:
        The loss: a scalar, or (N,) for ``reduction="none"``.

    >>> import tinygrad_rnn as tg
    >>> log_probs = tg.F.log_softmax(tg.zeros(3, 1, 3, dtype=tg.float64))  # p = 1/3 everywhere
    >>> loss = tg.F.ctc_loss(log_probs, [[1, 2]], [3], [2], reduction="sum")
    >>> round(loss.item(), 6)  # 5 alignments of "12" in 3 frames: -log(5 / 27)
    1.686399
    """
    if not isinstance(log_probs, Tensor) or log_probs.ndim != 3:
        raise ValueError(f"ctc_loss(): log_probs must be a (T, N, C) tensor, got shape "
                         f"{getattr(log_probs, 'shape', type(log_probs).__name__)}")
    if log_probs.dtype.kind != "f":
        raise TypeError(f"ctc_loss(): log_probs must be floating point, not {log_probs.dtype}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"ctc_loss(): reduction must be 'mean', 'sum' or 'none', not "
                         f"{reduction!r}")
    frames, n, classes = log_probs.shape
    if frames == 0 or n == 0:
        raise ValueError(f"ctc_loss(): log_probs has no time steps or no sequences (shape "
                         f"{log_probs.shape})")
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss(): blank must be in [0, {classes}), got {blank}")
    in_len = as_lengths(input_lengths, n, "input_lengths")
    tgt_len = as_lengths(target_lengths, n, "target_lengths")
    if (in_len > frames).any():
        raise ValueError(f"ctc_loss(): input_lengths must be at most T = {frames}, got "
                         f"{in_len.tolist()}")
    labels = padded_targets(targets, tgt_len, n, classes, blank)
    xp, neg_inf = log_probs.xp, float("-inf")

    # the extended labels l' (N, L) and where the skip from s - 2 is allowed
    width = 2 * labels.shape[1] + 1
    ext = np.full((n, width), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = np.zeros((n, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    rows = np.arange(n)
    # y_t(l'_s) for every frame (T, N, L); frames past a sequence's end read 0, not padding
    emit = log_probs[:, rows[:, None], ext]
    inside = (np.arange(frames)[:, None] < in_len[None, :])[:, :, None]
    emit = where(xp.asarray(inside), emit, 0.0)

    with scope(step_name(0)):
        alpha = where(xp.asarray(np.arange(width) < 2), emit[0], neg_inf)
    alphas, skip = [alpha], xp.asarray(skip) if skip.any() else None
    for t in range(1, int(in_len.max())):
        with scope(step_name(t)):
            terms = [alpha, shift_right(alpha, 1)]
            if skip is not None:
                terms.append(where(skip, shift_right(alpha, 2), neg_inf))
            alpha = logsumexp(stack(terms), axis=0) + emit[t]
        alphas.append(alpha)

    # each sequence's alpha at its own last frame, at positions 2S and 2S - 1
    last = stack(alphas)[np.maximum(in_len - 1, 0), rows]  # (N, L)
    ends = np.stack([2 * tgt_len, np.maximum(2 * tgt_len - 1, 0)], axis=1)
    picked = where(xp.asarray(np.stack([tgt_len >= 0, tgt_len > 0], axis=1)),
                   last[rows[:, None], ends], neg_inf)
    log_likelihood = logsumexp(picked, axis=1)
    if (in_len == 0).any():  # no frames: probability 1 for an empty target, else 0
        empty = np.where(tgt_len == 0, 0.0, -np.inf).astype(log_probs.dtype)
        log_likelihood = where(xp.asarray(in_len == 0), Tensor(xp.asarray(empty)),
                               log_likelihood)
    loss = -log_likelihood
    if zero_infinity:
        loss = where(xp.isinf(loss.data), 0.0, loss)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    scale = xp.asarray(np.maximum(tgt_len, 1).astype(log_probs.dtype))
    return (loss / Tensor(scale)).mean()


def ctc_greedy_decode(log_probs, input_lengths=None, blank: int = 0) -> list[list[int]]:
    """Best-path decoding: the likeliest class at every frame, repeats merged, blanks removed.

    Graves et al. (2006), Sec. 3.2: the labelling of the single most probable path. It is not
    always the most probable labelling (:func:`ctc_beam_search` sums over paths).

    Args:
        log_probs: (T, N, C) log-probabilities (or probabilities: only the argmax is read), a
            tensor or an array, laid out as for :func:`ctc_loss`.
        input_lengths: (N,) frames of each sequence (``None``: all T).
        blank: the class index of the blank.

    Returns:
        N lists of labels.

    >>> import numpy as np
    >>> frames = np.log([[.6, .4], [.1, .9], [.2, .8], [.7, .3], [.1, .9]])  # blank, 1
    >>> ctc_greedy_decode(frames[:, None, :])  # argmax path 0 1 1 0 1 -> 1 1
    [[1, 1]]
    """
    lp, lengths = decoder_input(log_probs, input_lengths, blank, "ctc_greedy_decode")
    out = []
    for n, length in enumerate(lengths):
        best = lp[:length, n].argmax(axis=-1)
        changed = np.diff(best, prepend=-1) != 0
        out.append([int(k) for k in best[changed] if k != blank])
    return out


def ctc_beam_search(log_probs, input_lengths=None, beam_width: int = 8,
                    blank: int = 0) -> list[list[int]]:
    r"""Prefix beam search: the likeliest labelling among the ``beam_width`` best prefixes.

    Each prefix :math:`\ell` keeps two probabilities over the frames read so far: of the paths
    that collapse to :math:`\ell` and end in a blank, :math:`p_b`, or in its last label,
    :math:`p_{nb}`. At frame :math:`t`, with :math:`y_t(k)` the probability of class :math:`k`,
    a blank keeps the prefix, giving :math:`(p_b + p_{nb})\,y_t(b)` to its new :math:`p_b`; its
    last label again keeps it, giving :math:`p_{nb}\,y_t(\ell_{-1})` to its new :math:`p_{nb}`;
    a label :math:`k` extends it, giving :math:`(p_b + p_{nb})\,y_t(k)` to the new
    :math:`p_{nb}` of :math:`\ell k`, or only :math:`p_b\,y_t(k)` when :math:`k` repeats the
    last label (a repeat needs a blank between). What reaches one prefix adds up (in logs).
    The ``beam_width`` prefixes with the largest :math:`p_b + p_{nb}` go on to the next frame.
    With a beam as wide as the number of prefixes nothing is pruned and the result is the most
    probable labelling, :math:`\arg\max_\ell p(\ell \mid x)` (Graves et al. 2006, Sec. 3.2;
    Hannun et al. 2014, "First-pass large vocabulary continuous speech recognition").

    Args:
        log_probs: (T, N, C) log-probabilities, a tensor or an array, as for :func:`ctc_loss`.
        input_lengths: (N,) frames of each sequence (``None``: all T).
        beam_width: how many prefixes survive each frame (at least 1).
        blank: the class index of the blank.

    Returns:
        N lists of labels.

    >>> import numpy as np
    >>> frames = np.log([[.6, .4], [.6, .4], [.6, .4]])  # best path: all blanks
    >>> ctc_greedy_decode(frames[:, None, :]), ctc_beam_search(frames[:, None, :])
    ([[]], [[1]])
    """
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"ctc_beam_search(): beam_width must be a positive integer, got "
                         f"{beam_width!r}")
    lp, lengths = decoder_input(log_probs, input_lengths, blank, "ctc_beam_search")
    labels = [k for k in range(lp.shape[2]) if k != blank]
    out = []
    for n, length in enumerate(lengths):
        beams = {(): (0.0, -np.inf)}  # prefix -> (log p_b, log p_nb)
        for y in lp[:length, n]:
            grown = defaultdict(lambda: [-np.inf, -np.inf])
            for prefix, (pb, pnb) in beams.items():
                total = np.logaddexp(pb, pnb)
                stay = grown[prefix]
                stay[0] = np.logaddexp(stay[0], total + y[blank])
                if prefix:
                    stay[1] = np.logaddexp(stay[1], pnb + y[prefix[-1]])
                for k in labels:
                    longer = grown[prefix + (k,)]
                    before = pb if prefix and k == prefix[-1] else total
                    longer[1] = np.logaddexp(longer[1], before + y[k])
            ranked = sorted(grown.items(), key=lambda kv: -np.logaddexp(*kv[1]))
            beams = dict(ranked[:beam_width])
        best = max(beams.items(), key=lambda kv: np.logaddexp(*kv[1]))[0]
        out.append(list(best))
    return out


def decoder_input(log_probs, input_lengths, blank: int, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """A decoder's (T, N, C) host float64 array and its (N,) lengths, checked."""
    data = log_probs.data if isinstance(log_probs, Tensor) else log_probs
    data = backend.to_numpy(data) if backend.is_cupy_array(data) else np.asarray(data)
    if data.ndim != 3 or data.dtype.kind != "f":
        raise ValueError(f"{fn}(): log_probs must be a floating (T, N, C) array, got shape "
                         f"{data.shape} of {data.dtype}")
    frames, n, classes = data.shape
    if not 0 <= blank < classes:
        raise ValueError(f"{fn}(): blank must be in [0, {classes}), got {blank}")
    lengths = (np.full(n, frames, dtype=np.int64) if input_lengths is None
               else as_lengths(input_lengths, n, "input_lengths", fn))
    if (lengths > frames).any():
        raise ValueError(f"{fn}(): input_lengths must be at most T = {frames}, got "
                         f"{lengths.tolist()}")
    return data.astype(np.float64), lengths


def shift_right(alpha: Tensor, k: int) -> Tensor:
    """``alpha[:, s - k]`` at position ``s`` (``-inf`` for ``s < k``): the step from ``s - k``."""
    n, width = alpha.shape
    pad = Tensor(alpha.xp.full((n, min(k, width)), -np.inf, dtype=alpha.dtype))
    if k >= width:
        return pad
    return concat([pad, alpha[:, :width - k]], axis=1)


def as_lengths(lengths, n: int, name: str, fn: str = "ctc_loss") -> np.ndarray:
    """``lengths`` (a sequence, array or tensor) as a host int64 array of shape (N,)."""
    data = lengths.data if isinstance(lengths, Tensor) else lengths
    data = backend.to_numpy(data) if backend.is_cupy_array(data) else np.asarray(data)
    if data.ndim == 0:
        data = data.reshape(1)
    if data.shape != (n,) or (data.size and data.dtype.kind not in "iu"):
        raise ValueError(f"{fn}(): {name} must be {n} integers (one per sequence), got "
                         f"shape {data.shape} of {data.dtype}")
    data = data.astype(np.int64)
    if (data < 0).any():
        raise ValueError(f"{fn}(): {name} must not be negative, got {data.tolist()}")
    return data


def padded_targets(targets, lengths: np.ndarray, n: int, classes: int, blank: int) -> np.ndarray:
    """The targets as a host (N, max length) int64 array, padded with ``blank``."""
    data = targets.data if isinstance(targets, Tensor) else targets
    data = backend.to_numpy(data) if backend.is_cupy_array(data) else np.asarray(data)
    if data.size and data.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss(): targets must hold integer labels, not {data.dtype}")
    width = int(lengths.max()) if n else 0
    out = np.full((n, width), blank, dtype=np.int64)
    if data.ndim == 2:
        if data.shape[0] != n or data.shape[1] < width:
            raise ValueError(f"ctc_loss(): padded targets must be (N={n}, S >= {width}), got "
                             f"shape {data.shape}")
        for i, k in enumerate(lengths):
            out[i, :k] = data[i, :k]
    elif data.ndim == 1:
        if data.shape[0] != int(lengths.sum()):
            raise ValueError(f"ctc_loss(): concatenated 1-D targets must have "
                             f"sum(target_lengths) = {int(lengths.sum())} labels, got "
                             f"{data.shape[0]}")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        for i, (s, k) in enumerate(zip(starts, lengths)):
            out[i, :k] = data[s:s + k]
    else:
        raise ValueError(f"ctc_loss(): targets must be (N, S) or 1-D, got shape {data.shape}")
    used = np.arange(width)[None, :] < lengths[:, None]
    bad = used & ((out < 0) | (out >= classes) | (out == blank))
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise ValueError(f"ctc_loss(): target labels must be in [0, {classes}) and differ from "
                         f"blank={blank}; sequence {i} has {int(out[i, j])} at position {j}")
    return out
