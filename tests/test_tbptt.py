"""Truncated BPTT: the same gradients as a hand-detached unroll, and none across a cut."""
from collections import namedtuple

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.nn import Parameter, detach_state, tbptt

torch = pytest.importorskip("torch")

T, N, I, H = 10, 2, 3, 4  # steps, batch, input size, hidden size


class Elman:
    """``h' = tanh(x W + h U + b)``, read out as ``y = h V``; one step per call."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.arrays = {"W": rng.normal(size=(I, H)) * 0.5, "U": rng.normal(size=(H, H)) * 0.5,
                       "b": rng.normal(size=H) * 0.1, "V": rng.normal(size=(H, 2)) * 0.5}
        self.params = {k: Parameter(tg.tensor(a, dtype=np.float64))
                       for k, a in self.arrays.items()}

    def step(self, x, h):
        p = self.params
        return (x @ p["W"] + h @ p["U"] + p["b"]).tanh()

    def loss_step(self, xy, h):
        x, y = xy
        h = self.step(x, h)
        return tg.F.mse_loss(h @ self.params["V"], y), h

    def grads(self):
        return {k: p.grad.numpy() for k, p in self.params.items()}


def backward(loss):
    loss.backward()


def data(seed=1, steps=T):
    rng = np.random.default_rng(seed)
    xs = [tg.tensor(a, dtype=np.float64) for a in rng.normal(size=(steps, N, I))]
    ys = [tg.tensor(a, dtype=np.float64) for a in rng.normal(size=(steps, N, 2))]
    h0 = tg.tensor(rng.normal(size=(N, H)), dtype=np.float64)
    return xs, ys, h0


def manual_unroll(model, xs, ys, h, k):
    """The loop a student writes by hand: k steps, mean loss, backward, detach."""
    losses = []
    for start in range(0, len(xs), k):
        step_losses = []
        for x, y in zip(xs[start:start + k], ys[start:start + k]):
            loss_t, h = model.loss_step((x, y), h)
            step_losses.append(loss_t)
        loss = step_losses[0]
        for loss_t in step_losses[1:]:
            loss = loss + loss_t
        loss = loss / len(step_losses) if len(step_losses) > 1 else loss
        loss.backward()
        losses.append(loss.item())
        h = h.detach()
    return losses


def torch_unroll(arrays, xs, ys, h, k):
    """The same truncated unroll in torch, returning the accumulated parameter gradients."""
    p = {k_: torch.tensor(a, requires_grad=True) for k_, a in arrays.items()}
    h = torch.tensor(h.numpy())
    for start in range(0, len(xs), k):
        losses = []
        for x, y in zip(xs[start:start + k], ys[start:start + k]):
            h = torch.tanh(torch.tensor(x.numpy()) @ p["W"] + h @ p["U"] + p["b"])
            losses.append(torch.nn.functional.mse_loss(h @ p["V"], torch.tensor(y.numpy())))
        torch.stack(losses).mean().backward()
        h = h.detach()
    return {k_: t.grad.numpy() for k_, t in p.items()}


@pytest.mark.parametrize("k", [1, 3, 5, T, 2 * T])
def test_tbptt_equals_a_hand_detached_unroll_and_torch(k):
    xs, ys, h0 = data()
    model, reference = Elman(), Elman()
    losses, h = tbptt(model.loss_step, zip(xs, ys), h0, k, backward)
    expected = manual_unroll(reference, xs, ys, h0, k)
    assert len(losses) == -(-T // k)
    np.testing.assert_allclose(losses, expected, rtol=1e-13)
    ours, theirs = model.grads(), torch_unroll(model.arrays, xs, ys, h0, k)
    for name, g in reference.grads().items():
        np.testing.assert_allclose(ours[name], g, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-10, atol=1e-13)
    assert h.op is None and not h.requires_grad and h.shape == (N, H)


def test_truncation_changes_the_gradient_and_k_at_least_t_is_full_bptt():
    xs, ys, h0 = data()
    full, truncated, long = Elman(), Elman(), Elman()
    loss = None
    h = h0
    for x, y in zip(xs, ys):
        loss_t, h = full.loss_step((x, y), h)
        loss = loss_t if loss is None else loss + loss_t
    (loss / T).backward()
    tbptt(truncated.loss_step, zip(xs, ys), h0, 2, backward)
    tbptt(long.loss_step, zip(xs, ys), h0, T + 3, backward)
    for name, g in full.grads().items():
        np.testing.assert_allclose(long.grads()[name], g, rtol=1e-13, atol=1e-15)
    assert np.abs(truncated.grads()["U"] - full.grads()["U"]).max() > 1e-6


def test_no_gradient_crosses_a_cut():
    """d(loss of chunk c)/d(x_t) is None for t in an earlier chunk and nonzero within chunk c."""
    k = 4
    xs, ys, h0 = data()
    xs = [x.requires_grad_() for x in xs]
    h0.requires_grad_()
    model = Elman()
    seen = []

    def on_chunk(loss):
        seen.append(tg.grad(loss, [h0, *xs], retain_graph=True))
        loss.backward()

    losses, _ = tbptt(model.loss_step, zip(xs, ys), h0, k, on_chunk)
    assert len(seen) == len(losses) == 3  # steps 0-3, 4-7, 8-9
    for c, (g_h0, *g_xs) in enumerate(seen):
        assert (g_h0 is not None) == (c == 0)  # the initial state is trained by chunk 0 only
        for t, g in enumerate(g_xs):
            if t // k == c:
                assert g is not None and np.abs(g.numpy()).max() > 0, (c, t)
            else:
                assert g is None, (c, t)
    # .grad of each input holds only the gradient of its own chunk's loss
    for t, x in enumerate(xs):
        np.testing.assert_allclose(x.grad.numpy(), seen[t // k][1 + t].numpy(), rtol=1e-14)


def test_with_an_optimizer_equals_the_hand_written_loop():
    xs, ys, h0 = data(steps=12)
    model, reference = Elman(), Elman()
    opt = tg.optim.SGD(list(model.params.values()), lr=0.1, momentum=0.9)
    losses, h = tbptt(model.loss_step, zip(xs, ys), h0, 5, optimizer=opt)

    ref_opt = tg.optim.SGD(list(reference.params.values()), lr=0.1, momentum=0.9)
    expected, state = [], h0
    for start in range(0, 12, 5):
        step_losses = []
        for x, y in zip(xs[start:start + 5], ys[start:start + 5]):
            loss_t, state = reference.loss_step((x, y), state)
            step_losses.append(loss_t)
        loss = step_losses[0]
        for loss_t in step_losses[1:]:
            loss = loss + loss_t
        loss = loss / len(step_losses)
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        expected.append(loss.item())
        state = state.detach()
    np.testing.assert_allclose(losses, expected, rtol=1e-13)
    for name, p in model.params.items():
        np.testing.assert_allclose(p.numpy(), reference.params[name].numpy(), rtol=1e-13)
    np.testing.assert_allclose(h.numpy(), state.numpy(), rtol=1e-13)
    assert losses[-1] < losses[0]


def test_two_calls_carry_the_state_like_one():
    xs, ys, h0 = data(steps=12)
    once, twice = Elman(), Elman()
    all_losses, h_once = tbptt(once.loss_step, zip(xs, ys), h0, 3, backward)
    first, h = tbptt(twice.loss_step, zip(xs[:6], ys[:6]), h0, 3, backward)
    second, h_twice = tbptt(twice.loss_step, zip(xs[6:], ys[6:]), h, 3, backward)
    np.testing.assert_allclose(first + second, all_losses, rtol=1e-14)
    np.testing.assert_allclose(h_twice.numpy(), h_once.numpy(), rtol=1e-14)
    for name, g in once.grads().items():
        np.testing.assert_allclose(twice.grads()[name], g, rtol=1e-13)


def test_tuple_state_warm_up_steps_and_sum_reduction():
    """An LSTM-like (h, c) state, no loss during two warm-up steps, chunk losses summed."""
    xs, ys, h0 = data(steps=7)
    model, reference = Elman(), Elman()

    def stepper(m):
        def step(item, state):
            t, (x, y) = item
            h, c = state
            c = c * 0.5 + m.step(x, h)
            h = c.tanh()
            return (None if t < 2 else tg.F.mse_loss(h @ m.params["V"], y)), (h, c)
        return step

    losses, (h, c) = tbptt(stepper(model), enumerate(zip(xs, ys)), (h0, h0 * 0.0), 2,
                           backward, reduction="sum")
    assert h.op is None and c.op is None and not c.requires_grad

    step, state, expected = stepper(reference), (h0, h0 * 0.0), []
    for start in (0, 2, 4, 6):
        loss = None
        for t in range(start, min(start + 2, 7)):
            loss_t, state = step((t, (xs[t], ys[t])), state)
            if loss_t is not None:
                loss = loss_t if loss is None else loss + loss_t
        if loss is not None:  # steps 0-1 have no loss: no backward
            loss.backward()
            expected.append(loss.item())
        state = (state[0].detach(), state[1].detach())
    assert len(losses) == 3
    np.testing.assert_allclose(losses, expected, rtol=1e-14)
    np.testing.assert_allclose(c.numpy(), state[1].numpy(), rtol=1e-14)
    for name, g in reference.grads().items():
        np.testing.assert_allclose(model.grads()[name], g, rtol=1e-13, atol=1e-15)


def test_inputs_may_be_a_tensor_or_a_generator():
    rng = np.random.default_rng(0)
    xs = tg.tensor(rng.normal(size=(6, N, I)), dtype=np.float64)
    model = Elman()

    def step(x, h):
        h = model.step(x, h)
        return (h * h).mean(), h

    a, ha = tbptt(step, xs, tg.zeros(N, H, dtype=np.float64), 4, lambda loss: None)
    b, hb = tbptt(step, (xs[t] for t in range(6)), tg.zeros(N, H, dtype=np.float64), 4,
                  lambda loss: None)
    assert len(a) == 2 and a == b
    np.testing.assert_array_equal(ha.numpy(), hb.numpy())
    assert tbptt(step, [], None, 4, lambda loss: None) == ([], None)


def test_bad_arguments():
    def step(x, h):
        return None, h

    opt = tg.optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="positive int"):
        tbptt(step, [1], None, 0, optimizer=opt)
    with pytest.raises(ValueError, match="reduction"):
        tbptt(step, [1], None, 1, optimizer=opt, reduction="none")
    with pytest.raises(ValueError, match="exactly one"):
        tbptt(step, [1], None, 1)
    with pytest.raises(ValueError, match="exactly one"):
        tbptt(step, [1], None, 1, lambda loss: None, optimizer=opt)


def test_detach_state_keeps_the_structure():
    w = tg.ones(2, requires_grad=True)
    h, c = w * 2, w * 3
    Pair = namedtuple("Pair", "h c")
    state = {"layers": [(h, c), None], "pair": Pair(h, c), "h": h}
    out = detach_state(state)
    assert isinstance(out, dict) and isinstance(out["layers"], list)
    assert isinstance(out["layers"][0], tuple) and out["layers"][1] is None
    assert isinstance(out["pair"], Pair)
    for t in (out["layers"][0][0], out["layers"][0][1], out["pair"].c, out["h"]):
        assert t.op is None and not t.requires_grad and t.parents == ()
    assert out["h"].data is h.data  # the same values, no copy
    assert h.op is not None  # the original graph is untouched
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state"):
        detach_state(np.ones(2))
