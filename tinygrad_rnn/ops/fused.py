"""Fused primitives: the arithmetic of a whole recurrent step in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen and keeps no intermediate arrays
alive but the ones its backward needs. It is a fast path, not a new model: the plain path (the
cells' ``forward``, built op by op) is what a student reads first, and the tests prove the fused
op equal to it.
"""
from __future__ import annotations

from ..autograd import Scatter
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


class LSTMStep(Op):
    r"""[h', c'] of LSTM step ``t``, in PyTorch's gate order i, f, g, o.

    Inputs: ``zx`` (T, N, 4H), the input projections :math:`W_{ih} x` of the whole sequence (this
    step reads ``zx[t]``); ``hc`` (N, 2H), the previous ``[h, c]``; ``w`` (H, 4H), the transposed
    recurrent weights :math:`W_{hh}^T`; optionally ``b`` (4H,), both biases summed.

    Forward: :math:`z = z_x[t] + h w + b`; :math:`i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o)`,
    :math:`g = \tanh(z_g)`, :math:`c' = f c + i g`, :math:`h' = o \tanh(c')`; the output is
    ``[h', c']`` (N, 2H).

    Backward, from :math:`(\bar h', \bar c')`:
    :math:`\bar c = \bar c' + \bar h' o (1 - \tanh^2 c')`,
    :math:`\bar z = [\bar c g\, i(1-i),\ \bar c c\, f(1-f),\ \bar c i (1-g^2),\
    \bar h' \tanh c'\, o(1-o)]`; then :math:`\bar z_x[t] = \bar z` (the rest of
    :math:`\bar z_x` is untouched: a :class:`~tinygrad_rnn.autograd.Scatter`),
    :math:`\bar{hc} = [\bar z w^T,\ \bar c f]`, :math:`\bar w = h^T \bar z`,
    :math:`\bar b = \sum_n \bar z`.
    """

    wants_needs = True

    def forward(self, zx, hc, w, b=None, t=0):
        xp = get_array_module(hc)
        H = hc.shape[-1] // 2
        h, c = hc[:, :H], hc[:, H:]
        s = h @ w
        s += zx[t]
        if b is not None:
            s += b
        scale, offset = gate_activation(xp, H, s.dtype)
        s *= scale                                # i, f, o: sigmoid; g: tanh; in place
        xp.tanh(s, out=s)
        s *= scale
        s += offset
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        out = xp.empty_like(hc, dtype=s.dtype)
        c_new = out[:, H:]
        xp.multiply(f, c, out=c_new)
        c_new += i * g
        tc = xp.tanh(c_new)
        xp.multiply(o, tc, out=out[:, :H])
        self.t, self.zx_shape = t, zx.shape
        self.save(s, c, tc, h, w)
        return out

    def backward(self, grad):
        s, c, tc, h, w = self.saved
        xp = get_array_module(s)
        N, H = c.shape
        g = s[:, 2 * H:3 * H]
        one = constant(1, s)
        dh, dc_next = grad[:, :H], grad[:, H:]
        dc = one - tc * tc
        dc *= s[:, 3 * H:]                          # o
        dc *= dh
        dc += dc_next
        dz = one - s                                # sigma'(z) = s (1 - s) for i, f and o,
        dz *= s
        gates = dz.reshape(N, 4, H)                 # a view: gates[:, k] is gate k's slice
        xp.multiply(g, g, out=gates[:, 2])          # tanh'(z) = 1 - g^2 for g,
        xp.subtract(one, gates[:, 2], out=gates[:, 2])
        gates[:, 0] *= g                            # times what multiplies each gate:
        gates[:, 1] *= c                            #   c' = f c + i g,  h' = o tanh(c')
        gates[:, 2] *= s[:, :H]
        gates[:, 3] *= tc
        gates[:, :3] *= dc[:, None, :]
        gates[:, 3] *= dh
        needs = self.needs
        dhc = None
        if needs[1]:
            dhc = xp.empty((N, 2 * H), dtype=s.dtype)
            xp.matmul(dz, w.T, out=dhc[:, :H])
            xp.multiply(dc, s[:, H:2 * H], out=dhc[:, H:])  # f
        grads = [Scatter(self.zx_shape, self.t, dz, advanced=False) if needs[0] else None, dhc,
                 h.T @ dz if needs[2] else None]
        if len(needs) == 4:
            grads.append(dz.sum(axis=0))
        return grads
