"""``Linear`` and ``Embedding``: the feed-forward layers, initialised as PyTorch initialises them."""
from __future__ import annotations

import math

import numpy as np

from ..creation import check_size, randn, uniform
from . import functional as F
from .module import Module, Parameter


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
        k = 1 / math.sqrt(in_features) if in_features else 0.0
        self.weight = Parameter(uniform((out_features, in_features), -k, k, dtype=dtype,
                                        device=device))
        self.bias = Parameter(uniform((out_features,), -k, k, dtype=dtype, device=device)) \
            if bias else None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input has "
                             f"{x.shape[-1]} features (shape {x.shape})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


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
