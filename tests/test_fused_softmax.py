"""The fused ``log_softmax`` and cross-entropy against their plain composites and torch, the
folded matrix product of a batch times a matrix, and float64 accumulation of broadcast sums."""
import numpy as np
import pytest
import torch

import tinygrad_rnn as tg
from tinygrad_rnn.softmax import log_softmax as plain_log_softmax


def composite_log_softmax(x, axis):
    """The formula the fused op replaces, built from primitive ops only (the tensor method)."""
    return plain_log_softmax(x, axis=axis)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("shape, axis", [((7, 11), 1), ((7, 11), 0), ((3, 4, 5), -1),
                                         ((1, 1), 1), ((2, 3, 4), 1)])
def test_log_softmax_fused_equals_composite(rng, dtype, tol, shape, axis):
    x0 = (rng.standard_normal(shape) * 10).astype(dtype)
    w = rng.standard_normal(shape).astype(dtype)  # a gradient that is not uniform
    results = []
    for fn in (lambda x: tg.fused.LogSoftmax.apply(x, axis=axis),
               lambda x: composite_log_softmax(x, axis)):
        x = tg.tensor(x0, requires_grad=True)
        y = fn(x)
        (y * tg.tensor(w)).sum().backward()
        assert y.dtype == x.grad.dtype == dtype
        results.append((y.numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=tol, atol=tol * 10)


def test_log_softmax_applies_the_fused_op_and_matches_torch(rng):
    x0 = rng.standard_normal((5, 6)) * 30
    x = tg.tensor(x0, requires_grad=True)
    y = tg.F.log_softmax(x, axis=1)
    assert type(y.op).__name__ == "LogSoftmax"
    (y[:, 2] * 3).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    ty = torch.log_softmax(tx, dim=1)
    (ty[:, 2] * 3).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_log_softmax_large_logits_stay_finite():
    x = tg.tensor(np.array([[1e4, 0.0, -1e4]], dtype=np.float32), requires_grad=True)
    y = tg.F.log_softmax(x)
    y.sum().backward()
    assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(y.numpy(), [[0.0, -1e4, -2e4]])


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_cross_entropy_fused_equals_composite_with_ignored_rows(rng, dtype, tol):
    logits = (rng.standard_normal((40, 13)) * 8).astype(dtype)
    target = rng.integers(0, 13, 40)
    target[::5] = -100
    w = rng.standard_normal(40).astype(dtype)
    results = []
    for fused in (True, False):
        x = tg.tensor(logits, requires_grad=True)
        loss = tg.F.cross_entropy(x, target, reduction="none", fused=fused)
        (loss * tg.tensor(w)).sum().backward()
        results.append((loss.numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=tol, atol=tol)
    assert (results[0][1][::5] == 0).all()


def test_cross_entropy_keeps_the_graph_for_a_second_backward(rng):
    x = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    loss = tg.F.cross_entropy(x, np.array([0, 1, 4, 2]))
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-12)


@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
def test_batch_times_matrix_folds_rows_and_matches_torch(rng, needs):
    a0, b0 = rng.standard_normal((4, 3, 5)), rng.standard_normal((5, 6))
    a, b = (tg.tensor(v, requires_grad=r) for v, r in zip((a0, b0), needs))
    ta, tb = (torch.tensor(v, requires_grad=r) for v, r in zip((a0, b0), needs))
    y, ty = a @ b, ta @ tb
    g = rng.standard_normal(y.shape)
    (y * tg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    for ours, theirs in ((a, ta), (b, tb)):
        if theirs.requires_grad:
            np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
        else:
            assert ours.grad is None


def test_broadcast_sums_of_float32_gradients_accumulate_in_float64(rng):
    # a bias added to 32,768 rows: its gradient is the column sum of the output gradient
    g = (rng.standard_normal((32768, 28)) + 0.3).astype(np.float32)
    bias = tg.zeros(28, requires_grad=True)
    y = tg.tensor(np.zeros((32768, 28), np.float32)) + bias
    (y * tg.tensor(g)).sum().backward()
    exact = g.astype(np.float64).sum(axis=0)
    assert bias.grad.dtype == np.float32
    error = np.abs(bias.grad.numpy() - exact).max() / np.abs(exact).max()
    assert error < 2e-7, error  # float32 accumulation along the rows: about 6e-6
