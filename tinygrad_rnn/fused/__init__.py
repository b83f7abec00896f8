"""Fused operations: the arithmetic of a whole recurrent step, or of a loss, in one op.

A fused op computes what a chain of primitive ops computes, with its gradient written out by
hand, so a time step costs one graph node instead of a dozen and keeps no intermediate arrays
alive but the ones its backward needs. It is a fast path, not a new model: the plain path (the
cells' ``forward``, built op by op from :mod:`tinygrad_rnn.ops`) is what a student reads first,
and the tests prove every fused op equal to its plain composite.

What the fused ops rely on from the engine (:mod:`tinygrad_rnn.autograd`), and nothing more:

- **Newest first.** The backward pass visits tensors in decreasing creation number, so the steps
  of a sequence run backward in the reverse of their forward order, and a step's output
  gradient is complete when its ``backward`` runs. The step that ran first forward runs last
  backward; it returns the gradients all steps share (input projection, weights, bias) summed.
  A layer's output (:class:`SequenceOutput`) is newer than every step, so it runs backward
  before them all and can hand its gradient to the sequence, each row to the step that adds it.
- **The backward-pass number.** ``autograd.state.backward_pass`` is new at every backward pass:
  a sequence tells one pass from the next by it (a pass may start in the middle of a sequence,
  after truncation or from an intermediate output).
- **Which inputs need a gradient** is fixed when the op is recorded (``op.needs``, set by
  :meth:`~tinygrad_rnn.ops.Op.apply`); a step skips the work for the others.
- **Gradients are never written into** by the engine or by other ops (``backward`` never writes
  into ``g``; the engine adds into arrays only it allocated), so a step may return views of the
  sequence's own arrays.
- **Saved arrays are freed after backward** unless ``retain_graph``: ``Op.free`` is called once
  per op, and the step that runs backward last gives the sequence's arrays back to its pool.
- **The in-place check** (``autograd.check_versions``) runs for an op that saved arrays: a
  sequence's first step saves the recurrent weights for all its steps, and every backward pass
  through the sequence ends in that step, so a weight changed in place since the forward pass
  (an optimiser step too early) is refused before any gradient reaches the parameters.
- **Scatter.** A gradient for part of an input may be an :class:`~tinygrad_rnn.autograd.Scatter`
  (a sequence that covers some of the steps of its input projection).
"""
from .gru import GRUSequence, GRUStep
from .loss import CrossEntropy
from .lstm import LSTMOutput, LSTMSequence, LSTMStep
from .pool import ArrayPool
from .rnn import RNNSequence, RNNStep
from .sequence import FusedStep, SequenceOutput, StepSequence
from .softmax import LogSoftmax

FUSED = (LSTMStep, LSTMOutput, GRUStep, RNNStep, SequenceOutput, CrossEntropy, LogSoftmax)

__all__ = [
           "FUSED",
           "ArrayPool",
           "CrossEntropy",
           "FusedStep",
           "GRUSequence",
           "GRUStep",
           "LSTMOutput",
           "LSTMSequence",
           "LSTMStep",
           "LogSoftmax",
           "RNNSequence",
           "RNNStep",
           "SequenceOutput",
           "StepSequence",
]
