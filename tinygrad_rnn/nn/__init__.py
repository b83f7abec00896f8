"""``tg.nn``: modules, layers, recurrent cells and the functions they are built from."""
from . import functional
from .layers import Embedding, Linear
from .module import Module, Parameter

__all__ = ["Embedding", "Linear", "Module", "Parameter", "functional"]
