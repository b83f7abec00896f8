"""The feed-forward layers, initialised as PyTorch initialises them, and PyTorch's small modules.

``Linear`` (and ``LazyLinear``, which learns its input size at the first call), ``Embedding``,
``Dropout``, ``Identity``, ``Flatten`` and the activations as modules (``Tanh``, ``ReLU``,
``Sigmoid``, ``Softmax``, ``LogSoftmax``), each with PyTorch's arguments and printed form.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..creation import check_size, randn, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter, UninitializedParameter


class Linear(Module):
    """``y = x @ weight.T + bias``; weight (out, in) and bias (out,) ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> import tinygrad_rnn as tg
    >>> tg.nn.Linear(3, 2)(tg.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 device: str = "cpu", dtype=np.float32):
        in_features = check_size("Linear", "in_features", in_features)
        out_features = check_size("Linear", "out_features", out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(zeros(out_features, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw weight, then bias, from U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's defaults)."""
        k = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
        init.uniform_(self.weight, -k, k)
        if self.bias is not None:
            init.uniform_(self.bias, -k, k)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input has "
                             f"{x.shape[-1]} features (shape {x.shape})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """A :class:`Linear` whose ``in_features`` is the last size of its first input.

    Until that call its parameters are :class:`~tinygrad_rnn.nn.module.UninitializedParameter`
    objects; the call gives them their shapes and PyTorch's initial values and turns the module
    into a plain ``Linear``. An optimiser built before the call holds the same parameter
    objects, so it updates them afterwards, as in PyTorch.

    >>> import tinygrad_rnn as tg
    >>> layer = tg.nn.LazyLinear(2)
    >>> layer(tg.ones(4, 3)).shape, layer.weight.shape
    ((4, 2), (2, 3))
    """

    def __init__(self, out_features: int, bias: bool = True, *, device: str = "cpu",
                 dtype=np.float32):
        self.in_features = 0
        self.out_features = check_size("LazyLinear", "out_features", out_features)
        self.weight = UninitializedParameter(dtype=dtype, device=device)
        self.bias = UninitializedParameter(dtype=dtype, device=device) if bias else None

    def forward(self, x):
        if isinstance(self.weight, UninitializedParameter):
            self.in_features = x.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        self.in_features = self.weight.shape[1]  # also after a state dict gave the shapes
        self.__class__ = Linear
        return Linear.forward(self, x)


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) ~ N(0, 1), picked by integer indices."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, device: str = "cpu",
                 dtype=np.float32):
        num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(randn(num_embeddings, embedding_dim, dtype=dtype, device=device))

    def forward(self, idx):
        return F.embedding(idx, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """:func:`~tinygrad_rnn.nn.functional.dropout` while training, the identity after ``eval()``.

    ``inplace`` is accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a layer switched off)."""

    def __init__(self, *args, **kwargs):
        pass

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge the axes ``start_dim`` .. ``end_dim`` into one: (N, A, B) -> (N, A*B) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        first, last = (d % x.ndim if x.ndim else 0 for d in (self.start_dim, self.end_dim))
        if first > last:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {x.shape}")
        return x.reshape(*x.shape[:first], math.prod(x.shape[first:last + 1]),
                         *x.shape[last + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Tanh(Module):
    """``x.tanh()`` as a module."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class ReLU(Module):
    """``x.relu()`` as a module (``inplace`` accepted for PyTorch's signature)."""

    def __init__(self, inplace: bool = False):
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Sigmoid(Module):
    """``x.sigmoid()`` as a module."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


def softmax_dim(name: str, dim: int | None, ndim: int) -> int:
    """``dim``, or PyTorch's old implicit choice (0 for 0-, 1- and 3-D inputs, else 1), warned."""
    if dim is not None:
        return dim
    warnings.warn(f"{name}: the implicit choice of dim is deprecated (as in torch): pass dim",
                  stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


class AlongDim(Module):
    """A function of ``tg.F`` applied along ``dim`` (the base of ``Softmax`` and ``LogSoftmax``)."""

    def __init__(self, dim: int | None = None):
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        return self.function(x, axis=softmax_dim(name, self.dim, x.ndim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(AlongDim):
    """:func:`~tinygrad_rnn.nn.functional.softmax` along ``dim``."""

    function = staticmethod(F.softmax)


class LogSoftmax(AlongDim):
    """:func:`~tinygrad_rnn.nn.functional.log_softmax` along ``dim``."""

    function = staticmethod(F.log_softmax)
