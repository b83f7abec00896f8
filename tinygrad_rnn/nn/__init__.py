"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional, utils
from .cells import ClockworkRNNCell, GRUCell, IRNNCell, LSTMCell, RNNCell, SCRNCell
from .gated import GRU, LSTM
from .layers import Embedding, Linear
from .loop import unroll
from .module import Module, Parameter
from .recurrent import RNN
from .tbptt import cut, cut_origin, detach_state, tbptt

__all__ = ["ClockworkRNNCell", "Embedding", "Linear", "Module", "Parameter", "SCRNCell",
           "cut", "cut_origin", "detach_state", "functional", "tbptt", "unroll", "utils"]
__all__ += ["GRU", "LSTM", "RNN", "GRUCell", "IRNNCell", "LSTMCell", "RNNCell"]
