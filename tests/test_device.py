"""The same code on "cpu" and on the device fixture gives the same numbers (float64, 1e-12).

Each test builds one thing twice from one seed, once on each device, and compares outputs and
every gradient; on "cuda" that is a GPU, or the CuPy stand-in of tests/fake_cuda without one.
"""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.backend import device_of
from tinygrad_rnn.models.charlm import CharLM

F64 = np.float64


def twins(make, device):
    """``make(device)`` on "cpu" and on ``device``, from the same seed."""
    tg.manual_seed(5)
    cpu = make("cpu")
    tg.manual_seed(5)
    return cpu, make(device)


def assert_same_grads(cpu_module, dev_module, device):
    for (name, p), q in zip(cpu_module.named_parameters(), dev_module.parameters()):
        assert q.device == device and device_of(q.grad.data) == device, name
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(kind, device, rng):
    cpu, dev = twins(lambda d: getattr(tg.nn, kind)(3, 4, dtype=F64, device=d), device)
    x = rng.standard_normal((2, 3))
    outs = []
    for cell, d in ((cpu, "cpu"), (dev, device)):
        xt = tg.tensor(x, dtype=F64, device=d, requires_grad=True)
        out = cell(xt)
        out = out[0] * out[1] if kind == "LSTMCell" else out
        out.tanh().sum().backward()
        outs.append((out.numpy(), xt.grad.numpy(), out.device))
    assert outs[1][2] == device
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-12)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-12)
    assert_same_grads(cpu, dev, device)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_layers_and_their_fused_steps(kind, device, rng):
    """Two bidirectional layers: the fused RNN/LSTM/GRU sequences run on the device too."""
    cpu, dev = twins(lambda d: getattr(tg.nn, kind)(3, 4, num_layers=2, bidirectional=True,
                                                    dtype=F64, device=d), device)
    x = rng.standard_normal((5, 2, 3))
    results = []
    for layer, d in ((cpu, "cpu"), (dev, device)):
        xt = tg.tensor(x, dtype=F64, device=d, requires_grad=True)
        out, state = layer(xt)
        h = state[0] if kind == "LSTM" else state
        (out.tanh().sum() + (h * h).sum()).backward()
        assert out.device == h.device == d
        results.append((out.numpy(), h.numpy(), xt.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert_same_grads(cpu, dev, device)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("target_on", ["host", "device"])
def test_losses(device, rng, fused, target_on):
    logits = rng.standard_normal((6, 5))
    target = np.array([0, 4, -100, 2, 2, 1])
    ids = np.array([[1, 0], [3, 3]])
    weight = rng.standard_normal((4, 5))
    values = []
    for d in ("cpu", device):
        x = tg.tensor(logits, device=d, requires_grad=True)
        w = tg.tensor(weight, device=d, requires_grad=True)
        t = tg.tensor(target, device=d if target_on == "device" else "cpu")
        i = tg.tensor(ids, device=d if target_on == "device" else "cpu")
        ce = tg.F.cross_entropy(x + tg.F.embedding(i, w).reshape(-1, 5).sum(), t, fused=fused)
        mse = tg.F.mse_loss(x.tanh(), x.sigmoid())
        (ce + mse).backward()
        assert ce.device == mse.device == d
        values.append((ce.item(), mse.item(), x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*values):  # atol: gradients that are 0 up to rounding (1e-17) depend on
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)  # the order of a sum


def test_cross_entropy_with_class_probabilities(device, rng):
    logits, p = rng.standard_normal((6, 5)), rng.dirichlet(np.ones(5), size=6)
    results = []
    for d in ("cpu", device):
        x = tg.tensor(logits, device=d, requires_grad=True)
        loss = tg.F.cross_entropy(x, tg.tensor(p, device=d), label_smoothing=0.1)
        loss.backward()
        assert loss.device == d
        results.append((loss.item(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", [{"weight": [1.0, 2.0, 0.5, 1.0, 3.0]},
                                    {"label_smoothing": 0.1}, {"nll": True}],
                         ids=["weight", "label_smoothing", "nll_loss"])
def test_class_losses_take_targets_on_the_host(device, rng, kwargs):
    """Logits on the device, classes as a host tensor (as a data loader gives them)."""
    logits, target = rng.standard_normal((4, 3, 5)), np.array([[1, 2, -100], [4, 0, 0],
                                                                [3, 3, 1], [2, -100, 0]])
    values = []
    for d in ("cpu", device):
        leaf = tg.tensor(logits, device=d, requires_grad=True)
        x = leaf.transpose(0, 2, 1)  # (N, C, d1)
        options = {k: tg.tensor(v, dtype=F64, device=d) if k == "weight" else v
                   for k, v in kwargs.items() if k != "nll"}
        loss = (tg.F.nll_loss(tg.F.log_softmax(x, axis=1), tg.tensor(target)) if "nll" in kwargs
                else tg.F.cross_entropy(x, tg.tensor(target), **options))
        loss.backward()
        assert loss.device == d
        values.append((loss.item(), leaf.grad.numpy()))
    for a, b in zip(*values):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_save_and_load_device_tensors(tmp_path, device):
    cpu, dev = twins(lambda d: tg.nn.GRU(3, 4, dtype=F64, device=d), device)
    tg.save(dev.state_dict(), tmp_path / "gru.npz")
    back = tg.load(tmp_path / "gru.npz")
    assert all(isinstance(v, np.ndarray) for v in back.values())
    fresh = tg.nn.GRU(3, 4, dtype=F64, device=device)
    fresh.load_state_dict(back)
    for (name, p), q in zip(cpu.named_parameters(), fresh.parameters()):
        assert q.device == device, name
        np.testing.assert_array_equal(q.numpy(), p.numpy(), err_msg=name)


def test_module_to_device_and_back_keeps_values(device):
    cpu, moved = twins(lambda d: CharLM(7, "lstm", hidden_size=5, embed_size=3), device)
    moved.to(device)
    assert all(p.device == device for p in moved.parameters())
    moved.to("cpu")
    for (name, p), q in zip(cpu.named_parameters(), moved.parameters()):
        np.testing.assert_array_equal(q.numpy(), p.numpy(), err_msg=name)


def test_drawing_a_graph_of_device_tensors(device, rng):
    cpu, dev = twins(lambda d: tg.nn.LSTM(2, 3, dtype=F64, device=d), device)
    x = rng.standard_normal((3, 1, 2))
    dots = []
    for layer, d in ((cpu, "cpu"), (dev, device)):
        out, _ = layer(tg.tensor(x, device=d))
        loss = out.sum()
        with tg.viz.record_grads():
            loss.backward()
        dots.append(tg.viz.to_dot(loss, grads=True))
    assert dots[1] == dots[0]


def train(device: str, steps: int) -> tuple[list, CharLM]:
    """``steps`` Adam steps of a small character LSTM in float64 on ``device``, clipped."""
    tg.manual_seed(11)
    model = CharLM(13, "lstm", hidden_size=8, embed_size=4).to(device, dtype=F64)
    opt = tg.optim.Adam(model.parameters(), lr=3e-2)
    rng = np.random.default_rng(2)
    text = np.where(rng.random(400) < 0.1, rng.integers(0, 13, 400), np.arange(400) % 13)
    losses = []
    for step in range(steps):
        start = 7 * step % 380
        x, y = text[start:start + 12].reshape(6, 2), text[start + 1:start + 13].reshape(6, 2)
        logits, _ = model(tg.tensor(x, device=device))
        loss = tg.F.cross_entropy(logits.reshape(-1, 13), tg.tensor(y.reshape(-1), device=device))
        opt.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss)
    return [float(v) for v in losses], model


def test_charlm_training_matches_cpu(device):
    """100 steps of a character LSTM: the same losses and weights on both devices (1e-12)."""
    (cpu_losses, cpu), (dev_losses, dev) = train("cpu", 100), train(device, 100)
    assert cpu_losses[-1] < cpu_losses[0] - 0.3  # it learns something
    np.testing.assert_allclose(dev_losses, cpu_losses, rtol=1e-12)
    for (name, p), q in zip(cpu.named_parameters(), dev.parameters()):
        assert q.device == device
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.cuda
def test_a_training_step_does_not_synchronize():
    """Forward, backward, clip_grad_norm_ and an Adam step of the character LSTM never wait for
    the GPU: ``cupyx.allow_synchronize(False)`` (real CuPy's sync detector, imitated by the
    stand-in) raises at any device->host transfer. Reading the loss afterwards is the one."""
    cupyx = pytest.importorskip("cupyx")
    tg.manual_seed(0)
    model = CharLM(20, "lstm", hidden_size=16, embed_size=8).to("cuda")
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.integers(0, 20, (10, 4)), device="cuda")
    y = tg.tensor(rng.integers(0, 20, 40), device="cuda")
    for _ in range(2):
        with cupyx.allow_synchronize(False):
            logits, _ = model(x)
            loss = tg.F.cross_entropy(logits.reshape(-1, 20), y)
            opt.zero_grad()
            loss.backward()
            tg.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
        assert np.isfinite(loss.item())
