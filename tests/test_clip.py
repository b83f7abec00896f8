"""``tg.nn.utils.clip_grad_norm_`` and ``clip_grad_value_`` against ``torch.nn.utils``."""
import math

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.backend import device_of

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 2, 2), (1,)]


def make_params(grads, dtype=np.float64, device="cpu"):
    """The same parameters in both libraries; ``None`` in ``grads`` leaves that .grad unset."""
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for g in grads:
        data = rng.normal(size=g.shape if g is not None else (2,))
        p = tg.tensor(data, dtype=dtype, device=device, requires_grad=True)
        tp = torch.tensor(data.astype(dtype), requires_grad=True)
        if g is not None:
            p.grad = tg.tensor(g, dtype=dtype, device=device)
            tp.grad = torch.tensor(g.astype(dtype))
        ours.append(p)
        theirs.append(tp)
    return ours, theirs


def random_grads(scale=1.0, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) * scale for s in SHAPES]


def assert_same_grads(ours, theirs, rtol=1e-12):
    for p, tp in zip(ours, theirs):
        if tp.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    ours, theirs = make_params(random_grads())
    total = tg.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, tg.Tensor) and total.shape == () and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    assert_same_grads(ours, theirs)


def test_max_norm_above_the_norm_changes_nothing():
    grads = random_grads()
    ours, _ = make_params(grads)
    tg.nn.utils.clip_grad_norm_(ours, 1e3)
    for p, g in zip(ours, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_clipped_norm_is_max_norm():
    ours, _ = make_params(random_grads(scale=10.0))
    before = tg.nn.utils.clip_grad_norm_(ours, 2.0).item()
    after = tg.nn.utils.clip_grad_norm_(ours, 1e9).item()
    assert before > 2.0
    np.testing.assert_allclose(after, 2.0 * before / (before + 1e-6), rtol=1e-12)


def test_parameters_without_grad_are_skipped():
    grads = random_grads()
    grads[1] = None
    ours, theirs = make_params(grads)
    total = tg.nn.utils.clip_grad_norm_(ours, 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 0.1)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    assert_same_grads(ours, theirs)
    tg.nn.utils.clip_grad_value_(ours, 0.01)
    torch.nn.utils.clip_grad_value_(theirs, 0.01)
    assert_same_grads(ours, theirs)


def test_no_gradients_at_all():
    ours, theirs = make_params([None, None])
    assert tg.nn.utils.clip_grad_norm_(ours, 1.0).item() == 0.0
    assert torch.nn.utils.clip_grad_norm_(theirs, 1.0).item() == 0.0
    tg.nn.utils.clip_grad_value_(ours, 1.0)
    assert all(p.grad is None for p in ours)


def test_single_tensor_and_generator_and_module():
    ours, theirs = make_params(random_grads()[:1])
    total = tg.nn.utils.clip_grad_norm_(ours[0], 0.5)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs[0], 0.5)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    assert_same_grads(ours, theirs)

    model = tg.nn.Linear(3, 2)
    (model(tg.ones(4, 3)) * 100).sum().backward()
    tg.nn.utils.clip_grad_norm_((p for p in model.parameters()), 1.0)
    total = tg.nn.utils.clip_grad_norm_(model.parameters(), 1e9).item()
    assert total == pytest.approx(1.0, rel=1e-5)


def test_error_if_nonfinite():
    grads = random_grads()
    grads[0][0, 0] = np.inf
    ours, theirs = make_params(grads)
    with pytest.raises(RuntimeError, match="non-finite"):
        tg.nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("clip_value", [0.3, 10.0])
def test_clip_grad_value_equals_torch(clip_value):
    ours, theirs = make_params(random_grads())
    assert tg.nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_same_grads(ours, theirs, rtol=0)
    assert max(np.abs(p.grad.numpy()).max() for p in ours) <= clip_value


@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_float32_stays_float32_and_equals_torch(norm_type):
    ours, theirs = make_params(random_grads(scale=5.0), dtype=np.float32)
    total = tg.nn.utils.clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    assert total.dtype == np.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    assert all(p.grad.dtype == np.float32 for p in ours)
    assert_same_grads(ours, theirs, rtol=1e-6)
    tg.nn.utils.clip_grad_value_(ours, 0.1)
    assert all(p.grad.dtype == np.float32 for p in ours)


def test_device(device):
    grads = random_grads(scale=5.0)
    cpu, _ = make_params(grads, dtype=np.float32)
    dev, _ = make_params(grads, dtype=np.float32, device=device)
    totals = [tg.nn.utils.clip_grad_norm_(ps, 1.0).item() for ps in (cpu, dev)]
    np.testing.assert_allclose(totals[1], totals[0], rtol=1e-6)
    for ps in (cpu, dev):
        tg.nn.utils.clip_grad_value_(ps, 0.1)
    for p, q in zip(cpu, dev):
        assert device_of(q.grad.data) == device and q.grad.dtype == np.float32
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6)
