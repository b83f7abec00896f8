"""Backward: depth, accumulation, retain_grad, no_grad, detach, freed graphs, tg.grad."""
import numpy as np
import pytest

import tinygrad_rnn as tg


def test_50000_step_chain_has_exact_gradient(device):
    # y = a * x repeated n times: dy/dx = a**n, exact in binary floating point for a = 2**(1/8)... use
    # a = 1 + 2**-20 in float64: the analytic product is accumulated step by step the same way.
    n, a = 50_000, 1.0 + 2.0 ** -20
    x = tg.tensor([1.0, -2.0], dtype=np.float64, device=device, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * a
    y.sum().backward()
    expected = 1.0
    for _ in range(n):
        expected *= a
    np.testing.assert_array_equal(x.grad.numpy(), [expected, expected])


def test_deep_chain_of_tensor_tensor_ops_recurrence(device):
    # h_t = tanh(w * h_{t-1} + x_t) over 20,000 steps, against a hand-written reverse loop
    n = 20_000
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(n) * 0.5
    w = tg.tensor(0.9, dtype=np.float64, device=device, requires_grad=True)
    h = tg.tensor(0.0, dtype=np.float64, device=device)
    hs = []
    for t in range(n):
        h = (w * h + float(xs[t])).tanh()
        hs.append(h.item())
    h.backward()
    # reference BPTT by hand
    dh, dw = 1.0, 0.0
    for t in reversed(range(n)):
        prev = hs[t - 1] if t > 0 else 0.0
        da = dh * (1 - hs[t] ** 2)
        dw += da * prev
        dh = da * 0.9
    assert w.grad.item() == pytest.approx(dw, rel=1e-12)


def test_gradients_accumulate_across_uses_and_calls(device):
    x = tg.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (x * x + x).sum().backward()          # d/dx = 2x + 1
    np.testing.assert_allclose(x.grad.numpy(), [3, 5, 7])
    (x * 3).sum().backward()               # accumulates: + 3
    np.testing.assert_allclose(x.grad.numpy(), [6, 8, 10])
    x.zero_grad()
    assert x.grad is None


def test_grad_is_a_fresh_array_not_shared_between_leaves():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])


def test_retain_grad_keeps_non_leaf_gradient_like_torch():
    torch = pytest.importorskip("torch")
    x = tg.tensor([0.5, -1.0, 2.0], dtype=np.float64, requires_grad=True)
    h = (x * 3).tanh()
    h.retain_grad()
    other = x * 2                                    # not retained
    (h * h + other).sum().backward()
    tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    th = (tx * 3).tanh()
    th.retain_grad()
    (th * th + tx * 2).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert other.grad is None


def test_no_grad_records_nothing_and_restores(device):
    x = tg.tensor([1.0, 2.0], device=device, requires_grad=True)
    with tg.no_grad():
        y = x * 2 + 1
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            z = x * 2
    assert tg.is_grad_enabled()
    assert y.op is None and not y.requires_grad and y.parents == ()
    assert z.requires_grad and z.op is not None

    @tg.no_grad()
    def f(t):
        return t * t

    assert not f(x).requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_restores_state_after_exception():
    with pytest.raises(ValueError, match="boom"), tg.no_grad():
        raise ValueError("boom")
    assert tg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data(device):
    x = tg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.op is None and not d.requires_grad and d.parents == ()
    assert d.data is y.data
    (y.sum() + (d * x).sum()).backward()   # d is a constant: d/dx (d * x) = d
    np.testing.assert_allclose(x.grad.numpy(), [3 + 3, 3 + 6])


def test_non_scalar_backward_needs_grad():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(1, 2\)"):
        y.backward()
    y.backward(grad=tg.tensor([[1.0, 10.0]]))
    np.testing.assert_allclose(x.grad.numpy(), [[2, 20]])
    with pytest.raises(RuntimeError, match=r"grad has shape \(2,\)"):
        (x * 2).backward(grad=np.ones(2))


def test_backward_twice_through_freed_graph_raises_and_retain_graph_allows_it():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.scope("rnn", "t7"):
        y = (x * x).tanh()
    loss = y.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"Tanh \(scope rnn/t7\) a second time.*retain_graph=True"):
        loss.backward()
    x2 = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    loss2 = (x2 * x2).tanh().sum()
    loss2.backward(retain_graph=True)
    first = x2.grad.numpy().copy()
    loss2.backward()
    np.testing.assert_allclose(x2.grad.numpy(), 2 * first)


def test_backward_from_a_leaf():
    x = tg.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_backward_reaches_only_tensors_that_require_grad():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [3, 4])


def test_tg_grad_returns_gradients_without_accumulating():
    x = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    h = x * x
    loss = (h * 3).sum()
    gx, gh = tg.grad(loss, [x, h])
    np.testing.assert_allclose(gx.numpy(), [6, 12])
    np.testing.assert_allclose(gh.numpy(), [3, 3])
    assert x.grad is None and h.grad is None
    unrelated = tg.tensor([1.0], requires_grad=True)
    assert tg.grad((x * 2).sum(), [unrelated]) == (None,)


def test_graph_records_op_parents_and_scope():
    a = tg.tensor([1.0], requires_grad=True, name="a")
    with tg.scope("lstm", "l0"), tg.scope("t3"):
        b = (a * 2).tanh()
    assert type(b.op).__name__ == "Tanh"
    assert isinstance(b.parents, tuple) and type(b.parents[0].op).__name__ == "MulScalar"
    assert b.parents[0].parents == (a,)
    assert b.scope == ("lstm", "l0", "t3")
    assert a.scope == () and a.is_leaf and not b.is_leaf


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        tg.tensor([1, 2], requires_grad=True)


def test_backward_through_a_copied_or_unpickled_graph():
    # Tensors are processed newest first by their creation number: a copy or an unpickled
    # graph must take new numbers (a clash with the original, or an order that puts a tensor
    # before its parents, would break the backward pass).
    import copy
    import pickle

    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = (x * x).tanh()
    for twin in (copy.deepcopy(y), copy.copy(y), pickle.loads(pickle.dumps(y))):
        x.grad = None
        (y + twin).sum().backward(retain_graph=True)
        expected = 2 * x.numpy() * (1 - np.tanh(x.numpy() ** 2) ** 2)
        if twin.parents[0].parents[0] is x:   # the shallow copy shares x: its share arrives too
            expected = 2 * expected
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape, n", [((32768, 28), 1), ((128, 64, 8), 2), ((4097, 3, 2), 1),
                                      ((5000,), 1), ((300, 20, 3), 1)])
def test_long_float32_sums_over_leading_axes_are_as_precise_as_float64_accumulation(shape, n):
    """backend.sum_leading (the engine's broadcast sums, the fused bias sums): float32 partial
    sums of 256-row blocks added in float64 stay within 2e-7 of the float64 sum, where NumPy's
    float32 sum over a leading axis drifts to ~6e-6 on 32,768 rows; short sums keep their dtype."""
    from tinygrad_rnn.backend import LONG_SUM, sum_leading

    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32) + 0.1
    axes = tuple(range(n))
    exact = a.astype(np.float64).sum(axis=axes)
    got = sum_leading(a, n)
    assert got.shape == exact.shape
    long = np.prod(shape[:n]) > LONG_SUM
    assert got.dtype == (np.float64 if long else np.float32)
    assert np.abs(got - exact).max() / np.abs(exact).max() < (2e-7 if long else 1e-6)
    backwards = a[::-1]  # not contiguous: summed by NumPy as it is
    assert np.array_equal(sum_leading(backwards, n), backwards.sum(axis=axes, dtype=got.dtype))


def test_sum_leading_keeps_inf_and_nan():
    from tinygrad_rnn.backend import sum_leading

    a = np.ones((9000, 4), np.float32)
    a[7, 1], a[8000, 2], a[5, 3], a[6, 3] = np.inf, np.nan, np.inf, -np.inf
    with np.errstate(invalid="ignore"):  # inf - inf, as NumPy's sum warns of it
        got = sum_leading(a, 1)
    assert got[0] == 9000 and got[1] == np.inf and np.isnan(got[2]) and np.isnan(got[3])



@pytest.mark.parametrize("shape, gates", [((3, 5, 8), 4), ((5, 12), 3), ((2, 0, 8), 4), ((4, 3, 0), 4)])
def test_copy_blocks_equals_assignment_between_gate_and_row_layouts(shape, gates):
    """fused.sequence.copy_blocks (the LSTM's inputs and gate gradients): the same array as
    ``dst[...] = src`` both ways between the rows layout (..., N, G*H) and the gate layout
    (..., G, N, H), for float32 and float64, empty shapes and a non-contiguous source."""
    from tinygrad_rnn.fused.sequence import copy_blocks, gate_view

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        rows = rng.standard_normal(shape).astype(dtype)
        by_gate = np.empty(gate_view(rows, gates).shape, dtype)
        copy_blocks(by_gate, gate_view(rows, gates))
        np.testing.assert_array_equal(by_gate, gate_view(rows, gates))
        back = np.full(shape, np.nan, dtype)
        copy_blocks(gate_view(back, gates), by_gate)
        np.testing.assert_array_equal(back, rows)
        every_other = np.empty(gate_view(rows[..., ::2, :], gates).shape, dtype)
        copy_blocks(every_other, gate_view(rows[..., ::2, :], gates))  # strided rows
        np.testing.assert_array_equal(every_other, gate_view(rows[..., ::2, :], gates))


@pytest.mark.parametrize("shape", [(4096, 28), (32768, 28), (5000, 64), (4100, 1), (300, 65),
                                   (5000, 65), (0, 3)])
def test_row_max_is_numpys_max_along_rows(shape):
    """backend.row_max (the cross-entropy's shift): the values of x.max(axis=1, keepdims=True)
    for many short rows (taken in transposed blocks of 512), few or long rows (max itself),
    rows holding NaN or infinities, float32 and float64, and a non-contiguous view."""
    from tinygrad_rnn.backend import row_max

    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal(shape) * 50).astype(dtype)
        if x.size:
            x[7, 0], x[8, :] = np.nan, -np.inf
            x[-1, -1] = np.inf
        for a in (x, x[::-1]):
            want = a.max(axis=1, keepdims=True)
            got = row_max(a)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def test_rows_picked_by_one_integer_array_equal_numpys_indexing():
    """Index's np.take path (one integer array, rows of a NumPy array): the values of NumPy's
    own indexing for 1-D and 2-D keys, negative, repeated and unsigned indices and an empty key,
    the scatter-added gradient of np.add.at, an out-of-range index refused; a 0-d key still
    gives a view that shares the tensor's version."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((6, 3))
    for key in (np.array([0, -1, 5, 5, 2]), np.array([[1, -6], [3, 3]]), np.array([], np.int64),
                np.array([4, 0], np.uint8)):
        t = tg.tensor(w, requires_grad=True)
        y = t[key]
        np.testing.assert_array_equal(y.numpy(), w[key])
        g = rng.standard_normal(y.shape)
        y.backward(tg.tensor(g))
        want = np.zeros_like(w)
        np.add.at(want, key, g)
        np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="Index: .*out of bounds"):
        tg.tensor(w)[np.array([6])]
    t = tg.tensor(w)
    row = t[np.array(2)]
    assert row.shape == (3,) and row.version is t.version
