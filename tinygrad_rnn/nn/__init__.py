"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional, init, utils
from .attention_layers import AdditiveAttention, DotProductAttention
from .cells import ClockworkRNNCell, GRUCell, IRNNCell, LSTMCell, RNNCell, SCRNCell
from .containers import ModuleDict, ModuleList, Sequential
from .gated import GRU, LSTM
from .layers import (
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LazyLinear,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .loop import unroll
from .losses import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter, UninitializedParameter
from .multihead import MultiheadAttention
from .recurrent import RNN
from .seq2seq import AttentionDecoder, Seq2Seq, Seq2SeqDecoder, Seq2SeqEncoder
from .tbptt import cut, cut_origin, detach_state, tbptt

__all__ = ["ClockworkRNNCell", "Embedding", "Linear", "Module", "Parameter", "SCRNCell",
           "cut", "cut_origin", "detach_state", "functional", "tbptt", "unroll", "utils"]
__all__ += ["GRU", "LSTM", "RNN", "GRUCell", "IRNNCell", "LSTMCell", "RNNCell"]
__all__ += ["CrossEntropyLoss", "Dropout", "Flatten", "Identity", "LazyLinear", "LogSoftmax",
            "MSELoss", "ModuleDict", "ModuleList", "NLLLoss", "ReLU", "Sequential", "Sigmoid",
            "Softmax", "Tanh", "UninitializedParameter", "init"]
__all__ += ["AdditiveAttention", "AttentionDecoder", "DotProductAttention", "MultiheadAttention",
            "Seq2Seq", "Seq2SeqDecoder", "Seq2SeqEncoder"]
