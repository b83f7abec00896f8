"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional, utils
from .cells import GRUCell, IRNNCell, LSTMCell, RNNCell
from .clockwork import ClockworkRNNCell
from .layers import Embedding, Linear
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN
from .scrn import SCRNCell
from .tbptt import cut, cut_origin, detach_state, tbptt

__all__ = ["ClockworkRNNCell", "Embedding", "Linear", "Module", "Parameter", "SCRNCell",
           "cut", "cut_origin", "detach_state", "functional", "tbptt", "utils"]
__all__ += ["GRU", "LSTM", "RNN", "GRUCell", "IRNNCell", "LSTMCell", "RNNCell"]
