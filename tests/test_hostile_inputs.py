"""Inputs that used to be accepted and give a wrong answer far away: each is now right or refused.

Where torch has the behaviour (indices, creation) the test asks torch; otherwise it asserts the
exact error, which names the function, the argument and what was expected.
"""
import re

import numpy as np
import pytest
import torch

import tinygrad_rnn as tg
from tinygrad_rnn import backend


# ---- gradients of integer-array indexing with negative and repeated indices -----------------
def index_grads(shape, key, seed=0):
    """The input gradient of ``(x[key] * w).sum()`` in tinygrad_rnn and in torch."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x_tg = tg.tensor(x, requires_grad=True)
    x_pt = torch.tensor(x, requires_grad=True)

    def as_torch(k):  # torch reads a uint8 tensor as a mask: hand it int64 indices
        return torch.as_tensor(np.asarray(k, dtype=np.int64)) if isinstance(k, (list, np.ndarray)) \
            else k

    key_pt = tuple(map(as_torch, key)) if isinstance(key, tuple) else as_torch(key)
    y_pt = x_pt[key_pt]
    w = rng.standard_normal(tuple(y_pt.shape))
    (x_tg[key] * tg.tensor(w)).sum().backward()
    (y_pt * torch.tensor(w)).sum().backward()
    return x_tg.grad.numpy(), x_pt.grad.numpy()


@pytest.mark.parametrize("shape, key", [
    ((5,), [-1, 4, -1, 0]),                               # -1 and 4 are the same row
    ((5,), np.array([-5, 0, 2, -3, -3])),
    ((5, 3), np.array([[-1, 4, 0], [1, -5, -1]])),        # an index of shape (2, 3)
    ((4, 3), (slice(None), [-1, 0])),                     # x[:, [-1, 0]]
    ((4, 3), ([-1, 3, 0], [2, -1, -3])),                  # two index arrays
    ((6,), np.array([3, 3, 3], dtype=np.uint8)),
], ids=["1d", "1d-all-negative", "2d-index", "columns", "pairs", "uint8"])
def test_negative_and_repeated_indices_match_torch(shape, key):
    ours, theirs = index_grads(shape, key)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_the_reported_case():
    x = tg.randn(5, requires_grad=True)
    x[[-1, 4, -1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 3])


def test_embedding_with_repeated_ids_matches_torch():
    tg.manual_seed(0)
    ours = tg.nn.Embedding(6, 4)
    theirs = torch.nn.Embedding(6, 4)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
    ids = np.array([[1, 5, 1, 0], [5, 5, 2, 1]])
    w = np.random.default_rng(1).standard_normal((2, 4, 4)).astype(np.float32)
    (ours(tg.tensor(ids)) * tg.tensor(w)).sum().backward()
    (theirs(torch.tensor(ids)) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-6)


def test_scatter_add_names_an_index_out_of_range():
    target = np.zeros((5, 2))
    with pytest.raises(IndexError, match=r"scatter_add\(\): index 5 is out of range for an axis "
                                         r"of size 5"):
        backend.scatter_add(np, target, np.array([0, 5, 1]), np.ones((3, 2)))
    with pytest.raises(IndexError, match=r"index -6 .* size 5"):
        backend.scatter_add(np, target, np.array([-6, 1]), np.ones((2, 2)))
    assert not target.any()   # nothing was added before the error


# ---- creation: what torch accepts is accepted, the rest is refused by name ----------------------
def shape_or_error(make, *args):
    try:
        return tuple(make(*args).shape)
    except (TypeError, ValueError, RuntimeError) as e:
        return type(e)


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
@pytest.mark.parametrize("args", [(0,), (2, 0), ((),), ([2, 3],), (np.int64(2), np.int32(3)),
                                  (np.array(2),)], ids=repr)
def test_sizes_torch_accepts_are_accepted(name, args):
    assert shape_or_error(getattr(tg, name), *args) == shape_or_error(getattr(torch, name), *args)


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
@pytest.mark.parametrize("size", [2.5, True, np.bool_(True), np.float64(2), "3", None])
def test_sizes_must_be_integers(name, size):
    assert shape_or_error(getattr(torch, name), size) is TypeError
    with pytest.raises(TypeError, match=rf"{name}\(\): sizes must be integers, got "
                                        rf"{re.escape(repr(size))}"):
        getattr(tg, name)(size)
    with pytest.raises(TypeError, match=rf"{name}\(\): sizes must be integers"):
        getattr(tg, name)((2, size))


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_negative_sizes_are_refused(name):
    assert shape_or_error(getattr(torch, name), 2, -1) is RuntimeError
    with pytest.raises(ValueError, match=rf"{name}\(\): size \(2, -1\) has a negative dimension"):
        getattr(tg, name)(2, -1)


def test_full_uniform_and_eye_check_their_sizes():
    with pytest.raises(TypeError, match=r"full\(\): sizes must be integers, got 2.5"):
        tg.full((2.5,), 1.0)
    with pytest.raises(ValueError, match=r"full\(\): size \(-1,\) has a negative dimension"):
        tg.full(-1, 1.0)
    with pytest.raises(ValueError, match=r"uniform\(\): size \(3, -2\)"):
        tg.uniform((3, -2), 0.0, 1.0)
    assert tg.eye(0).shape == tuple(torch.eye(0).shape) == (0, 0)
    with pytest.raises(ValueError, match=r"eye\(\): n must be non-negative, got -1"):
        tg.eye(-1)
    with pytest.raises(ValueError, match=r"eye\(\): m must be non-negative, got -1"):
        tg.eye(2, -1)
    with pytest.raises(TypeError, match=r"eye\(\): n must be an integer, got 2.5"):
        tg.eye(2.5)


@pytest.mark.parametrize("args", [(0, 1, 0), (0.0, 1.0, 0.0), (0, 5, -1), (5, 0, 1),
                                  (0, float("inf")), (0, float("nan")), (float("nan"),)])
def test_arange_refuses_what_torch_refuses(args):
    assert shape_or_error(torch.arange, *args) is RuntimeError
    with pytest.raises(ValueError, match=r"arange\(\): "):
        tg.arange(*args)


def test_arange_messages():
    with pytest.raises(ValueError, match=r"arange\(\): step must be nonzero"):
        tg.arange(0, 1, 0)
    with pytest.raises(ValueError, match=r"arange\(\): end 5 and start 0 are inconsistent with "
                                         r"step -1"):
        tg.arange(0, 5, -1)
    with pytest.raises(ValueError, match=r"arange\(\): start, end and step must be finite"):
        tg.arange(0, float("inf"))
    for args in [(5, 0, -1), (0, 0), (3,), (0.0, 1.0, 0.25), (np.int64(4),)]:
        np.testing.assert_array_equal(tg.arange(*args).numpy(), torch.arange(*args).numpy())


@pytest.mark.parametrize("data", [["a", "b"], np.array(["a"]), b"ab", [b"x"],
                                  np.array([1], dtype=object), np.array([None]),
                                  np.datetime64(1, "D"), np.zeros(2, dtype=[("a", "f4")])],
                         ids=repr)
def test_tensor_refuses_non_numeric_data(data):
    assert shape_or_error(torch.tensor, data) in (TypeError, ValueError)
    dtype = np.asarray(data).dtype
    with pytest.raises(TypeError, match=rf"tensor\(\): .*dtype {re.escape(str(dtype))}.*numbers or booleans"):
        tg.tensor(data)


@pytest.mark.parametrize("make", [lambda: tg.zeros(2, dtype=object), lambda: tg.ones(2, dtype=str),
                                  lambda: tg.tensor([1, 2], dtype=str),
                                  lambda: tg.arange(3, dtype="datetime64[D]")])
def test_non_numeric_dtypes_are_refused(make):
    with pytest.raises(TypeError, match=r"\(\): .*dtype .*numbers or booleans"):
        make()


def test_numeric_data_of_every_kind_is_accepted():
    for data in ([True, False], [1, 2], np.array([1, 2], np.uint8), [1.5], [1 + 2j]):
        assert tg.tensor(data).dtype == np.asarray(data).dtype or \
            tg.tensor(data).dtype == np.float32


@pytest.mark.parametrize("layer, args, argument", [
    (tg.nn.Linear, (-1, 2), "in_features"), (tg.nn.Linear, (2, -3), "out_features"),
    (tg.nn.Embedding, (-1, 2), "num_embeddings"), (tg.nn.Embedding, (2, -1), "embedding_dim"),
])
def test_layers_refuse_negative_sizes(layer, args, argument):
    assert shape_or_error(getattr(torch.nn, layer.__name__), *args) is RuntimeError
    with pytest.raises(ValueError, match=rf"{layer.__name__}\(\): {argument} must be "
                                         r"non-negative, got -\d"):
        layer(*args)


@pytest.mark.parametrize("layer, args, argument", [
    (tg.nn.Linear, (2.5, 2), "in_features"), (tg.nn.Linear, (2, True), "out_features"),
    (tg.nn.Embedding, ("4", 2), "num_embeddings"), (tg.nn.Embedding, (2, 1.0), "embedding_dim"),
])
def test_layers_refuse_sizes_that_are_not_integers(layer, args, argument):
    with pytest.raises(TypeError, match=rf"{layer.__name__}\(\): {argument} must be an integer"):
        layer(*args)


def test_layers_accept_zero_and_numpy_sizes():
    assert tg.nn.Linear(0, 2).weight.shape == tuple(torch.nn.Linear(0, 2).weight.shape)
    assert tg.nn.Embedding(0, 3).weight.shape == (0, 3)
    layer = tg.nn.Linear(np.int64(3), np.int32(2))
    assert layer.weight.shape == (2, 3) and type(layer.in_features) is int


# ---- load_state_dict: nothing that is not the parameter's kind of number is copied in ----------
@pytest.mark.parametrize("value, what", [
    (np.array([[None] * 3] * 2, dtype=object), "object"),
    (np.array([["a"] * 3] * 2), "<U1"),
    ([["a", "b", "c"], ["d", "e", "f"]], "<U1"),
    (np.zeros((2, 3), dtype="datetime64[s]"), "datetime64"),
])
def test_load_state_dict_refuses_non_numeric_arrays(value, what):
    layer = tg.nn.Linear(3, 2)
    before = layer.weight.numpy().copy()
    with pytest.raises(TypeError, match=rf"load_state_dict\(\) for Linear: weight has shape "
                                        rf"\(2, 3\) and dtype {what}.*float32"):
        layer.load_state_dict({"weight": value, "bias": np.zeros(2)})
    np.testing.assert_array_equal(layer.weight.numpy(), before)


@pytest.mark.parametrize("value", [np.ones((2, 3), np.int64), np.ones((2, 3), bool),
                                   np.ones((2, 3), np.complex64)], ids=lambda v: str(v.dtype))
def test_load_state_dict_refuses_a_non_float_array_for_a_float_parameter(value):
    layer = tg.nn.Linear(3, 2)
    with pytest.raises(TypeError, match=rf"load_state_dict\(\) for Linear: weight has shape "
                                        rf"\(2, 3\) and dtype {value.dtype} in the state dict but "
                                        r"shape \(2, 3\) and dtype float32 in the model"):
        layer.load_state_dict({"weight": value, "bias": np.zeros(2)})


def test_load_state_dict_checks_every_entry_before_copying_any():
    layer = tg.nn.Linear(3, 2)
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match=r"bias has shape \(3,\) and dtype float64 in the state "
                                         r"dict but shape \(2,\) and dtype float32 in the model"):
        layer.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(3)})
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v, before[k])   # the good weight was not copied in


def test_load_state_dict_refuses_ragged_values_by_name():
    layer = tg.nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"load_state_dict\(\) for Linear: bias is not an array"):
        layer.load_state_dict({"weight": np.zeros((2, 3)), "bias": [[1.0], [2.0, 3.0]]})


def test_load_state_dict_converts_floats_of_any_precision():
    layer = tg.nn.Linear(3, 2)
    layer.load_state_dict({"weight": np.ones((2, 3), np.float64), "bias": [1.0, 2.0]})
    layer.load_state_dict({"weight": tg.ones(2, 3, dtype=np.float16), "bias": np.zeros(2)})
    assert layer.weight.dtype == np.float32 and layer.bias.numpy().tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((2, 3)))
