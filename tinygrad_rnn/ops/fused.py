"""Fused primitives: the arithmetic of a whole recurrent step in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen and keeps no intermediate arrays
alive but the ones its backward needs. It is a fast path, not a new model: the plain path (the
cells' ``forward``, built op by op) is what a student reads first, and the tests prove the fused
op equal to it.
"""
from __future__ import annotations

import sys
import weakref

from ..autograd import Scatter, state
from ..backend import constant, get_array_module
from ..tensor import Tensor, recorded
from .base import Op, check_forward, op_error

_activations: dict = {}


def gate_activation(xp, N: int, H: int, dtype) -> tuple:
    """``(a, d)``, each (N, 4H): ``a tanh(a z) + d`` is sigmoid on i, f, o and tanh on g (cached).

    One row per batch row: a same-shape product costs NumPy a third of a broadcast one.
    """
    key = (xp.__name__, N, H, dtype)
    if key not in _activations:
        if len(_activations) >= 32:  # many batch sizes: start afresh rather than grow
            _activations.clear()
        a = xp.full((N, 4 * H), 0.5, dtype=dtype)
        d = xp.full((N, 4 * H), 0.5, dtype=dtype)
        a[:, 2 * H:3 * H], d[:, 2 * H:3 * H] = 1, 0
        _activations[key] = (a, d)
    return _activations[key]


class ArrayPool:
    """Arrays to use again: a layer keeps those of its last call for the next one.

    An array is handed out again only when nothing else refers to it (``sys.getrefcount``): no
    output, gradient or view of it is alive anywhere. Reuse spares the allocation and, for large
    arrays, the operating system's zero-filling of fresh pages on first touch (measured at ~90 ms
    of a 350 ms step of the large benchmark model). At most ``keep`` arrays wait here.
    """

    def __init__(self, keep: int = 16):
        self.keep, self.spare = keep, []
        # the reference count of an array that only this pool holds (-1: not CPython, where
        # nothing tells whether an array is still used, so nothing is reused)
        self.unshared = self._count([object()], 0) if hasattr(sys, "getrefcount") else -1

    @staticmethod
    def _count(spare: list, k: int) -> int:
        a = spare[k]
        return sys.getrefcount(a)

    def take(self, xp, shape: tuple, dtype):
        """An unused array of this shape and dtype from the pool, or a new one."""
        spare = self.spare if self.unshared >= 0 else ()
        for k in range(len(spare)):  # no local name for spare[k]: it would count as a user
            if spare[k].shape == shape and spare[k].dtype == dtype \
                    and get_array_module(spare[k]) is xp and self._count(spare, k) <= self.unshared:
                return spare.pop(k)
        return xp.empty(shape, dtype=dtype)

    def give(self, arrays) -> None:
        """Keep ``arrays`` (an iterable; ``None`` entries are skipped) for later calls."""
        self.spare.extend(a for a in arrays if a is not None)
        del self.spare[:-self.keep]


def _give_back(pool: ArrayPool, arrays: dict) -> None:
    pool.give(arrays.values())


class StepSequence:
    """What the fused steps of one layer and direction share: order, arrays, backward passes.

    Steps ``first .. first + steps - 1`` run in order (backwards in time when ``reverse``); step
    t uses row ``r = t - first`` of the sequence's arrays, and its state is slot ``r`` (input)
    and ``r + 1`` (output) of ``states``, one more slot than steps (the other way round when
    ``reverse``). A subclass makes the arrays (``allocate``) and says how a slot of ``states``
    is viewed (``view``). Arrays come from the layer's :class:`ArrayPool` when there is one, and
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

    def view(self, slot: int):  # pragma: no cover - abstract
        raise NotImplementedError

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
        return (self.reached, self.steps) if self.reverse else (0, self.reached + 1)

    def new_pass(self, r: int) -> None:
        """Called when row ``r`` starts a new backward pass."""
        self.pass_id, self.reached = state.backward_pass, r

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

    def view_h(self, lo: int, hi: int):  # pragma: no cover - abstract
        raise NotImplementedError


class LSTMSequence(StepSequence):
    r"""The arrays that the :class:`LSTMStep` ops of one layer and direction share.

    Row r of ``gates`` (T, N, 4H) and ``tanh_c`` (T, N, H) holds step t's gate activations and
    tanh(c'). ``states`` (2, T + 1, N, H) holds every h (``states[0]``) and c (``states[1]``):
    the pair the sequence starts from and each step's output (a step returns the view
    ``states[:, k]``), so the layer's output h_1..h_T is one contiguous block
    (:class:`LSTMOutput`).

    In the backward pass each step writes its gate gradient into row r of ``dz`` (T, N, 4H);
    the step that runs backward last then returns the gradients that all steps share, each
    summed over time in one go: of ``zx`` (``dz`` itself), of ``w``
    (:math:`\sum_t h_{t-1}^T \bar z_t`, one matrix product over all steps, as the hand-written
    BPTT of ``numpy_bptt.py`` does) and of ``b``. This is arithmetic saved, not a different
    gradient: the sum over steps is the one the engine would add up step by step.

    A layer makes one per call (``LSTM(..., fused=True)``); a step applied on its own makes a
    sequence of one step.
    """

    block_bytes = 2**20  # gate derivatives are computed for blocks of rows of about this size
    forward_only = ("w_scaled", "scratch")
    backward_only = ("gates", "tanh_c", "dz", "dc_dh", "f", "dc")

    def allocate(self, xp, hc) -> None:
        _, N, H = hc.shape
        self.xp, self.H = xp, H
        self.gates = self.new(xp, "gates", (self.steps, N, 4 * H), hc.dtype)
        self.tanh_c = self.new(xp, "tanh_c", (self.steps, N, H), hc.dtype)
        self.states = self.new(xp, "states", (2, self.steps + 1, N, H), hc.dtype)
        self.block = max(1, self.block_bytes // self.gates[0].nbytes)  # rows per block

    def view(self, slot: int):
        return self.states[:, slot]

    def view_h(self, lo: int, hi: int):
        return self.states[0, lo:hi]

    def prepare(self, zx, w, b) -> None:
        """Before the first step: ``w * scale``; the inputs are scaled block by block (``inputs``).

        Sigmoid is computed as ``0.5 tanh(0.5 z) + 0.5``; scaling the inputs of the gates in
        advance, many steps at a time, saves each step three passes over its gates.
        """
        xp = get_array_module(self.gates)
        self.zx, self.w, self.b = zx, w, b
        _, N, H4 = self.gates.shape
        self.scale, self.offset = gate_activation(xp, N, H4 // 4, self.gates.dtype)
        self.w_scaled = self.new(xp, "w_scaled", w.shape, self.gates.dtype)
        xp.multiply(w, self.scale[0], out=self.w_scaled)
        self.scratch = self.new(xp, "scratch", (N, H4), self.gates.dtype)
        self.scaled = self.first_row if self.reverse else 0  # rows whose inputs are ready: none

    def inputs(self, r: int) -> None:
        """Row ``r`` and the next rows of ``gates``: ``(zx[t] + b) * scale``, a block at a time.

        Called when row ``r`` is not ready yet (``self.scaled``: the first row that is not).
        """
        if self.reverse:                        # rows above self.scaled are ready
            a, b = max(0, r + 1 - self.block), r + 1
            self.scaled = a - 1
        else:                                   # rows below self.scaled are ready
            a, b = r, min(self.steps, r + self.block)
            self.scaled = b
        xp, rows = get_array_module(self.gates), self.gates[a:b]
        zx = self.zx[self.first + a:self.first + b]
        if self.b is None:
            xp.multiply(zx, self.scale, out=rows)
        else:
            xp.add(zx, self.b, out=rows)
            rows *= self.scale

    def begin(self, r: int) -> tuple:
        """Rows ``(a, b)`` the current backward pass reaches, for row ``r`` running now.

        Before a step's backward, row r of ``dz`` must hold its gate derivatives (what the
        upstream gradients will be multiplied by) and ``dc_dh`` row r o (1 - tanh^2 c'): they are
        computed for a block of rows at once (all of a small model's steps, about 1 MB of gates
        at a time for a large one, so that the rows are still in the cache when their steps use
        them).
        """
        if self.pass_id != state.backward_pass:
            self.new_pass(r)
        if self.reverse:
            if r >= self.ready:
                end = min(self.steps, r + self.block)
                self.derivatives(r, end)
                self.ready = end
            return self.reached, self.steps
        if r < self.ready:
            begin = max(0, r + 1 - self.block)
            self.derivatives(begin, r + 1)
            self.ready = begin
        return 0, self.reached + 1

    def new_pass(self, r: int) -> None:
        super().new_pass(r)
        self.ready = r if self.reverse else r + 1  # rows with derivatives: none yet

    def derivatives(self, a: int, b: int) -> None:
        """Rows a..b-1 of ``dz``: the gates' derivatives times what multiplies each gate."""
        xp = get_array_module(self.gates)
        if self.dz is None:
            self.dz = self.new(xp, "dz", self.gates.shape, self.gates.dtype)
            self.dc_dh = self.new(xp, "dc_dh", self.tanh_c.shape, self.gates.dtype)
            self.f = self.new(xp, "f", self.tanh_c.shape, self.gates.dtype)
            self.dc = self.new(xp, "dc", self.tanh_c.shape[1:], self.gates.dtype)  # scratch
        s, tc, d, dc_dh = self.gates[a:b], self.tanh_c[a:b], self.dz[a:b], self.dc_dh[a:b]
        H = tc.shape[-1]
        into = self.slots(a)[0]
        c = self.states[1, into:into + b - a]       # each step's previous c
        one = constant(1, s)
        xp.subtract(one, s, out=d)                  # sigma'(z) = s (1 - s) for i, f and o,
        d *= s
        gates, s4 = d.reshape(*d.shape[:2], 4, H), s.reshape(*s.shape[:2], 4, H)
        g = s4[:, :, 2]
        xp.multiply(g, g, out=gates[:, :, 2])       # tanh'(z) = 1 - g^2 for g,
        xp.subtract(one, gates[:, :, 2], out=gates[:, :, 2])
        gates[:, :, 0] *= g                         # times what multiplies each gate:
        gates[:, :, 1] *= c                         #   c' = f c + i g,  h' = o tanh(c')
        gates[:, :, 2] *= s4[:, :, 0]
        gates[:, :, 3] *= tc
        xp.multiply(tc, tc, out=dc_dh)              # dc'/dh' = o (1 - tanh^2 c')
        xp.subtract(one, dc_dh, out=dc_dh)
        dc_dh *= s4[:, :, 3]
        self.f[a:b] = s4[:, :, 1]                   # f in one block: a step's dc f reads it whole


class FusedStep(Op):
    """A fused recurrent step: ``apply(zx, state, w, b=None, t=..., seq=...)``.

    The same as :meth:`Op.apply`, written out for these four inputs and two settings: a layer
    calls it at every time step.
    """

    fresh_grads = (1, 2, 3)  # not zx's: it is the sequence's own array

    @classmethod
    def apply(cls, zx, h, w, b=None, t: int = 0, seq=None):
        inputs = (zx, h, w) if b is None else (zx, h, w, b)
        kind = zx.data.__class__
        if (h.data.__class__ is not kind or w.data.__class__ is not kind
                or (b is not None and b.data.__class__ is not kind)) \
                and len({x.device for x in inputs}) > 1:
            raise op_error(cls, inputs, None)
        op = cls()
        try:
            out = op.forward(zx.data, h.data, w.data, None if b is None else b.data, t, seq)
        except Exception as e:
            raise op_error(cls, inputs, e) from e
        # which inputs get a gradient, fixed here (as torch fixes it when it records the graph):
        # the engine need not ask at every step
        op.needs = needs = [zx.requires_grad, h.requires_grad, w.requires_grad] if b is None \
            else [zx.requires_grad, h.requires_grad, w.requires_grad, b.requires_grad]
        y = recorded(out, op, inputs) if state.grad_enabled and True in needs else Tensor(out)
        if state.anomaly:
            check_forward(y, op, inputs)
        return y

    def keep(self, seq, r: int, zx_shape: tuple, w) -> None:
        """At the end of ``forward``: remember the step; after the last one, tidy the sequence."""
        self.seq, self.r, self.zx_shape, self.saved = seq, r, zx_shape, (w,)
        if len(seq.outputs) == seq.steps:
            seq.forward_done()

    def begin(self) -> tuple:
        """At the start of ``backward``: rows ``(a, b)``, the rows a..b-1 reached by the pass."""
        seq = self.seq
        if seq.gates is None:
            raise RuntimeError(f"backward(): the arrays of this {type(seq).__name__} were freed "
                               "by an earlier backward(); pass retain_graph=True to keep them")
        return seq.begin(self.r)

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
                grads[2] = seq.previous_h(a, b, self.saved[0].shape[0]).T @ flat
            if len(needs) == 4 and needs[3]:
                grads[3] = flat.sum(axis=0)
        return grads

    def free(self) -> None:
        super().free()
        if self.r == self.seq.first_row:
            self.seq.release()


class LSTMStep(FusedStep):
    r"""[h', c'] of LSTM step ``t``, in PyTorch's gate order i, f, g, o.

    Inputs: ``zx`` (T, N, 4H), the input projections :math:`W_{ih} x` of the whole sequence (this
    step reads ``zx[t]``); ``hc`` (2, N, H), the previous h and c stacked; ``w`` (H, 4H), the
    transposed recurrent weights :math:`W_{hh}^T`; optionally ``b`` (4H,), both biases summed.
    ``seq``: the :class:`LSTMSequence` this step belongs to (a layer passes one; by default a
    step is a sequence of its own).

    Forward: :math:`z = z_x[t] + h w + b`; :math:`i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o)`,
    :math:`g = \tanh(z_g)`, :math:`c' = f c + i g`, :math:`h' = o \tanh(c')`; the output is
    ``[h', c']`` (2, N, H).

    Backward, from :math:`(\bar h', \bar c')`:
    :math:`\bar c = \bar c' + \bar h' o (1 - \tanh^2 c')`,
    :math:`\bar z = [\bar c g\, i(1-i),\ \bar c c\, f(1-f),\ \bar c i (1-g^2),\
    \bar h' \tanh c'\, o(1-o)]`; then :math:`\bar{hc} = [\bar z w^T,\ \bar c f]`,
    :math:`\bar z_x[t] = \bar z`, :math:`\bar w = h^T \bar z`, :math:`\bar b = \sum_n \bar z`.
    The last three are summed over the steps of the sequence and returned once, by the step
    that runs backward last (see :class:`LSTMSequence`); the other steps return ``None`` for
    ``zx``, ``w`` and ``b``.
    """

    def forward(self, zx, hc, w, b=None, t=0, seq=None):
        if seq is None:
            seq = LSTMSequence(1, first=t)
        r, hc, out = seq.start(t, hc)
        if r == seq.first_row:
            seq.prepare(zx, w, b)
        elif zx is not seq.zx or w is not seq.w or b is not seq.b:
            raise ValueError("the steps of one LSTMSequence must share zx, w and b")
        if (r <= seq.scaled) if seq.reverse else (r >= seq.scaled):
            seq.inputs(r)                         # the next block of scaled inputs
        xp, H = seq.xp, seq.H
        h, c = hc
        s, scaled = seq.gates[r], seq.scratch     # s holds (zx[t] + b) * scale (seq.inputs)
        xp.dot(h, seq.w_scaled, out=scaled)       # dot: a little less overhead than matmul
        s += scaled
        xp.tanh(s, out=s)                         # i, f, o: sigmoid; g: tanh; in place
        s *= seq.scale
        s += seq.offset
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        h_new, c_new = out
        tc = seq.tanh_c[r]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=tc)                 # tc is scratch space until tanh(c') lands
        c_new += tc
        xp.tanh(c_new, out=tc)
        xp.multiply(o, tc, out=h_new)
        self.keep(seq, r, zx.shape, w)
        return out

    def backward(self, grad):
        a, b = self.begin()
        seq, r = self.seq, self.r
        s, dz = seq.gates[r], seq.dz[r]             # dz holds the derivatives (seq.begin)
        xp = get_array_module(s)
        N, H = s.shape[0], s.shape[1] // 4
        dh = grad[0]
        dc = xp.multiply(dh, seq.dc_dh[r], out=seq.dc)
        dc += grad[1]
        gates = dz.reshape(N, 4, H)                 # a view: gates[:, k] is gate k's slice
        gates[:, :3] *= dc[:, None, :]
        gates[:, 3] *= dh
        grads = [None, None, None, None] if len(self.needs) == 4 else [None, None, None]
        if self.needs[1]:
            grads[1] = dhc = xp.empty((2, N, H), dtype=s.dtype)
            xp.dot(dz, self.saved[0].T, out=dhc[0])
            xp.multiply(dc, seq.f[r], out=dhc[1])
        return self.sums(grads, seq.dz, a, b)


class GRUSequence(StepSequence):
    """The arrays that the :class:`GRUStep` ops of one layer and direction share.

    Row r of ``gates`` (T, N, 3H) holds step t's r, z and n, and of ``hn`` (T, N, H) its
    :math:`W_{hn} h + b_{hn}`; ``states`` (T + 1, N, H) holds every h (a step returns the view
    ``states[k]``). In the backward pass row r of ``dz`` (T, N, 3H) takes the gradient of the
    gates' input-side pre-activations (the input projection's gradient) and of ``dhp`` that of
    the recurrent side, :math:`h W_{hh}^T + b_{hh}`; the step that runs backward last returns
    the weight and bias gradients as one sum over all steps.
    """

    forward_only = ("scratch",)
    backward_only = ("gates", "hn", "dz", "dhp", "tmp1", "tmp2")

    def allocate(self, xp, h) -> None:
        N, H = h.shape
        self.gates = self.new(xp, "gates", (self.steps, N, 3 * H), h.dtype)
        self.hn = self.new(xp, "hn", (self.steps, N, H), h.dtype)
        self.states = self.new(xp, "states", (self.steps + 1, N, H), h.dtype)
        self.scratch = self.new(xp, "scratch", (N, 3 * H), h.dtype)

    def view(self, slot: int):
        return self.states[slot]

    def view_h(self, lo: int, hi: int):
        return self.states[lo:hi]

    def new_pass(self, r: int) -> None:
        super().new_pass(r)
        if self.dz is None:
            xp, shape, dtype = get_array_module(self.gates), self.gates.shape, self.gates.dtype
            self.dz = self.new(xp, "dz", shape, dtype)
            self.dhp = self.new(xp, "dhp", shape, dtype)
            self.tmp1 = self.new(xp, "tmp1", self.hn.shape[1:], dtype)
            self.tmp2 = self.new(xp, "tmp2", self.hn.shape[1:], dtype)


class GRUStep(FusedStep):
    r"""h' of GRU step ``t``, PyTorch's form (gate order r, z, n; ``b_hn`` inside the reset).

    Inputs: ``zx`` (T, N, 3H), the input projections :math:`W_{ih} x + b_{ih}` of the whole
    sequence (this step reads ``zx[t]``); ``h`` (N, H); ``w`` (H, 3H), the transposed recurrent
    weights :math:`W_{hh}^T`; optionally ``b`` (3H,), :math:`b_{hh}`. ``seq``: the
    :class:`GRUSequence` this step belongs to (by default a step is a sequence of its own).

    Forward: :math:`p = h w + b`; :math:`r = \sigma(z_{x,r} + p_r)`,
    :math:`z = \sigma(z_{x,z} + p_z)`, :math:`n = \tanh(z_{x,n} + r \odot p_n)`,
    :math:`h' = (1 - z) \odot n + z \odot h`.

    Backward, from :math:`\bar h'`: :math:`\bar a_n = \bar h' (1 - z)(1 - n^2)`,
    :math:`\bar a_z = \bar h' (h - n)\, z (1 - z)`, :math:`\bar a_r = \bar a_n p_n\, r (1 - r)`;
    the input side gets :math:`\bar z_x[t] = [\bar a_r, \bar a_z, \bar a_n]`, the recurrent side
    :math:`\bar p = [\bar a_r, \bar a_z, \bar a_n r]`; then :math:`\bar h = \bar h' z + \bar p
    w^T`, :math:`\bar w = h^T \bar p`, :math:`\bar b = \sum_n \bar p`. As for
    :class:`LSTMStep`, the gradients of ``zx``, ``w`` and ``b`` are summed over the steps and
    returned once, by the step that runs backward last.
    """

    def forward(self, zx, h, w, b=None, t=0, seq=None):
        xp = get_array_module(h)
        H = h.shape[-1]
        seq = GRUSequence(1, first=t) if seq is None else seq
        r, h, out = seq.start(t, h)
        s, p, x = seq.gates[r], seq.scratch, zx[t]
        xp.matmul(h, w, out=p)
        if b is not None:
            p += b
        rz = s[:, :2 * H]
        xp.add(x[:, :2 * H], p[:, :2 * H], out=rz)
        half = constant(0.5, s)
        rz *= half                                 # sigmoid(a) = 0.5 tanh(0.5 a) + 0.5
        xp.tanh(rz, out=rz)
        rz *= half
        rz += half
        hn, n, z = seq.hn[r], s[:, 2 * H:], s[:, H:2 * H]
        hn[...] = p[:, 2 * H:]
        xp.multiply(s[:, :H], hn, out=n)
        n += x[:, 2 * H:]
        xp.tanh(n, out=n)
        xp.subtract(h, n, out=out)                 # h' = n + z (h - n)
        out *= z
        out += n
        self.keep(seq, r, zx.shape, w)
        return out

    def backward(self, grad):
        a, b = self.begin()
        seq, r, w = self.seq, self.r, self.saved[0]
        s, d, dp = seq.gates[r], seq.dz[r], seq.dhp[r]
        xp = get_array_module(s)
        H = grad.shape[1]
        reset, z, n = s[:, :H], s[:, H:2 * H], s[:, 2 * H:]
        d_r, d_z, d_n = d[:, :H], d[:, H:2 * H], d[:, 2 * H:]
        h = seq.view(seq.slots(r)[0])
        t1, t2, one = seq.tmp1, seq.tmp2, constant(1, s)
        xp.subtract(one, z, out=t1)                # 1 - z
        xp.multiply(grad, t1, out=d_n)             # dh' (1 - z)
        t1 *= z                                    # z (1 - z)
        xp.subtract(h, n, out=d_z)
        d_z *= grad
        d_z *= t1                                  # a_z = dh' (h - n) z (1 - z)
        xp.multiply(n, n, out=t2)
        xp.subtract(one, t2, out=t2)
        d_n *= t2                                  # a_n = dh' (1 - z) (1 - n^2)
        xp.multiply(d_n, seq.hn[r], out=d_r)
        xp.subtract(one, reset, out=t1)
        t1 *= reset
        d_r *= t1                                  # a_r = a_n p_n r (1 - r)
        dp[:, :2 * H] = d[:, :2 * H]
        xp.multiply(d_n, reset, out=dp[:, 2 * H:])  # the recurrent side: a_n r
        needs = self.needs
        dh = None
        if needs[1]:
            dh = xp.matmul(dp, w.T)
            xp.multiply(grad, z, out=t1)
            dh += t1
        return self.sums([None, dh, None, None][:len(needs)], seq.dhp, a, b)


class LSTMOutput(Op):
    """The h of each ``[h, c]`` (2, N, H) of a sequence, stacked over time: (T, N, H).

    Inputs: the T states in time order; ``seq``: the :class:`LSTMSequence` that made them, if
    any. Their h already lie one after the other in ``seq.states[0]``, so the output is a view
    of that block (no copy); without ``seq`` the h are copied. Backward: state t gets
    ``[g[t], 0]``.
    """

    def forward(self, *hcs, seq=None):
        xp = get_array_module(hcs[0])
        ran = seq.outputs[::-1] if seq is not None and seq.reverse else \
            (seq.outputs if seq is not None else ())
        if len(ran) == len(hcs) and all(a is b for a, b in zip(ran, hcs)):
            return seq.states[0, :-1] if seq.reverse else seq.states[0, 1:]
        return xp.stack([hc[0] for hc in hcs])

    fresh_grads = True  # each state's gradient is its own slice of a new array

    def backward(self, g):
        xp = get_array_module(g)
        grads = xp.empty((2, *g.shape), dtype=g.dtype)
        grads[0] = g
        grads[1] = 0
        return [grads[:, t] for t in range(g.shape[0])]
