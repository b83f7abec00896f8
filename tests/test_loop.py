"""The time loop ``tg.nn.unroll``: the one loop over steps that the cells and the layers share."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.autograd import state
from tinygrad_rnn.nn import recurrent


def test_graph_unroll_is_the_nn_loop():
    assert tg.graph.unroll is tg.nn.unroll


def test_unroll_equals_a_hand_written_loop():
    tg.manual_seed(0)
    cell = tg.nn.LSTMCell(2, 3, dtype=np.float64)
    xs = tg.randn(5, 2, 2, dtype=np.float64)
    hs, (h, c) = tg.nn.unroll(cell, xs)
    hand, s = [], None
    for t in range(5):
        s = cell(xs[t], s)
        hand.append(s[0])
    for a, b in zip(hs + [c], hand + [s[1]]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert hs[-1] is h


def test_reverse_runs_backwards_in_time_and_returns_hs_in_time_order():
    tg.manual_seed(0)
    cell = tg.nn.RNNCell(2, 3)
    xs = tg.randn(4, 1, 2)
    seen = []

    def step(x, h):
        seen.append(state.scope)
        return cell(x, h)
    with tg.scope("model"):
        hs, h = tg.nn.unroll(step, xs, layer="l1_reverse", start=10, reverse=True)
    assert seen == [("model", "l1_reverse", f"t{t}") for t in (13, 12, 11, 10)]
    assert h is hs[0]  # the last step computed is t = 0
    h_next = None
    for t in (3, 2, 1, 0):
        h_next = cell(xs[t], h_next)
        np.testing.assert_array_equal(hs[t].numpy(), h_next.numpy())


def test_a_failing_step_leaves_the_scope_as_it_was():
    def step(x, s):
        raise RuntimeError("boom")
    with tg.scope("outer"), pytest.raises(RuntimeError, match="boom"):
        tg.nn.unroll(step, [1, 2])
    assert state.scope == ()


@pytest.mark.parametrize("make", [
    lambda: tg.nn.RNN(3, 4, bidirectional=True),
    lambda: tg.nn.LSTM(3, 4, bidirectional=True),
    lambda: tg.nn.LSTM(3, 4, bidirectional=True, fused=False),
    lambda: tg.nn.GRU(3, 4, bidirectional=True),
    lambda: tg.nn.GRU(3, 4, bidirectional=True, fused=False),
    lambda: tg.nn.GRU(3, 4, bidirectional=True, reset_after=False),
], ids=["rnn", "lstm", "lstm-unfused", "gru", "gru-unfused", "gru-cho"])
def test_every_layer_runs_through_the_one_loop(make, monkeypatch):
    calls = []

    def loop(*args, **kwargs):
        calls.append((args[3], kwargs.get("reverse", False)))
        return tg.nn.unroll(*args, **kwargs)
    monkeypatch.setattr(recurrent, "unroll", loop)
    make()(tg.randn(5, 2, 3))
    assert calls == [("l0", False), ("l0_reverse", True)]
