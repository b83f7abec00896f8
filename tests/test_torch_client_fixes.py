"""What PyTorch clients' code needed of the package, each checked against torch itself:
``Module.to(dtype)``, ``Module.float()/double()``, ``cumsum``, ``reversed(tensor)``,
``_parameters`` and ``_flat_weights_names`` (read by d2l's initialisers) and
``flatten_parameters()``.
"""
import numpy as np
import pytest
import torch

import tinygrad_rnn as tg


@pytest.mark.parametrize("args", [(tg.float64,), ("cpu", tg.float64), (None, tg.float64)])
def test_module_to_takes_a_dtype_first_as_torch(args):
    m = tg.nn.GRU(2, 3)
    assert m.to(*args) is m
    assert {p.dtype for p in m.parameters()} == {np.dtype(np.float64)}
    out, _ = m(tg.randn(4, 1, 2, dtype=tg.float64))
    assert out.dtype == np.float64


def test_module_to_a_tensor_takes_its_dtype_and_device():
    m = tg.nn.Linear(2, 3).to(tg.zeros(1, dtype=tg.float64))
    assert m.weight.dtype == np.float64 and m.weight.device == "cpu"


def test_module_to_an_integer_dtype_is_refused_as_torch():
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 3).to(torch.int64)
    with pytest.raises(TypeError, match=r"Linear.to\(\).*int64"):
        tg.nn.Linear(2, 3).to(tg.int64)


def test_module_double_and_float():
    m = tg.nn.Linear(2, 3)
    assert m.double() is m and m.weight.dtype == np.float64
    assert m.float().weight.dtype == np.float32


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cumsum_values_and_gradients_as_torch(dim):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = tg.cumsum(ours, dim), torch.cumsum(theirs, dim)
    (y_ours * tg.tensor(w)).sum().backward()
    (y_theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_cumsum_gradcheck():
    x = tg.randn(3, 5, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda a: a.cumsum(dim=1), (x,))


@pytest.mark.parametrize("values", [[True, False, True], [3, -1, 4]])
def test_cumsum_of_integers_and_bools_as_torch(values):
    ours, theirs = tg.tensor(values).cumsum(0), torch.tensor(values).cumsum(0)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cumsum_of_a_scalar_and_with_a_dtype():
    assert tg.tensor(3.0).cumsum(0).shape == torch.tensor(3.0).cumsum(0).shape == ()
    y = tg.tensor([1, 2, 3]).cumsum(0, dtype=tg.float64)
    assert y.dtype == np.float64 and y.tolist() == [1.0, 3.0, 6.0]
    with pytest.raises(IndexError, match="cumsum"):
        tg.ones(2, 3).cumsum(2)


def test_reversed_gives_a_tensor_as_torch():
    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    ours, theirs = reversed(tg.tensor(x)), reversed(torch.tensor(x))
    assert isinstance(ours, tg.Tensor)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="0-d"):
        reversed(tg.tensor(1.0))


@pytest.mark.parametrize("layer", ["RNN", "GRU", "LSTM"])
def test_flat_weights_names_and_parameters_as_torch(layer):
    ours = getattr(tg.nn, layer)(2, 3, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, layer)(2, 3, num_layers=2, bidirectional=True)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert list(ours._parameters) == list(theirs._parameters)
    assert ours._parameters["weight_hh_l1"] is ours.weight_hh_l1
    ours.flatten_parameters()  # nothing to do, as torch on the CPU


def test_parameters_view_is_read_only():
    m = tg.nn.Linear(2, 3)
    assert dict(m._parameters) == {"weight": m.weight, "bias": m.bias}
    with pytest.raises(TypeError):
        m._parameters["extra"] = tg.nn.Parameter(tg.zeros(1))


@pytest.mark.parametrize("dims", [(0,), (1,), (-1,), ((0, 2),), ([1, 2],)])
def test_flip_values_and_gradients_as_torch(dims):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours.flip(*dims), theirs.flip(*dims)
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.detach().numpy())
    w = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    (y_ours * tg.tensor(w)).sum().backward()
    (y_theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(tg.flip(ours, dims[0]).numpy(),
                                  torch.flip(theirs, dims[0] if isinstance(dims[0], (tuple, list))
                                             else dims).detach().numpy())


def test_flip_names_a_wrong_axis():
    with pytest.raises(IndexError, match="flip"):
        tg.ones(2, 3).flip(2)
    with pytest.raises(TypeError, match="flip"):
        tg.ones(2, 3).flip()


def test_cumsum_keeps_infinities_as_torch():
    """A running sum, not a product with a triangle of ones (inf * 0 would give NaN)."""
    import numpy as np
    import torch

    import tinygrad_rnn as tg

    x = np.array([[1.0, np.inf, 2.0], [-np.inf, 1.0, 3.0]])
    np.testing.assert_array_equal(tg.tensor(x).cumsum(1).numpy(),
                                  torch.tensor(x).cumsum(1).numpy())


def test_min_of_two_tensors_as_torch_for_every_dtype():
    """One Minimum primitive, not -max(-x, -y): negating int8 -128 overflows, bools cannot."""
    import numpy as np
    import torch

    import tinygrad_rnn as tg

    for a, b, dtype in (([-128, 5], [0, 3], np.int8), ([True, False], [False, False], bool),
                        ([1.0, -2.0, 3.0], [1.0, 0.0, 4.0], np.float64)):
        ours = tg.tensor(np.array(a, dtype=dtype)).min(tg.tensor(np.array(b, dtype=dtype)))
        theirs = torch.tensor(np.array(a, dtype=dtype)).min(torch.tensor(np.array(b, dtype=dtype)))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == theirs.numpy().dtype
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    x.min(tg.tensor([2.0, 2.0, 2.0], dtype=tg.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.5, 0.0]  # torch's tie rule: half to each side
