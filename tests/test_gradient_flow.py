"""tg.viz.gradient_flow: ‖∂L/∂h_t‖ per layer and step, checked against retain_grad on a loop of
cells; its plots and the four-model comparison (tg.models.measure_flows) that make demo draws."""
import numpy as np
import pytest
from matplotlib.figure import Figure

import tinygrad_rnn as tg
from tinygrad_rnn.cli.demo import write_figures


def loop_norms(cell, x):
    """‖∂L/∂h_t‖ by hand: unroll the cell, retain every h_t, backward from sum(h_T)."""
    hs, _ = tg.graph.unroll(cell, x)
    for h in hs:
        h.retain_grad()
    hs[-1].sum().backward()
    return np.array([np.linalg.norm(h.grad.numpy()) for h in hs])


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm", "lstm-unfused"])
def test_layer_flow_matches_a_loop_of_cells(kind):
    tg.manual_seed(0)
    x = tg.randn(7, 2, 3, dtype=tg.float64)
    layer, cell = {
        "rnn": (tg.nn.RNN(3, 4, dtype=tg.float64), tg.nn.RNNCell(3, 4, dtype=tg.float64)),
        "gru": (tg.nn.GRU(3, 4, dtype=tg.float64), tg.nn.GRUCell(3, 4, dtype=tg.float64)),
        "lstm": (tg.nn.LSTM(3, 4, dtype=tg.float64), tg.nn.LSTMCell(3, 4, dtype=tg.float64)),
        "lstm-unfused": (tg.nn.LSTM(3, 4, fused=False, dtype=tg.float64),
                         tg.nn.LSTMCell(3, 4, dtype=tg.float64)),
    }[kind]
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in layer.state_dict().items()})
    flow = tg.viz.gradient_flow(layer, x)
    assert flow.shape == (1, 7) and flow.dtype == np.float64
    np.testing.assert_allclose(flow[0], loop_norms(cell, x), rtol=1e-10)
    np.testing.assert_allclose(tg.viz.gradient_flow(cell, x)[0], flow[0], rtol=1e-10)


def test_bidirectional_stack_rows_in_pytorch_order():
    tg.manual_seed(0)
    gru = tg.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    flow = tg.viz.gradient_flow(gru, steps=6, batch=2)
    assert flow.shape == (4, 6)
    assert tg.viz.row_labels(gru) == ["layer 0", "layer 0 reverse", "layer 1",
                                      "layer 1 reverse"]
    # the loss reads the last step only: the top backward layer sees it at t = 5 (its first
    # step) and nowhere else; every other row gets gradient at every step
    assert (flow[3, :5] == 0).all() and flow[3, 5] > 0
    assert (flow[:3] > 0).all()


def test_custom_loss_and_explicit_input():
    tg.manual_seed(0)
    rnn = tg.nn.RNN(2, 3, dtype=tg.float64)
    x = tg.randn(5, 1, 2, dtype=tg.float64)
    flow = tg.viz.gradient_flow(rnn, x, loss=lambda out: out[0].sum())
    assert flow[0, 0] > 0 and (flow[0, 1:] == 0).all()  # only h_0 matters to this loss


def test_tanh_rnn_vanishes_and_irnn_does_not():
    tg.manual_seed(0)
    x = tg.randn(40, 2, 4, dtype=tg.float64)
    tg.manual_seed(1)
    tanh = tg.viz.gradient_flow(tg.nn.RNN(4, 16, dtype=tg.float64), x)[0]
    tg.manual_seed(1)
    irnn = tg.nn.RNN(4, 16, nonlinearity="relu", init="identity", dtype=tg.float64)
    np.testing.assert_array_equal(irnn.weight_hh_l0.numpy(), np.eye(16))
    assert not irnn.bias_ih_l0.numpy().any() and irnn.nonlinearity == "relu"
    flat = tg.viz.gradient_flow(irnn, x)[0]
    assert tanh[0] < 1e-6 * tanh[-1]
    assert flat[0] > 0.1 * flat[-1]


def test_plots_return_figures(tmp_path):
    norms = np.array([[1e-6, 1e-3, 1.0], [0.0, 1e-2, 2.0]])
    line = tg.viz.plot_gradient_flow(norms, ["a", "b"], title="t")
    heat = tg.viz.plot_gradient_heatmap(norms, ["a", "b"])
    assert isinstance(line, Figure) and isinstance(heat, Figure)
    assert line.axes[0].get_yscale() == "log" and len(line.axes[0].lines) == 2
    assert len(heat.axes) == 2  # the heatmap and its colour bar
    line.savefig(tmp_path / "line.png")
    assert (tmp_path / "line.png").stat().st_size > 1000


def test_comparison_of_four_models():
    flows = tg.models.measure_flows(steps=12, hidden=4, num_layers=2, batch=2, input_size=3)
    assert list(flows) == ["tanh RNN", "LSTM", "GRU", "IRNN"]
    assert all(n.shape == (2, 12) and labels == ["layer 0", "layer 1"]
               for n, labels in flows.values())
    fig = tg.viz.compare_gradient_flow(flows)
    assert len(fig.axes) == 12  # 4 line plots, 4 heatmaps, 4 colour bars


def test_demo_writes_the_graph_and_the_figure(tmp_path):
    graph, flow = write_figures(tmp_path / "out")
    assert graph.suffix in (".svg", ".dot") and graph.stat().st_size > 1000
    assert flow.name == "gradient_flow.png" and flow.read_bytes()[:4] == b"\x89PNG"
