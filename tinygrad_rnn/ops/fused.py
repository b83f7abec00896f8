"""Fused primitives: the elementwise arithmetic of a whole recurrent step in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen. It is a fast path, not a new
model: the plain path (the cells' ``forward``, built op by op) is what a student reads first, and
the tests prove the fused op equal to it.
"""
from __future__ import annotations

from ..backend import constant, get_array_module
from .base import Op
from .unary import exp_limit


class LSTMStep(Op):
    r"""[h', c'] of an LSTM step from its gate pre-activations, in PyTorch's gate order i, f, g, o.

    Forward, with :math:`z = z_x + z_h` (the input and recurrent projections, (N, 4H)):
    :math:`i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o)`, :math:`g = \tanh(z_g)`,
    :math:`c' = f c + i g`, :math:`h' = o \tanh(c')`; the output is ``[h', c']`` (N, 2H).

    Backward, from :math:`(\bar h, \bar c')`: :math:`\bar c = \bar c' + \bar h\, o (1 - \tanh^2 c')`,
    :math:`\bar z = [\bar c g\, i(1-i),\ \bar c c\, f(1-f),\ \bar c i (1-g^2),\
    \bar h \tanh c'\, o(1-o)]` for both :math:`z_x` and :math:`z_h`, and :math:`\bar c f` for c.
    """

    def forward(self, zx, zh, c):
        xp = get_array_module(c)
        H = c.shape[-1]
        s = zx + zh
        g = xp.tanh(s[:, 2 * H:3 * H])
        xp.negative(s, out=s)                     # sigmoid of every gate, in place
        xp.minimum(s, constant(exp_limit(s.dtype), s), out=s)
        xp.exp(s, out=s)
        s += constant(1, s)
        xp.reciprocal(s, out=s)
        i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
        out = xp.empty(c.shape[:-1] + (2 * H,), dtype=s.dtype)
        c_new = out[:, H:]
        xp.multiply(f, c, out=c_new)
        c_new += i * g
        tc = xp.tanh(c_new)
        xp.multiply(o, tc, out=out[:, :H])
        self.save(s, g, c, tc)
        return out

    def backward(self, grad):
        s, g, c, tc = self.saved
        xp = get_array_module(s)
        N, H = c.shape
        one = constant(1, s)
        f = s[:, H:2 * H]
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
        return dz, dz, dc * f
