"""Bad input ends in an error that names the op, the shapes or the devices."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.tensor import Tensor


def test_matmul_mismatch_names_op_and_both_shapes():
    a, b = tg.randn(2, 3), tg.randn(4, 5)
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3\) and \(4, 5\).*inner dimensions 3 and 4"):
        a @ b


def test_broadcast_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"Add.*\(3,\) and \(4,\)"):
        tg.ones(3) + tg.ones(4)
    with pytest.raises(ValueError, match=r"Mul.*\(2, 3\) and \(2, 4\)"):
        tg.ones(2, 3) * tg.ones(2, 4)


def test_concat_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"Concat.*\(2, 3\) and \(3, 3\)"):
        tg.concat([tg.ones(2, 3), tg.ones(3, 3)], axis=1)


def test_reshape_mismatch_names_op():
    with pytest.raises(ValueError, match=r"Reshape.*\(2, 3\)"):
        tg.ones(2, 3).reshape(4, 2)


def test_bad_axis_names_axis():
    with pytest.raises(IndexError, match=r"sum\(\): axis 2 is out of range for a tensor of shape "
                                         r"\(2, 3\)"):  # IndexError, as torch
        tg.ones(2, 3).sum(axis=2)


class FakeCupyArray:
    """Stands in for a CuPy array so the device check can be tested without a GPU."""

    __module__ = "cupy._core.core"

    def __init__(self, shape):
        self.shape, self.ndim, self.dtype = shape, len(shape), np.dtype(np.float32)


def test_mixing_devices_names_the_op_and_both_devices():
    cpu = tg.ones(3)
    fake_cuda = Tensor(FakeCupyArray((3,)))
    assert fake_cuda.device == "cuda"
    with pytest.raises(tg.DeviceError, match=r"Add: tensors are on different devices \(cpu, cuda\)"):
        cpu + fake_cuda


@pytest.mark.cuda
def test_mixing_real_devices():
    with pytest.raises(tg.DeviceError, match=r"MatMul.*\(cuda, cpu\)"):
        tg.ones(2, 2, device="cuda") @ tg.ones(2, 2)


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        tg.ones(2, device="gpu")


@pytest.fixture
def without_cupy(monkeypatch):
    """As on a machine without CuPy (even where a GPU or the test stand-in is present)."""
    monkeypatch.setitem(__import__("sys").modules, "cupy", None)  # `import cupy` fails
    tg.cuda.reset()
    yield
    monkeypatch.undo()
    tg.cuda.reset()


def test_cuda_without_gpu_says_why(without_cupy):
    with pytest.raises(tg.cuda.CudaUnavailableError, match="device 'cuda' is not usable: .+"):
        tg.ones(2, device="cuda")
    assert tg.cuda.reason()


@pytest.mark.parametrize("move", [lambda: tg.ones(2).to("cuda"), lambda: tg.ones(2).cuda(),
                                  lambda: tg.ones(2).to("cuda:0"),
                                  lambda: tg.ones(2, device="cuda:0"),
                                  lambda: tg.nn.Linear(2, 2).to("cuda")],
                         ids=["to", "cuda()", "to cuda:0", "create cuda:0", "Module.to"])
def test_every_way_to_the_gpu_says_why_the_same_way(without_cupy, move):
    """Not a ValueError from inside an op: the same error as creating a tensor on the GPU."""
    with pytest.raises(tg.cuda.CudaUnavailableError, match="device 'cuda' is not usable: .+"):
        move()


def test_ragged_data():
    with pytest.raises(TypeError, match="ragged"):
        tg.tensor([[1.0, 2.0], [3.0]])


def test_split_sizes_must_add_up():
    with pytest.raises(ValueError, match=r"sizes \[1, 1\] do not add up to 3"):
        tg.ones(3).split([1, 1])


def test_item_of_many_elements():
    with pytest.raises(ValueError, match=r"shape \(2,\) has 2 elements"):
        tg.ones(2).item()


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="Clip.*needs lo, hi or both"):
        tg.ones(2).clip()


def test_gradcheck_names_the_worst_input_and_index():
    def wrong(x):  # derivative of this "op" is deliberately off at one element
        return x * tg.tensor([1.0, 1.0, 1.0], dtype=np.float64) + (x * x).detach()

    x = tg.tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"input 0 \(shape \(3,\)\) at index \(2,\)"):
        tg.gradcheck(wrong, [x])


def test_gradcheck_refuses_float32():
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="float64"):
        tg.gradcheck(lambda t: t * 2, [x])


@pytest.mark.parametrize("op,state,gates", [(tg.fused.LSTMStep, (2, 2, 2), 4),
                                            (tg.fused.GRUStep, (2, 2), 3),
                                            (tg.fused.RNNStep, (2, 2), 1)])
def test_fused_steps_check_like_every_op(op, state, gates):
    # FusedStep.apply is Op.apply written out for four inputs: the same errors, the same graph.
    zx, h = tg.randn(3, 2, 2 * gates), tg.randn(*state)
    with pytest.raises(ValueError, match=rf"{op.__name__}: cannot apply to shapes \(3, 2, \d\) "
                                         rf"and \({', '.join(map(str, state))}\) and \(3, \d\)"):
        op.apply(zx, h, tg.randn(3, zx.shape[2]), t=0)
    with pytest.raises(tg.DeviceError, match=rf"{op.__name__}: tensors are on different devices "
                                             r"\(cpu, cpu, cuda\)"):
        op.apply(zx, h, Tensor(FakeCupyArray((2, zx.shape[2]))), t=0)
    w = tg.randn(2, zx.shape[2])
    assert op.apply(zx, h, w, t=0).op is None                  # nothing requires grad: no graph
    y = op.apply(zx, h, w.requires_grad_(), t=0)
    assert isinstance(y.op, op) and y.parents == (zx, h, w) and y.requires_grad
    with tg.no_grad():
        assert op.apply(zx, h, w, t=0).op is None


def test_plots_without_matplotlib_say_how_to_install_it(monkeypatch):
    """The package runs without matplotlib; a plot names what is missing and how to get it."""
    import numpy as np

    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(__import__("sys").modules, name, None)  # as if not installed
    with pytest.raises(ImportError, match="plots need matplotlib.*pip install matplotlib"):
        tg.viz.plot_gradient_flow(np.ones((1, 3)))
    with pytest.raises(ImportError, match="plots need matplotlib"):
        tg.viz.compare_gradient_flow({"a": (np.ones((1, 3)), ["h"])})


def test_importing_the_package_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, tinygrad_rnn; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
