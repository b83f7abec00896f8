"""ClockworkRNNCell and SCRNCell against plain NumPy transcriptions of their papers' equations.

Torch has neither cell, so each is checked against an independent NumPy reference written
straight from the paper, by a float64 gradcheck through a whole sequence, and on the
properties that define it (Clockwork: clock ticks and the block-triangular mask).
"""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.nn import ClockworkRNNCell, SCRNCell

F64 = np.float64


def unroll(cell, xs, state=None):
    """Run ``cell`` over ``xs`` (T, N, I); return the list of states after every step."""
    states = []
    for t in range(xs.shape[0]):
        state = cell(xs[t], state)
        states.append(state)
    return states


# ---- Clockwork RNN ---------------------------------------------------------------------------

def clockwork_reference(xs, w_i, w_h, b, periods, h0=None, t0=0):
    """Koutník et al. 2014, "A Clockwork RNN", Sec. 3: Eq. (1) y_H = tanh(W_H y_H(t-1) + W_I x),
    computed block row by block row (Eq. (3)); block row i runs only when t MOD T_i = 0
    (Eq. (4)) and reads only modules j with T_j >= T_i (W_H block-upper-triangular, modules
    sorted by increasing period); a module that does not run keeps its previous output.

    The full ``w_h`` is passed in: the blocks that the paper forbids are simply never read.
    """
    periods = sorted(periods)
    n, hidden = xs.shape[1], w_h.shape[0]
    k = hidden // len(periods)
    h = np.zeros((n, hidden)) if h0 is None else h0.copy()
    out = []
    for step, x in enumerate(xs):
        t = t0 + step
        prev = h.copy()
        for i, t_i in enumerate(periods):
            if t % t_i != 0:
                continue
            rows = slice(i * k, (i + 1) * k)
            a = x @ w_i[rows].T + b[rows]
            for j, t_j in enumerate(periods):
                if t_j >= t_i:
                    cols = slice(j * k, (j + 1) * k)
                    a = a + prev[:, cols] @ w_h[rows, cols].T
            h[:, rows] = np.tanh(a)
        out.append(h.copy())
    return out


def test_clockwork_matches_numpy_reference(rng):
    tg.manual_seed(0)
    periods = (4, 1, 2)  # given unsorted: the cell sorts them
    cell = ClockworkRNNCell(3, 6, periods, dtype=F64)
    assert cell.periods == (1, 2, 4)
    # fill the forbidden blocks too: the forward pass must ignore them
    cell.weight_hh.data[...] = rng.standard_normal((6, 6))
    xs = rng.standard_normal((9, 2, 3))
    ours = unroll(cell, tg.tensor(xs))
    ref = clockwork_reference(xs, cell.weight_ih.numpy(), cell.weight_hh.numpy(),
                              cell.bias.numpy(), periods)
    for t, ((h, step), h_ref) in enumerate(zip(ours, ref)):
        assert step == t + 1
        np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-13, atol=1e-14)


def test_clockwork_reference_from_a_given_state_and_time(rng):
    cell = ClockworkRNNCell(2, 4, (1, 3), bias=False, dtype=F64)
    xs, h0 = rng.standard_normal((7, 3, 2)), rng.standard_normal((3, 4))
    ours = unroll(cell, tg.tensor(xs), (tg.tensor(h0), 5))
    ref = clockwork_reference(xs, cell.weight_ih.numpy(), cell.weight_hh.numpy(), np.zeros(4),
                              (1, 3), h0=h0, t0=5)
    for (h, _), h_ref in zip(ours, ref):
        np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-13, atol=1e-14)


def test_clockwork_gradcheck_through_a_sequence(rng):
    cell = ClockworkRNNCell(2, 6, (1, 2, 4), dtype=F64)
    xs = tg.tensor(rng.standard_normal((6, 2, 2)), requires_grad=True)
    h0 = tg.tensor(rng.standard_normal((2, 6)), requires_grad=True)

    def run(xs, h0, *params):  # starts at t = 1, so slow modules carry h0 for a while
        return tg.stack([h for h, _ in unroll(cell, xs, (h0, 1))])

    assert tg.gradcheck(run, [xs, h0, *cell.parameters()])


def test_clockwork_period_4_module_changes_only_at_multiples_of_4(rng):
    cell = ClockworkRNNCell(3, 4, (1, 4), dtype=F64)
    xs = tg.tensor(rng.standard_normal((13, 2, 3)))
    hs = [tg.zeros(2, 4, dtype=F64)] + [h for h, _ in unroll(cell, xs)]
    for t in range(13):  # hs[t + 1] is h_t, computed at step t
        slow_changed = not np.array_equal(hs[t + 1].numpy()[:, 2:], hs[t].numpy()[:, 2:])
        fast_changed = not np.array_equal(hs[t + 1].numpy()[:, :2], hs[t].numpy()[:, :2])
        assert slow_changed == (t % 4 == 0), t
        assert fast_changed, t


def test_clockwork_mask_is_block_upper_triangular_and_blocks_get_no_gradient(rng):
    cell = ClockworkRNNCell(3, 6, (1, 2, 4), dtype=F64)
    blocks = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1]])  # module i reads module j >= i
    np.testing.assert_array_equal(cell.hh_mask, np.kron(blocks, np.ones((2, 2))))
    forbidden = cell.hh_mask == 0
    assert (cell.weight_hh.numpy()[forbidden] == 0).all()  # initialised to zero there
    cell.weight_hh.data[forbidden] = 1.0  # even if they are set, nothing flows through them
    h0 = tg.tensor(rng.standard_normal((2, 6)), requires_grad=True)
    states = unroll(cell, tg.tensor(rng.standard_normal((9, 2, 3))), (h0, 0))
    (tg.stack([h for h, _ in states]) ** 2).sum().backward()
    g = cell.weight_hh.grad.numpy()
    assert (g[forbidden] == 0).all()
    assert (g[~forbidden] != 0).all()


def test_clockwork_one_module_is_torch_rnn_cell(rng):
    torch = pytest.importorskip("torch")
    cell = ClockworkRNNCell(3, 5, (1,), dtype=F64)
    ref = torch.nn.RNNCell(3, 5).double()
    with torch.no_grad():
        ref.weight_ih.copy_(torch.tensor(cell.weight_ih.numpy()))
        ref.weight_hh.copy_(torch.tensor(cell.weight_hh.numpy()))
        ref.bias_ih.copy_(torch.tensor(cell.bias.numpy()))
        ref.bias_hh.zero_()
    xs = rng.standard_normal((4, 2, 3))
    h_ref = None
    for (h, _), x in zip(unroll(cell, tg.tensor(xs)), xs):
        h_ref = ref(torch.tensor(x), h_ref)
        np.testing.assert_allclose(h.numpy(), h_ref.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_clockwork_names_and_repr():
    cell = ClockworkRNNCell(3, 4, [2, 1])
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias"]
    assert cell.weight_ih.dtype == np.float32
    assert "periods=(1, 2)" in repr(cell)
    assert [n for n, _ in ClockworkRNNCell(3, 4, [1], bias=False).named_parameters()] == [
        "weight_ih", "weight_hh"]


@pytest.mark.parametrize("args, match", [
    ((3, 5, (1, 2)), "hidden_size 5 is not divisible by the number of periods 2"),
    ((3, 4, (1, 1)), "periods must be distinct"),
    ((3, 4, (0, 2)), "positive ints"),
    ((3, 4, (1.5, 2)), "positive ints"),
    ((3, 4, ()), "non-empty"),
    ((3, 4, "ab"), "periods"),
    ((0, 4, (1, 2)), "input_size"),
    ((3, -4, (1, 2)), "hidden_size"),
])
def test_clockwork_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        ClockworkRNNCell(*args)


def test_clockwork_bad_inputs():
    cell = ClockworkRNNCell(3, 4, (1, 2))
    with pytest.raises(ValueError, match=r"input must have shape \(N, 3\).*got \(2, 5\)"):
        cell(tg.zeros(2, 5))
    with pytest.raises(ValueError, match=r"state h has shape \(2, 3\), expected \(2, 4\)"):
        cell(tg.zeros(2, 3), (tg.zeros(2, 3), 0))
    with pytest.raises(ValueError, match="time step t must be a non-negative int"):
        cell(tg.zeros(2, 3), (tg.zeros(2, 4), -1))
    with pytest.raises(TypeError, match=r"pair \(h, t\)"):
        cell(tg.zeros(2, 3), tg.zeros(2, 4))


def test_clockwork_on_device(device, rng):
    tg.manual_seed(3)
    cpu = ClockworkRNNCell(3, 4, (1, 2), dtype=F64)
    tg.manual_seed(3)
    dev = ClockworkRNNCell(3, 4, (1, 2), dtype=F64, device=device)
    xs = rng.standard_normal((5, 2, 3))
    ours = unroll(dev, tg.tensor(xs, device=device))
    for (a, _), (b, _) in zip(unroll(cpu, tg.tensor(xs)), ours):
        assert b.device == device
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)


# ---- SCRN ------------------------------------------------------------------------------------

def scrn_reference(xs, b_mat, p_mat, a_mat, r_mat, bias, alpha, h0, s0):
    """Mikolov et al. 2015, "Learning Longer Memory in Recurrent Neural Networks" (arXiv:1412.7753),
    the equations of the structurally constrained recurrent network: the context state
    s_t = (1 - alpha) B x_t + alpha s_{t-1} and the hidden state
    h_t = sigmoid(P s_t + A x_t + R h_{t-1}) (plus our optional bias inside the sigmoid)."""
    h, s, out = h0, s0, []
    for x in xs:
        s = (1 - alpha) * (b_mat @ x.T).T + alpha * s
        h = 1 / (1 + np.exp(-(s @ p_mat.T + x @ a_mat.T + h @ r_mat.T + bias)))
        out.append((h, s))
    return out


@pytest.mark.parametrize("alpha, bias", [(0.95, True), (0.6, False)])
def test_scrn_matches_numpy_reference(rng, alpha, bias):
    cell = SCRNCell(3, 4, 2, alpha=alpha, bias=bias, dtype=F64)
    xs = rng.standard_normal((8, 2, 3))
    h0, s0 = rng.standard_normal((2, 4)), rng.standard_normal((2, 2))
    ours = unroll(cell, tg.tensor(xs), (tg.tensor(h0), tg.tensor(s0)))
    ref = scrn_reference(xs, cell.weight_ic.numpy(), cell.weight_ch.numpy(),
                         cell.weight_ih.numpy(), cell.weight_hh.numpy(),
                         cell.bias.numpy() if bias else 0.0, alpha, h0, s0)
    for (h, s), (h_ref, s_ref) in zip(ours, ref):
        np.testing.assert_allclose(s.numpy(), s_ref, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-13, atol=1e-14)


def test_scrn_missing_state_is_zeros(rng):
    cell = SCRNCell(3, 4, 2, dtype=F64)
    x = tg.tensor(rng.standard_normal((2, 3)))
    h, s = cell(x)
    h2, s2 = cell(x, (tg.zeros(2, 4, dtype=F64), tg.zeros(2, 2, dtype=F64)))
    np.testing.assert_array_equal(h.numpy(), h2.numpy())
    np.testing.assert_array_equal(s.numpy(), s2.numpy())
    np.testing.assert_allclose(s.numpy(), 0.05 * x.numpy() @ cell.weight_ic.numpy().T)


def test_scrn_gradcheck_through_a_sequence(rng):
    cell = SCRNCell(2, 3, 2, alpha=0.8, dtype=F64)
    xs = tg.tensor(rng.standard_normal((6, 2, 2)), requires_grad=True)
    h0 = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    s0 = tg.tensor(rng.standard_normal((2, 2)), requires_grad=True)

    def run(xs, h0, s0, *params):
        states = unroll(cell, xs, (h0, s0))
        return tg.stack([h for h, _ in states]), tg.stack([s for _, s in states])

    assert tg.gradcheck(run, [xs, h0, s0, *cell.parameters()])


def test_scrn_alpha_one_freezes_the_context(rng):
    cell = SCRNCell(3, 4, 2, alpha=1.0, dtype=F64)
    s0 = tg.tensor(rng.standard_normal((2, 2)))
    h0 = tg.zeros(2, 4, dtype=F64)  # the cell's dtype: matmul refuses two dtypes, as torch
    for _, s in unroll(cell, tg.tensor(rng.standard_normal((4, 2, 3))), (h0, s0)):
        np.testing.assert_array_equal(s.numpy(), s0.numpy())


def test_scrn_names_and_repr():
    cell = SCRNCell(3, 4, 2)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ic", (2, 3)), ("weight_ch", (4, 2)), ("weight_ih", (4, 3)),
        ("weight_hh", (4, 4)), ("bias", (4,))]
    assert "context_size=2, alpha=0.95" in repr(cell)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 1.5}, "alpha must be in"),
    ({"alpha": -0.1}, "alpha must be in"),
    ({"context_size": 0}, "context_size must be positive, got 0"),
    ({"hidden_size": 2.0}, "hidden_size must be an integer, got 2.0"),
])
def test_scrn_bad_arguments(kwargs, match):
    args = {"input_size": 3, "hidden_size": 4, "context_size": 2} | kwargs
    error = TypeError if "integer" in match else ValueError  # as torch: type, then value
    with pytest.raises(error, match=match):
        SCRNCell(**args)


def test_scrn_bad_inputs():
    cell = SCRNCell(3, 4, 2)
    with pytest.raises(ValueError, match=r"input must have shape \(N, 3\).*got \(2, 4\)"):
        cell(tg.zeros(2, 4))
    with pytest.raises(ValueError, match=r"state s has shape \(2, 3\), expected \(2, 2\)"):
        cell(tg.zeros(2, 3), (tg.zeros(2, 4), tg.zeros(2, 3)))
    with pytest.raises(TypeError, match=r"pair \(h, s\)"):
        cell(tg.zeros(2, 3), (tg.zeros(2, 4),))
