"""Cells with no torch twin against plain NumPy written from their papers, plus gradchecks.

Peephole LSTM, coupled-gate LSTM (CIFG), Cho et al.'s GRU (reset before the matmul) and the
IRNN: each reference below is an independent NumPy transcription of the paper's equations, with
one weight matrix per gate, compared with our cell over a multi-step sequence (float64); then a
float64 central-difference gradcheck through the whole sequence, initial states and parameters.
Last, the docstring examples of the cells and layers run as doctests.
"""
import numpy as np
import pytest

import tinygrad_rnn as tg

T, N, I, H = 4, 2, 3, 2


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gate_params(cell, names):
    """Per-gate (W (H, I), R (H, H), b (H,)) from a cell's stacked rows, in gate order ``names``."""
    sd = cell.state_dict()
    out = {}
    for k, name in enumerate(names):
        rows = slice(k * H, (k + 1) * H)
        b = sd["bias_ih"][rows] + sd["bias_hh"][rows] if "bias_ih" in sd else np.zeros(H)
        out[name] = (sd["weight_ih"][rows], sd["weight_hh"][rows], b)
    return out


def lstm_reference(cell, xs, h, c):
    """Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber (2017), "LSTM: A Search Space
    Odyssey", Sec. II, the vanilla LSTM's forward pass (z is the block input, our g; p the
    peepholes of Gers & Schmidhuber 2000 / Gers, Schraudolph & Schmidhuber 2002):

        z = tanh(W_z x + R_z y' + b_z)
        i = sigmoid(W_i x + R_i y' + p_i * c' + b_i)
        f = sigmoid(W_f x + R_f y' + p_f * c' + b_f)
        c = z * i + c' * f
        o = sigmoid(W_o x + R_o y' + p_o * c + b_o)
        y = tanh(c) * o

    and Sec. III's CIFG variant, where the input gate is coupled to the forget gate: i = 1 - f.
    """
    coupled, sd = cell.coupled, cell.state_dict()
    P = gate_params(cell, ("f", "z", "o") if coupled else ("i", "f", "z", "o"))
    p = {g: sd.get(f"weight_c{g}", np.zeros(H)) for g in "ifo"}

    def pre(gate, x, y):
        W, R, b = P[gate]
        return x @ W.T + y @ R.T + b

    ys = []
    for x in xs:
        z = np.tanh(pre("z", x, h))
        f = sigmoid(pre("f", x, h) + p["f"] * c)
        i = 1 - f if coupled else sigmoid(pre("i", x, h) + p["i"] * c)
        c = z * i + c * f
        o = sigmoid(pre("o", x, h) + p["o"] * c)
        h = np.tanh(c) * o
        ys.append(h)
    return np.stack(ys), h, c


def cho_gru_reference(cell, xs, h):
    """Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014), "Learning
    Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation",
    Sec. 2.3, Eqs. (5)-(8), with a bias added to each affine map:

        r = sigmoid(W_r x + U_r h + b_r)                      (5)
        z = sigmoid(W_z x + U_z h + b_z)                      (6)
        h_new = z * h + (1 - z) * h_tilde                     (7)
        h_tilde = tanh(W x + U (r * h) + b)                   (8)
    """
    P = gate_params(cell, ("r", "z", "n"))
    ys = []
    for x in xs:
        (Wr, Ur, br), (Wz, Uz, bz), (W, U, b) = P["r"], P["z"], P["n"]
        r = sigmoid(x @ Wr.T + h @ Ur.T + br)
        z = sigmoid(x @ Wz.T + h @ Uz.T + bz)
        h_tilde = np.tanh(x @ W.T + (r * h) @ U.T + b)
        h = z * h + (1 - z) * h_tilde
        ys.append(h)
    return np.stack(ys), h


def irnn_reference(cell, xs, h):
    """Le, Jaitly & Hinton (2015), "A Simple Way to Initialize Recurrent Networks of Rectified
    Linear Units", Sec. 2: a ReLU RNN, h_t = max(0, W_hh h_{t-1} + W_ih x_t + b)."""
    sd = cell.state_dict()
    ys = []
    for x in xs:
        h = np.maximum(0, x @ sd["weight_ih"].T + h @ sd["weight_hh"].T + sd["bias_ih"]
                       + sd["bias_hh"])
        ys.append(h)
    return np.stack(ys), h


def unroll(cell, xs, state):
    """Our cell stepped over ``xs`` (T, N, I): the stacked outputs and the final state."""
    hs = []
    for t in range(xs.shape[0]):
        state = cell(xs[t], state)
        hs.append(state[0] if isinstance(state, tuple) else state)
    return (tg.stack(hs),) + (state if isinstance(state, tuple) else (state,))


LSTM_VARIANTS = [
    {"peephole": True}, {"coupled": True}, {"peephole": True, "coupled": True},
    {"peephole": True, "bias": False},
]


@pytest.mark.parametrize("kwargs", LSTM_VARIANTS, ids=str)
def test_lstm_variants_match_greff_equations(kwargs):
    tg.manual_seed(1)
    cell = tg.nn.LSTMCell(I, H, dtype=np.float64, **kwargs)
    rng = np.random.default_rng(0)
    xs, h0, c0 = rng.standard_normal((T, N, I)), rng.standard_normal((N, H)), \
        rng.standard_normal((N, H))
    outs = unroll(cell, tg.tensor(xs), (tg.tensor(h0), tg.tensor(c0)))
    for ours, ref in zip(outs, lstm_reference(cell, xs, h0, c0)):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", LSTM_VARIANTS, ids=str)
def test_lstm_variants_gradcheck_through_a_sequence(kwargs):
    tg.manual_seed(2)
    cell = tg.nn.LSTMCell(I, H, dtype=np.float64, **kwargs)
    xs = tg.randn(T, N, I, dtype=np.float64, requires_grad=True)
    h0 = tg.randn(N, H, dtype=np.float64, requires_grad=True)
    c0 = tg.randn(N, H, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda xs, h0, c0, *params: unroll(cell, xs, (h0, c0)),
                        [xs, h0, c0, *cell.parameters()])


def names(cell) -> dict:
    return {n: p.shape for n, p in cell.named_parameters()}


def test_peephole_and_coupled_parameters():
    assert names(tg.nn.LSTMCell(I, H, peephole=True)) == {
        "weight_ih": (4 * H, I), "weight_hh": (4 * H, H), "bias_ih": (4 * H,),
        "bias_hh": (4 * H,), "weight_ci": (H,), "weight_cf": (H,), "weight_co": (H,)}
    assert names(tg.nn.LSTMCell(I, H, coupled=True)) == {
        "weight_ih": (3 * H, I), "weight_hh": (3 * H, H), "bias_ih": (3 * H,),
        "bias_hh": (3 * H,)}
    # no input gate, so no input peephole
    assert set(names(tg.nn.LSTMCell(I, H, peephole=True, coupled=True))) == {
        "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_cf", "weight_co"}


def test_peephole_gates_are_scoped():
    cell = tg.nn.LSTMCell(I, H, peephole=True)
    h, _ = cell(tg.randn(N, I))
    assert h.scope == ("lstmcell",)
    scopes, stack = set(), [h]
    while stack:
        t = stack.pop()
        scopes.add(t.scope)
        stack.extend(t.parents)
    assert {("lstmcell", g) for g in ("input", "forget", "candidate", "output")} <= scopes


@pytest.mark.parametrize("bias", [True, False])
def test_cho_gru_matches_cho_equations(bias):
    tg.manual_seed(3)
    cell = tg.nn.GRUCell(I, H, bias=bias, reset_after=False, dtype=np.float64)
    rng = np.random.default_rng(1)
    xs, h0 = rng.standard_normal((T, N, I)), rng.standard_normal((N, H))
    outs = unroll(cell, tg.tensor(xs), tg.tensor(h0))
    for ours, ref in zip(outs, cho_gru_reference(cell, xs, h0)):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12)
    # and it is a different function from PyTorch's reset-after GRU with the same weights
    torch_style = tg.nn.GRUCell(I, H, bias=bias, dtype=np.float64)
    torch_style.load_state_dict(cell.state_dict())
    assert not np.allclose(unroll(torch_style, tg.tensor(xs), tg.tensor(h0))[0].numpy(),
                           outs[0].numpy())


def test_cho_gru_gradcheck_through_a_sequence():
    tg.manual_seed(4)
    cell = tg.nn.GRUCell(I, H, reset_after=False, dtype=np.float64)
    xs = tg.randn(T, N, I, dtype=np.float64, requires_grad=True)
    h0 = tg.randn(N, H, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda xs, h0, *params: unroll(cell, xs, h0),
                        [xs, h0, *cell.parameters()])


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_irnn_initialisation(scale):
    tg.manual_seed(5)
    cell = tg.nn.IRNNCell(64, 32, scale=scale)
    np.testing.assert_array_equal(cell.weight_hh.numpy(), scale * np.eye(32, dtype=np.float32))
    np.testing.assert_array_equal(cell.bias_ih.numpy(), np.zeros(32))
    np.testing.assert_array_equal(cell.bias_hh.numpy(), np.zeros(32))
    w = cell.weight_ih.numpy()
    assert w.shape == (32, 64) and w.dtype == np.float32
    assert 0.0009 < w.std() < 0.0011 and abs(w.mean()) < 1e-4  # N(0, 0.001^2), 2048 draws
    assert cell.nonlinearity == "relu"
    same = tg.nn.RNNCell(64, 32, nonlinearity="relu", init="identity", scale=scale)
    assert [n for n, _ in same.named_parameters()] == [n for n, _ in cell.named_parameters()]
    np.testing.assert_array_equal(same.weight_hh.numpy(), cell.weight_hh.numpy())


def test_irnn_forward_is_relu_and_copies_its_state_at_first():
    tg.manual_seed(6)
    cell = tg.nn.IRNNCell(I, H, dtype=np.float64)
    h0 = np.abs(np.random.default_rng(2).standard_normal((N, H)))
    # identity recurrence, zero biases: with no input a non-negative state is kept unchanged
    np.testing.assert_array_equal(cell(tg.zeros(N, I, dtype=np.float64), tg.tensor(h0)).numpy(),
                                  h0)
    # trained-looking weights: compare with the paper's equation over a sequence
    cell.load_state_dict({k: np.random.default_rng(3).standard_normal(v.shape)
                          for k, v in cell.state_dict().items()})
    rng = np.random.default_rng(4)
    xs, h0 = rng.standard_normal((T, N, I)), rng.standard_normal((N, H))
    outs = unroll(cell, tg.tensor(xs), tg.tensor(h0))
    ref = irnn_reference(cell, xs, h0)
    assert (ref[0] == 0).any() and (ref[0] > 0).any()  # both sides of the kink are exercised
    for ours, r in zip(outs, ref):
        np.testing.assert_allclose(ours.numpy(), r, rtol=1e-10, atol=1e-12)


def test_irnn_gradcheck_through_a_sequence():
    tg.manual_seed(7)
    cell = tg.nn.IRNNCell(I, H, dtype=np.float64)
    cell.load_state_dict({k: np.random.default_rng(5).standard_normal(v.shape)
                          for k, v in cell.state_dict().items()})
    xs = tg.randn(T, N, I, dtype=np.float64, requires_grad=True)
    h0 = tg.randn(N, H, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda xs, h0, *params: unroll(cell, xs, h0),
                        [xs, h0, *cell.parameters()])


def test_cho_gru_layer_gradcheck():
    """The GRU layer with reset_after=False has no torch twin either."""
    tg.manual_seed(0)
    gru = tg.nn.GRU(2, 2, num_layers=2, bidirectional=True, reset_after=False,
                    dtype=np.float64)
    x = tg.randn(3, 2, 2, dtype=np.float64, requires_grad=True)
    h0 = tg.randn(4, 2, 2, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, h0, *params: gru(x, h0), [x, h0, *gru.parameters()])


def test_docstring_examples_run():
    import doctest

    from tinygrad_rnn.nn import recurrent
    from tinygrad_rnn.nn.cells import gru, lstm, rnn

    for module in (recurrent, rnn, lstm, gru):
        failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failed == 0, module.__name__
