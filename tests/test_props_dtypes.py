"""Property tests: the dtype of every op's result for mixed bool, integer and float inputs.

Operands are tensors (0-d or not) of any dtype and Python numbers (bool, int, float); the
result's dtype and values follow torch's promotion, and where torch refuses a combination
(bool subtraction, integer mean, matmul of two dtypes) we refuse it too, naming the op.
"""
import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_rnn as tg

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
ERRORS = (ValueError, TypeError)


@st.composite
def tensors(draw, zero_d=None):
    """A NumPy array of a random dtype holding small numbers 0..3 (or booleans): 0-d or (2,)."""
    dtype = draw(st.sampled_from(DTYPES))
    values = np.asarray(draw(st.lists(st.integers(0, 3), min_size=2, max_size=2)))
    zero_d = draw(st.booleans()) if zero_d is None else zero_d
    return np.asarray(values[0] if zero_d else values, dtype=dtype)


#: numbers: small ones, and -1 (it wraps around in an unsigned tensor, as in torch)
NUMBERS = st.one_of(st.booleans(), st.integers(0, 3), st.sampled_from([0.5, 1.5, 2.0, -1]))
OPERANDS = st.one_of(tensors(), tensors(), NUMBERS)
#: 1000 wraps around in a small dtype for + - * / (torch's pow refuses it there)
WIDE = 1000


def ours(value):
    return tg.tensor(value) if isinstance(value, np.ndarray) else value


def theirs(value):
    return torch.from_numpy(value) if isinstance(value, np.ndarray) else value


def agree(fn_tg, fn_torch, *values) -> None:
    """Both libraries give the same dtype and values, or both refuse (we with ValueError or
    TypeError naming the op)."""
    with np.errstate(all="ignore"):  # x / 0 is inf in both; NumPy would also warn
        try:
            expected = fn_torch(*map(theirs, values))
        except (RuntimeError, TypeError, ValueError, NotImplementedError):
            with pytest.raises(ERRORS):
                fn_tg(*map(ours, values))
            return
        got = fn_tg(*map(ours, values))
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch."), values
    np.testing.assert_allclose(got.numpy().astype(np.float64),
                               expected.numpy().astype(np.float64), rtol=2e-3)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


@pytest.mark.parametrize("name", BINARY)
@given(a=OPERANDS | st.just(WIDE), b=OPERANDS | st.just(WIDE))
@example(a=np.array([True, False]), b=1)  # bool + int -> int64, as torch (not bool)
@example(a=np.array(0, dtype=np.uint8), b=1)  # 0 - 1 wraps around to 255, as torch
@example(a=np.array(0, dtype=np.uint8), b=-1)  # integers to negative powers: refused
@example(a=np.array([True, False]), b=np.array([True, True]))  # bool - bool, bool ** bool
def test_binary_operators(name, a, b):
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return  # two Python numbers: Python's arithmetic, not ours
    if name == "pow" and any(isinstance(v, int) and v == WIDE for v in (a, b)):
        return  # torch's pow refuses a number beyond the tensor's dtype; we let it wrap around
    if name == "pow" and isinstance(b, bool) and a.dtype == bool:
        return  # torch answers bools ** True or False (its shortcuts for powers 1 and 0) but
        # refuses any other power of bools; we refuse them all
    agree(BINARY[name], BINARY[name], a, b)


@given(a=tensors(), b=tensors())
@example(a=np.array([1, 2]), b=np.array([1.0, 2.0], dtype=np.float32))  # float32, not float64
def test_maximum(a, b):
    agree(tg.maximum, torch.maximum, a, b)


@given(cond=tensors(), a=st.one_of(tensors(), NUMBERS), b=st.one_of(tensors(), NUMBERS))
@example(cond=np.array([True, False]), a=1.0, b=0.0)  # two numbers: float32
@example(cond=np.array(False), a=-1, b=np.array(0, dtype=np.uint8))  # -1 wraps to 255
@example(cond=np.array([True, False]), a=np.array([1, 2]),
         b=np.array([1.0, 2.0], dtype=np.float32))  # float32, not float64
def test_where(cond, a, b):
    cond = cond.astype(bool)
    agree(tg.where, torch.where, cond, a, b)


@given(xs=st.lists(tensors(zero_d=False), min_size=1, max_size=3))
@example(xs=[np.array([1, 2]), np.array([0.5, 1.0], dtype=np.float32)])  # float32
def test_concat_and_stack(xs):
    agree(lambda *ts: tg.concat(ts), lambda *ts: torch.cat(ts), *xs)
    agree(lambda *ts: tg.stack(ts), lambda *ts: torch.stack(ts), *xs)


@given(a=tensors(zero_d=False), b=tensors(zero_d=False))
@example(a=np.array([1, 2]), b=np.array([1.0, 2.0]))  # torch refuses two dtypes
@example(a=np.array([True, False]), b=np.array([True, True]))  # and bools
def test_matmul(a, b):
    agree(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


UNARY = {
    "neg": (lambda x: -x, torch.neg),
    "exp": (tg.Tensor.exp, torch.exp),
    "log": (tg.Tensor.log, torch.log),
    "tanh": (tg.Tensor.tanh, torch.tanh),
    "sigmoid": (tg.Tensor.sigmoid, torch.sigmoid),
    "relu": (tg.Tensor.relu, torch.relu),
    "abs": (tg.Tensor.abs, torch.abs),
    "sqrt": (tg.Tensor.sqrt, torch.sqrt),
    "sum": (tg.Tensor.sum, torch.sum),
    "mean": (tg.Tensor.mean, torch.mean),
    "max": (tg.Tensor.max, torch.amax),
}


@pytest.mark.parametrize("name", UNARY)
@given(x=tensors())
@example(x=np.array([1, 2], dtype=np.uint8))  # sum: int64 (not uint64); mean: refused
@example(x=np.array([True, False]))  # abs, relu: refused
def test_unary_and_reductions(name, x):
    agree(*UNARY[name], x)


@given(x=tensors(), lo=NUMBERS, hi=NUMBERS)
@example(x=np.array([0, 1, 2]), lo=0.5, hi=1.5)  # float bounds make an integer tensor float32
def test_clip(x, lo, hi):
    if isinstance(lo, bool) or isinstance(hi, bool):
        return  # torch.clamp takes numbers, not booleans
    agree(lambda t: t.clip(lo, hi), lambda t: torch.clamp(t, lo, hi), x)


@pytest.mark.parametrize("cond", [np.array([1, 0]), np.array([1.0, 0.0])])
def test_where_needs_a_bool_condition(cond):
    with pytest.raises(RuntimeError, match="boolean"):
        torch.where(torch.from_numpy(cond), torch.ones(2), torch.zeros(2))
    with pytest.raises(TypeError, match=r"where\(\): cond must be a bool tensor"):
        tg.where(tg.tensor(cond), tg.ones(2), tg.zeros(2))
