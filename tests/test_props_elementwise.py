"""Property tests: every elementwise op against torch in float64, values and gradients.

Unary ops, ops of a tensor and a Python number (both sides), and ops of two or three tensors of
any broadcastable shapes (size-0 and size-1 dimensions included), each on values where the op is
defined: positive inputs for log and sqrt, a positive base for a real power, divisors away
from zero. Small sets of values (0, 1, -1, the clip bounds) come up often, so ties and kinks
are tried too: there the gradient is torch's convention.
"""
import re

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import NONZERO, arrays, broadcastable, check, floats, shapes

import tinygrad_rnn as tg

SEEDS = st.integers(0, 2**32 - 1)
#: values that often tie with each other and with the bounds drawn from the same set
TIES = st.one_of(st.sampled_from([-1.0, 0.0, 1.0, 2.0]), floats(-3.0, 3.0))

UNARY = {  # name: (ours, torch's, the values where it is defined and well conditioned)
    "neg": (lambda x: -x, torch.neg, floats()),
    "exp": (tg.Tensor.exp, torch.exp, floats(-30.0, 30.0)),
    "log": (tg.Tensor.log, torch.log, floats(1e-3, 1e3)),
    "tanh": (tg.Tensor.tanh, torch.tanh, floats(-20.0, 20.0)),
    "sigmoid": (tg.Tensor.sigmoid, torch.sigmoid, floats(-40.0, 40.0)),
    "relu": (tg.Tensor.relu, torch.relu, TIES),
    "abs": (tg.Tensor.abs, torch.abs, TIES),
    "sqrt": (tg.Tensor.sqrt, torch.sqrt, floats(1e-3, 1e3)),
    "astype": (lambda x: x.astype(np.float32), lambda t: t.to(torch.float32), floats()),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data(), seed=SEEDS)
def test_unary(name, data, seed):
    ours, theirs, values = UNARY[name]
    check(ours, theirs, [data.draw(arrays(shapes(), values))], seed)


BOUNDS = st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 1.0]), floats(-3.0, 3.0))


@given(x=arrays(shapes(), TIES), lo=BOUNDS, hi=BOUNDS, seed=SEEDS)
@example(x=np.array(-2.0), lo=-1.0, hi=-2.0, seed=0)  # lo > hi: every x is outside, grad 0
def test_clip(x, lo, hi, seed):
    if lo is None and hi is None:
        return
    check(lambda t: t.clip(lo, hi), lambda t: torch.clamp(t, lo, hi), [x], seed)


SCALAR = {  # name: (the op of a tensor and a number c, values of the tensor, values of c)
    "add": (lambda x, c: x + c, floats(), floats() | st.integers(-5, 5)),
    "radd": (lambda x, c: c + x, floats(), floats() | st.integers(-5, 5)),
    "sub": (lambda x, c: x - c, floats(), floats() | st.integers(-5, 5)),
    "rsub": (lambda x, c: c - x, floats(), floats() | st.integers(-5, 5)),
    "mul": (lambda x, c: x * c, floats(), floats() | st.integers(-5, 5)),
    "rmul": (lambda x, c: c * x, floats(), floats() | st.integers(-5, 5)),
    "div": (lambda x, c: x / c, floats(), NONZERO | st.sampled_from([-2, 1, 3])),
    "rdiv": (lambda x, c: c / x, NONZERO, floats() | st.integers(-5, 5)),
    "pow": (lambda x, c: x ** c, floats(0.1, 10.0), floats(-3.0, 3.0) | st.integers(-3, 3)),
    "pow_int": (lambda x, c: x ** c, NONZERO, st.integers(-3, 4) | st.sampled_from([-2.0, 3.0])),
    "rpow": (lambda x, c: c ** x, floats(-5.0, 5.0), floats(0.1, 5.0) | st.integers(1, 4)),
}


@pytest.mark.parametrize("name", SCALAR)
@given(data=st.data(), seed=SEEDS)
def test_tensor_and_number(name, data, seed):
    fn, values, numbers = SCALAR[name]
    x, c = data.draw(arrays(shapes(), values)), data.draw(numbers)
    check(lambda t: fn(t, c), lambda t: fn(t, c), [x], seed)


BINARY = {  # name: (the op, values of the first and of the second operand)
    "add": (lambda a, b: a + b, floats(), floats()),
    "sub": (lambda a, b: a - b, floats(), floats()),
    "mul": (lambda a, b: a * b, TIES, TIES),
    "div": (lambda a, b: a / b, floats(), NONZERO),
    "pow": (lambda a, b: a ** b, floats(0.1, 10.0), floats(-3.0, 3.0)),
    "maximum": ((tg.maximum, torch.maximum), TIES, TIES),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data(), seed=SEEDS)
def test_binary_with_broadcasting(name, data, seed):
    fn, first, second = BINARY[name]
    ours, theirs = fn if isinstance(fn, tuple) else (fn, fn)
    shape_a, shape_b = data.draw(broadcastable(2))
    a, b = data.draw(arrays(shape_a, first)), data.draw(arrays(shape_b, second))
    check(ours, theirs, [a, b], seed)


@given(data=st.data(), seed=SEEDS)
def test_where_with_broadcasting(data, seed):
    shape_c, shape_a, shape_b = data.draw(broadcastable(3))
    cond = data.draw(hnp.arrays(np.bool_, shape_c))
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check(lambda x, y: tg.where(tg.tensor(cond), x, y),
          lambda x, y: torch.where(torch.from_numpy(cond), x, y), [a, b], seed)


@given(shape_a=shapes(min_dims=1, max_dims=3, min_side=2))
def test_broadcast_mismatch_is_refused_naming_op_and_shapes(shape_a):
    # the last sides differ and neither is 1: both libraries refuse
    shape_b = shape_a[:-1] + (shape_a[-1] + 1,)
    a, b = np.ones(shape_a), np.ones(shape_b)
    with pytest.raises(RuntimeError):
        torch.tensor(a) + torch.tensor(b)
    with pytest.raises(ValueError, match=re.escape(f"Add: cannot apply to shapes {shape_a} and {shape_b}")):
        tg.tensor(a) + tg.tensor(b)
