"""The fused GRU step (PyTorch's ``reset_after`` form): :class:`GRUStep` and its
:class:`GRUSequence`."""
from __future__ import annotations

from ..backend import constant, get_array_module
from .sequence import FusedStep, StepSequence, gate_view


class GRUSequence(StepSequence):
    """The arrays that the :class:`GRUStep` ops of one layer and direction share.

    Row r of ``gates`` (T, 3, N, H) holds step t's r, z and n, one gate after the other, and of
    ``hn`` (T, N, H) its :math:`W_{hn} h + b_{hn}`; ``states`` (T + 1, N, H) holds every h (a
    step returns the view ``states[k]``). Each gate is a contiguous (N, H) block: NumPy runs an
    elementwise op on it several times faster than on a column slice of an (N, 3H) row when H
    is small (32). In the backward pass row r of ``dz`` (T, N, 3H) takes the gradient of the
    gates' input-side pre-activations (the input projection's gradient) and of ``dhp`` that of
    the recurrent side, :math:`h W_{hh}^T + b_{hh}`, worked out gate by gate in ``da``
    (3, N, H) first; the step that runs backward last returns the weight and bias gradients as
    one sum over all steps.
    """

    forward_only = ("scratch", "w_contiguous")
    backward_only = ("gates", "hn", "dz", "dhp", "da", "tmp1", "tmp2")

    def allocate(self, xp, h) -> None:
        N, H = h.shape
        self.gates = self.new(xp, "gates", (self.steps, 3, N, H), h.dtype)
        self.hn = self.new(xp, "hn", (self.steps, N, H), h.dtype)
        self.states = self.new(xp, "states", (self.steps + 1, N, H), h.dtype)
        self.scratch = self.new(xp, "scratch", (3, N, H), h.dtype)

    def new_pass(self, r: int) -> None:
        super().new_pass(r)
        if self.dz is None:
            xp, dtype = get_array_module(self.gates), self.gates.dtype
            T, _, N, H = self.gates.shape
            self.dz = self.new(xp, "dz", (T, N, 3 * H), dtype)
            self.dhp = self.new(xp, "dhp", (T, N, 3 * H), dtype)
            self.da = self.new(xp, "da", (3, N, H), dtype)
            self.tmp1 = self.new(xp, "tmp1", (N, H), dtype)
            self.tmp2 = self.new(xp, "tmp2", (N, H), dtype)


def by_gate(a):
    """``a`` (N, 3H) as a view (3, N, H): gate k is ``a[:, kH:(k+1)H]``."""
    return gate_view(a, 3)


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
        s, p, x = seq.gates[r], seq.scratch, by_gate(zx[t])
        xp.matmul(h, seq.contiguous_weights(r, w, by_gate), out=p)  # p[k] = h w_k: (3, N, H)
        if b is not None:
            p += b.reshape(3, 1, H)
        rz = s[:2]
        xp.add(x[:2], p[:2], out=rz)
        half = constant(0.5, s)
        rz *= half                                 # sigmoid(a) = 0.5 tanh(0.5 a) + 0.5
        xp.tanh(rz, out=rz)
        rz *= half
        rz += half
        hn, reset, z, n = seq.hn[r], s[0], s[1], s[2]
        hn[...] = p[2]
        xp.multiply(reset, hn, out=n)
        n += x[2]
        xp.tanh(n, out=n)
        xp.subtract(h, n, out=out)                 # h' = n + z (h - n)
        out *= z
        out += n
        self.keep(seq, r, zx.shape, w)
        return out

    def backward(self, grad):
        a, b = self.begin()
        seq, r, w = self.seq, self.r, self.seq.w
        s, da = seq.gates[r], seq.da
        xp = get_array_module(s)
        reset, z, n = s[0], s[1], s[2]
        d_r, d_z, d_n = da[0], da[1], da[2]
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
        by_gate(seq.dz[r])[...] = da
        dp = seq.dhp[r]
        by_gate(dp)[:2] = da[:2]
        xp.multiply(d_n, reset, out=by_gate(dp)[2])  # the recurrent side: a_n r
        needs = self.needs
        dh = None
        if needs[1]:
            dh = xp.dot(dp, w.T)
            xp.multiply(grad, z, out=t1)
            dh += t1
        dh = self.add_output_share(dh)
        return self.sums([None, dh, None, None][:len(needs)], seq.dhp, a, b)
