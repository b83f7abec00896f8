"""Moving tensors and weights between tinygrad_rnn and PyTorch (``tg.utils``).

The same model in both libraries has the same parameter names and shapes (``weight_ih_l0``,
gate order i, f, g, o), so weights move as state dicts:

- :func:`to_torch` turns a tensor into a ``torch.Tensor``, and a module or state dict into an
  ``OrderedDict`` ready for ``torch_module.load_state_dict``;
- :func:`from_torch` turns a ``torch.Tensor`` into a NumPy array, a ``torch.nn.Module`` or
  state dict into a dict of arrays, or loads it into a module of ours (``into=``), strictly.

PyTorch is imported only when one of these functions is called: tinygrad_rnn does not need it.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import backend
from .nn.module import Module
from .tensor import Tensor


def import_torch(fn: str):
    """The ``torch`` module, or an ``ImportError`` saying that ``fn`` needs it."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"{fn}() needs PyTorch, which tinygrad_rnn does not install: "
                          "pip install torch") from e
    return torch


def host_copy(value) -> np.ndarray:
    """A host NumPy copy of a tensor of ours or an array (NumPy or CuPy)."""
    return np.array(value.numpy() if isinstance(value, Tensor) else backend.to_numpy(value))


def to_torch(x):
    """A ``torch.Tensor`` copy of a tensor (same dtype, on the CPU), or, for a module or a state
    dict, an ``OrderedDict`` name -> ``torch.Tensor`` for ``torch_module.load_state_dict``.

    >>> import tinygrad_rnn as tg
    >>> torch_lstm = torch.nn.LSTM(3, 4)                    # doctest: +SKIP
    >>> torch_lstm.load_state_dict(tg.utils.to_torch(tg.nn.LSTM(3, 4)))   # doctest: +SKIP
    """
    torch = import_torch("to_torch")
    if isinstance(x, (Tensor, np.ndarray)):
        return torch.from_numpy(host_copy(x))
    if isinstance(x, Module):
        x = x.state_dict()
    if isinstance(x, Mapping):
        return OrderedDict((name, torch.from_numpy(host_copy(v))) for name, v in x.items())
    raise TypeError(f"to_torch(): expected a Tensor, a Module or a state dict, got "
                    f"{type(x).__name__}")


def from_torch(x, into: Module | None = None):
    """NumPy copies of PyTorch's values: a ``torch.Tensor`` gives an array; a
    ``torch.nn.Module`` or a state dict gives an ``OrderedDict`` name -> array.

    With ``into=module`` (a module of ours) the state dict is loaded into it with
    ``load_state_dict(strict=True)``: a missing, unexpected or mis-shaped entry raises an error
    naming it. Returns ``module`` then.
    """
    torch = import_torch("from_torch")
    if isinstance(x, torch.Tensor):
        if into is not None:
            raise TypeError("from_torch(): into= takes a state dict or a module, not one tensor")
        return torch_array("tensor", x, torch)
    if isinstance(x, torch.nn.Module):
        x = x.state_dict()
    if not isinstance(x, Mapping):
        raise TypeError(f"from_torch(): expected a torch.Tensor, a torch.nn.Module or a state "
                        f"dict, got {type(x).__name__}")
    arrays = OrderedDict((name, torch_array(name, v, torch)) for name, v in x.items())
    if into is None:
        return arrays
    if not isinstance(into, Module):
        raise TypeError(f"from_torch(): into= must be a tinygrad_rnn Module, got "
                        f"{type(into).__name__}")
    into.load_state_dict(arrays, strict=True)
    return into


def torch_array(name: str, value, torch) -> np.ndarray:
    """A NumPy copy of ``value`` (a torch tensor, or anything ``numpy.asarray`` takes)."""
    if not isinstance(value, torch.Tensor):
        return np.array(value)
    if value.dtype == torch.bfloat16:
        raise TypeError(f"from_torch(): {name} is bfloat16, which NumPy has no dtype for: "
                        "convert it first (.float())")
    return value.detach().cpu().numpy().copy()
