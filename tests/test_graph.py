"""Tracing (tinygrad_rnn.trace, also tg.graph): scopes read as layer/direction/step,
deterministic tracing, hidden states, cuts (tg.nn.cut), and tg.viz.record_grads (gradient norms
kept during backward)."""
import gc
import importlib

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import scopes
from tinygrad_rnn import trace as tracing
from tinygrad_rnn.autograd import state
from tinygrad_rnn.scopes import Place, parse_scope
from tinygrad_rnn.trace import trace

tbptt = importlib.import_module("tinygrad_rnn.nn.tbptt")  # tg.nn.tbptt is the function


@pytest.mark.parametrize("scope, place", [
    ((), Place((), None, (), None, False)),
    (("lstm", "l0", "t3", "forget"), Place(("lstm", "l0"), 3, ("forget",), 0, False)),
    (("rnn", "l1_reverse", "t12"), Place(("rnn", "l1_reverse"), 12, (), 1, True)),
    (("t4", "lstmcell", "input"), Place((), 4, ("lstmcell", "input"), None, False)),
    (("encoder", "l2"), Place(("encoder", "l2"), None, (), 2, False)),
    (("tanh", "lin", "l0x", "tx"), Place(("tanh", "lin", "l0x", "tx"), None, (), None, False)),
])
def test_parse_scope(scope, place):
    assert parse_scope(scope) == place


def test_walk_is_parents_first_deterministic_and_not_recursive():
    w = tg.tensor([1.0, 1.0, 1.0], requires_grad=True, name="w")
    h = tg.zeros(3)
    for t in range(3000):  # deeper than Python's recursion limit
        with tg.scope("t" + str(t)):
            h = (h + w).tanh()
    graph = trace(h)
    position = {id(t): i for i, t in enumerate(graph.nodes)}
    assert all(position[id(p)] < i for i, t in enumerate(graph.nodes) for p in t.parents)
    assert graph.nodes[-1] is h and len(graph) == 2 + 2 * 3000
    again = trace(h)
    assert [id(t) for t in again.nodes] == [id(t) for t in graph.nodes]
    assert graph.steps() == list(range(3000))
    assert graph.parameters() == [w]


def test_trace_of_several_roots_and_consumers():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2.0, x.exp()
    graph = trace([a, b])
    assert graph.roots == (a, b) and len(graph) == 3
    assert [graph.nodes[i] for i in graph.consumers[graph.index[id(x)]]] == [a, b]
    assert a in graph and tg.ones(1) not in graph
    with pytest.raises(TypeError, match="Tensor"):
        trace([])


def test_unroll_scopes_every_step():
    tg.manual_seed(0)
    cell = tg.nn.GRUCell(2, 3)
    hs, h = tg.graph.unroll(cell, tg.randn(4, 1, 2), layer="l0_reverse")
    assert len(hs) == 4 and hs[-1] is h
    assert h.scope[:3] == ("l0_reverse", "t3", "grucell")


def test_hidden_states_of_a_hand_unrolled_lstm_cell_are_h():
    tg.manual_seed(0)
    cell = tg.nn.LSTMCell(2, 3)
    hs, (h, c) = tg.graph.unroll(cell, tg.randn(5, 2, 2))
    found = trace((h * c).sum()).hidden_states()
    assert list(found) == [("l0",)]
    assert [found[("l0",)][t] for t in range(5)] == hs  # h (computed after c), never c


@pytest.mark.parametrize("layer", [
    lambda: tg.nn.RNN(3, 4, num_layers=2, bidirectional=True),
    lambda: tg.nn.GRU(3, 4, num_layers=2, bidirectional=True),
    lambda: tg.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    lambda: tg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, fused=False),
], ids=["rnn", "gru", "lstm", "lstm-unfused"])
def test_hidden_states_of_layers_in_pytorch_order(layer):
    tg.manual_seed(0)
    out, _ = layer()(tg.randn(6, 2, 3))
    found = trace(out.sum()).hidden_states()
    prefix = type(layer()).__name__.lower()
    assert list(found) == [(prefix, "l0"), (prefix, "l0_reverse"), (prefix, "l1"),
                           (prefix, "l1_reverse")]
    assert all(list(steps) == list(range(6)) for steps in found.values())
    h_last = found[(prefix, "l1")][5]
    h_last = h_last.numpy()[0] if h_last.ndim == 3 else h_last.numpy()  # fused: [h, c]
    np.testing.assert_allclose(h_last, out.numpy()[5, :, :4])


def test_cut_remembers_its_origin_weakly():
    h = tg.ones(2, requires_grad=True) * 2.0
    c = h * 3.0
    h2, c2 = tg.nn.cut((h, c))
    assert not h2.requires_grad and h2.op is None
    assert tg.nn.cut_origin(h2) is h and tg.nn.cut_origin(c2) is c
    assert tbptt.CUTS[h2].scope == h.scope
    del h, c
    gc.collect()
    assert tg.nn.cut_origin(h2) is None  # the earlier graph is freed as usual
    assert tg.nn.cut_origin(tg.ones(1)) is None
    assert tg.nn.cut(None) is None


def test_tg_graph_names_the_tracing_of_the_api_contract():
    """``tg.graph`` (named by the API contract) re-exports what moved to trace, scopes, nn."""
    for name in ("Graph", "trace", "walk", "is_parameter"):
        assert getattr(tg.graph, name) is getattr(tracing, name)
    for name in ("Place", "parse_scope"):
        assert getattr(tg.graph, name) is getattr(scopes, name)
    for name in ("Cut", "CUTS", "cut", "cut_origin", "flatten"):
        assert getattr(tg.graph, name) is getattr(tbptt, name)
    assert tg.nn.cut is tbptt.cut and callable(tg.graph.unroll)


def test_record_grads_keeps_every_norm_and_removes_its_hook():
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    h = w * 2.0
    loss = (h * h).sum()
    hooks = state.grad_hooks
    with tg.viz.record_grads() as record:
        assert len(state.grad_hooks) == len(hooks) + 1
        loss.backward()
    assert state.grad_hooks == hooks
    assert record[loss] == pytest.approx(1.0)
    assert record[h] == pytest.approx(np.linalg.norm(2 * h.numpy()))
    assert record[w] == pytest.approx(np.linalg.norm(w.grad.numpy()))
    assert w in record and record.get(tg.ones(1)) is None and len(record) == 4
