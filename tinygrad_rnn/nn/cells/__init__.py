"""Recurrent cells: one time step each, built only from primitive ops, on :class:`RecurrentCell`.

``RNNCell`` and ``IRNNCell`` (rnn.py), ``LSTMCell`` (lstm.py), ``GRUCell`` (gru.py),
``ClockworkRNNCell`` (clockwork.py) and ``SCRNCell`` (scrn.py); the step functions
``lstm_step``, ``gru_step`` and ``cho_gru_step`` hold the gate arithmetic that the unrolled
layers (:mod:`tinygrad_rnn.nn.recurrent`, :mod:`tinygrad_rnn.nn.gated`) share with the cells.
:func:`tinygrad_rnn.nn.unroll` runs any cell over a sequence.
"""
from .base import RecurrentCell
from .clockwork import ClockworkRNNCell
from .gru import GRUCell, cho_gru_step, gru_step
from .lstm import LSTMCell, lstm_step
from .rnn import IRNNCell, RNNCell
from .scrn import SCRNCell

__all__ = [
    "ClockworkRNNCell",
    "GRUCell",
    "IRNNCell",
    "LSTMCell",
    "RNNCell",
    "RecurrentCell",
    "SCRNCell",
    "cho_gru_step",
    "gru_step",
    "lstm_step",
]
