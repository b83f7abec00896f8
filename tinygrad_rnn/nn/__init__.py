"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional, utils
from .layers import Embedding, Linear
from .module import Module, Parameter
from .tbptt import detach_state, tbptt

__all__ = ["Embedding", "Linear", "Module", "Parameter", "detach_state", "functional", "tbptt",
           "utils"]
