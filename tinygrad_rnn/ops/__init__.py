"""The primitives: every differentiable operation of the engine is one :class:`Op` here.

Composite functions (softmax, losses, cells) are built from these and never define gradients
of their own. ``PRIMITIVES`` lists them all; the test suite checks each one's gradient. Fused
operations (a whole LSTM or GRU step, softmax cross-entropy) live in :mod:`tinygrad_rnn.fused`.
"""
from .base import Op
from .binary import Add, Div, Maximum, Minimum, Mul, Pow, Sub, Where
from .matmul import MatMul
from .movement import Concat, Index, Reshape, Stack, Transpose
from .reduce import Cumsum, Max, Mean, Min, Sum
from .scalar import AddScalar, DivScalar, MulScalar, PowScalar, RDivScalar, RPowScalar, RSubScalar
from .unary import Abs, Cast, Clip, Exp, Log, Neg, Relu, Sigmoid, Sqrt, Tanh, ToDevice

PRIMITIVES = (Add, Sub, Mul, Div, Pow, Maximum, Minimum, Where, AddScalar, RSubScalar, MulScalar,
              DivScalar, RDivScalar, PowScalar, RPowScalar, MatMul, Neg, Exp, Log, Tanh, Sigmoid,
              Relu, Abs, Sqrt, Clip, Cast, ToDevice, Sum, Cumsum, Mean, Max, Min, Reshape, Transpose,
              Index, Concat, Stack)

__all__ = ["Op", "PRIMITIVES"] + [op.__name__ for op in PRIMITIVES]
