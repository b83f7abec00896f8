"""The fused Elman RNN step: :class:`RNNStep` and its :class:`RNNSequence`."""
from __future__ import annotations

from ..backend import constant, get_array_module
from .sequence import FusedStep, StepSequence

NONLINEARITIES = ("tanh", "relu")


class RNNSequence(StepSequence):
    """The arrays that the :class:`RNNStep` ops of one layer and direction share.

    ``states`` (T + 1, N, H) holds every h (a step returns the view ``states[k]``): it is all
    that backward reads, since the activation's derivative follows from h' itself
    (:math:`1 - h'^2` for tanh, :math:`[h' > 0]` for relu). A backward pass sets out those
    derivatives for every step it reaches in one call, in rows of ``dz`` (T, N, H); step r then
    multiplies its row by the upstream gradient, which makes it the gradient of step r's
    pre-activation: both the input projection's gradient and the recurrent side's. The step
    that runs backward last returns the weight and bias gradients as one sum over all steps.
    """

    forward_only = ("w_contiguous",)
    backward_only = ("dz",)
    nonlinearity = "tanh"  # the steps' (they set it)

    @property
    def gates(self):
        """The arrays backward reads (what :meth:`FusedStep.begin` checks): the states, which
        stay as long as the outputs that view them."""
        return self.states

    def allocate(self, xp, h) -> None:
        N, H = h.shape
        self.states = self.new(xp, "states", (self.steps + 1, N, H), h.dtype)

    def new_pass(self, r: int) -> None:
        """Row ``r`` starts a backward pass: the derivatives :math:`\\phi'` of the rows it
        reaches (0..r forwards, r..T-1 backwards in time) into ``dz``."""
        super().new_pass(r)
        states = self.states
        xp = get_array_module(states)
        if self.dz is None:
            self.dz = self.new(xp, "dz", (self.steps, *states.shape[1:]), states.dtype)
        a, b = (r, self.steps) if self.reverse else (0, r + 1)
        h, d = (states[a:b] if self.reverse else states[a + 1:b + 1]), self.dz[a:b]
        if self.nonlinearity == "tanh":
            xp.multiply(h, h, out=d)
            xp.subtract(constant(1, d), d, out=d)  # 1 - h'^2
        else:
            xp.greater(h, 0, out=d)                # [h' > 0]


class RNNStep(FusedStep):
    r"""h' of Elman RNN step ``t``: :math:`h' = \phi(z_x[t] + h w + b)`, :math:`\phi` tanh or relu.

    Inputs: ``zx`` (T, N, H), the input projections :math:`W_{ih} x + b_{ih}` of the whole
    sequence (this step reads ``zx[t]``; a layer folds :math:`b_{hh}` in too); ``h`` (N, H);
    ``w`` (H, H), the transposed recurrent weights :math:`W_{hh}^T`; optionally ``b`` (H,),
    :math:`b_{hh}`. Settings: ``nonlinearity`` (``"tanh"`` or ``"relu"``) and ``seq``, the
    :class:`RNNSequence` this step belongs to (by default a step is a sequence of its own).

    Backward, from :math:`\bar h'`: :math:`\bar a = \bar h' \odot \phi'`, with
    :math:`\phi' = 1 - h'^2` (tanh) or :math:`[h' > 0]` (relu); then :math:`\bar z_x[t] = \bar
    a`, :math:`\bar h = \bar a w^T`, :math:`\bar w = h^T \bar a`, :math:`\bar b = \sum_n \bar
    a`. As for :class:`GRUStep`, the gradients of ``zx``, ``w`` and ``b`` are summed over the
    steps and returned once, by the step that runs backward last.
    """

    def forward(self, zx, h, w, b=None, t=0, seq=None, nonlinearity="tanh"):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        xp = get_array_module(h)
        seq = RNNSequence(1, first=t) if seq is None else seq
        r, h, out = seq.start(t, h)
        xp.dot(h, seq.contiguous_weights(r, w), out=out)  # dot: less overhead than matmul
        out += zx[t]                               # a = z_x[t] + h w (+ b)
        if b is not None:
            out += b
        if nonlinearity == "tanh":
            xp.tanh(out, out=out)
        else:
            xp.maximum(out, 0, out=out)
        seq.nonlinearity = nonlinearity
        self.keep(seq, r, zx.shape, w)
        return out

    def backward(self, grad):
        a, b = self.begin()  # the pass's first step has set out phi' in the rows of seq.dz
        seq, needs = self.seq, self.needs
        da = seq.dz[self.r]
        da *= grad                                 # a-bar = h'-bar phi'
        dh = get_array_module(grad).dot(da, seq.w.T) if needs[1] else None
        dh = self.add_output_share(dh)
        return self.sums([None, dh, None, None][:len(needs)], seq.dz, a, b)
