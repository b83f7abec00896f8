"""PyTorch's semantics where NumPy's differ: comparisons, logical operators, dtype promotion."""
import numpy as np
import pytest

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")

TORCH_DTYPES = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8,
                "int32": torch.int32, "int64": torch.int64, "float16": torch.float16,
                "float32": torch.float32, "float64": torch.float64}


def pair(values, dtype, zero_d=False):
    """The same values as a tinygrad_rnn and a torch tensor."""
    a = np.asarray(values[0] if zero_d else values).astype(dtype)
    return tg.tensor(a, dtype=dtype), torch.tensor(a, dtype=TORCH_DTYPES[dtype])


def test_eq_and_ne_are_elementwise_and_tensors_still_hash_by_identity():
    x = tg.tensor([0.0, 1.0, 2.0, 0.0])
    assert (x == 0).tolist() == [True, False, False, True]
    assert (x != 0).tolist() == [False, True, True, False]
    assert (x == tg.tensor([0.0, 1.0, 5.0, 1.0])).dtype == np.bool_
    # the two silent bugs of identity comparison: masks and tg.where
    loss, y = tg.tensor([1.0, 2.0, 3.0]), tg.tensor([5, 0, 7])
    assert (loss * (y != 0)).sum().item() == 4.0
    assert tg.where(x == 0, tg.ones(4), tg.zeros(4)).tolist() == [1, 0, 0, 1]
    # hashing stays by identity: dicts and sets of tensors work, as in torch
    twin = tg.tensor([0.0, 1.0, 2.0, 0.0])
    assert len({x: 1, twin: 2}) == 2 and x in {x} and twin not in {x}


def test_logical_operators_on_bool_tensors():
    a, b = tg.tensor([True, False, True]), tg.tensor([True, True, False])
    assert (~a).tolist() == [False, True, False]
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True]
    with pytest.raises(TypeError, match="bool or integer tensors, not float32"):
        ~tg.tensor([1.0])


BINARY = [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
          ("div", lambda a, b: a / b)]
DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("zero_d", [(False, False), (False, True), (True, False)])
def test_binary_promotion_follows_torch(name, fn, zero_d):
    for da in DTYPES:
        for db in DTYPES:
            if name == "sub" and "bool" in (da, db):
                continue  # torch refuses bool subtraction
            x, tx = pair([1, 2, 3], da, zero_d[0])
            y, ty = pair([3, 1, 2], db, zero_d[1])
            expected = fn(tx, ty)
            got = fn(x, y)
            assert str(got.dtype) == str(expected.dtype).removeprefix("torch."), (da, db)
            np.testing.assert_allclose(got.numpy().astype(np.float64),
                                       expected.numpy().astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize("op", ["exp", "log", "tanh", "sigmoid", "sqrt"])
def test_float_functions_of_integer_tensors_give_float32_as_torch(op, dtype):
    x, tx = pair([1, 2, 3], dtype)
    got, expected = getattr(x, op)(), getattr(tx, op)()
    assert got.dtype == np.float32 and expected.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def test_float32_with_a_zero_d_float64_array_stays_float32():
    x = tg.tensor([1.0, 2.0])
    assert (x + np.float64(0.5)).dtype == np.float32
    assert (x + np.array(0.5)).dtype == np.float32
    assert (x * tg.tensor(2.0, dtype=np.float64)).dtype == np.float32


def test_promotion_is_differentiable():
    w = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    i = tg.tensor([3, 4])
    y = (w * i).sum()  # int64 * float64 -> float64
    y.backward()
    assert y.dtype == np.float64 and w.grad.tolist() == [3.0, 4.0]
    v = tg.tensor([1.0, 2.0], requires_grad=True)
    (v + tg.tensor([1], dtype=np.int64)).sum().backward()
    assert v.grad.dtype == np.float32 and v.grad.tolist() == [1.0, 1.0]


def step_between_forward_and_backward(lib, build):
    """``build(w, x)`` -> loss; an SGD step on ``w`` runs after the forward pass."""
    w = lib.nn.Parameter(lib.ones(3, 2)) if lib is torch else tg.nn.Parameter(tg.ones(3, 2))
    x = lib.ones(4, 2)
    loss = build(w, x)
    w.grad = lib.ones(3, 2)
    (torch.optim.SGD if lib is torch else tg.optim.SGD)([w], lr=0.1).step()
    loss.backward()
    return w


@pytest.mark.parametrize("name,build", [
    ("matmul of a transposed view", lambda w, x: (x.requires_grad_() @ w.T).sum()),
    ("product", lambda w, x: (w * w).sum()),
    ("log of a slice", lambda w, x: w[1:].log().sum()),
])
def test_backward_after_an_inplace_change_raises_as_torch(name, build):
    # the op saved the parameter's array (or a view of it) for its gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        step_between_forward_and_backward(torch, build)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation .* at version 1, "
                                           r"the op saved version 0"):
        step_between_forward_and_backward(tg, build)


@pytest.mark.parametrize("name,build", [
    ("sum", lambda w, x: (x[:3] + w).sum()),
    ("tanh of a slice", lambda w, x: w[1:].tanh().sum()),  # tanh saves its output only
])
def test_an_op_that_saved_no_changed_array_lets_backward_run_as_torch(name, build):
    for lib in (torch, tg):
        w = step_between_forward_and_backward(lib, build)
        assert w.grad is not None


@pytest.mark.parametrize("layer, step", [(tg.nn.LSTM, "LSTMStep"), (tg.nn.GRU, "GRUStep"),
                                         (tg.nn.RNN, "RNNStep")])
@pytest.mark.parametrize("start", ["output", "middle state"])
def test_recurrent_training_step_in_the_wrong_order_raises(layer, step, start):
    """An optimiser step between forward and backward changes W_hh in place: backward raises
    (the fused steps' first step saves it: every pass ends there, even one that starts at a
    middle state) and no gradient reaches the parameters."""
    rnn = layer(2, 3, bidirectional=True)
    out, _ = rnn(tg.randn(4, 1, 2))
    loss = out.sum() if start == "output" else out[1].sum()
    optimizer = tg.optim.SGD(rnn.parameters(), lr=0.1)
    for p in rnn.parameters():
        p.grad = tg.zeros(*p.shape)
    optimizer.step()
    with pytest.raises(RuntimeError, match=f"{step} .*modified by an inplace operation"):
        loss.backward()
    assert all(not p.grad.numpy().any() for p in rnn.parameters())


def test_clip_grad_norm_with_a_nan_gradient_gives_nan_as_torch():
    ws = [tg.tensor([3.0, 4.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)]
    ts = [torch.tensor([3.0, 4.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)]
    for w, grad in zip(ws + ts, [[np.nan, 1.0], [2.0]] * 2):
        w.grad = (tg.tensor if isinstance(w, tg.Tensor) else torch.tensor)(grad)
    total = tg.nn.utils.clip_grad_norm_(ws, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(ts, 1.0)
    assert np.isnan(total.item()) and np.isnan(expected.item())
    for w, t in zip(ws, ts):
        np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())  # all NaN
    with pytest.raises(RuntimeError, match="non-finite"):
        tg.nn.utils.clip_grad_norm_(ws, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("shape,axis", [((0, 3), 1), ((0, 3), 0), ((2, 0), 1), ((0,), 0)])
def test_empty_reductions_and_softmax_as_torch(shape, axis):
    x, t = tg.zeros(*shape, requires_grad=True), torch.zeros(*shape, requires_grad=True)
    if shape[axis] == 0:  # no maximum of no elements: both refuse
        with pytest.raises((IndexError, RuntimeError)):
            t.amax(dim=axis)
        with pytest.raises(ValueError, match=f"reduction axis {axis} .* non-zero size"):
            x.max(axis=axis)
    else:
        x.max(axis=axis).sum().backward()
        t.amax(dim=axis).sum().backward()
        assert x.grad.shape == tuple(t.grad.shape)
    for name in ("softmax", "log_softmax"):
        y = getattr(tg.nn.functional, name)(x, axis=axis)
        assert y.shape == tuple(getattr(torch, name)(t, dim=axis).shape)


@pytest.mark.parametrize("method,args", [("chunk", (2,)), ("split", (2,))])
@pytest.mark.parametrize("axis", [2, -3, 7])
def test_chunk_and_split_name_a_bad_axis(method, args, axis):
    with pytest.raises(IndexError):
        getattr(torch.zeros(4, 2), method)(*args, dim=axis)
    with pytest.raises(IndexError, match=rf"{method}\(\): axis {axis} is out of range for a "
                                         r"tensor of shape \(4, 2\)"):
        getattr(tg.zeros(4, 2), method)(*args, axis=axis)


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_take_an_empty_batch_as_torch(layer):
    x, t = tg.zeros(5, 0, 3, requires_grad=True), torch.zeros(5, 0, 3, requires_grad=True)
    out, _ = getattr(tg.nn, layer)(3, 4, num_layers=2, bidirectional=True)(x)
    expected, _ = getattr(torch.nn, layer)(3, 4, num_layers=2, bidirectional=True)(t)
    assert out.shape == tuple(expected.shape)
    out.sum().backward()
    assert x.grad.shape == (5, 0, 3)


@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_refuse_an_integer_input_naming_the_dtypes(layer):
    with pytest.raises(ValueError, match="dtype"):
        getattr(torch.nn, layer)(3, 4)(torch.zeros(5, 2, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match=f"{layer}: input dtype int64 does not match the "
                                        "parameters' dtype float32"):
        getattr(tg.nn, layer)(3, 4)(tg.zeros(5, 2, 3, dtype="int64"))
