"""The RNN, LSTM and GRU layers: against torch.nn, against a loop of plain cells, and their graph.

torch: our state dict is loaded into torch's layer; outputs, final states, every parameter
gradient and the gradients of the input and of the initial states agree to a relative 1e-8
(float64). Plain path: the layer (input projection hoisted out of the time loop, biases folded,
W_hh transposed once) equals a loop of cell calls sharing its parameters. Then scopes, dropout,
state-dict names, the per-step op count and errors.
"""
import numpy as np
import pytest
from torch_twins import assert_gradients_equal

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
    states = list(zip(s_ours, s_theirs)) if with_hx else []
    assert_gradients_equal(close, ours, theirs, [(xs, ts), *states])


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


@pytest.mark.parametrize("case", [CASES[i] for i in (0, 2, 3)],
                         ids=[CASE_IDS[i] for i in (0, 2, 3)])
@pytest.mark.parametrize("mode", list(MODES))
def test_fast_path_equals_a_loop_of_plain_cells(mode, case):
    with_hx = case[3]
    x, states, weights = data(mode, case, seed=1)
    layer = make(mode, case)
    xs = tg.tensor(x, requires_grad=True)
    s0 = [tg.tensor(s, requires_grad=True) for s in states]
    inputs = [*layer.parameters(), xs] + (s0 if with_hx else [])
    out, finals, loss = run(layer, xs, s0, [tg.tensor(w) for w in weights], with_hx)

    time_major = xs.transpose(1, 0, 2) if layer.batch_first else xs
    p_out, p_finals = plain_unroll(layer, mode, time_major, s0 if with_hx else None)
    p_out = p_out.transpose(1, 0, 2) if layer.batch_first else p_out
    p_loss = (p_out * tg.tensor(weights[0])).sum()
    for f, w in zip(p_finals, weights[1:]):
        p_loss = p_loss + (f * tg.tensor(w)).sum()

    close(out, p_out, rtol=1e-12)
    for f, p in zip(finals, p_finals):
        close(f, p, rtol=1e-12)
    for g, p in zip(tg.grad(loss, inputs), tg.grad(p_loss, inputs)):
        np.testing.assert_allclose(g.numpy(), p.numpy(), rtol=1e-11, atol=1e-13)


def graph(root) -> list:
    """Every tensor that ``root`` was computed from (iterative walk)."""
    seen, stack, out = set(), [root], []
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
            stack.extend(t.parents)
    return out


def test_every_step_has_its_own_scope():
    lstm = tg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, fused=False)
    out, _ = lstm(tg.randn(5, 2, 3))
    forward, backward = out.parents  # the last layer's two directions, side by side
    assert forward.parents[3].scope == ("lstm", "l1", "t3")  # h_3 of layer 1
    assert backward.parents[3].scope == ("lstm", "l1_reverse", "t3")
    scopes = {t.scope for t in graph(out)}
    for name in ("l0", "l0_reverse", "l1", "l1_reverse"):
        for t in range(5):
            for gate in ("input", "forget", "candidate", "output"):
                assert ("lstm", name, f"t{t}", gate) in scopes
    gru_scopes = {t.scope for t in graph(tg.nn.GRU(3, 4, fused=False)(tg.randn(2, 1, 3))[0])}
    assert {("gru", "l0", "t1", g) for g in ("reset", "update", "candidate")} <= gru_scopes


@pytest.mark.parametrize("layer,ops_per_step,matmuls", [
    (tg.nn.RNN(3, 4, fused=False), 4, 1),
    (tg.nn.RNN(3, 4), 1, 0),  # one RNNStep
    (tg.nn.LSTM(3, 4, fused=False), 16, 1),
    (tg.nn.LSTM(3, 4), 1, 0),  # one LSTMStep: it reads its input slice and does the matmul
    (tg.nn.GRU(3, 4, fused=False), 19, 1),
    (tg.nn.GRU(3, 4), 1, 0),  # one GRUStep
    (tg.nn.GRU(3, 4, reset_after=False), 18, 2),
], ids=["rnn", "rnn_fused", "lstm", "lstm_fused", "gru", "gru_fused", "gru_cho"])
def test_per_step_op_count(layer, ops_per_step, matmuls):
    out, final = layer(tg.randn(4, 2, 3))
    name = type(layer).__name__.lower()
    finals = final if isinstance(final, tuple) else (final,)
    reachable = {id(t): t for root in (out, *finals) for t in graph(root)}
    nodes = [t for t in reachable.values() if t.op is not None]
    for step in range(4):
        ops = [type(t.op).__name__ for t in nodes if t.scope[:3] == (name, "l0", f"t{step}")]
        assert len(ops) == ops_per_step, sorted(ops)
        assert ops.count("MatMul") == matmuls and "Transpose" not in ops
    hoisted = [type(t.op).__name__ for t in nodes if t.scope == (name, "l0")]
    assert hoisted.count("MatMul") == 1  # the whole sequence's input projection
    # W_ih and W_hh (its two parts for Cho) are transposed once per sequence
    assert hoisted.count("Transpose") == 1 + max(matmuls, 1)


def test_dropout_acts_between_layers_in_training_only():
    tg.manual_seed(0)
    rnn = tg.nn.RNN(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = tg.randn(6, 2, 3, dtype=np.float64)
    first, second = rnn(x)[0].numpy(), rnn(x)[0].numpy()
    assert not np.allclose(first, second)  # a new mask at every call
    assert np.all(first != 0)  # no dropout after the last layer
    rnn.eval()
    out, _ = rnn(x)
    np.testing.assert_array_equal(out.numpy(), rnn(x)[0].numpy())  # eval is deterministic
    plain = tg.nn.RNN(3, 4, num_layers=2, dtype=np.float64)
    plain.load_state_dict(rnn.state_dict())
    np.testing.assert_array_equal(out.numpy(), plain(x)[0].numpy())
    rnn.train()
    rnn.dropout = 1.0  # layer 1 then reads zeros: its output no longer depends on x
    a, ha = rnn(x)
    b, hb = rnn(tg.randn(6, 2, 3, dtype=np.float64))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(ha.numpy()[1], hb.numpy()[1])
    assert not np.allclose(ha.numpy()[0], hb.numpy()[0])


def test_dropout_with_one_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="does nothing with num_layers=1"):
        gru = tg.nn.GRU(3, 4, dropout=0.5)
    x = tg.randn(3, 2, 3)
    train = gru(x)[0].numpy()
    np.testing.assert_array_equal(train, gru.eval()(x)[0].numpy())


@pytest.mark.parametrize("mode", TORCH_MODES)
@pytest.mark.parametrize("layers,bi", [(1, False), (3, True)])
def test_state_dict_names_and_shapes_equal_torch(mode, layers, bi):
    ours, theirs, _, kwargs = MODES[mode]
    a = ours(3, 5, num_layers=layers, bidirectional=bi, **kwargs).state_dict()
    b = theirs(3, 5, num_layers=layers, bidirectional=bi, **kwargs).state_dict()
    assert list(a) == list(b)
    assert [v.shape for v in a.values()] == [tuple(v.shape) for v in b.values()]
    assert all(v.dtype == np.float32 for v in a.values())


def test_init_is_seeded_uniform_with_forget_bias():
    H = 4
    tg.manual_seed(5)
    base = tg.nn.LSTM(3, H, num_layers=2, bidirectional=True, forget_bias=0.0).state_dict()
    tg.manual_seed(5)
    lstm = tg.nn.LSTM(3, H, num_layers=2, bidirectional=True)
    for name, value in lstm.state_dict().items():
        diff = value - base[name]
        if name.startswith("bias_ih"):
            np.testing.assert_allclose(diff[H:2 * H], 1.0, atol=1e-6)
            diff[H:2 * H] = 0
        assert np.all(diff == 0), name
        assert np.abs(base[name]).max() <= 1 / np.sqrt(H)


def test_float32_graph_stays_float32_on_device(device):
    gru = tg.nn.GRU(3, 4, num_layers=2, bidirectional=True, device=device)
    x = tg.randn(5, 2, 3, device=device, requires_grad=True)
    out, h_n = gru(x, tg.zeros(4, 2, 4, device=device))
    assert out.dtype == h_n.dtype == np.float32 and out.device == h_n.device == device
    out.sum().backward()
    assert x.grad.dtype == np.float32 and all(p.grad.dtype == np.float32
                                              for p in gru.parameters())


def test_input_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"RNN: input must have shape \(T, N, I\) with T >= 1 "
                                         r"and I = 3, got \(4, 3\)"):
        tg.nn.RNN(3, 4)(tg.randn(4, 3))
    with pytest.raises(ValueError, match=r"LSTM: input must have shape \(N, T, I\) with T >= 1 "
                                         r"and I = 3, got \(2, 5, 2\)"):
        tg.nn.LSTM(3, 4, batch_first=True)(tg.randn(2, 5, 2))
    with pytest.raises(ValueError, match=r"got \(0, 2, 3\)"):
        tg.nn.GRU(3, 4)(tg.randn(0, 2, 3))
    with pytest.raises(TypeError, match="GRU: input must be a Tensor, got ndarray"):
        tg.nn.GRU(3, 4)(np.zeros((2, 5, 3)))


def test_initial_state_errors():
    x = tg.randn(5, 2, 3)
    with pytest.raises(ValueError, match=r"GRU: h_0 has shape \(1, 2, 4\), expected \(4, 2, 4\) "
                                         r"\(D \* num_layers, N, hidden_size\)"):
        tg.nn.GRU(3, 4, num_layers=2, bidirectional=True)(x, tg.zeros(1, 2, 4))
    lstm = tg.nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"LSTM: c_0 has shape \(1, 3, 4\), expected \(1, 2, 4\)"):
        lstm(x, (tg.zeros(1, 2, 4), tg.zeros(1, 3, 4)))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\) of Tensors, got "
                                        "Tensor"):
        lstm(x, tg.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="RNN: hx must be a Tensor h_0, got tuple"):
        tg.nn.RNN(3, 4)(x, (tg.zeros(1, 2, 4), tg.zeros(1, 2, 4)))


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"LSTM: dropout must be a number in \[0, 1\], got 1.5"):
        tg.nn.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match=r"GRU\(\): num_layers must be positive, got 0"):
        tg.nn.GRU(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        tg.nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"RNN\(\): hidden_size must be positive, got -1"):
        tg.nn.RNN(3, -1)


def test_repr_shows_non_default_options():
    assert repr(tg.nn.LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(tg.nn.GRU(3, 4, num_layers=2, bidirectional=True, reset_after=False)) == \
        "GRU(3, 4, num_layers=2, bidirectional=True, reset_after=False)"
    assert repr(tg.nn.RNN(3, 4, nonlinearity="relu", bias=False)) == \
        "RNN(3, 4, bias=False, nonlinearity='relu')"


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-12, 1e-14), (np.float32, 1e-5, 1e-6)])
def test_fused_lstm_step_equals_the_op_by_op_path(dtype, rtol, atol):
    # float32: the fused step scales the gate inputs before summing them (sigmoid as tanh), so
    # results near zero differ from the op-by-op path's by a few float32 ulps of O(1) terms
    tg.manual_seed(3)
    fused = tg.nn.LSTM(3, 5, num_layers=2, bidirectional=True, dtype=dtype)
    plain = tg.nn.LSTM(3, 5, num_layers=2, bidirectional=True, fused=False, dtype=dtype)
    plain.load_state_dict(fused.state_dict())
    x = tg.randn(6, 2, 3, dtype=dtype)
    h0, c0 = tg.randn(4, 2, 5, dtype=dtype), tg.randn(4, 2, 5, dtype=dtype)
    weights = tg.randn(6, 2, 10, dtype=dtype)
    results = []
    for layer in (fused, plain):
        xs, hs, cs = (tg.tensor(t.numpy(), requires_grad=True) for t in (x, h0, c0))
        out, (h_n, c_n) = layer(xs, (hs, cs))
        ((out * weights).sum() + (h_n * c_n).sum()).backward()
        assert out.dtype == dtype
        results.append([out, h_n, c_n, xs.grad, hs.grad, cs.grad]
                       + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


def fused_and_plain(layer=tg.nn.LSTM, **options):
    """A fused layer and an op-by-op one with the same float64 weights."""
    tg.manual_seed(5)
    fused = layer(3, 4, dtype=np.float64, **options)
    plain = layer(3, 4, fused=False, dtype=np.float64, **options)
    plain.load_state_dict(fused.state_dict())
    return fused, plain


@pytest.mark.parametrize("block_bytes", [2**20, 1, 800])  # LSTM derivatives: all rows / 1 / 3
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layer_class", [tg.nn.LSTM, tg.nn.GRU])
def test_fused_backward_three_passes_through_one_graph(layer_class, bidirectional, block_bytes,
                                                       monkeypatch):
    from tinygrad_rnn.fused import LSTMSequence
    monkeypatch.setattr(LSTMSequence, "block_bytes", block_bytes)
    # The fused steps share one buffer of gate gradients, filled again by every backward pass:
    # three passes through one graph (retain_graph) accumulate exactly what the op-by-op path
    # accumulates. (A pass that reaches only some steps: the test after the GRU ones.)
    fused, plain = fused_and_plain(layer_class, bidirectional=bidirectional)
    x = tg.randn(6, 2, 3, dtype=np.float64)
    grads = []
    for layer in (fused, plain):
        out, _ = layer(x)
        out.sum().backward(retain_graph=True)             # every step: fills every row
        out[2].sum().backward(retain_graph=True)          # zero upstream gradient after step 2
        first = [p.grad.numpy().copy() for p in layer.parameters()]
        (out[4] * out[1]).sum().backward()                # accumulates a second pass
        grads.append(first + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer_class", [tg.nn.LSTM, tg.nn.RNN])
def test_fused_layer_frees_its_sequence_after_backward(layer_class):
    fused, _ = fused_and_plain(layer_class)
    out, _ = fused(tg.randn(5, 2, 3, dtype=np.float64))
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_fused_lstm_steps_must_come_in_order():
    from tinygrad_rnn.fused import LSTMSequence
    seq = LSTMSequence(3)
    zx, hc, w = tg.randn(3, 2, 8), tg.randn(2, 2, 2), tg.randn(2, 8)
    hc = tg.fused.LSTMStep.apply(zx, hc, w, t=0, seq=seq)
    with pytest.raises(ValueError, match=r"LSTMStep: .*step t=2 is out of order.*expected t=1"):
        tg.fused.LSTMStep.apply(zx, hc, w, t=2, seq=seq)


def test_fused_lstm_steps_of_one_sequence_share_their_inputs():
    from tinygrad_rnn.fused import LSTMSequence
    seq = LSTMSequence(2)
    zx, hc, w = tg.randn(2, 2, 8), tg.randn(2, 2, 2), tg.randn(2, 8)
    hc = tg.fused.LSTMStep.apply(zx, hc, w, t=0, seq=seq)
    with pytest.raises(ValueError, match="LSTMStep: .*must share zx, w and b"):
        tg.fused.LSTMStep.apply(zx, hc, tg.randn(2, 8), t=1, seq=seq)


@pytest.mark.parametrize("step, sequence, gates", [("RNNStep", "RNNSequence", 1),
                                                    ("GRUStep", "GRUSequence", 3)])
def test_fused_steps_of_one_sequence_share_their_recurrent_weights(step, sequence, gates):
    """The sequence multiplies by a contiguous copy of w made at its first step, so a later step
    given another w is refused rather than silently computed with the first one."""
    seq = getattr(tg.fused, sequence)(3)
    zx, h, w = tg.randn(3, 2, 4 * gates), tg.randn(2, 4), tg.randn(4, 4 * gates)
    op = getattr(tg.fused, step)
    h1 = op.apply(zx, h, w, t=0, seq=seq)
    h2 = op.apply(zx, h1, w, t=1, seq=seq)  # the same w: fine
    with pytest.raises(ValueError, match=f"{step}: .*{sequence} must share w"):
        op.apply(zx, h2, tg.randn(4, 4 * gates), t=2, seq=seq)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("grad", [True, False])
def test_fused_lstm_never_reuses_arrays_that_are_still_referenced(grad, bidirectional):
    # The layer's ArrayPool hands an array out again only when nothing refers to it: outputs
    # kept from earlier calls (views of a sequence's states when one-directional, detached or
    # not) must stay as they were.
    lstm = tg.nn.LSTM(3, 4, bidirectional=bidirectional)
    kept = []
    with tg.set_grad_enabled(grad):
        for k in range(4):
            out, (h_n, c_n) = lstm(tg.randn(5, 2, 3))
            if grad:
                out.sum().backward()
            kept.append((out.detach(), h_n, c_n, out.numpy().copy(), h_n.numpy().copy(),
                         c_n.numpy().copy()))
            del out, h_n, c_n
    for out, h_n, c_n, out_0, h_0, c_0 in kept:
        np.testing.assert_array_equal(out.numpy(), out_0)
        np.testing.assert_array_equal(h_n.numpy(), h_0)
        np.testing.assert_array_equal(c_n.numpy(), c_0)
    assert lstm.pool.spare  # and the arrays nobody kept did go back to the pool


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_gru_equals_the_op_by_op_path(bidirectional, bias):
    fused, plain = fused_and_plain(tg.nn.GRU, num_layers=2, bidirectional=bidirectional,
                                   bias=bias)
    x = tg.randn(6, 2, 3, dtype=np.float64)
    h0 = tg.randn(2 * (1 + bidirectional), 2, 4, dtype=np.float64)
    weights = tg.randn(6, 2, 4 * (1 + bidirectional), dtype=np.float64)
    results = []
    for layer in (fused, plain):
        xs, hs = (tg.tensor(t.numpy(), requires_grad=True) for t in (x, h0))
        out, h_n = layer(xs, hs)
        ((out * weights).sum() + (h_n * h_n).sum()).backward()
        results.append([out, h_n, xs.grad, hs.grad] + [p.grad for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_fused_gru_frees_its_sequence_and_cho_stays_op_by_op():
    fused, _ = fused_and_plain(tg.nn.GRU)
    loss = fused(tg.randn(5, 2, 3, dtype=np.float64))[0].sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    assert not tg.nn.GRU(3, 4, reset_after=False).fused
    assert repr(tg.nn.GRU(3, 4, fused=False)) == "GRU(3, 4, fused=False)"


@pytest.mark.parametrize("layer_class", [tg.nn.LSTM, tg.nn.GRU])
def test_fused_backward_pass_from_a_middle_state_sums_only_the_steps_it_reaches(layer_class):
    # A backward pass that starts at the state of step 2 reaches steps 0..2 only: the shared
    # weight gradient must sum those rows, not rows that an earlier pass filled. Reference:
    # the same layer run on the first 3 steps, backward from its final state.
    tg.manual_seed(7)
    layer = layer_class(3, 4, dtype=np.float64)
    x = tg.randn(6, 2, 3, dtype=np.float64)
    out, _ = layer(x)
    out.sum().backward(retain_graph=True)                  # every step: fills every row
    before = [p.grad.numpy().copy() for p in layer.parameters()]
    state_2 = tg.graph.trace(out).hidden_states()[(layer_class.__name__.lower(), "l0")][2]
    state_2.sum().backward()
    partial = [p.grad.numpy() - b for p, b in zip(layer.parameters(), before)]
    layer.zero_grad()
    _, final = layer(tg.tensor(x.numpy()[:3]))
    sum(s.sum() for s in (final if isinstance(final, tuple) else (final,))).backward()
    for a, b in zip(partial, [p.grad.numpy() for p in layer.parameters()]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-12, 1e-14), (np.float32, 1e-5, 1e-6)])
def test_fused_rnn_equals_the_op_by_op_path(dtype, rtol, atol, nonlinearity, num_layers,
                                            bidirectional, bias, batch_first):
    # float32 too: the fused step adds the same terms in the same order as the op-by-op path
    tg.manual_seed(11)
    options = {"num_layers": num_layers, "nonlinearity": nonlinearity, "bias": bias,
               "bidirectional": bidirectional, "batch_first": batch_first, "dtype": dtype}
    fused, plain = tg.nn.RNN(3, 4, **options), tg.nn.RNN(3, 4, fused=False, **options)
    plain.load_state_dict(fused.state_dict())
    D = 1 + bidirectional
    for N in (0, 1, 2):
        x = tg.randn(*((N, 6, 3) if batch_first else (6, N, 3)), dtype=dtype)
        h0 = tg.randn(num_layers * D, N, 4, dtype=dtype)
        weights = tg.randn(*((N, 6, 4 * D) if batch_first else (6, N, 4 * D)), dtype=dtype)
        results = []
        for layer in (fused, plain):
            layer.zero_grad()
            xs, hs = (tg.tensor(t.numpy(), requires_grad=True) for t in (x, h0))
            out, h_n = layer(xs, hs)
            ((out * weights).sum() + (h_n * h_n).sum()).backward()
            assert out.dtype == dtype
            results.append([out, h_n, xs.grad, hs.grad] + [p.grad for p in layer.parameters()])
        assert len(results[0]) == 4 + len(list(fused.parameters()))
        for a, b in zip(*results):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_fused_rnn_backward_passes_through_one_graph_and_from_a_middle_state(nonlinearity):
    # as for LSTM/GRU above: three passes through one graph, then one from the state of step 2
    fused, plain = fused_and_plain(tg.nn.RNN, bidirectional=True, nonlinearity=nonlinearity)
    x = tg.randn(6, 2, 3, dtype=np.float64)
    grads = []
    for layer in (fused, plain):
        out, _ = layer(x)
        out.sum().backward(retain_graph=True)
        out[2].sum().backward(retain_graph=True)
        first = [p.grad.numpy().copy() for p in layer.parameters()]
        (out[4] * out[1]).sum().backward(retain_graph=True)
        second = [p.grad.numpy().copy() for p in layer.parameters()]
        state_2 = tg.graph.trace(out).hidden_states()[("rnn", "l0")][2]
        state_2.sum().backward()
        grads.append(first + second + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fused_rnn_repr_and_unknown_nonlinearities():
    assert repr(tg.nn.RNN(3, 4, fused=False)) == "RNN(3, 4, fused=False)"
    with pytest.raises(ValueError, match="RNNStep: .*unknown nonlinearity 'gelu'"):
        tg.fused.RNNStep.apply(tg.randn(2, 1, 3), tg.randn(1, 3), tg.randn(3, 3), nonlinearity="gelu")


@pytest.mark.parametrize("layer", [tg.nn.GRU, tg.nn.RNN])
def test_fused_long_bias_sums_as_precise_as_the_plain_path(layer):
    """A bias gradient summed over T * N = 8,192 rows: the fused step accumulates its float32
    sum in float64 as the engine's broadcast sums do (backend.accumulator), so both paths stay
    within 5e-7 of the float64 result (a plain float32 sum was 2.5e-6 off)."""
    def grads(fused, dtype):
        tg.manual_seed(0)
        m = layer(4, 8, dtype=dtype, fused=fused)
        x = tg.tensor(np.random.default_rng(0).standard_normal((128, 64, 4)), dtype=dtype)
        out, _ = m(x)
        out.sum().backward()
        return m.bias_hh_l0.grad.numpy().astype(np.float64)

    exact = grads(False, tg.float64)
    for fused in (False, True):
        error = np.abs(grads(fused, tg.float32) - exact).max() / np.abs(exact).max()
        assert error < 5e-7, (fused, error)


@pytest.mark.parametrize("layer_class", [tg.nn.RNN, tg.nn.GRU, tg.nn.LSTM])
def test_fused_layers_hand_every_state_its_whole_gradient(layer_class):
    """The fused layers' output (SequenceOutput, fold=True) leaves each state's row of the
    output's gradient to the step that reads the state: every h_t still gets its whole gradient
    (seen with retain_grad, as the drawings' gradient norms see it), a pass that starts at h_n
    ignores the rows that an earlier pass from the output handed over, and the parameters get
    what the op-by-op path gives them, over four passes through one graph."""
    fused, plain = fused_and_plain(layer_class, num_layers=2, bidirectional=True)
    x = tg.randn(5, 2, 3, dtype=np.float64)
    weights = tg.randn(5, 2, 8, dtype=np.float64)
    results = []
    for layer in (fused, plain):
        out, final = layer(x)
        h_n = final[0] if isinstance(final, tuple) else final
        states = [h for steps in tg.graph.trace(out).hidden_states().values()
                  for h in steps.values()]
        assert len(states) == 4 * 5  # 2 layers x 2 directions x 5 steps
        for h in states:
            h.retain_grad()
        losses = [(out * weights).sum(), (h_n * h_n).sum(),
                  out[3].sum() + (h_n[1] * out[0, :, :4]).sum(), out.sum()]
        seen = []
        for loss in losses:
            loss.backward(retain_graph=True)
            # an LSTM's fused state is [h, c]: compare its h
            seen += [(h.grad.numpy()[0] if h.ndim == 3 else h.grad.numpy()).copy()
                     for h in states]
            seen += [p.grad.numpy().copy() for p in layer.parameters()]
        results.append(seen)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("layer_class", [tg.nn.RNN, tg.nn.GRU, tg.nn.LSTM])
def test_fused_layers_of_one_and_two_steps_equal_the_op_by_op_path(layer_class, steps):
    """The shortest sequences for SequenceOutput's fold: one step (its only state gets its row
    from the output itself) and two, in a 2-layer bidirectional stack."""
    fused, plain = fused_and_plain(layer_class, num_layers=2, bidirectional=True)
    x = tg.randn(steps, 2, 3, dtype=np.float64)
    weights = tg.randn(steps, 2, 8, dtype=np.float64)
    results = []
    for layer in (fused, plain):
        xs = tg.tensor(x.numpy(), requires_grad=True)
        out, final = layer(xs)
        h_n = final[0] if isinstance(final, tuple) else final
        ((out * weights).sum() + (h_n * h_n).sum()).backward()
        results.append([xs.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
