"""Weight initialisation (``tg.nn.init``), as ``torch.nn.init``.

Each function fills a tensor in place and returns it: the values are drawn on the host by the
package's generator (so ``tg.manual_seed`` makes them repeatable, on every device), converted
to the tensor's dtype and written into its array. The write is not recorded in any graph (as
under ``torch.no_grad()``) and counts as an in-place change: a graph that saved the old values
refuses ``backward`` (see :func:`tinygrad_rnn.autograd.check_versions`).

The fans of a weight of shape ``(out, in, *k)`` are ``fan_in = in * prod(k)`` and
``fan_out = out * prod(k)``. Glorot & Bengio (2010) keep the variance of activations and of
gradients alike with :math:`\\mathrm{Var}(w) = 2 / (\\text{fan\\_in} + \\text{fan\\_out})`; He et
al. (2015) keep the activations' with :math:`\\mathrm{Var}(w) = \\text{gain}^2 / \\text{fan}`;
Saxe et al. (2014) start recurrent weights orthogonal, so that repeated multiplication neither
grows nor shrinks a vector.

>>> import tinygrad_rnn as tg
>>> w = tg.nn.init.orthogonal_(tg.zeros(3, 3, dtype=tg.float64))
>>> bool(abs(w.numpy() @ w.numpy().T - tg.eye(3, dtype=tg.float64).numpy()).max() < 1e-12)
True
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor
from .module import UninitializedParameter

GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
         "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
         "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the activations' scale after ``nonlinearity`` (PyTorch's table).

    ``leaky_relu`` takes its negative slope as ``param`` (default 0.01):
    :math:`\\sqrt{2 / (1 + \\text{slope}^2)}`.
    """
    if nonlinearity in GAINS:
        return GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            return math.sqrt(2.0 / (1 + 0.01 ** 2))
        if isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"calculate_gain(): negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + param ** 2))
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}; one of "
                     f"{sorted([*GAINS, 'leaky_relu'])}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``."""
    checked(tensor, "calculate_fan_in_and_fan_out")
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than "
                         f"2 dimensions (shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def checked(tensor, fn: str, floating: bool = False) -> Tensor:
    if isinstance(tensor, UninitializedParameter):
        raise ValueError(f"{fn}(): the parameter is not initialised yet (a lazy module's): "  # noqa: TRY004 (torch)
                         "call the module once on an input first")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}(): expected a Tensor, got {type(tensor).__name__}")
    if floating and tensor.dtype.kind != "f":
        raise TypeError(f"{fn}(): random values need a floating-point tensor, not {tensor.dtype}")
    return tensor


def write(tensor: Tensor, values) -> Tensor:
    """Copy host array ``values`` into ``tensor`` in place (its dtype, its device); return it."""
    values = np.asarray(values).astype(tensor.dtype, copy=False)
    tensor.data[...] = backend.to_device(values, tensor.device)
    tensor.version[0] += 1
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from :math:`U(a, b)`."""
    checked(tensor, "uniform_", floating=True)
    return write(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from :math:`N(\\text{mean}, \\text{std}^2)`."""
    checked(tensor, "normal_", floating=True)
    return write(tensor, generator().normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    checked(tensor, "constant_")
    return write(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal of a rectangle too)."""
    checked(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"eye_(): only 2-D tensors are supported, got shape {tensor.shape}")
    return write(tensor, np.eye(*tensor.shape))


def empty(tensor: Tensor, fn: str) -> bool:
    """Whether ``tensor`` has no elements (PyTorch warns that initialising it does nothing)."""
    if tensor.data.size == 0:
        warnings.warn(f"{fn}(): initialising a zero-element tensor is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: :math:`U(-a, a)`, :math:`a = \\text{gain}\\sqrt{6 / (\\text{fan\\_in} +
    \\text{fan\\_out})}`."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(checked(tensor, "xavier_uniform_", True))
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return write(tensor, generator().uniform(-a, a, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot: :math:`N(0, \\sigma^2)`, :math:`\\sigma = \\text{gain}\\sqrt{2 / (\\text{fan\\_in}
    + \\text{fan\\_out})}`."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(checked(tensor, "xavier_normal_", True))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return write(tensor, generator().normal(0.0, std, tensor.shape))


def kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, fn: str) -> float:
    """He's :math:`\\sigma = \\text{gain} / \\sqrt{\\text{fan}}`, the gain of ``nonlinearity``
    (``a``: the negative slope of a leaky ReLU)."""
    checked(tensor, fn, floating=True)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He: :math:`U(-b, b)`, :math:`b = \\sqrt{3}\\,\\text{gain} / \\sqrt{\\text{fan}}`."""
    if empty(checked(tensor, "kaiming_uniform_"), "kaiming_uniform_"):
        return tensor
    bound = math.sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return write(tensor, generator().uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He: :math:`N(0, \\sigma^2)`, :math:`\\sigma = \\text{gain} / \\sqrt{\\text{fan}}`."""
    if empty(checked(tensor, "kaiming_normal_"), "kaiming_normal_"):
        return tensor
    std = kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return write(tensor, generator().normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014), as PyTorch draws it.

    The tensor is seen as (rows, cols) = (shape[0], the rest); Q of the QR decomposition of a
    Gaussian matrix, each column's sign fixed by R's diagonal so that Q is uniformly
    distributed. Its rows (or columns, whichever are fewer) are orthonormal.
    """
    checked(tensor, "orthogonal_", floating=True)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_(): only tensors with 2 or more dimensions are "
                         f"supported, got shape {tensor.shape}")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = generator().normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return write(tensor, (gain * q).reshape(tensor.shape))


__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
