"""tinygrad_rnn: recurrent neural networks and backpropagation through time you can see.

The engine: :class:`Tensor` holds one NumPy (``"cpu"``) or CuPy (``"cuda"``) array and records
the op that made it; ``backward()`` runs reverse-mode automatic differentiation over that graph.
"""
import numpy as _np

# isort: off
from .tensor import Tensor, grad  # first: tensor and ops import each other; ops need Tensor
# isort: on
from . import cuda, fused, graph, models, nn, ops, optim, trace, utils, viz
from .autograd import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
    set_grad_enabled,
)
from .backend import DeviceError
from .combine import concat, maximum, stack, where
from .creation import (
    arange,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    uniform,
    zeros,
    zeros_like,
)
from .gradcheck import GradcheckError, gradcheck
from .nn import functional as F
from .random import manual_seed
from .serialization import CheckpointError, load, save
from .threads import get_num_threads, set_num_threads
from .threads import use_default as _use_default_threads

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64 = _np.int32, _np.int64

__version__ = "0.1.0"

_use_default_threads()  # one BLAS thread unless the environment chose (tinygrad_rnn.threads)

__all__ = [
    "AnomalyError",
    "CheckpointError",
    "DeviceError",
    "F",
    "GradcheckError",
    "Tensor",
    "arange",
    "concat",
    "cuda",
    "detect_anomaly",
    "enable_grad",
    "eye",
    "float16",
    "float32",
    "float64",
    "full",
    "fused",
    "get_num_threads",
    "grad",
    "gradcheck",
    "graph",
    "int32",
    "int64",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "maximum",
    "models",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "rand",
    "randn",
    "save",
    "scope",
    "set_grad_enabled",
    "set_num_threads",
    "stack",
    "tensor",
    "trace",
    "uniform",
    "utils",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
