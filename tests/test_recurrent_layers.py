"""The RNN, LSTM and GRU layers: against torch.nn, against a loop of plain cells, and their graph.

torch: our state dict is loaded into torch's layer; outputs, final states, every parameter
gradient and the gradients of the input and of the initial states agree to a relative 1e-8
(float64). Plain path: the layer (input projection hoisted out of the time loop, biases folded,
W_hh transposed once) equals a loop of cell calls sharing its parameters. Then scopes, dropout,
state-dict names, the per-step op count and errors.
"""
import numpy as np
import pytest

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")

MODES = {  # name: (our layer, torch's layer or None, our cell, keyword arguments)
    "rnn_tanh": (tg.nn.RNN, torch.nn.RNN, tg.nn.RNNCell, {}),
    "rnn_relu": (tg.nn.RNN, torch.nn.RNN, tg.nn.RNNCell, {"nonlinearity": "relu"}),
    "rnn_nobias": (tg.nn.RNN, torch.nn.RNN, tg.nn.RNNCell, {"bias": False}),
    "lstm": (tg.nn.LSTM, torch.nn.LSTM, tg.nn.LSTMCell, {}),
    "lstm_nobias": (tg.nn.LSTM, torch.nn.LSTM, tg.nn.LSTMCell, {"bias": False}),
    "gru": (tg.nn.GRU, torch.nn.GRU, tg.nn.GRUCell, {}),
    "gru_nobias": (tg.nn.GRU, torch.nn.GRU, tg.nn.GRUCell, {"bias": False}),
    "gru_cho": (tg.nn.GRU, None, tg.nn.GRUCell, {"reset_after": False}),
}
TORCH_MODES = [m for m, spec in MODES.items() if spec[1] is not None]
# num_layers, bidirectional, batch_first, with_hx, T, N, I, H
CASES = [
    (1, False, False, False, 5, 3, 4, 3),
    (1, False, False, True, 1, 1, 1, 1),   # one step, batch 1, input 1, hidden 1
    (2, True, False, True, 4, 2, 3, 2),
    (3, True, True, False, 3, 1, 2, 1),    # three layers both ways, batch 1, hidden 1
    (3, False, True, True, 3, 2, 3, 4),
    (2, True, True, True, 2, 3, 2, 3),
    (1, True, False, True, 1, 2, 2, 2),    # one step both ways
]
CASE_IDS = ["L{}-{}-{}-{}-T{}N{}I{}H{}".format(
    c[0], "bi" if c[1] else "uni", "bf" if c[2] else "tf", "hx" if c[3] else "zero", *c[4:])
    for c in CASES]


def close(ours, theirs, rtol=1e-8):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs.numpy()
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=rtol, atol=1e-12)


def data(mode, case, seed=0):
    """Input, initial states and the random loss weights of a case, as NumPy arrays."""
    L, bi, bf, _, T, N, I, H = case
    rng = np.random.default_rng(seed)
    D, n_states = 2 if bi else 1, 2 if mode.startswith("lstm") else 1
    x = rng.standard_normal((N, T, I) if bf else (T, N, I))
    states = [rng.standard_normal((D * L, N, H)) for _ in range(n_states)]
    weights = [rng.standard_normal(x.shape[:2] + (D * H,))]
    weights += [rng.standard_normal((D * L, N, H)) for _ in range(n_states)]
    return x, states, weights


def run(layer, x, states, weights, with_hx):
    """Forward and the loss sum(out * W) + sum(h_n * V) (+ sum(c_n * U)) in either library."""
    hx = (states[0] if len(states) == 1 else tuple(states)) if with_hx else None
    out, final = layer(x, hx)
    finals = final if isinstance(final, tuple) else (final,)
    loss = (out * weights[0]).sum()
    for s, w in zip(finals, weights[1:]):
        loss = loss + (s * w).sum()
    return out, finals, loss


def make(mode, case, dtype=np.float64):
    L, bi, bf = case[:3]
    ours, _, _, kwargs = MODES[mode]
    return ours(case[6], case[7], num_layers=L, batch_first=bf, bidirectional=bi, dtype=dtype,
                **kwargs)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("mode", TORCH_MODES)
def test_layer_matches_torch(mode, case):
    with_hx = case[3]
    x, states, weights = data(mode, case)
    ours = make(mode, case)
    L, bi, bf = case[:3]
    theirs = MODES[mode][1](case[6], case[7], num_layers=L, batch_first=bf, bidirectional=bi,
                            dtype=torch.float64, **MODES[mode][3])
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})

    xs, ts = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    s_ours = [tg.tensor(s, requires_grad=True) for s in states]
    s_theirs = [torch.tensor(s, requires_grad=True) for s in states]
    out, finals, loss = run(ours, xs, s_ours, [tg.tensor(w) for w in weights], with_hx)
    tout, tfinals, tloss = run(theirs, ts, s_theirs, [torch.from_numpy(w) for w in weights],
                               with_hx)
    loss.backward()
    tloss.backward()

    assert out.shape == tuple(tout.shape)
    close(out, tout)
    for s, t in zip(finals, tfinals):
        assert s.shape == tuple(t.shape)
        close(s, t)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for name, p in ours.named_parameters():
        close(p.grad, tparams[name].grad)
    close(xs.grad, ts.grad)
    for s, t in zip(s_ours, s_theirs):
        if with_hx:
            close(s.grad, t.grad)


def plain_unroll(layer, mode, x, states):
    """The layer's computation as a loop of plain cell calls sharing the layer's parameters."""
    _, _, cell_class, kwargs = MODES[mode]
    suffixes = ("", "_reverse") if layer.bidirectional else ("",)
    lstm = mode.startswith("lstm")
    T, finals = x.shape[0], []
    for k in range(layer.num_layers):
        outs = []
        for d, suffix in enumerate(suffixes):
            cell = cell_class(x.shape[2], layer.hidden_size, dtype=np.float64, **kwargs)
            for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                setattr(cell, p, getattr(layer, f"{p}_l{k}{suffix}", None))
            j = k * len(suffixes) + d
            state = None if states is None else tuple(s[j] for s in states) if lstm \
                else states[0][j]
            hs = [None] * T
            for t in (reversed(range(T)) if d else range(T)):
                state = cell(x[t], state)
                hs[t] = state[0] if lstm else state
            outs.append(tg.stack(hs))
            finals.append(state if lstm else (state,))
        x = tg.concat(outs, axis=2)
    return x, tuple(tg.stack([f[i] for f in finals]) for i in range(len(finals[0])))


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[3]], ids=[CASE_IDS[i] for i in (0, 2, 3)])
@pytest.mark.parametrize("mode", list(MODES))
def test_fast_path_equals_a_loop_of_plain_cells(mode, case):
    with_hx = case[3]
    x, states, weights = data(mode, case, seed=1)
    layer = make(mode, case)
    xs = tg.tensor(x, requires_grad=True)
    s0 = [tg.tensor(s, requires_grad=True) for s in states]
    out, finals, loss = run(layer, xs, s0, [tg.tensor(w) for w in weights], with_hx)
    loss.backward()
    grads = [p.grad.numpy() for p in layer.parameters()] + [xs.grad.numpy()]
    grads += [s.grad.numpy() for s in s0] if with_hx else []
    layer.zero_grad()
    xs.zero_grad()
    for s in s0:
        s.zero_grad()

    time_major = xs.transpose(1, 0, 2) if layer.batch_first else xs
    p_out, p_finals = plain_unroll(layer, mode, time_major, s0 if with_hx else None)
    p_out = p_out.transpose(1, 0, 2) if layer.batch_first else p_out
    p_loss = (p_out * tg.tensor(weights[0])).sum()
    for f, w in zip(p_finals, weights[1:]):
        p_loss = p_loss + (f * tg.tensor(w)).sum()
    p_loss.backward()
    p_grads = [p.grad.numpy() for p in layer.parameters()] + [xs.grad.numpy()]
    p_grads += [s.grad.numpy() for s in s0] if with_hx else []

    close(out, p_out, rtol=1e-12)
    for f, p in zip(finals, p_finals):
        close(f, p, rtol=1e-12)
    for g, p in zip(grads, p_grads):
        np.testing.assert_allclose(g, p, rtol=1e-11, atol=1e-13)


def test_cho_gru_layer_gradcheck():
    tg.manual_seed(0)
    gru = tg.nn.GRU(2, 2, num_layers=2, bidirectional=True, reset_after=False,
                    dtype=np.float64)
    x = tg.randn(3, 2, 2, dtype=np.float64, requires_grad=True)
    h0 = tg.randn(4, 2, 2, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, h0, *params: gru(x, h0), [x, h0, *gru.parameters()])
