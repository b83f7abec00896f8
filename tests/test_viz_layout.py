"""The drawings as a student reads them: time left to right, names from the equations, inputs
and their words, values of scalars, and the concept diagram of one cell.

Rendering tests need Graphviz's ``dot`` and are skipped without it.
"""
import math
import re
import shutil

import pytest
from test_viz import clusters, edges, labels

import tinygrad_rnn as tg
from tinygrad_rnn.trace import with_step

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
STEP = re.compile(r"cluster_(.*)/t(\d+)$")


def step_of_nodes(dot: str) -> dict[str, tuple[str, int]]:
    """Node id -> (layer scope, time step) of the step cluster it is drawn in (at any depth)."""
    found = {}
    for name, nodes in clusters(dot).items():
        m = re.match(r"cluster_(.*?)/t(\d+)(/|$)", name or "")
        if m:
            for n in nodes:
                found[n] = (m.group(1), int(m.group(2)))
    return found


def layers(steps=4, kind="lstm", **kwargs):
    tg.manual_seed(0)
    make = {"rnn": tg.nn.RNN, "lstm": tg.nn.LSTM, "gru": tg.nn.GRU}[kind]
    model = make(2, 3, **kwargs)
    out, _ = model(tg.randn(steps, 1, 2))
    return out.sum(), model


# ---- time runs left to right ----------------------------------------------------------------
@needs_dot
def test_a_four_step_op_level_lstm_is_one_row_wider_than_three_times_its_height():
    loss, lstm = layers(4, "lstm", fused=False)
    svg = tg.viz.draw(loss, module=lstm).pipe(format="svg").decode()
    width, height = map(float, re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                                         svg).groups())
    assert width / height >= 3, (width, height)  # steps climbing diagonally: about 2


@pytest.mark.parametrize("kind, kwargs", [
    ("rnn", {"fused": False}), ("lstm", {"fused": False}), ("gru", {"fused": False}),
    ("lstm", {"num_layers": 2, "bidirectional": True, "fused": False}),
])
def test_every_step_is_ordered_after_the_one_before_in_its_row(kind, kwargs):
    loss, model = layers(4, kind, **kwargs)
    dot = tg.viz.to_dot(loss, module=model)
    where = step_of_nodes(dot)
    invisible = [(a, b) for a, b, attrs in edges(dot) if 'style="invis"' in attrs]
    ordered = {(where[a][0], where[a][1], where[b][1]) for a, b in invisible
               if a in where and b in where and where[a][0] == where[b][0]}
    rows = {lane for lane, _ in where.values()}
    assert len(rows) == kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    for lane in rows:
        assert {(t, u) for row, t, u in ordered if row == lane} == {(0, 1), (1, 2), (2, 3)}


def test_a_backward_row_is_laid_out_right_to_left_with_its_arrows_pointing_left():
    loss, lstm = layers(4, "lstm", num_layers=2, bidirectional=True, fused=False)
    dot = tg.viz.to_dot(loss, module=lstm)
    where = step_of_nodes(dot)
    between = [(where[a], where[b], attrs) for a, b, attrs in edges(dot)
               if a in where and b in where and where[a][0] == where[b][0]
               and where[a][1] != where[b][1] and 'invis' not in attrs]
    forward = [e for e in between if not e[0][0].endswith("_reverse")]
    backward = [e for e in between if e[0][0].endswith("_reverse")]
    assert forward and backward
    # laid out from step t to step t + 1 in both rows (so t = 0 is on the left) ...
    assert all(a[1] + 1 == b[1] for a, b, _ in forward + backward)
    # ... but a backward row hands its state from t + 1 to t: drawn with the arrow reversed
    assert all('dir="back"' in attrs for _, _, attrs in backward)
    assert not any('dir="back"' in attrs for _, _, attrs in forward)


def test_the_next_layer_does_not_wait_for_the_last_step_of_the_one_below():
    loss, lstm = layers(4, "lstm", num_layers=2, fused=False)
    dot = tg.viz.to_dot(loss, module=lstm)
    names, where = labels(dot), step_of_nodes(dot)
    gathers = [(a, b, attrs) for a, b, attrs in edges(dot) if a in where and b not in where
               and names.get(b, "").startswith("stack") and where[a][0] == "lstm/l0"]
    assert gathers and all('constraint="false"' in attrs for _, _, attrs in gathers)


# ---- names from the recorded graph ------------------------------------------------------------
@pytest.mark.parametrize("cell, expected", [
    (lambda: tg.nn.RNNCell(2, 3), ["h₁ = tanh", "x₁"]),
    (lambda: tg.nn.LSTMCell(2, 3), ["i₁ = σ", "f₁ = σ", "g₁ = tanh", "o₁ = σ", "c₁ = +",
                                    "h₁ = ×", "x₁", "h₋₁ = 0", "c₋₁ = 0"]),
    (lambda: tg.nn.LSTMCell(2, 3, coupled=True), ["i₁ = 1 −", "f₁ = σ"]),
    (lambda: tg.nn.GRUCell(2, 3), ["r₁ = σ", "z₁ = σ", "n₁ = tanh", "h₁ = +"]),
    (lambda: tg.nn.GRUCell(2, 3, reset_after=False), ["r₁ = σ", "z₁ = σ", "n₁ = tanh"]),
])
def test_op_level_nodes_carry_the_names_of_the_equations(cell, expected):
    tg.manual_seed(0)
    hs, _ = tg.graph.unroll(cell(), tg.randn(2, 1, 2))
    first_lines = {v.split("\\n")[0] for v in labels(tg.viz.to_dot(hs[-1].sum())).values()}
    assert set(expected) <= first_lines


def test_a_layer_names_its_input_projection_and_initial_state():
    loss, lstm = layers(3, "lstm", fused=False)
    first_lines = {v.split("\\n")[0] for v in labels(tg.viz.to_dot(loss, module=lstm)).values()}
    assert {"W_ih x₂ + b = [2]", "initial state = 0", "c₂ = +", "h₂ = ×"} <= first_lines


def test_with_step_writes_the_time_step_as_a_subscript():
    assert with_step("h_t", 12) == "h₁₂"
    assert with_step("c_{t-1} = 0", 0) == "c₋₁ = 0"
    assert with_step("W_ih x_t + b", 3) == "W_ih x₃ + b"
    assert with_step("h_t", None) == "hₜ"
    assert with_step("h_top", 3) == "h_top"  # only the time index


# ---- inputs, words and values -----------------------------------------------------------------
def test_inputs_have_a_cluster_of_their_own_and_words_title_the_steps():
    tg.manual_seed(0)
    embed, rnn = tg.nn.Embedding(10, 4), tg.nn.RNN(4, 3)
    words = ["arrive", "taipei", "on", "november"]
    x = tg.tensor([[1], [2], [3], [4]])
    e = embed(x)
    h, _ = rnn(e)
    dot = tg.viz.to_dot(h, level="step", module=rnn, inputs={e: words})
    assert 'label="t = 1: “taipei”"' in dot and 'label="t = 3: “november”"' in dot
    assert "x: “arrive taipei on november”" in dot
    with pytest.raises(ValueError, match="inputs"):
        tg.viz.to_dot(h, inputs={tg.ones(2): words})
    with pytest.raises(TypeError, match="one label per time step"):
        tg.viz.to_dot(h, inputs={e: 3})


def neuron():
    def leaf(value, name):
        return tg.tensor(value, dtype=tg.float64, requires_grad=True, name=name)
    x1, x2, w1, w2 = leaf(2.0, "x1"), leaf(0.0, "x2"), leaf(-3.0, "w1"), leaf(1.0, "w2")
    b = leaf(math.atanh(1 / math.sqrt(2)) + 6.0, "b")
    n = x1 * w1 + x2 * w2 + b
    return n.tanh(), (x1, x2), (w1, w2, b), n


def test_inputs_are_never_drawn_as_parameters():
    o, (x1, x2), _, _ = neuron()
    dot = tg.viz.to_dot(o, inputs=[x1, x2])
    names, boxes = labels(dot), clusters(dot)
    assert sorted(names[n].split("\\n")[0] for n in boxes["cluster_@inputs"]) == ["x1", "x2"]
    assert sorted(names[n].split("\\n")[0] for n in boxes["cluster_@parameters"]) == \
        ["b", "w1", "w2"]
    assert 'label="inputs"' in dot
    assert "shared by every step" not in dot  # no time steps here


def test_values_show_data_and_the_signed_gradient_of_scalars():
    o, (x1, _), _, n = neuron()
    with tg.viz.record_grads():
        o.backward()
    names = labels(tg.viz.to_dot(o, inputs=[x1], values=True))
    by_name = {v.split("\\n")[0]: v.split("\\n")[1:] for v in names.values()}
    assert by_name["x1"] == ["data 2.0000", "grad −1.5000"]  # do/dx1 = w1 (1 - o^2)
    assert by_name["w1"] == ["data −3.0000", "grad 1.0000"]
    assert by_name["tanh"] == [f"data {1 / math.sqrt(2):.4f}", "grad 1.0000"]
    assert "×\\ndata −6.0000\\ngrad 0.5000" in names.values()  # x1 * w1, recorded
    assert float(n.data) == pytest.approx(math.atanh(1 / math.sqrt(2)))


# ---- the concept diagram -----------------------------------------------------------------------
def diagram_of(cell, steps=2):
    tg.manual_seed(0)
    hs, _ = tg.graph.unroll(cell, tg.randn(steps, 1, 2))
    return tg.viz.diagram(hs[-1]).source


def read_diagram(dot: str) -> tuple[dict, list]:
    """``(nodes, arrows)``: id -> label (line ports too: ``line:p1``) and real (from, to)."""
    nodes = {n: text.replace("\\n", " ") for n, text in re.findall(r'\t(\w+) \[label="([^"]*)"',
                                                                  dot)}
    line = re.search(r"\tline \[label=<(.*)>", dot)
    if line:
        for k, text in re.findall(r'PORT="p(\d+)"[^>]*>([^<]*)<', line.group(1)):
            nodes[f"line:p{k}"] = text
    arrows = []
    for a, b, attrs in re.findall(r"\t([\w:]+) -> ([\w:]+)(.*)", dot):
        a, b = a.removesuffix(":s"), b.removesuffix(":s")
        arrows.append((nodes[b], nodes[a]) if 'dir="back"' in attrs else (nodes[a], nodes[b]))
    return nodes, arrows


def gates(nodes: dict) -> list[str]:
    return sorted(v for v in nodes.values() if v.startswith(("σ ", "tanh ", "relu ")))


@pytest.mark.parametrize("make, boxes, circles, line", [
    (lambda: tg.nn.LSTMCell(2, 3), ["σ fₜ", "σ iₜ", "σ oₜ", "tanh gₜ"], ["tanh", "×", "×"],
     ["cₜ₋₁", "×", "+", "cₜ"]),
    (lambda: tg.nn.LSTMCell(2, 3, peephole=True), ["σ fₜ", "σ iₜ", "σ oₜ", "tanh gₜ"],
     ["tanh", "×", "×"], ["cₜ₋₁", "×", "+", "cₜ"]),
    (lambda: tg.nn.LSTMCell(2, 3, coupled=True), ["σ fₜ", "σ oₜ", "tanh gₜ"],
     ["1 −", "tanh", "×", "×"], ["cₜ₋₁", "×", "+", "cₜ"]),
    (lambda: tg.nn.GRUCell(2, 3), ["σ rₜ", "σ zₜ", "tanh nₜ"], [],
     ["hₜ₋₁", "−", "×", "+", "hₜ"]),
    (lambda: tg.nn.GRUCell(2, 3, reset_after=False), ["σ rₜ", "σ zₜ", "tanh nₜ"], ["×"],
     ["hₜ₋₁", "−", "×", "+", "hₜ"]),
    (lambda: tg.nn.RNNCell(2, 3), ["tanh hₜ"], [], []),
])
def test_diagram_of_every_variant_has_its_gates_and_pointwise_nodes(make, boxes, circles, line):
    dot = diagram_of(make())
    nodes, _ = read_diagram(dot)
    assert gates(nodes) == sorted(boxes)
    assert sorted(re.findall(r'label="([^"]*)" shape="circle"', dot)) == sorted(circles)
    assert [nodes[k] for k in sorted(n for n in nodes if n.startswith("line:"))] == line


def test_diagram_shows_the_peephole_and_the_two_reset_gates():
    _, plain = read_diagram(diagram_of(tg.nn.LSTMCell(2, 3)))
    _, peep = read_diagram(diagram_of(tg.nn.LSTMCell(2, 3, peephole=True)))
    into = {b for a, b in peep if a == "cₜ₋₁"}
    assert {"σ fₜ", "σ iₜ"} <= into and ("+", "σ oₜ") in peep  # i, f look at c; o at c'
    assert not any(a in ("cₜ₋₁", "+") and b.startswith("σ") for a, b in plain)
    _, after = read_diagram(diagram_of(tg.nn.GRUCell(2, 3)))
    _, before = read_diagram(diagram_of(tg.nn.GRUCell(2, 3, reset_after=False)))
    assert ("σ rₜ", "tanh nₜ") in after  # r scales W_hn h inside the candidate's box
    assert ("σ rₜ", "×") in before and ("hₜ₋₁", "×") in before and ("×", "tanh nₜ") in before
    _, coupled = read_diagram(diagram_of(tg.nn.LSTMCell(2, 3, coupled=True)))
    assert ("σ fₜ", "1 −") in coupled


def test_diagram_of_a_layer_step_and_its_errors():
    loss, _ = layers(3, "lstm", fused=False)
    nodes, arrows = read_diagram(tg.viz.diagram(loss, step=1).source)
    assert gates(nodes) == sorted(["σ fₜ", "σ iₜ", "σ oₜ", "tanh gₜ"])
    assert ("W_ih xₜ + b", "σ fₜ") in arrows and ("hₜ₋₁", "σ fₜ") in arrows
    with pytest.raises(ValueError, match="step 7"):
        tg.viz.diagram(loss, step=7)
    fused, _ = layers(3, "lstm")
    with pytest.raises(ValueError, match="fused=False"):
        tg.viz.diagram(fused)
