"""RNNCell, LSTMCell and GRUCell against torch.nn's cells, driven over a loop of time steps.

Our state dict is loaded into the torch cell, both run the same float64 sequence, and a loss
that weights every step's output and the final states randomly is differentiated: outputs,
final states, every parameter gradient and the gradients of the input and of the initial state
must agree to a relative 1e-8. Then initialisation, dtypes, devices and error messages.
"""
import math

import numpy as np
import pytest
from torch_twins import assert_gradients_equal

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-8, 1e-12
OURS = {"rnn": tg.nn.RNNCell, "lstm": tg.nn.LSTMCell, "gru": tg.nn.GRUCell}
THEIRS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
CONFIGS = [
    ("rnn", {}), ("rnn", {"nonlinearity": "relu"}), ("rnn", {"bias": False}),
    ("lstm", {}), ("lstm", {"bias": False}), ("lstm", {"forget_bias": 0.0}),
    ("gru", {}), ("gru", {"bias": False}),
]
SIZES = [(4, 3, 5, 4), (1, 1, 1, 1), (3, 1, 2, 1), (2, 4, 1, 3)]  # T, N, I, H


def close(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def unroll(cell, x, state, weights, lstm):
    """Step ``cell`` over ``x`` (T, N, I); loss = sum_t sum(h_t * W_t) + sum(final * V)."""
    hs, loss = [], 0
    for t in range(x.shape[0]):
        state = cell(x[t], state)
        hs.append(state[0] if lstm else state)
        loss = loss + (hs[-1] * weights[0][t]).sum()
    finals = tuple(state) if lstm else (state,)
    for s, v in zip(finals, weights[1:]):
        loss = loss + (s * v).sum()
    return hs, finals, loss


def twin_cells(kind, input_size, hidden_size, kwargs):
    ours = OURS[kind](input_size, hidden_size, dtype=np.float64, **kwargs)
    theirs = THEIRS[kind](input_size, hidden_size, dtype=torch.float64,
                          **{k: v for k, v in kwargs.items() if k != "forget_bias"})
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "T{}-N{}-I{}-H{}".format(*s))
@pytest.mark.parametrize("kind,kwargs", CONFIGS, ids=lambda c: str(c))
def test_cell_loop_matches_torch(kind, kwargs, sizes, with_state):
    T, N, I, H = sizes
    lstm = kind == "lstm"
    rng = np.random.default_rng(T * 1000 + N * 100 + I * 10 + H)
    x = rng.standard_normal((T, N, I))
    s0 = [rng.standard_normal((N, H)) for _ in range(2 if lstm else 1)]
    weights = [rng.standard_normal((T, N, H))] + [rng.standard_normal((N, H)) for _ in s0]
    ours, theirs = twin_cells(kind, I, H, kwargs)

    xs, ts = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_ours = [tg.tensor(s, requires_grad=True) for s in s0]
    s_theirs = [torch.tensor(s, requires_grad=True) for s in s0]
    start_ours = (tuple(s_ours) if lstm else s_ours[0]) if with_state else None
    start_theirs = (tuple(s_theirs) if lstm else s_theirs[0]) if with_state else None
    hs, finals, loss = unroll(ours, xs, start_ours, [tg.tensor(w) for w in weights], lstm)
    ths, tfinals, tloss = unroll(theirs, ts, start_theirs, [torch.from_numpy(w) for w in weights],
                                 lstm)
    loss.backward()
    tloss.backward()

    for h, th in zip(hs + list(finals), ths + list(tfinals)):
        close(h, th)
    states = list(zip(s_ours, s_theirs)) if with_state else []
    assert_gradients_equal(close, ours, theirs, [(xs, ts), *states])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_dict_names_and_shapes_equal_torch(kind):
    ours = OURS[kind](3, 5).state_dict()
    theirs = THEIRS[kind](3, 5).state_dict()
    assert list(ours) == list(theirs)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_init_is_torch_uniform_seeded_and_float32(kind):
    tg.manual_seed(7)
    a = OURS[kind](6, 9, **({"forget_bias": 0.0} if kind == "lstm" else {}))
    tg.manual_seed(7)
    b = OURS[kind](6, 9, **({"forget_bias": 0.0} if kind == "lstm" else {}))
    k = 1 / math.sqrt(9)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert p.dtype == np.float32 and p.requires_grad, name
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        assert np.abs(p.numpy()).max() <= k
        assert np.abs(p.numpy()).max() > 0.8 * k  # spread over the interval, not a constant


@pytest.mark.parametrize("coupled", [False, True])
def test_forget_bias_is_added_to_the_forget_slice_at_init_only(coupled):
    H = 3
    tg.manual_seed(0)
    base = tg.nn.LSTMCell(2, H, forget_bias=0.0, coupled=coupled).state_dict()
    tg.manual_seed(0)
    cell = tg.nn.LSTMCell(2, H, forget_bias=2.5, coupled=coupled)
    diff = cell.state_dict()["bias_ih"] - base["bias_ih"]
    forget = slice(0, H) if coupled else slice(H, 2 * H)  # gates f, g, o or i, f, g, o
    expected = np.zeros_like(diff)
    expected[forget] = 2.5
    np.testing.assert_allclose(diff, expected, atol=1e-6)
    np.testing.assert_array_equal(cell.state_dict()["bias_hh"], base["bias_hh"])
    cell.load_state_dict(base)  # a loaded state dict is taken as it is
    np.testing.assert_array_equal(cell.state_dict()["bias_ih"], base["bias_ih"])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_dtype_and_device_keywords(kind, device):
    cell = OURS[kind](3, 2, dtype=np.float64, device=device)
    assert all(p.dtype == np.float64 and p.device == device for p in cell.parameters())
    out = cell(tg.randn(4, 3, dtype=np.float64, device=device))
    for s in out if kind == "lstm" else (out,):
        assert s.shape == (4, 2) and s.dtype == np.float64 and s.device == device


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_stays_float32_and_missing_state_is_zeros(kind):
    cell = OURS[kind](3, 2)
    x = tg.randn(4, 3)
    out = cell(x)
    zero = tg.zeros(4, 2)
    again = cell(x, (zero, zero) if kind == "lstm" else zero)
    for a, b in zip(out if kind == "lstm" else (out,), again if kind == "lstm" else (again,)):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_wrong_input_width_names_cell_and_shapes(kind):
    with pytest.raises(ValueError, match=r"Cell\(3, 2\): input must have shape \(N, 3\), got "
                                         r"\(4, 5\)"):
        OURS[kind](3, 2)(tg.randn(4, 5))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        OURS[kind](3, 2)(tg.randn(3))


def test_mismatched_state_shapes_are_named():
    with pytest.raises(ValueError, match=r"RNNCell\(3, 2\): state h has shape \(4, 3\), "
                                         r"expected \(4, 2\)"):
        tg.nn.RNNCell(3, 2)(tg.randn(4, 3), tg.randn(4, 3))
    with pytest.raises(ValueError, match=r"GRUCell\(3, 2\): state h has shape \(5, 2\)"):
        tg.nn.GRUCell(3, 2)(tg.randn(4, 3), tg.randn(5, 2))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 2\): state c has shape \(4, 1\)"):
        tg.nn.LSTMCell(3, 2)(tg.randn(4, 3), (tg.randn(4, 2), tg.randn(4, 1)))


def test_bad_state_tuples_and_types():
    with pytest.raises(TypeError, match=r"state must be a tuple \(h, c\) of two tensors, got a "
                                        r"tuple of 3"):
        tg.nn.LSTMCell(3, 2)(tg.randn(4, 3), (tg.randn(4, 2),) * 3)
    with pytest.raises(TypeError, match="got a Tensor"):
        tg.nn.LSTMCell(3, 2)(tg.randn(4, 3), tg.randn(4, 2))
    with pytest.raises(TypeError, match="state h must be a Tensor, got tuple"):
        tg.nn.GRUCell(3, 2)(tg.randn(4, 3), (tg.randn(4, 2), tg.randn(4, 2)))
    with pytest.raises(TypeError, match="input must be a Tensor, got ndarray"):
        tg.nn.RNNCell(3, 2)(np.zeros((4, 3)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'; expected 'tanh' or"):
        tg.nn.RNNCell(3, 2, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="unknown init 'orthogonal'"):
        tg.nn.RNNCell(3, 2, init="orthogonal")
    with pytest.raises(ValueError, match="scale=2.0 needs init='identity'"):
        tg.nn.RNNCell(3, 2, scale=2.0)
    with pytest.raises(ValueError, match=r"LSTMCell\(\): hidden_size must be positive, got 0"):
        tg.nn.LSTMCell(3, 0)
    with pytest.raises(TypeError, match=r"GRUCell\(\): input_size must be an integer, got 2.5"):
        tg.nn.GRUCell(2.5, 3)
