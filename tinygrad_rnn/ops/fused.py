"""Fused primitives: the arithmetic of a whole recurrent step in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen and keeps no intermediate arrays
alive but the ones its backward needs. It is a fast path, not a new model: the plain path (the
cells' ``forward``, built op by op) is what a student reads first, and the tests prove the fused
op equal to it.
"""
from __future__ import annotations

from ..backend import constant, get_array_module
from .base import Op
from .unary import exp_limit


class LSTMStep(Op):
    r"""[h', c'] of an LSTM step, in PyTorch's gate order i, f, g, o.

    Inputs: ``zx`` (N, 4H), the step's input projection :math:`W_{ih} x_t`; ``h`` (N, H);
    ``w`` (H, 4H), :math:`W_{hh}^T`; ``c`` (N, H); optionally ``b`` (4H,), both biases summed.

    Forward: :math:`z = z_x + h w + b`; :math:`i, f, o = \sigma(z_i), \sigma(z_f), \sigma(z_o)`,
    :math:`g = \tanh(z_g)`, :math:`c' = f c + i g`, :math:`h' = o \tanh(c')`; the output is
    ``[h', c']`` (N, 2H).

    Backward, from :math:`(\bar h, \bar c')`: :math:`\bar c = \bar c' + \bar h\, o (1 - \tanh^2 c')`,
    :math:`\bar z = [\bar c g\, i(1-i),\ \bar c c\, f(1-f),\ \bar c i (1-g^2),\
    \bar h \tanh c'\, o(1-o)]`; then :math:`\bar z_x = \bar z`, :math:`\bar h = \bar z w^T`,
    :math:`\bar w = h^T \bar z`, :math:`\bar c = \bar c f`, :math:`\bar b = \sum_n \bar z`.
    """

    wants_needs = True

    def forward(self, zx, h, w, c, b=None):
        xp = get_array_module(c)
        H = c.shape[-1]
        s = h @ w
        s += zx
        if b is not None:
            s += b
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
        self.save(s, g, c, tc, h, w)
        return out

    def backward(self, grad):
        s, g, c, tc, h, w = self.saved
        xp = get_array_module(s)
        N, H = c.shape
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
        grads = [dz, dz @ w.T if needs[1] else None, h.T @ dz if needs[2] else None,
                 dc * s[:, H:2 * H] if needs[3] else None]        # f
        if len(needs) == 5:
            grads.append(dz.sum(axis=0))
        return grads
