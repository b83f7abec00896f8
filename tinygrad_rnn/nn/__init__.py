"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional, utils
from .attention_layers import AdditiveAttention, DotProductAttention
from .cells import ClockworkRNNCell, GRUCell, IRNNCell, LSTMCell, RNNCell, SCRNCell
from .gated import GRU, LSTM
from .layers import Embedding, Linear
from .loop import unroll
from .module import Module, Parameter
from .multihead import MultiheadAttention
from .recurrent import RNN
from .seq2seq import AttentionDecoder, Seq2Seq, Seq2SeqDecoder, Seq2SeqEncoder
from .tbptt import cut, cut_origin, detach_state, tbptt

__all__ = ["ClockworkRNNCell", "Embedding", "Linear", "Module", "Parameter", "SCRNCell",
           "cut", "cut_origin", "detach_state", "functional", "tbptt", "unroll", "utils"]
__all__ += ["GRU", "LSTM", "RNN", "GRUCell", "IRNNCell", "LSTMCell", "RNNCell"]
__all__ += ["AdditiveAttention", "AttentionDecoder", "DotProductAttention", "MultiheadAttention",
            "Seq2Seq", "Seq2SeqDecoder", "Seq2SeqEncoder"]
