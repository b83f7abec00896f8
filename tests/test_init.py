"""tg.nn.init against PyTorch's formulas: bounds, means and standard deviations of the draws (the
formulas written out here, and checked against torch's own draws), exact fills, orthogonality,
reproducibility and the in-place contract (same tensor, version counter bumped)."""
import math

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.nn import init

torch = pytest.importorskip("torch")

SHAPES = [(300, 200), (64, 50, 3), (32, 16, 3, 3)]


def fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def draw(fn, shape, *args, **kwargs):
    """Our draws and torch's for the same call, both as float64 arrays."""
    ours = fn(tg.zeros(*shape, dtype=np.float64), *args, **kwargs).numpy()
    theirs = getattr(torch.nn.init, fn.__name__)(torch.zeros(shape, dtype=torch.float64),
                                                 *args, **kwargs).numpy()
    return ours, theirs


def check_uniform(values, bound):
    """Within [-bound, bound], mean 0 and standard deviation bound / sqrt(3) (to 4 sigma)."""
    n = values.size
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.99 * bound and values.max() > 0.99 * bound
    std = bound / math.sqrt(3)
    assert abs(values.mean()) < 4 * std / math.sqrt(n)
    assert abs(values.std() / std - 1) < 4 * math.sqrt(0.8 / n) + 1e-3


def check_normal(values, mean, std):
    n = values.size
    assert abs(values.mean() - mean) < 4 * std / math.sqrt(n)
    assert abs(values.std() / std - 1) < 4 * math.sqrt(0.5 / n) + 1e-3


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_matches_torch_formula(shape, gain):
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    for values in draw(init.xavier_uniform_, shape, gain=gain):
        check_uniform(values, math.sqrt(3) * std)
    for values in draw(init.xavier_normal_, shape, gain=gain):
        check_normal(values, 0.0, std)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a, mode, nonlinearity", [
    (0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0, "fan_out", "relu"), (0.2, "fan_out", "leaky_relu"), (0, "fan_in", "tanh"),
])
def test_kaiming_matches_torch_formula(shape, a, mode, nonlinearity):
    fan_in, fan_out = fans(shape)
    gain = {"relu": math.sqrt(2), "tanh": 5 / 3}.get(nonlinearity, math.sqrt(2 / (1 + a * a)))
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    for values in draw(init.kaiming_uniform_, shape, a=a, mode=mode, nonlinearity=nonlinearity):
        check_uniform(values, math.sqrt(3) * std)
    for values in draw(init.kaiming_normal_, shape, a=a, mode=mode, nonlinearity=nonlinearity):
        check_normal(values, 0.0, std)


def test_uniform_and_normal():
    for values in draw(init.uniform_, (400, 300), -0.5, 0.5):
        check_uniform(values, 0.5)
    shifted = init.uniform_(tg.zeros(1000, 100, dtype=np.float64), 2.0, 3.0).numpy()
    check_uniform(shifted - 2.5, 0.5)
    for values in draw(init.normal_, (400, 300), 1.5, 0.3):
        check_normal(values, 1.5, 0.3)


@pytest.mark.parametrize("fn, args", [(init.constant_, (0.25,)), (init.zeros_, ()),
                                      (init.ones_, ()), (init.eye_, ())])
@pytest.mark.parametrize("shape", [(3, 5), (4, 2)])
def test_fills_equal_torch(fn, args, shape):
    ours, theirs = draw(fn, shape, *args)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape", [(6, 6), (3, 8), (8, 3), (4, 3, 2), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain):
    q = init.orthogonal_(tg.zeros(*shape, dtype=np.float64), gain=gain).numpy()
    q = q.reshape(shape[0], -1) / gain
    small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-6)
    q32 = init.orthogonal_(tg.zeros(*shape)).numpy().reshape(shape[0], -1)
    small = q32 @ q32.T if q32.shape[0] <= q32.shape[1] else q32.T @ q32
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_orthogonal_is_uniform_over_signs():
    """R's diagonal fixes each column's sign: the diagonal of Q averages 0, not 1 (as torch)."""
    diagonals = [np.diag(init.orthogonal_(tg.zeros(4, 4, dtype=np.float64)).numpy())
                 for _ in range(400)]
    assert abs(np.mean(diagonals)) < 0.1


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.3), ("selu", None),
])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="mode 'fan_mid' not supported"):
        init.kaiming_normal_(tg.zeros(2, 2), mode="fan_mid")
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(tg.zeros(3))
    with pytest.raises(ValueError, match="only 2-D"):
        init.eye_(tg.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(tg.tensor([1, 2]))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(ValueError, match="not initialised yet"):
        init.xavier_uniform_(tg.nn.LazyLinear(3).weight)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(tg.zeros(0, 3))


@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.xavier_uniform_,
                                init.xavier_normal_, init.kaiming_uniform_,
                                init.kaiming_normal_, init.orthogonal_])
def test_seeded_in_place_and_versioned(fn, device):
    w = tg.nn.Parameter(tg.zeros(5, 4, device=device))
    y = (w * w).sum()                      # Mul saved w's array
    before = w.version[0]
    tg.manual_seed(11)
    assert fn(w) is w
    first = w.numpy().copy()
    assert w.version[0] == before + 1 and w.dtype == np.float32 and w.device == device
    assert first.any()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    tg.manual_seed(11)
    np.testing.assert_array_equal(fn(tg.zeros(5, 4)).numpy(), first)
    tg.manual_seed(12)
    assert not np.array_equal(fn(tg.zeros(5, 4)).numpy(), first)


def test_linear_initialisation_unchanged_by_reset_parameters():
    """Linear draws its weights through init.uniform_ with the stream it always had."""
    tg.manual_seed(4)
    layer = tg.nn.Linear(3, 2)
    tg.manual_seed(4)
    k = 1 / math.sqrt(3)
    np.testing.assert_array_equal(layer.weight.numpy(), tg.uniform((2, 3), -k, k).numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), tg.uniform((2,), -k, k).numpy())
