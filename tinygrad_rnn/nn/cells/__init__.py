"""Recurrent cells: one time step each, built only from primitive ops.

``RNNCell`` and ``IRNNCell`` (rnn.py), ``LSTMCell`` (lstm.py), ``GRUCell`` (gru.py); the step
functions ``lstm_step``, ``gru_step`` and ``cho_gru_step`` hold the gate arithmetic that the
unrolled layers in :mod:`tinygrad_rnn.nn.recurrent` share with the cells.
"""
from .base import RecurrentCell
from .gru import GRUCell, cho_gru_step, gru_step
from .lstm import LSTMCell, lstm_step
from .rnn import IRNNCell, RNNCell

__all__ = [
    "GRUCell",
    "IRNNCell",
    "LSTMCell",
    "RNNCell",
    "RecurrentCell",
    "cho_gru_step",
    "gru_step",
    "lstm_step",
]
