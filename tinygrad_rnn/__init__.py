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
from .backend import DeviceError, device
from .combine import concat, maximum, stack, where
from .creation import (
    arange,
    eye,
    full,
    full_like,
    multinomial,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randn_like,
    tensor,
    uniform,
    zeros,
    zeros_like,
)
from .functions import (  # PyTorch's function forms of the tensor methods
    abs,
    argmax,
    argmin,
    bmm,
    cat,
    clamp,
    cumsum,
    exp,
    flatten,
    flip,
    from_numpy,
    is_tensor,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    mean,
    min,
    mm,
    narrow,
    numel,
    permute,
    pow,
    relu,
    repeat_interleave,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    sum,
    tanh,
    transpose,
    unsqueeze,
)
from .gradcheck import GradcheckError, gradcheck
from .heap import release_memory
from .heap import use_default as _use_default_heap
from .nn import functional as F
from .random import manual_seed
from .serialization import CheckpointError, load, save
from .threads import get_num_threads, set_num_threads
from .threads import use_default as _use_default_threads

float16, float32, float64 = _np.float16, _np.float32, _np.float64
int32, int64 = _np.int32, _np.int64
# torch's other names of the same dtypes (torch.float, torch.long, torch.bool, ...)
half, float, double, int, long, bool = float16, float32, float64, int32, int64, _np.bool_

__version__ = "0.1.0"

_use_default_threads()  # one BLAS thread unless the environment chose (tinygrad_rnn.threads)
_use_default_heap()  # keep freed memory for the next step, on glibc (tinygrad_rnn.heap)

__all__ = [  # as torch's, it holds abs, max, min and sum
    "AnomalyError",
    "CheckpointError",
    "DeviceError",
    "F",
    "GradcheckError",
    "Tensor",
    "abs",
    "arange",
    "argmax",
    "argmin",
    "bmm",
    "cat",
    "clamp",
    "concat",
    "cuda",
    "cumsum",
    "detect_anomaly",
    "device",
    "double",
    "enable_grad",
    "exp",
    "eye",
    "flatten",
    "flip",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "fused",
    "get_num_threads",
    "grad",
    "gradcheck",
    "graph",
    "half",
    "int32",
    "int64",
    "is_grad_enabled",
    "is_tensor",
    "load",
    "log",
    "log_softmax",
    "logsumexp",
    "long",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "mm",
    "models",
    "multinomial",
    "narrow",
    "nn",
    "no_grad",
    "numel",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "permute",
    "pow",
    "rand",
    "randint",
    "randn",
    "randn_like",
    "release_memory",
    "relu",
    "repeat_interleave",
    "reshape",
    "save",
    "scope",
    "set_grad_enabled",
    "set_num_threads",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "sum",
    "tanh",
    "tensor",
    "trace",
    "transpose",
    "uniform",
    "unsqueeze",
    "utils",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
