"""Truncated backpropagation through time: cut the graph every ``k`` steps.

Backpropagating through a whole long sequence keeps every step's arrays alive and makes one
update per sequence. Truncated BPTT (Williams & Peng 1990; Sutskever 2013) runs the recurrence
in chunks of ``k`` steps: forward ``k`` steps, backward through those ``k`` steps only, update,
and carry the hidden state on into the next chunk as a constant, *detached* from the graph that
made it. Chainer calls the cut ``unchain_backward``; here it is :func:`detach_state`.
The gradient therefore never crosses a cut: the loss of one chunk does not depend, as far as
backward can see, on anything computed in an earlier chunk.

``detach()`` leaves no trace of where the graph was cut: :func:`cut` detaches the same way and
remembers each cut (:func:`cut_origin`), so that a drawing (:mod:`tinygrad_rnn.viz`) shows it.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ..tensor import Tensor
from ..weak import WeakTensorDict

State = Any  # a Tensor, None, or tuples / lists / dicts of them (an LSTM's (h, c))


def detach_state(state: State) -> State:
    """The same structure with every tensor detached: "cut the graph here".

    Args:
        state: a tensor, ``None``, or (nested) tuples, named tuples, lists or dicts of them.

    Returns:
        The same structure, each tensor replaced by ``tensor.detach()`` (same data, no history).

    >>> import tinygrad_rnn as tg
    >>> h = tg.ones(2, requires_grad=True) * 2
    >>> h2, c2 = tg.nn.detach_state((h, h))
    >>> h2.requires_grad, h2.op, h2.tolist()
    (False, None, [2.0, 2.0])
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a named tuple
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {k: detach_state(v) for k, v in state.items()}
    raise TypeError(f"detach_state(): expected a tensor, None, or tuples/lists/dicts of them, "
                    f"got {type(state).__name__}")


def tbptt(step_fn: Callable[[Any, State], tuple[Tensor | None, State]], inputs: Iterable,
          state: State, k: int, on_chunk: Callable[[Tensor], Any] | None = None, *,
          optimizer=None, reduction: str = "mean") -> tuple[list[float], State]:
    """Run ``step_fn`` over ``inputs`` with the graph cut every ``k`` steps.

    For each chunk of ``k`` consecutive inputs (the last chunk may be shorter):

    1. forward: ``loss_t, state = step_fn(x_t, state)`` for each of its steps;
    2. the chunk's loss is the mean (or sum) of its steps' losses (``None`` losses, e.g. of
       warm-up steps, are left out; a chunk without any loss is not backpropagated);
    3. ``on_chunk(loss)`` does the backward pass and the update; with ``optimizer=`` instead,
       this is ``optimizer.zero_grad(); loss.backward(); optimizer.step()``;
    4. ``state = detach_state(state)``: the next chunk starts from the values, not the graph.

    The initial ``state`` is not detached, so a learned initial state is trained by the first
    chunk. This is Williams & Peng's TBPTT(k, k): backward every ``k`` steps, ``k`` steps deep.

    Args:
        step_fn: ``(x_t, state) -> (loss_t or None, new_state)``, one time step.
        inputs: the per-step inputs, in order: a list, a generator, a tensor (split along its
            first axis) or ``zip(xs, ys)`` to pair inputs with targets.
        state: the initial state (see :func:`detach_state` for the structures allowed).
        k: the number of steps per chunk (the truncation length).
        on_chunk: called with each chunk's loss; it must do the backward pass and the update
            (e.g. clip gradients between them).
        optimizer: used instead of ``on_chunk``: anything with ``zero_grad()`` and ``step()``.
        reduction: ``"mean"`` or ``"sum"`` of the step losses in a chunk.

    Returns:
        ``(losses, state)``: each backpropagated chunk's loss as a float, and the final state,
        detached, to carry into a following call.

    >>> import tinygrad_rnn as tg
    >>> tg.manual_seed(0)
    >>> W, U = tg.nn.Parameter(tg.randn(3, 4) * 0.5), tg.nn.Parameter(tg.randn(4, 4) * 0.5)
    >>> xs, ys = tg.randn(100, 2, 3), tg.randn(100, 2, 4)    # 100 steps, batch of 2
    >>> def step(xy, h):
    ...     x, y = xy
    ...     h = (x @ W + h @ U).tanh()
    ...     return tg.F.mse_loss(h, y), h
    >>> opt = tg.optim.SGD([W, U], lr=0.1)
    >>> losses, h = tg.nn.tbptt(step, zip(xs, ys), tg.zeros(2, 4), k=30, optimizer=opt)
    >>> len(losses), h.shape, h.requires_grad                # chunks of 30, 30, 30 and 10
    (4, (2, 4), False)
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"tbptt(): k must be a positive int, got {k!r}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"tbptt(): reduction must be 'mean' or 'sum', not {reduction!r}")
    if (on_chunk is None) == (optimizer is None):
        raise ValueError("tbptt(): pass exactly one of on_chunk (a function of the chunk's loss "
                         "that calls backward) and optimizer")
    if on_chunk is None:
        def on_chunk(loss: Tensor) -> None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    losses: list[float] = []
    step_losses: list[Tensor] = []
    t = -1
    for t, x in enumerate(inputs):
        loss_t, state = step_fn(x, state)
        if loss_t is not None:
            step_losses.append(loss_t)
        if (t + 1) % k == 0:
            end_chunk(step_losses, reduction, on_chunk, losses)
            state = detach_state(state)
    if (t + 1) % k != 0:  # a shorter last chunk
        end_chunk(step_losses, reduction, on_chunk, losses)
    return losses, detach_state(state)


def end_chunk(step_losses: list, reduction: str, on_chunk: Callable, losses: list) -> None:
    """Reduce one chunk's step losses, hand the loss to ``on_chunk``, record it, start anew."""
    if not step_losses:
        return
    loss = step_losses[0]
    for loss_t in step_losses[1:]:
        loss = loss + loss_t
    if reduction == "mean" and len(step_losses) > 1:
        loss = loss / len(step_losses)
    losses.append(float(loss.item()))
    step_losses.clear()
    on_chunk(loss)


# ---- cuts a drawing can show: remember where the graph was cut ---------------------------------
class Cut(NamedTuple):
    """Where a detached state came from: a weak link to the tensor and its scope."""

    origin: weakref.ref
    scope: tuple[str, ...]


#: Every tensor made by :func:`cut` that is still alive -> its :class:`Cut`.
CUTS: WeakTensorDict = WeakTensorDict()


def flatten(state: State) -> list[Tensor]:
    """The tensors in a state structure (tensor, tuples, lists, dicts), in order."""
    if isinstance(state, Tensor):
        return [state]
    if isinstance(state, (tuple, list)):
        return [t for s in state for t in flatten(s)]
    if isinstance(state, dict):
        return [t for s in state.values() for t in flatten(s)]
    return []


def cut(state: State) -> State:
    """:func:`detach_state`, remembering each cut so that drawings show it.

    Use it where truncated BPTT detaches the carried state. The link to the original tensor
    is weak: the earlier graph is freed as usual.

    >>> import tinygrad_rnn as tg
    >>> h = tg.ones(2, requires_grad=True) * 2.0
    >>> h2 = tg.nn.cut(h)
    >>> h2.requires_grad, tg.nn.cut_origin(h2) is h
    (False, True)
    """
    detached = detach_state(state)
    for old, new in zip(flatten(state), flatten(detached)):
        CUTS[new] = Cut(weakref.ref(old), old.scope)
    return detached


def cut_origin(t: Tensor) -> Tensor | None:
    """The tensor ``t`` was detached from by :func:`cut`, if it is still alive."""
    info = CUTS.get(t)
    return None if info is None else info.origin()
