"""The CuPy stand-in (tests/fake_cuda) is strict, so a "cuda" suite that passes on it means
something; and a training step makes no transfer to the host that the user did not ask for.

These tests run only when "cuda" is the stand-in (``--fake-cuda``, see conftest.py): they count
transfers, which a real GPU does not report.
"""
import pickle

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import backend
from tinygrad_rnn.models.charlm import CharLM
from tinygrad_rnn.ops import Op

pytestmark = pytest.mark.stand_in


def test_cuda_is_the_stand_in_and_says_so():
    assert tg.cuda.is_available()
    assert "stand-in" in tg.cuda.reason()
    t = tg.ones(2, device="cuda")
    assert t.device == "cuda" and not isinstance(t.data, np.ndarray)
    assert t.xp is tg.cuda.cupy() and t.xp is not np


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.exp, np.sum, np.isfinite,
                                     lambda a: np.ones(3) + a, lambda a: a * np.ones(3),
                                     lambda a: np.testing.assert_allclose(a, 1.0)],
                         ids=["asarray", "array", "exp", "sum", "isfinite", "numpy+device",
                              "device*numpy", "assert_allclose"])
def test_numpy_never_gets_a_device_array(convert, transfers):
    a = tg.ones(3, device="cuda").data
    with pytest.raises(TypeError, match="Implicit conversion|device array|Unsupported type"):
        convert(a)
    assert transfers.total == 0


def test_what_cupy_allows_is_counted(transfers):
    xp = tg.cuda.cupy()
    a = xp.arange(6.0).reshape(2, 3)
    one = a.sum()
    assert isinstance(one, xp.ndarray) and one.shape == ()  # reductions stay on the device
    assert (float(one), int(one), bool(one), one.item()) == (15.0, 15, True, 15.0)
    assert a.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert transfers.implicit == 5 and transfers.explicit == 0
    np.testing.assert_array_equal(a.get(), xp.asnumpy(a))
    assert transfers.explicit == 2
    a[a > 2]  # a boolean mask needs its count of true values on the host
    pickle.dumps(a)
    assert transfers.implicit == 7
    assert [what for _, what, _ in transfers.log][-2:] == ["boolean-mask indexing",
                                                           "pickling an ndarray"]
    with pytest.raises(ValueError, match="truth value of an array with more than one"):
        bool(a)
    import cupyx

    with cupyx.allow_synchronize(False), pytest.raises(cupyx.DeviceSynchronized):
        float(one)


def test_integer_indices_wrap_around_as_on_a_gpu():
    xp = tg.cuda.cupy()
    a = xp.arange(3) * 10
    assert a[xp.asarray([3, -1, 4])].get().tolist() == [0, 20, 10]  # no IndexError: garbage
    with pytest.raises(IndexError):
        a[3]  # a scalar index is checked on the host, as CuPy does


class HostExp(Op):
    """A faulty op: NumPy's exp on whatever array it is given."""

    def forward(self, x):
        return np.exp(x)

    def backward(self, g):
        return (g,)


def test_an_implicit_conversion_in_the_package_fails_loudly():
    """The suite cannot pass by accident: code that hands a device array to NumPy raises."""
    x = tg.ones(3, device="cuda")
    np.testing.assert_allclose(HostExp.apply(tg.ones(3)).numpy(), np.e)  # fine on the CPU
    with pytest.raises(ValueError, match=r"HostExp: .*numpy.exp\(\) was called on a device "
                                         "array") as error:
        HostExp.apply(x)
    assert isinstance(error.value.__cause__, TypeError)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x.data)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        x.data + np.ones(3)


def test_cuda_without_cupy_says_why(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)  # `import cupy` fails
    tg.cuda.reset()
    try:
        assert not tg.cuda.is_available() and "CuPy is not installed" in tg.cuda.reason()
        with pytest.raises(tg.cuda.CudaUnavailableError, match="device 'cuda' is not usable: "):
            tg.ones(2, device="cuda")
    finally:
        monkeypatch.undo()
        tg.cuda.reset()
    assert tg.cuda.is_available()


def charlm_step(model, opt, x, y):
    """Forward, backward, clip_grad_norm_ and an Adam step, as models.charlm.train_step,
    without reading the loss."""
    logits, _ = model(x)
    loss = tg.F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
    opt.zero_grad()
    loss.backward()
    tg.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    opt.step()
    return loss


@pytest.mark.parametrize("data_on", ["host", "cuda"])
def test_a_training_step_makes_no_transfer(data_on, transfers):
    """No device->host transfer in a step of the character LSTM until the loss is read (it
    was 2 with the data on the host and 7 with it on the device, before the checks of
    cross_entropy, embedding and clip_grad_norm_ moved to the device)."""
    tg.manual_seed(0)
    model = CharLM(20, "lstm", hidden_size=16, embed_size=8).to("cuda")
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    device = "cpu" if data_on == "host" else "cuda"
    for _ in range(3):
        x = tg.tensor(rng.integers(0, 20, (10, 4)), device=device)
        y = tg.tensor(rng.integers(0, 20, 40), device=device)
        transfers.reset()
        loss = charlm_step(model, opt, x, y)
        assert transfers.total == 0, transfers.log
        assert loss.device == "cuda" and np.isfinite(loss.item())
        assert 1 <= transfers.total <= 2  # the value, and the deferred index checks if any


@pytest.mark.parametrize("fused", [True, False])
def test_bad_device_targets_raise_at_the_next_transfer(fused):
    logits = tg.randn(3, 5, device="cuda", requires_grad=True)
    with pytest.raises(ValueError, match=r"cross_entropy\(\): target classes must be in \[0, 5\)"):
        tg.F.cross_entropy(logits.cpu(), tg.tensor([0, 5, 1]), fused=fused)  # host: at once
    loss = tg.F.cross_entropy(logits, tg.tensor([0, 5, 1], device="cuda"), fused=fused)
    loss.backward()  # on a GPU the index wraps around: the numbers are invalid, not an error
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 5\): one on the 'cuda' device was outside \[0, 5\)"):
        loss.item()
    assert np.isfinite(loss.item())  # reported once; later transfers are not blocked
    again = tg.F.cross_entropy(logits, tg.tensor([0, 5, 1], device="cuda"), fused=fused)
    with pytest.raises(ValueError, match=r"one on the 'cuda' device was outside \[0, 5\)"):
        again.cpu()  # .cpu() / .to("cpu") / Module.to("cpu") are transfers too
    ignored = tg.F.cross_entropy(logits, tg.tensor([0, -100, 1], device="cuda"), fused=fused)
    np.testing.assert_allclose(ignored.item(), tg.F.cross_entropy(
        logits.cpu(), tg.tensor([0, -100, 1]), fused=fused).item(), rtol=1e-6)


def test_bad_device_indices_raise_at_the_next_transfer():
    weight = tg.randn(4, 2, device="cuda")
    with pytest.raises(IndexError, match=r"embedding\(\): indices must be in \[0, 4\), got "
                                         r"\[-1, 2\]"):
        tg.F.embedding(tg.tensor([2, -1]), weight.cpu())
    rows = tg.F.embedding(tg.tensor([[2, 4]], device="cuda"), weight)
    rows.sum()  # still no error: the check waits for a transfer
    with pytest.raises(IndexError, match=r"indices must be in \[0, 4\): one on the 'cuda' device was outside \[0, 4\)"):
        rows.numpy()
    backend.check_deferred()  # nothing left
