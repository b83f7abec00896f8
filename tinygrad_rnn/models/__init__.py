"""``tg.models``: whole models built from the layers, with what trains and measures them.

- :mod:`.charlm`: :class:`CharLM`, a character language model (lesson 6 and
  ``python -m tinygrad_rnn train charlm``), its training step, evaluation, sampling and
  checkpoints.
- :mod:`.flows`: :func:`measure_flows`, the gradient flow of a tanh RNN, an LSTM, a GRU and an
  IRNN on one sequence (the demo's figure).
"""
from .charlm import (
    CharLM,
    count_parameters,
    evaluate,
    hidden_size_for,
    load_checkpoint,
    loss_of,
    sample,
    save_checkpoint,
    train_step,
)
from .flows import measure_flows

__all__ = ["CharLM", "count_parameters", "evaluate", "hidden_size_for", "load_checkpoint",
           "loss_of", "measure_flows", "sample", "save_checkpoint", "train_step"]
