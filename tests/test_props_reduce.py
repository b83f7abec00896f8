"""Property tests: reductions and the matrix product against torch in float64.

``sum``, ``mean`` and ``max`` over no axis, one axis or several (negative ones, ``()``, a 0-d
tensor's axis 0 or -1), with and without ``keepdims``, on shapes with size-0 and size-1
dimensions; ``@`` of 1-D, 2-D and batched operands whose batch dimensions broadcast. Values come
from a small set often enough that ``max`` meets ties.
"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import arrays, broadcastable, check, floats, shapes

import tinygrad_rnn as tg

SEEDS = st.integers(0, 2**32 - 1)
TIES = st.one_of(st.sampled_from([-1.0, 0.0, 2.0]), floats())


@st.composite
def axes(draw, ndim: int):
    """``None``, one axis or a tuple of distinct axes (maybe empty), each maybe negative."""
    n = max(ndim, 1)
    one = st.integers(-n, n - 1)
    several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda a: st.tuples(*[st.sampled_from([i, i - ndim]) for i in a])) if ndim else st.just(())
    return draw(st.one_of(st.none(), one, several))


REDUCTIONS = {  # ours, and torch's reduction called with dim= and keepdim=
    "sum": (tg.Tensor.sum, torch.sum),
    "mean": (tg.Tensor.mean, torch.mean),
    # ours shares the gradient between tied maxima, as torch.amax (torch.max(dim) picks one)
    "max": (tg.Tensor.max, torch.amax),
}


def reduce_both(name, x, axis, keepdims, seed):
    ours, theirs = REDUCTIONS[name]
    dim = () if axis is None and name == "max" else axis  # amax's "all axes" is dim=()
    check(lambda t: ours(t, axis=axis, keepdims=keepdims),
          lambda t: theirs(t, dim=dim, keepdim=keepdims), [x], seed)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), keepdims=st.booleans(), seed=SEEDS)
def test_reduction(name, data, keepdims, seed):
    x = data.draw(arrays(shapes(), TIES))
    reduce_both(name, x, data.draw(axes(x.ndim)), keepdims, seed)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("x,axis", [
    (np.array(3.0), -1),  # a 0-d tensor has axes 0 and -1, as in torch
    (np.array(3.0), 0),
    (np.ones((2, 3)), ()),  # (): every axis, as in torch
])
def test_reduction_found_by_the_properties(name, x, axis):
    reduce_both(name, x, axis, False, 0)
    reduce_both(name, x, axis, True, 0)


@st.composite
def matmul_operands(draw):
    """Shapes of ``a @ b``: each 1-D, 2-D or batched (batch dimensions that broadcast)."""
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable(2, max_dims=2))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return draw(arrays(a)), draw(arrays(b))


@given(operands=matmul_operands(), seed=SEEDS)
def test_matmul(operands, seed):
    check(lambda a, b: a @ b, torch.matmul, list(operands), seed)


@given(a=shapes(max_dims=3), b=shapes(max_dims=3), seed=SEEDS)
@example(a=(), b=(3,), seed=0)  # a 0-d operand: refused by both
@example(a=(2, 3), b=(2, 3), seed=0)  # inner dimensions differ
def test_matmul_of_any_shapes_or_a_clear_refusal(a, b, seed):
    check(lambda x, y: x @ y, torch.matmul, [np.ones(a), np.ones(b)], seed)


def test_mean_of_nothing_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for axis in (1, None):
            reduce_both("mean", np.zeros((3, 0)), axis, False, 0)
