"""Creating tensors: dtypes as PyTorch, seeds, devices, conversion."""
import numpy as np
import pytest

import tinygrad_rnn as tg


def test_default_dtypes_follow_torch():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor(1.5).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True]).dtype == np.bool_
    assert tg.tensor(np.zeros(2, np.float64)).dtype == np.float64   # arrays keep their dtype
    assert tg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    for make in (tg.zeros, tg.ones, tg.randn, tg.rand):
        assert make(2, 3).dtype == np.float32 and make(2, 3).shape == (2, 3)
        assert make((2, 3), dtype=np.float64).dtype == np.float64
    assert tg.full((2,), 7.0).dtype == np.float32
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3).numpy(), np.eye(3))


def test_tensor_copies_its_data():
    a = np.ones(3, np.float32)
    t = tg.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1


def test_python_scalars_never_change_dtype():
    z = tg.rand(4, requires_grad=True)
    for y in (1 - z, z * 2, 2 * z, z / 3, 3 / (z + 1), z ** 2, 2.0 ** z, z + np.float64(0.5),
              z - 1, -z + 0.5):
        assert y.dtype == np.float32
    i = tg.tensor([1, 2])
    assert (i + 1).dtype == np.int64 and (i * 0.5).dtype == np.float32
    assert (i / 2).dtype == np.float32


def test_manual_seed_repeats():
    tg.manual_seed(3)
    a = tg.randn(5).numpy()
    b = tg.rand(5).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.randn(5).numpy(), a)
    np.testing.assert_array_equal(tg.rand(5).numpy(), b)
    assert ((b >= 0) & (b < 1)).all()


@pytest.mark.cuda
def test_same_seed_same_values_on_cpu_and_cuda():
    tg.manual_seed(7)
    a = tg.randn(4, 3)
    tg.manual_seed(7)
    b = tg.randn(4, 3, device="cuda")
    assert b.device == "cuda"
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_conversion(device):
    t = tg.tensor([[1.0, 2.0]], device=device, requires_grad=True)
    assert t.device == device
    assert isinstance(t.numpy(), np.ndarray)
    assert tg.tensor(3.5, device=device).item() == 3.5
    c = t.cpu()
    assert c.device == "cpu"
    assert t.astype(np.float64).dtype == np.float64
    assert t.to(dtype=np.float64).dtype == np.float64
    assert t.shape == (1, 2) and t.ndim == 2 and len(t) == 1
    assert "requires_grad=True" in repr(t)


@pytest.mark.cuda
def test_to_cuda_and_back_is_differentiable():
    x = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (x.cuda() * 3).cpu().sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_cuda_is_available_never_raises():
    assert tg.cuda.is_available() in (True, False)


def test_numpy_operand_defers_to_tensor():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], np.float32) * t
    assert isinstance(y, tg.Tensor) and y.requires_grad


def test_comparisons_give_bool_tensors_outside_the_graph():
    t = tg.tensor([-1.0, 2.0], requires_grad=True)
    m = t > 0
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True])
    assert {t: 1}[t] == 1   # tensors stay hashable by identity


def test_format_of_one_element_tensor():
    assert f"{tg.tensor(1.23456):.2f}" == "1.23"
    assert f"{tg.tensor([2.5]):.1f}" == "2.5"
    assert "tensor(" in f"{tg.ones(2)}"


def test_cupy_is_imported_only_when_cuda_is_asked_for(tmp_path):
    """A fake ``cupy`` on the path records being imported: the CPU path must never import it."""
    import os
    import subprocess
    import sys

    fake = tmp_path / "cupy"
    fake.mkdir()
    (fake / "__init__.py").write_text("import builtins\nbuiltins.FAKE_CUPY_IMPORTED = True\n")
    code = ("import builtins, tinygrad_rnn as tg\n"
            "m = tg.nn.LSTM(3, 4); out, _ = m(tg.randn(2, 1, 3)); out.sum().backward()\n"
            "assert not hasattr(builtins, 'FAKE_CUPY_IMPORTED'), 'cupy imported on the CPU path'\n"
            "assert tg.cuda.is_available() is False and 'CuPy' in tg.cuda.reason()\n"
            "assert builtins.FAKE_CUPY_IMPORTED  # the fake was found: the check above can fail\n"
            "print('ok')")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), repo]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       check=False)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
