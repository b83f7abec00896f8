"""What every fused recurrent step shares: its sequence (:class:`StepSequence`) and the op
base :class:`FusedStep`."""
from __future__ import annotations

import weakref

import numpy as np

from ..autograd import Scatter, state
from ..backend import get_array_module, sum_leading
from ..ops.base import Op
from .pool import ArrayPool, _give_back


def gate_view(a, gates: int):
    """``a`` (..., N, gates * H) as a view (..., gates, N, H): gate k is ``a[..., kH:(k+1)H]``.

    The projections and weights of a layer hold the gates side by side in each row, as torch
    stores them; the fused steps keep each gate as one contiguous (N, H) block, on which NumPy
    runs an elementwise op several times faster than on the gate's column slice of the rows when
    H is small (32).
    """
    *lead, N, width = a.shape
    return a.reshape(*lead, N, gates, width // gates).swapaxes(-3, -2)


def copy_blocks(dst, src) -> None:
    """``dst[...] = src`` for two arrays of one shape whose last axis is contiguous: a gate
    layout and the rows layout of the same numbers (:func:`gate_view`).

    NumPy copies such a transposition with one inner loop per last-axis row, 32 numbers when
    H = 32; viewed as single elements of H numbers each, the rows move in one loop (d2l's
    inputs, (32, 1024, 4 x 32): 4.6 -> 2.0 ms). Elsewhere than NumPy, a plain assignment.
    """
    width = dst.shape[-1] * dst.itemsize if dst.ndim else 0
    if width and dst.__class__ is src.__class__ is np.ndarray and dst.dtype == src.dtype \
            and dst.strides[-1] == src.strides[-1] == dst.itemsize:
        block = np.dtype((np.void, width))
        np.copyto(dst.view(block)[..., 0], src.view(block)[..., 0])
    else:
        dst[...] = src


class StepSequence:
    """What the fused steps of one layer and direction share: order, arrays, backward passes.

    Steps ``first .. first + steps - 1`` run in order (backwards in time when ``reverse``); step
    t uses row ``r = t - first`` of the sequence's arrays, and its state is slot ``r`` (input)
    and ``r + 1`` (output) of ``states``, one more slot than steps (the other way round when
    ``reverse``). A subclass makes the arrays (``allocate``); one whose ``states`` holds more than h
    (the LSTM's) also says how a slot is viewed (``view``, ``view_h``). Arrays come from the layer's :class:`ArrayPool` when there is one, and
    go back to it when the passes are done with them or the sequence is forgotten.

    In the backward pass the step that runs last (the first one forward, ``first_row``) returns
    the gradients that all steps share, summed over the steps the pass reached: a pass that
    starts in the middle of the sequence reaches fewer of them, and ``state.backward_pass`` tells
    one pass from the next.
    """

    forward_only: tuple = ()   # names of arrays given back after the last step forward
    backward_only: tuple = ()  # names of arrays given back after the last step backward

    def __init__(self, steps: int, reverse: bool = False, first: int = 0,
                 pool: ArrayPool | None = None):
        self.steps, self.reverse, self.first, self.pool = steps, reverse, first, pool
        self.arrays: dict = {}         # what goes back to the pool when this sequence dies
        for name in self.forward_only + self.backward_only:
            setattr(self, name, None)  # made by allocate() or when first needed
        self.outputs = []              # the arrays the steps returned, in the order they ran
        self.states = None
        self.pass_id = None            # the backward pass now running through the steps
        self.reached = 0               # its first row (the latest step it reached)
        self.out_grad = None           # the layer output's gradient (T, N, H), handed over by
        self.out_pass = None           # SequenceOutput in backward pass out_pass
        self.first_row = steps - 1 if reverse else 0  # runs first forward, last backward

    def slots(self, r: int) -> tuple:
        """Indices into ``states`` of the state that step row ``r`` reads and writes."""
        return (r + 1, r) if self.reverse else (r, r + 1)

    def start(self, t: int, state):
        """Row and state views of step ``t`` (steps come in order); copies a new ``state`` in."""
        outputs = self.outputs
        taken, r = len(outputs), t - self.first
        if taken >= self.steps or r != (self.steps - 1 - taken if self.reverse else taken):
            order = self.steps - 1 - taken if self.reverse else taken
            raise ValueError(f"step t={t} is out of order in its sequence (expected "
                             f"t={self.first + order} of steps {self.first}.."
                             f"{self.first + self.steps - 1}, "
                             f"{'backwards' if self.reverse else 'forwards'})")
        if self.states is None:
            self.allocate(get_array_module(state), state)
            if self.pool is not None:
                weakref.finalize(self, _give_back, self.pool, self.arrays)
        into, out = (r + 1, r) if self.reverse else (r, r + 1)  # self.slots(r), inlined
        if not (taken and state is outputs[-1]):  # not the previous step's output: copy in
            self.view(into)[...] = state
            state = self.view(into)
        out = self.view(out)
        outputs.append(out)
        return r, state, out

    def allocate(self, xp, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def contiguous_weights(self, r: int, w, layout=None):
        """The recurrent weights ``w`` (``layout(w)`` when given) as one C-contiguous array,
        copied at the sequence's first step and multiplied by at every step.

        A layer hands its steps the transposed view :math:`W_{hh}^T`, and BLAS multiplies by a
        transposed view up to 1.5x slower than by the same numbers in C order (a (32, 256) x
        (256, 256) product: 74 against 50 us). The copy holds ``w`` as it was at the first
        step, so every step must pass the same ``w`` (a layer does).
        """
        if r == self.first_row:
            a = w if layout is None else layout(w)
            self.w = w
            self.w_contiguous = self.new(get_array_module(a), "w_contiguous", a.shape, a.dtype)
            self.w_contiguous[...] = a
        elif w is not self.w:
            raise ValueError(f"the steps of one {type(self).__name__} must share w")
        return self.w_contiguous

    def view(self, slot: int):
        """The state in ``slot``: ``states[slot]`` where ``states`` (T + 1, N, H) holds h only
        (GRU, RNN); a sequence that keeps more (the LSTM's h and c) overrides it."""
        return self.states[slot]

    def new(self, xp, name: str, shape: tuple, dtype):
        """An array for this sequence, from the pool when there is one."""
        a = xp.empty(shape, dtype=dtype) if self.pool is None else self.pool.take(xp, shape, dtype)
        self.arrays[name] = a
        return a

    def give_back(self, names: tuple) -> None:
        """Return the arrays ``names`` to the pool and forget them here."""
        released = [self.arrays.pop(name, None) for name in names]
        if self.pool is not None:
            self.pool.give(released)
        for name in names:
            setattr(self, name, None)

    def forward_done(self) -> None:
        """After the last step forward: give back what only the forward pass needed."""
        self.give_back(self.forward_only)

    def release(self) -> None:
        """Give back the arrays only backward needs (the states stay: the outputs view them)."""
        self.give_back(self.backward_only)

    def begin(self, r: int) -> tuple:
        """Rows ``(a, b)`` the current backward pass reaches, for row ``r`` running now."""
        if self.pass_id != state.backward_pass:  # the first step of a new pass is its latest
            self.new_pass(r)
        return self.rows

    def new_pass(self, r: int) -> None:
        """Called when row ``r`` starts a new backward pass: it reaches rows ``self.rows``."""
        self.pass_id, self.reached = state.backward_pass, r
        self.rows = (r, self.steps) if self.reverse else (0, r + 1)

    def hand_output_grad(self, g) -> None:
        """Keep ``g``, the gradient of the layer's output (T, N, H) in this backward pass, for
        the steps to add their rows (:class:`SequenceOutput` with ``fold``)."""
        self.out_grad, self.out_pass = g, state.backward_pass

    def zx_grad(self, dz, a: int, b: int, zx_shape: tuple):
        """The input projections' gradient: ``dz`` (T, N, ·), zero outside rows a..b-1."""
        dz[:a] = 0
        dz[b:] = 0
        if (self.first, self.steps) == (0, zx_shape[0]):
            return dz
        return Scatter(zx_shape, slice(self.first, self.first + self.steps), dz, advanced=False)

    def previous_h(self, a: int, b: int, H: int):
        """The h each of the steps a..b-1 started from, as one (rows * N, H) matrix."""
        into = self.slots(a)[0]
        return self.view_h(into, into + b - a).reshape(-1, H)

    def view_h(self, lo: int, hi: int):
        """The h of slots ``lo .. hi - 1`` (see :meth:`view`)."""
        return self.states[lo:hi]


class FusedStep(Op):
    """A fused recurrent step: ``apply(zx, state, w[, b], t=..., seq=...)``.

    ``zx``, ``state``, ``w`` and the optional bias ``b`` are tensors; ``t`` (the time step) and
    ``seq`` (the :class:`StepSequence` the step belongs to) are settings.
    """

    def keep(self, seq, r: int, zx_shape: tuple, w) -> None:
        """At the end of ``forward``: remember the step; after the last one, tidy the sequence.

        Every step multiplies by the same ``w``, which the sequence holds (``seq.w``); only the
        step that ran first saves it (:meth:`Op.save`). The engine checks that a saved input was
        not changed in place since the forward pass (an optimiser step before ``backward``), and
        every backward pass through the sequence ends in that step, before the gradients reach
        the leaves: one check per pass instead of one per step.
        """
        self.seq, self.r, self.zx_shape = seq, r, zx_shape
        if r == seq.first_row:
            self.save(w)
        if len(seq.outputs) == seq.steps:
            seq.forward_done()

    def begin(self) -> tuple:
        """At the start of ``backward``: rows ``(a, b)``, the rows a..b-1 reached by the pass."""
        seq = self.seq
        if self.released or seq.pass_id != state.backward_pass and seq.gates is None:
            raise RuntimeError(f"backward(): the arrays of this {type(seq).__name__} were freed "
                               "by an earlier backward(); pass retain_graph=True to keep them")
        return seq.begin(self.r)

    def add_output_share(self, dh):
        """``dh``, the gradient this step returns for the state it read (its own new array, or
        ``None``), plus that state's row of the layer output's gradient when
        :class:`SequenceOutput` handed it to the sequence in this backward pass.

        The state is the output of the step that ran before this one, and the row is its share
        of the layer's output: the engine would add the two as the state's gradient; here the
        step adds them.
        """
        seq = self.seq
        if seq.out_pass != state.backward_pass:
            return dh
        if self.r == seq.first_row:  # it read the initial state, no output: the pass is done
            seq.out_grad = seq.out_pass = None
            return dh
        if dh is None:  # pragma: no cover - a layer's steps need their states' gradients
            raise RuntimeError(f"backward(): step row {self.r} of a {type(seq).__name__} "
                               "needs no gradient for its state, so the share of the layer's "
                               "output that SequenceOutput handed to it would be lost")
        dh += seq.out_grad[self.r + 1 if seq.reverse else self.r - 1]
        return dh

    def sums(self, grads: list, rows, a: int, b: int) -> list:
        """In the step that runs backward last, the gradients of ``zx``, ``w`` and ``b``.

        ``rows`` (T, N, ·) holds every step's gradient of its recurrent pre-activations; the
        sums run over the rows a..b-1 that this backward pass reached. Other steps return
        ``grads`` as they are.
        """
        seq, needs = self.seq, self.needs
        if self.r == seq.first_row:
            flat = rows[a:b].reshape(-1, rows.shape[-1])
            if needs[0]:
                grads[0] = seq.zx_grad(seq.dz, a, b, self.zx_shape)
            if needs[2]:
                grads[2] = seq.previous_h(a, b, seq.w.shape[0]).T @ flat
            if len(needs) == 4 and needs[3]:
                grads[3] = sum_leading(flat, 1).astype(flat.dtype)
        return grads

    def free(self) -> None:
        super().free()
        if self.r == self.seq.first_row:
            self.seq.release()


class SequenceOutput(Op):
    """The h of every step of a sequence, stacked over time: (T, N, H), as ``tg.stack``.

    Inputs: the T states the steps returned, in time order. Settings: ``seq``, the
    :class:`StepSequence` that made them, and ``fold``. When the inputs are the sequence's
    outputs, the result is one copy of the block of ``seq.states`` that holds them (a subclass
    may view it instead: :class:`~tinygrad_rnn.fused.LSTMOutput`); otherwise the states are
    stacked one by one.

    Backward, as ``stack``: state t gets ``g[t]``. With ``fold=True`` the rows go by way of the
    sequence: the state of the step that ran last gets its row from here, and every other
    state's row is added by the step that read that state, to the gradient it returns for it
    (:meth:`FusedStep.add_output_share`). The state's gradient is the same sum of the same two
    terms; the engine's second gradient and addition per step are spared (2.8 of the 9.7 us
    that a tanh RNN step's backward took at hidden size 64, batch 8). A layer asks for it in
    its own time loop, where every step reads the tensor that the step before returned and
    needs its gradient; a step applied to another tensor would leave its row out, so the fold
    holds only where the states are the sequence's own outputs, in order.
    """

    def forward(self, *states, seq=None, fold=False):
        self.seq, self.steps = seq, len(states)
        ran = () if seq is None else seq.outputs[::-1] if seq.reverse else seq.outputs
        own = len(ran) == len(states) and all(a is b for a, b in zip(ran, states))
        self.fold = fold and own
        if own:
            return self.block(seq)
        return get_array_module(states[0]).stack([self.h_of(s) for s in states])

    def block(self, seq):
        """The outputs of ``seq``'s steps in time order, from its ``states``: a copy."""
        return (seq.states[:-1] if seq.reverse else seq.states[1:]).copy()

    def h_of(self, state):
        """The h of a step's state (the state itself for an RNN or a GRU)."""
        return state

    def backward(self, g):
        if not self.fold:
            return self.state_grads(g)
        self.seq.hand_output_grad(g)
        last = 0 if self.seq.reverse else self.steps - 1  # the step that ran last forward
        grads = [None] * self.steps
        grads[last] = self.state_grads(g[last:last + 1])[0]
        return grads

    def state_grads(self, g) -> list:
        """The gradient of each state from ``g`` (k, N, H): row t."""
        return list(g)
