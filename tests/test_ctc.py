"""``tg.F.ctc_loss`` against ``torch.nn.functional.ctc_loss``: values and gradients, float64.

torch's backward returns the gradient of the logits, not of ``log_probs`` (it assumes they came
from ``log_softmax``; pytorch/pytorch#52241): for a sum of losses it exceeds the true gradient
by ``exp(log_probs)`` on every frame inside the input length. Ours is the true gradient (a
gradcheck below proves it), so the ``log_probs`` comparisons add that term back; through
``log_softmax`` the gradients of the logits agree with no correction at all.
"""
import numpy as np
import pytest

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def check(lp, targets, input_lengths, target_lengths, blank=0, reduction="mean",
          zero_infinity=False, upstream=None):
    """Compare loss and gradient with torch; return our loss and gradient (NumPy)."""
    il, tl = np.asarray(input_lengths), np.asarray(target_lengths)
    lp_t = torch.tensor(lp, requires_grad=True)
    loss_t = TF.ctc_loss(lp_t, torch.as_tensor(np.asarray(targets)), torch.as_tensor(il),
                         torch.as_tensor(tl), blank=blank, reduction=reduction,
                         zero_infinity=zero_infinity)
    lp_g = tg.tensor(lp, requires_grad=True)
    loss = tg.F.ctc_loss(lp_g, targets, input_lengths, target_lengths, blank=blank,
                         reduction=reduction, zero_infinity=zero_infinity)
    np.testing.assert_allclose(loss.numpy(), loss_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    n = lp.shape[1]
    if upstream is None and reduction == "none":
        upstream = np.ones(n)
    g = np.ones(()) if upstream is None else upstream
    loss.backward(None if upstream is None else g)
    loss_t.backward(torch.tensor(g))
    grad = lp_g.grad.numpy()
    assert np.isfinite(grad).all()
    per_loss = TF.ctc_loss(torch.tensor(lp), torch.as_tensor(np.asarray(targets)),
                           torch.as_tensor(il), torch.as_tensor(tl), blank=blank,
                           reduction="none").numpy()
    # d(output)/d(loss_n): the weight of sequence n's loss in the reduced output
    weight = np.broadcast_to(g, (n,)).astype(float)
    if reduction == "mean":
        weight = weight / (n * np.maximum(tl, 1))
    finite = np.isfinite(per_loss)
    if not finite.all() and not zero_infinity:  # torch's gradient is nan there; ours is 0
        assert (grad[:, ~finite] == 0).all()
        torch_grad = lp_t.grad.numpy()[:, finite]
        grad, lp, weight, il = grad[:, finite], lp[:, finite], weight[finite], il[finite]
    else:
        torch_grad = lp_t.grad.numpy()
        weight = np.where(finite, weight, 0.0)
    inside = np.arange(lp.shape[0])[:, None] < il[None, :]
    expected = torch_grad - np.exp(lp) * (weight * inside)[:, :, None]
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-12)
    return loss.numpy(), lp_g.grad.numpy()


@pytest.fixture
def lp(rng):
    return log_softmax(rng.standard_normal((8, 3, 5)))


# targets of the three sequences: a repeated label, a length-1 target, a plain one
PADDED = np.array([[1, 1, 2, 0], [3, 0, 0, 0], [2, 4, 1, 3]])
LENGTHS = [3, 1, 4]
CONCAT = np.concatenate([row[:k] for row, k in zip(PADDED, LENGTHS)])


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("fmt", ["padded", "concatenated"])
def test_matches_torch_every_reduction_and_format(lp, rng, reduction, fmt):
    targets = PADDED if fmt == "padded" else CONCAT
    upstream = rng.standard_normal(3) if reduction == "none" else None
    check(lp, targets, [8, 6, 7], LENGTHS, reduction=reduction, upstream=upstream)


def test_repeated_labels_need_a_blank_between_them(rng):
    lp = log_softmax(rng.standard_normal((4, 2, 3)))
    # [1, 1, 2] needs 4 frames (1, blank, 1, 2); 3 frames cannot hold it
    loss, grad = check(lp, [[1, 1, 2], [1, 1, 2]], [4, 3], [3, 3], reduction="none")
    assert np.isfinite(loss[0]) and loss[1] == np.inf
    assert (grad[:, 1] == 0).all()


def test_length_one_targets_and_empty_target(rng):
    lp = log_softmax(rng.standard_normal((5, 3, 4)))
    loss, _ = check(lp, [[2], [3], [1]], [5, 1, 4], [1, 1, 0], reduction="none")
    np.testing.assert_allclose(loss[1], -lp[0, 1, 3])  # one frame, one label
    np.testing.assert_allclose(loss[2], -lp[:4, 2, 0].sum())  # empty target: all blanks


@pytest.mark.parametrize("blank", [4, 2])
def test_blank_other_than_zero(lp, blank):
    targets = np.array([[1, 1, 3], [0, 3, 3], [3, 0, 1]])
    check(lp, targets, [8, 7, 5], [3, 3, 2], blank=blank, reduction="mean")


def test_impossible_alignment_is_inf_and_zero_infinity(lp):
    targets, il, tl = PADDED, [8, 2, 3], LENGTHS  # sequence 2 needs 4 frames, has 3
    loss, grad = check(lp, targets, il, tl, reduction="none")
    assert loss[2] == np.inf and np.isfinite(loss[:2]).all()
    loss, _ = check(lp, targets, il, tl, reduction="sum")
    assert loss == np.inf
    loss, _ = check(lp, targets, il, tl, reduction="mean")
    assert loss == np.inf
    for reduction in ("none", "sum", "mean"):
        loss, grad = check(lp, targets, il, tl, reduction=reduction, zero_infinity=True)
        assert np.isfinite(loss).all()
        assert (grad[:, 2] == 0).all() and (grad[:2, :2] != 0).any()


def test_gradient_of_logits_through_log_softmax(rng):
    x = rng.standard_normal((10, 4, 6))
    targets, il, tl = [[1, 2, 2, 5], [3, 3, 0, 0], [5, 0, 0, 0], [1, 4, 3, 2]], [10, 7, 9, 6], \
        [4, 2, 1, 4]
    x_t = torch.tensor(x, requires_grad=True)
    loss_t = TF.ctc_loss(x_t.log_softmax(-1), torch.tensor(targets), torch.tensor(il),
                         torch.tensor(tl))
    loss_t.backward()
    x_g = tg.tensor(x, requires_grad=True)
    loss = tg.F.ctc_loss(tg.F.log_softmax(x_g), targets, il, tl)
    loss.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-12)
    np.testing.assert_allclose(x_g.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gradcheck_is_the_true_gradient_of_log_probs(rng):
    lp = tg.tensor(log_softmax(rng.standard_normal((5, 2, 4))), requires_grad=True)
    assert tg.gradcheck(lambda lp: tg.F.ctc_loss(lp, [[1, 1], [2, 3]], [5, 4], [2, 2],
                                                 reduction="none"), [lp])


def test_lengths_as_lists_arrays_and_tensors(lp):
    ref = tg.F.ctc_loss(tg.tensor(lp), PADDED, [8, 6, 7], LENGTHS, reduction="none").numpy()
    for il, tl, targets in [(np.array([8, 6, 7]), np.array(LENGTHS), tg.tensor(PADDED)),
                            (tg.tensor([8, 6, 7]), tg.tensor(LENGTHS), CONCAT.tolist()),
                            (torch.tensor([8, 6, 7]), torch.tensor(LENGTHS), torch.tensor(CONCAT))]:
        got = tg.F.ctc_loss(tg.tensor(lp), targets, il, tl, reduction="none").numpy()
        np.testing.assert_array_equal(got, ref)


def test_zero_input_length_matches_torch(lp):
    loss, _ = check(lp, [[1], [2], [3]], [0, 0, 5], [0, 1, 1], reduction="none")
    assert loss[0] == 0 and loss[1] == np.inf


def test_longer_batch_matches_torch(rng):
    t, n, c = 40, 5, 7
    lp = log_softmax(rng.standard_normal((t, n, c)))
    tl = np.array([12, 1, 7, 15, 0])
    targets = rng.integers(1, c, (n, 15))
    targets[0, 3:6] = 4  # a run of repeats
    check(lp, targets, [40, 33, 20, 38, 12], tl, reduction="mean")


def test_float32_stays_float32(lp):
    loss = tg.F.ctc_loss(tg.tensor(lp.astype(np.float32)), PADDED, [8, 6, 7], LENGTHS)
    assert loss.dtype == np.float32


def test_on_device(device, lp):
    args = (PADDED, [8, 6, 7], LENGTHS)
    ref = tg.F.ctc_loss(tg.tensor(lp), *args, reduction="none").numpy()
    x = tg.tensor(lp, device=device, requires_grad=True)
    loss = tg.F.ctc_loss(x, *args, reduction="none")
    assert loss.device == device
    np.testing.assert_allclose(loss.numpy(), ref, rtol=1e-12)
    loss.sum().backward()
    assert x.grad.device == device and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("targets, il, tl, kwargs, error, match", [
    ([[0, 1]], [3], [2], {}, ValueError, "differ from blank=0; sequence 0 has 0 at position 0"),
    ([[1, 5]], [3], [2], {}, ValueError, r"must be in \[0, 5\)"),
    ([[1, 2]], [4], [2], {}, ValueError, "input_lengths must be at most T = 3"),
    ([[1, 2]], [3], [3], {}, ValueError, r"padded targets must be \(N=1, S >= 3\)"),
    ([1, 2, 3], [3], [2], {}, ValueError, "sum\\(target_lengths\\) = 2"),
    ([[1, 2]], [3, 3], [2], {}, ValueError, "input_lengths must be 1 integers"),
    ([[1, 2]], [3], [-1], {}, ValueError, "target_lengths must not be negative"),
    ([[1.0, 2.0]], [3], [2], {}, TypeError, "integer labels"),
    ([[1, 2]], [3], [2], {"reduction": "avg"}, ValueError, "reduction must be"),
    ([[1, 2]], [3], [2], {"blank": 5}, ValueError, r"blank must be in \[0, 5\)"),
])
def test_bad_arguments(targets, il, tl, kwargs, error, match):
    lp = tg.tensor(log_softmax(np.zeros((3, 1, 5))))
    with pytest.raises(error, match=match):
        tg.F.ctc_loss(lp, targets, il, tl, **kwargs)


def test_bad_log_probs():
    with pytest.raises(ValueError, match=r"\(T, N, C\)"):
        tg.F.ctc_loss(tg.zeros(3, 5), [[1]], [3], [1])
    with pytest.raises(TypeError, match="floating point"):
        tg.F.ctc_loss(tg.zeros(3, 1, 5, dtype=tg.int64), [[1]], [3], [1])
    with pytest.raises(ValueError, match="no time steps"):
        tg.F.ctc_loss(tg.zeros(0, 1, 5), [[1]], [0], [1])


def test_frames_are_scoped_as_time_steps(lp):
    """Each frame's step of the recursion is made under ``t<k>``, so a drawing clusters it."""
    x = tg.tensor(lp, requires_grad=True)
    with tg.scope("ctc"):
        loss = tg.F.ctc_loss(x, PADDED, [8, 6, 7], LENGTHS)
    steps, todo, seen = set(), [loss], set()
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.scope[:1] == ("ctc",) and len(t.scope) > 1:
            steps.add(t.scope[1])
        todo.extend(t.parents)
    assert steps == {f"t{k}" for k in range(8)}
    dot = tg.viz.to_dot(loss)
    assert all(f'subgraph "cluster_ctc/t{k}"' in dot for k in range(8))
