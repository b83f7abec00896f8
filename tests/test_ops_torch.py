"""Primitive ops against PyTorch at the points where the gradient is a convention.

Central differences cannot check ties, kinks and boundaries; there we follow torch exactly.
"""
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")


def both(fn_tg, fn_torch, *arrays, atol=0.0):
    """Value and input gradients of sum(fn(...)) in tinygrad_rnn and in torch (float64)."""
    xs = [tg.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, ty = fn_tg(*xs), fn_torch(*ts)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-300)
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=atol)


TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_max_ties_share_gradient_like_amax(axis):
    dims = tuple(range(2)) if axis is None else axis
    both(lambda x: x.max(axis=axis), lambda t: torch.amax(t, dim=dims), TIES)


def test_maximum_ties():
    both(tg.maximum, torch.maximum, np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0]))


def test_relu_abs_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    both(lambda t: t.relu(), torch.relu, x)
    both(lambda t: t.abs(), torch.abs, x)


def masked_gradients(fn_tg, fn_torch, arrays, upstream):
    """Input gradients of fn(...) for the upstream gradient ``upstream`` in both libraries."""
    xs = [tg.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    fn_tg(*xs).backward(np.asarray(upstream, dtype=np.float64))
    fn_torch(*ts).backward(torch.tensor(upstream, dtype=torch.float64))
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


INF_UPSTREAM = [np.inf, -np.inf, np.nan, 2.0]


@pytest.mark.parametrize("name,fn_tg,fn_torch,arrays", [
    ("relu", lambda x: x.relu(), torch.relu, [[-1.0, 0.0, 2.0, np.nan]]),
    ("clip", lambda x: x.clip(-1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0),
     [[-3.0, 1.0, 2.0, np.nan]]),
    ("where", lambda a, b: tg.where(tg.tensor([True, False, True, False]), a, b),
     lambda a, b: torch.where(torch.tensor([True, False, True, False]), a, b),
     [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]),
    ("maximum", tg.maximum, torch.maximum, [[1.0, 2.0, 3.0, np.nan], [0.0, 5.0, 3.0, 1.0]]),
])
def test_masked_gradients_select_as_torch(name, fn_tg, fn_torch, arrays):
    # Where the mask is false the gradient is 0 even when the upstream gradient is infinite or
    # NaN (a product with the mask would give inf * 0 = NaN there); at a NaN input, as torch.
    for upstream in (INF_UPSTREAM, INF_UPSTREAM[::-1]):
        masked_gradients(fn_tg, fn_torch, arrays, upstream)


def test_pow_gradient_at_zero_as_torch():
    # x ** 0 has gradient 0 everywhere (also at x = 0, where 0 * 0 ** -1 is NaN); x ** y at
    # x = y = 0 gives 0 to both, as torch.
    x = np.array([0.0, 0.0, 2.0, 0.0])
    y = np.array([0.0, 2.0, 0.0, 0.5])
    both(lambda a, b: a ** b, torch.pow, x, y)
    both(lambda a: a ** 0, lambda a: a ** 0, x)
    both(lambda a: a ** 0.0, lambda a: a ** 0.0, x)


def test_clip_at_the_bounds():
    both(lambda t: t.clip(-1.0, 1.0), lambda t: torch.clamp(t, -1.0, 1.0),
         np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))


def test_sigmoid_and_tanh_at_extremes_are_finite_and_silent():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # exp(x) is capped below overflow: sigmoid(-1000) is 0 in both, sigmoid(1000) is 1
        both(lambda t: t.sigmoid(), torch.sigmoid, x, atol=1e-300)
        both(lambda t: t.tanh(), torch.tanh, x)


def test_pow_with_zero_base():
    both(lambda a, b: a ** b, torch.pow, np.array([0.0, 2.0, 0.0]), np.array([2.0, 3.0, 0.5]))


def test_where_and_broadcasting():
    cond = np.array([True, False, True])
    both(lambda a, b: tg.where(cond, a, b), lambda a, b: torch.where(torch.tensor(cond), a, b),
         np.array([1.0, 2.0, 3.0]), np.array([[4.0], [5.0]]))


def test_integer_array_index_with_repeats_scatter_adds():
    idx = np.array([2, 0, 2, 2])
    both(lambda a: a[idx] * tg.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=np.float64),
         lambda t: t[torch.tensor(idx)] * torch.tensor([[1.0], [2.0], [3.0], [4.0]],
                                                        dtype=torch.float64),
         np.arange(6.0).reshape(3, 2))


def test_chunk_and_split_follow_torch():
    x = tg.arange(10.0)
    assert [p.shape for p in x.chunk(3)] == [tuple(p.shape) for p in torch.arange(10.0).chunk(3)]
    assert [p.shape for p in x.split(4)] == [tuple(p.shape) for p in torch.arange(10.0).split(4)]
    assert [p.shape for p in x.split([2, 8])] == [(2,), (8,)]


def test_matmul_batched_values_and_gradients():
    rng = np.random.default_rng(0)
    both(lambda a, b: a @ b, torch.matmul, rng.standard_normal((2, 1, 3, 4)),
         rng.standard_normal((5, 4, 2)))
    both(lambda a, b: a @ b, torch.matmul, rng.standard_normal(4), rng.standard_normal((3, 4, 2)))
