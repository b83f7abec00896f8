"""Fused primitives: the arithmetic of a whole recurrent step in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen and keeps no intermediate arrays
alive but the ones its backward needs. It is a fast path, not a new model: the plain path (the
cells' ``forward``, built op by op) is what a student reads first, and the tests prove the fused
op equal to it.
"""
from __future__ import annotations

from ..autograd import Scatter, state
from ..backend import constant, get_array_module
from .base import Op

_activations: dict = {}


def gate_activation(xp, H: int, dtype) -> tuple:
    """``(a, d)`` of length 4H: ``a tanh(a z) + d`` is sigmoid on i, f, o and tanh on g (cached)."""
    key = (xp.__name__, H, dtype)
    if key not in _activations:
        a = xp.full(4 * H, 0.5, dtype=dtype)
        d = xp.full(4 * H, 0.5, dtype=dtype)
        a[2 * H:3 * H], d[2 * H:3 * H] = 1, 0
        _activations[key] = (a, d)
    return _activations[key]


class LSTMSequence:
    """The arrays that the :class:`LSTMStep` ops of one layer and direction share.

    Steps ``first .. first + steps - 1`` run in order (backwards in time when ``reverse``); row
    ``r = t - first`` of ``gates`` (T, N, 4H) and ``tanh_c`` (T, N, H) holds step t's gate
    activations and tanh(c'), and ``states`` (T + 1, N, 2H) holds every ``[h, c]``: the one the
    sequence starts from and each step's output (a step returns a view of its row). In the
    backward pass each step writes its gate gradient into row r of ``dz`` (T, N, 4H); the step
    that runs backward last (the first one forward) then returns the gradients that all steps
    share, each summed over time in one go: of ``zx`` (``dz`` itself), of ``w``
    (:math:`\\sum_t h_{t-1}^T \\bar z_t`, one matrix product over all steps, as the hand-written
    BPTT of ``numpy_bptt.py`` does) and of ``b``. This is arithmetic saved, not a different
    gradient: the sum over steps is the one the engine would add up step by step.

    A layer makes one per call (``LSTM(..., fused=True)``); a step applied on its own makes
    a sequence of one step.
    """

    def __init__(self, steps: int, reverse: bool = False, first: int = 0):
        self.steps, self.reverse, self.first = steps, reverse, first
        self.taken = 0                 # steps run forward so far
        self.last = None               # the array the latest step returned
        self.gates = self.tanh_c = self.states = self.dz = self.dc_dh = None
        self.pass_id = None            # the backward pass now running through the steps
        self.reached = 0               # its first row (the latest step it reached)

    def start(self, t: int, hc):
        """Row and [h, c] slots of step ``t`` (steps must come in order); copies a new ``hc`` in."""
        xp = get_array_module(hc)
        order = self.steps - 1 - self.taken if self.reverse else self.taken
        if self.taken >= self.steps or t != self.first + order:
            raise ValueError(f"step t={t} is out of order in its sequence (expected "
                             f"t={self.first + order} of steps {self.first}.."
                             f"{self.first + self.steps - 1}, "
                             f"{'backwards' if self.reverse else 'forwards'})")
        if self.gates is None:
            N, H2 = hc.shape
            self.gates = xp.empty((self.steps, N, 2 * H2), dtype=hc.dtype)
            self.tanh_c = xp.empty((self.steps, N, H2 // 2), dtype=hc.dtype)
            self.states = xp.empty((self.steps + 1, N, H2), dtype=hc.dtype)
        r = t - self.first
        into, out = (r + 1, r) if self.reverse else (r, r + 1)
        if hc is not self.last:
            self.states[into] = hc
        self.taken += 1
        return r, self.states[into], self.states[out]

    def rows(self, r: int) -> tuple:
        """Rows ``(a, b)`` the current backward pass reaches, for row ``r`` running now.

        The first step of a new pass is the latest it reaches: it fills ``dz`` with every
        reached step's gate derivatives (what the upstream gradients will be multiplied by),
        all steps at once, and ``dc_dh`` with o (1 - tanh^2 c').
        """
        if self.pass_id != state.backward_pass:
            self.pass_id, self.reached = state.backward_pass, r
            a, b = (r, self.steps) if self.reverse else (0, r + 1)
            self.derivatives(a, b)
        return (self.reached, self.steps) if self.reverse else (0, self.reached + 1)

    def derivatives(self, a: int, b: int) -> None:
        """Rows a..b-1 of ``dz``: the gates' derivatives times what multiplies each gate."""
        xp = get_array_module(self.gates)
        if self.dz is None:
            self.dz = xp.empty_like(self.gates)
            self.dc_dh = xp.empty_like(self.tanh_c)
        s, tc, d, dc_dh = self.gates[a:b], self.tanh_c[a:b], self.dz[a:b], self.dc_dh[a:b]
        H = tc.shape[-1]
        off = 1 if self.reverse else 0
        c = self.states[a + off:b + off, :, H:]      # each step's previous c
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

    def release(self) -> None:
        """Drop the arrays only backward needs (the states stay: the outputs are views of them)."""
        self.gates = self.tanh_c = self.dz = self.dc_dh = None


class LSTMStep(Op):
    r"""[h', c'] of LSTM step ``t``, in PyTorch's gate order i, f, g, o.

    Inputs: ``zx`` (T, N, 4H), the input projections :math:`W_{ih} x` of the whole sequence (this
    step reads ``zx[t]``); ``hc`` (N, 2H), the previous ``[h, c]``; ``w`` (H, 4H), the transposed
    recurrent weights :math:`W_{hh}^T`; optionally ``b`` (4H,), both biases summed. ``seq``: the
    :class:`LSTMSequence` this step belongs to (a layer passes one; by default a step is a
    sequence of its own).

    Forward: :math:`z = z_x[t] + h w + b`; :math:`i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o)`,
    :math:`g = \tanh(z_g)`, :math:`c' = f c + i g`, :math:`h' = o \tanh(c')`; the output is
    ``[h', c']`` (N, 2H).

    Backward, from :math:`(\bar h', \bar c')`:
    :math:`\bar c = \bar c' + \bar h' o (1 - \tanh^2 c')`,
    :math:`\bar z = [\bar c g\, i(1-i),\ \bar c c\, f(1-f),\ \bar c i (1-g^2),\
    \bar h' \tanh c'\, o(1-o)]`; then :math:`\bar{hc} = [\bar z w^T,\ \bar c f]`,
    :math:`\bar z_x[t] = \bar z`, :math:`\bar w = h^T \bar z`, :math:`\bar b = \sum_n \bar z`.
    The last three are summed over the steps of the sequence and returned once, by the step
    that runs backward last (see :class:`LSTMSequence`); the other steps return ``None`` for
    ``zx``, ``w`` and ``b``.
    """

    wants_needs = True

    def forward(self, zx, hc, w, b=None, t=0, seq=None):
        xp = get_array_module(hc)
        H = hc.shape[-1] // 2
        seq = LSTMSequence(1, first=t) if seq is None else seq
        r, hc, out = seq.start(t, hc)
        h, c = hc[:, :H], hc[:, H:]
        s = seq.gates[r]
        xp.matmul(h, w, out=s)
        s += zx[t]
        if b is not None:
            s += b
        scale, offset = gate_activation(xp, H, s.dtype)
        s *= scale                                # i, f, o: sigmoid; g: tanh; in place
        xp.tanh(s, out=s)
        s *= scale
        s += offset
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        c_new, tc = out[:, H:], seq.tanh_c[r]
        xp.multiply(f, c, out=c_new)
        xp.multiply(i, g, out=tc)                 # tc is scratch space until tanh(c') lands
        c_new += tc
        xp.tanh(c_new, out=tc)
        xp.multiply(o, tc, out=out[:, :H])
        self.seq, self.r, self.zx_shape = seq, r, zx.shape
        seq.last = out
        self.save(w)
        return out

    def backward(self, grad):
        seq, r = self.seq, self.r
        if seq.gates is None:
            raise RuntimeError("backward(): the arrays of this LSTM sequence were freed by an "
                               "earlier backward(); pass retain_graph=True to keep them")
        (w,) = self.saved
        a, b = seq.rows(r)
        s, dz = seq.gates[r], seq.dz[r]             # dz holds the derivatives (seq.rows)
        xp = get_array_module(s)
        N, H = s.shape[0], s.shape[1] // 4
        dh, dc_next = grad[:, :H], grad[:, H:]
        dc = dh * seq.dc_dh[r]
        dc += dc_next
        gates = dz.reshape(N, 4, H)                 # a view: gates[:, k] is gate k's slice
        gates[:, :3] *= dc[:, None, :]
        gates[:, 3] *= dh
        needs = self.needs
        dhc = None
        if needs[1]:
            dhc = xp.empty((N, 2 * H), dtype=s.dtype)
            xp.matmul(dz, w.T, out=dhc[:, :H])
            xp.multiply(dc, s[:, H:2 * H], out=dhc[:, H:])  # f
        grads = [None, dhc, None, None][:len(needs)]
        if r == (seq.steps - 1 if seq.reverse else 0):  # the last step backward: the sums
            dzs = seq.dz[a:b].reshape((b - a) * N, 4 * H)
            if needs[0]:
                seq.dz[:a] = 0                      # rows of steps this pass did not reach
                seq.dz[b:] = 0
                first, T = seq.first, seq.steps
                grads[0] = seq.dz if (first, T) == (0, self.zx_shape[0]) else \
                    Scatter(self.zx_shape, slice(first, first + T), seq.dz, advanced=False)
            if needs[2]:
                off = 1 if seq.reverse else 0
                grads[2] = seq.states[a + off:b + off, :, :H].reshape(-1, H).T @ dzs
            if len(needs) == 4 and needs[3]:
                grads[3] = dzs.sum(axis=0)
        return grads

    def free(self) -> None:
        super().free()
        if self.r == (self.seq.steps - 1 if self.seq.reverse else 0):
            self.seq.release()
