"""The fused LSTM step: :class:`LSTMStep`, its :class:`LSTMSequence` and :class:`LSTMOutput`."""
from __future__ import annotations

from ..autograd import state
from ..backend import constant, get_array_module
from .sequence import FusedStep, SequenceOutput, StepSequence, copy_blocks, gate_view

_activations: dict = {}


def gate_activation(xp, dtype) -> tuple:
    """``(a, d)``, each (4, 1, 1): ``a tanh(a z) + d`` is sigmoid on i, f, o and tanh on g
    (cached per array module and dtype).

    A gate is a contiguous (N, H) block (:func:`~tinygrad_rnn.fused.sequence.gate_view`), so one
    number per gate broadcasts along the whole block.
    """
    key = (xp.__name__, dtype)
    if key not in _activations:
        a = xp.asarray([0.5, 0.5, 1.0, 0.5], dtype=dtype).reshape(4, 1, 1)
        d = xp.asarray([0.5, 0.5, 0.0, 0.5], dtype=dtype).reshape(4, 1, 1)
        _activations[key] = (a, d)
    return _activations[key]


class LSTMSequence(StepSequence):
    r"""The arrays that the :class:`LSTMStep` ops of one layer and direction share.

    Row r of ``gates`` (T, 4, N, H) holds step t's gate activations i, f, g and o, each a
    contiguous (N, H) block (NumPy runs an elementwise op on it several times faster than on a
    gate's column slice of an (N, 4H) row when H is small: at batch 1024 and H = 32 a time
    step's backward spent 93 us multiplying the gates' slices by dc, 14 us on the blocks), and
    row r of ``tanh_c`` (T, N, H) holds tanh(c'). ``states`` (2, T + 1, N, H) holds every h
    (``states[0]``) and c (``states[1]``): the pair the sequence starts from and each step's
    output (a step returns the view ``states[:, k]``), so the layer's output h_1..h_T is one
    contiguous block (:class:`LSTMOutput`).

    In the backward pass each step works out its gate gradient block by block and writes it
    into row r of ``dz`` (T, N, 4H), in the layout of the input projection ``zx``; the step
    that runs backward last then returns the gradients that all steps share, each summed over
    time in one go: of ``zx`` (``dz`` itself), of ``w`` (:math:`\sum_t h_{t-1}^T \bar z_t`, one
    matrix product over all steps, as the hand-written BPTT of ``numpy_bptt.py`` does) and of
    ``b``. This is arithmetic saved, not a different gradient: the sum over steps is the one the
    engine would add up step by step.

    A layer makes one per call (``LSTM(..., fused=True)``); a step applied on its own makes a
    sequence of one step.
    """

    block_bytes = 2**20  # gate derivatives are computed for blocks of rows of about this size
    forward_only = ("w_contiguous", "scratch", "bias")
    backward_only = ("gates", "tanh_c", "dz", "derivative", "dc_dh", "dc")

    def allocate(self, xp, hc) -> None:
        _, N, H = hc.shape
        self.xp, self.H = xp, H
        self.gates = self.new(xp, "gates", (self.steps, 4, N, H), hc.dtype)
        self.tanh_c = self.new(xp, "tanh_c", (self.steps, N, H), hc.dtype)
        self.states = self.new(xp, "states", (2, self.steps + 1, N, H), hc.dtype)
        block = self.block_bytes // max(1, self.gates[0].nbytes)
        self.block = min(self.steps, max(1, block))  # rows per block

    def view(self, slot: int):
        return self.states[:, slot]

    def view_h(self, lo: int, hi: int):
        return self.states[0, lo:hi]

    def prepare(self, zx, w, b) -> None:
        """Before the first step: ``w * scale`` by gate; the inputs are scaled block by block
        (``inputs``).

        Sigmoid is computed as ``0.5 tanh(0.5 z) + 0.5``; scaling the inputs of the gates in
        advance, many steps at a time, saves each step three passes over its gates.
        """
        xp = get_array_module(self.gates)
        self.zx, self.b = zx, b
        dtype, H = self.gates.dtype, self.H
        self.scale, self.offset = gate_activation(xp, dtype)
        # w * scale by gate (4, H, H), gate k: h -> its block, as the steps multiply by it
        self.contiguous_weights(self.first_row, w, lambda w: gate_view(w, 4) * self.scale)
        self.scratch = self.new(xp, "scratch", self.gates.shape[1:], dtype)
        if b is not None:  # b by gate, as a whole (4, N, H) block: adding it runs in one loop
            self.bias = self.new(xp, "bias", self.gates.shape[1:], dtype)
            self.bias[...] = b.reshape(4, 1, H)
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
        rows = self.gates[a:b]
        copy_blocks(rows, gate_view(self.zx[self.first + a:self.first + b], 4))
        if self.b is not None:
            rows += self.bias
        rows *= self.scale

    def begin(self, r: int) -> tuple:
        """Rows ``(a, b)`` the current backward pass reaches, for row ``r`` running now.

        Before a step's backward, its gate derivatives (what the upstream gradients will be
        multiplied by) and o (1 - tanh^2 c') must be ready: they are computed for a block of
        rows at once (all of a small model's steps, about 1 MB of gates at a time for a large
        one, so that the rows are still in the cache when their steps use them) into
        ``derivative`` and ``dc_dh``, which hold one block (:meth:`derivatives`).
        """
        if self.pass_id != state.backward_pass:
            self.new_pass(r)
        if self.reverse:
            if r >= self.ready:
                end = min(self.steps, r + self.block)
                self.derivatives(r, end)
                self.ready = end
            return self.rows
        if r < self.ready:
            begin = max(0, r + 1 - self.block)
            self.derivatives(begin, r + 1)
            self.ready = begin
        return self.rows

    def new_pass(self, r: int) -> None:
        super().new_pass(r)
        self.ready = r if self.reverse else r + 1  # rows with derivatives: none yet

    def derivatives(self, a: int, b: int) -> None:
        """Rows a..b-1, into the block ``derivative[k]`` and ``dc_dh[k]`` (k = row - a): the
        gates' derivatives times what multiplies each gate, and o (1 - tanh^2 c')."""
        xp = get_array_module(self.gates)
        if self.dz is None:
            dtype, (T, _, N, H) = self.gates.dtype, self.gates.shape
            self.dz = self.new(xp, "dz", (T, N, 4 * H), dtype)
            self.derivative = self.new(xp, "derivative", (self.block, 4, N, H), dtype)
            self.dc_dh = self.new(xp, "dc_dh", (self.block, N, H), dtype)
            self.dc = self.new(xp, "dc", (N, H), dtype)  # scratch
        self.block_start = a
        s, tc = self.gates[a:b], self.tanh_c[a:b]
        d, dc_dh = self.derivative[:b - a], self.dc_dh[:b - a]
        into = self.slots(a)[0]
        c = self.states[1, into:into + b - a]       # each step's previous c
        one = constant(1, s)
        xp.subtract(one, s, out=d)                  # sigma'(z) = s (1 - s) for i, f and o,
        d *= s
        g = s[:, 2]
        xp.multiply(g, g, out=d[:, 2])              # tanh'(z) = 1 - g^2 for g,
        xp.subtract(one, d[:, 2], out=d[:, 2])
        d[:, 0] *= g                                # times what multiplies each gate:
        d[:, 1] *= c                                #   c' = f c + i g,  h' = o tanh(c')
        d[:, 2] *= s[:, 0]
        d[:, 3] *= tc
        xp.multiply(tc, tc, out=dc_dh)              # dc'/dh' = o (1 - tanh^2 c')
        xp.subtract(one, dc_dh, out=dc_dh)
        dc_dh *= s[:, 3]


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
        xp = seq.xp
        h, c = hc
        s, scaled = seq.gates[r], seq.scratch     # s holds (zx[t] + b) * scale (seq.inputs)
        xp.matmul(h, seq.w_contiguous, out=scaled)  # (4, N, H): every gate's h w_k, scaled
        s += scaled
        xp.tanh(s, out=s)                         # i, f, o: sigmoid; g: tanh; in place
        s *= seq.scale
        s += seq.offset
        i, f, g, o = s
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
        k = r - seq.block_start                     # this row in the block of derivatives
        d, dz = seq.derivative[k], seq.dz[r]        # (4, N, H) and (N, 4H)
        xp = get_array_module(d)
        _, N, H = d.shape
        dh = grad[0]
        dc = xp.multiply(dh, seq.dc_dh[k], out=seq.dc)
        dc += grad[1]
        d[:3] *= dc                                 # gate gradients, block by block
        d[3] *= dh
        copy_blocks(gate_view(dz, 4), d)            # into the rows of zx's layout
        grads = [None, None, None, None] if len(self.needs) == 4 else [None, None, None]
        dh = None
        if self.needs[1]:
            grads[1] = dhc = xp.empty((2, N, H), dtype=d.dtype)
            dh = xp.dot(dz, seq.w.T, out=dhc[0])
            xp.multiply(dc, seq.gates[r, 1], out=dhc[1])  # dc f
        self.add_output_share(dh)                   # adds into dhc[0]
        return self.sums(grads, seq.dz, a, b)


class LSTMOutput(SequenceOutput):
    """The h of each ``[h, c]`` (2, N, H) of a sequence, stacked over time: (T, N, H).

    Inputs: the T states in time order; ``seq``: the :class:`LSTMSequence` that made them, if
    any, and ``fold`` (see :class:`~tinygrad_rnn.fused.SequenceOutput`). Their h already lie
    one after the other in ``seq.states[0]``, so the output is a view of that block (no copy);
    without ``seq`` the h are copied. Backward: state t gets ``[g[t], 0]``.
    """

    def block(self, seq):
        return seq.states[0, :-1] if seq.reverse else seq.states[0, 1:]

    def h_of(self, state):
        return state[0]

    def state_grads(self, g) -> list:
        grads = get_array_module(g).empty((2, *g.shape), dtype=g.dtype)
        grads[0] = g
        grads[1] = 0
        return [grads[:, t] for t in range(g.shape[0])]
