"""tg.viz.to_dot / draw / write: clusters per step, shared parameters drawn once, levels, elision,
gradient colours, highlights, cuts, byte-identical DOT snapshots, rendering and the command line.

Rendering tests need Graphviz's ``dot`` and are skipped without it; regenerate the snapshots
after an intended change with ``UPDATE_SNAPSHOTS=1 pytest tests/test_viz.py``.
"""
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.cli import main
from tinygrad_rnn.cli.graph import CELLS

SNAPSHOTS = Path(__file__).parent / "snapshots"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")
STEP = re.compile(r"cluster_.*/t(\d+)$")


def clusters(dot: str) -> dict[str, list[str]]:
    """Cluster name -> ids of the nodes directly inside it (from the DOT text)."""
    stack, out = [None], {None: []}
    for line in dot.splitlines():
        s = line.strip()
        m = re.match(r'subgraph "(cluster_[^"]*)" \{', s)
        if m:
            stack.append(m.group(1))
            out[m.group(1)] = []
        elif s == "}":
            stack.pop()
        elif re.match(r"n\d+ \[", s):
            out[stack[-1]].append(s.split()[0])
    return out


def labels(dot: str) -> dict[str, str]:
    return dict(re.findall(r'(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot))


def edges(dot: str) -> list[tuple[str, str, str]]:
    return re.findall(r"\t(n\d+) -> (n\d+)(.*)", dot)


def rnn_cell_loss(steps=3, seed=0):
    tg.manual_seed(seed)
    cell = tg.nn.RNNCell(2, 3)
    hs, h = tg.graph.unroll(cell, tg.randn(steps, 2, 2))
    return (h * h).sum() * 0.5, cell, hs


def bilstm(steps=4, seed=0, **kwargs):
    tg.manual_seed(seed)
    lstm = tg.nn.LSTM(3, 4, num_layers=2, bidirectional=True, **kwargs)
    out, _ = lstm(tg.randn(steps, 2, 3))
    return out[-1].sum(), lstm


def test_op_level_one_cluster_per_step_with_the_same_ops():
    loss, cell, _ = rnn_cell_loss(steps=3)
    dot = tg.viz.to_dot(loss, module=cell)
    steps = {k: v for k, v in clusters(dot).items() if k and STEP.match(k)}
    assert sorted(steps) == ["cluster_l0/t0", "cluster_l0/t1", "cluster_l0/t2"]
    names = labels(dot)
    ops = [sorted(names[n].split("\\n")[0].split(" = ")[-1]
                  for n in clusters(dot)[f"cluster_l0/t{t}/rnncell"]) for t in range(3)]
    # tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), and at t = 0 the zero state h_0
    assert ops[1] == ops[2] == ["+", "+", "+", ".T", ".T", "@", "@", "tanh"]
    assert ops[0] == sorted(ops[1] + ["0"])  # "h₋₁ = 0", the state before the first step
    assert [names[n] for n in clusters(dot)["cluster_l0/t1"]] == ["x₁\\n(2, 2)"]
    assert sorted(v.split("\\n")[0] for v in names.values() if v.startswith("h")) == \
        ["h₀ = tanh", "h₁ = tanh", "h₂ = tanh", "h₋₁ = 0"]
    assert "× 0.5\\n()" in names.values()  # a scalar op shows its constant


@pytest.mark.parametrize("steps", [5, 12])  # direct edges, and a bus along the steps
def test_parameters_drawn_once_with_an_edge_into_every_step(steps):
    loss, cell, _ = rnn_cell_loss(steps=steps)
    dot = tg.viz.to_dot(loss, module=cell)
    names = labels(dot)
    params = clusters(dot)["cluster_@parameters"]
    assert sorted(names[n].split("\\n")[0] for n in params) == \
        ["bias_hh", "bias_ih", "weight_hh", "weight_ih"]
    assert sum(v.startswith("weight_hh") for v in names.values()) == 1
    out = {}
    for a, b, _ in edges(dot):
        out.setdefault(a, []).append(b)
    step_of = {n: int(STEP.match(c).group(1)) for c, ns in clusters(dot).items()
               if c and STEP.match(c) for n in ns}
    step_of.update({n: int(re.search(r"/t(\d+)/", c).group(1)) for c, ns in clusters(dot).items()
                    if c and "/t" in c and not STEP.match(c) for n in ns})
    (w_hh,) = [n for n in params if names[n].startswith("weight_hh")]
    reached, todo = set(), [w_hh]
    while todo:  # through the bus's relay points
        for b in out.get(todo.pop(), []):
            if b in names:
                reached.add(step_of[b])
            else:
                todo.append(b)
    assert reached == set(range(steps))
    assert ('shape="point"' in dot) == (steps > 8)


@pytest.mark.parametrize("level, per_step", [("cell", 4), ("step", 1)])
def test_cell_and_step_levels(level, per_step):
    loss, lstm = bilstm(steps=4)
    dot = tg.viz.to_dot(loss, level=level, module=lstm)
    steps = {k: v for k, v in clusters(dot).items() if k and STEP.match(k)}
    assert len(steps) == (16 if level == "cell" else 4)
    assert all(len(v) == 1 for v in steps.values())
    assert len({STEP.match(k).group(1) for k in steps}) == 4
    names = labels(dot)
    assert sum(v.startswith("weight_hh_l1_reverse") for v in names.values()) == 1
    if level == "step":
        assert "4 cells" in names[steps["cluster_lstm/t2"][0]]
        assert "lstm: before the steps" in dot and "lstm: after the steps" in dot


def test_deterministic_and_draw_source_matches():
    dots = [tg.viz.to_dot(bilstm(seed=1)[0], level="cell") for _ in range(2)]
    assert dots[0] == dots[1]
    assert "0x" not in dots[0]
    drawing = tg.viz.draw(bilstm(seed=1)[0], level="cell")
    assert isinstance(drawing, graphviz.Digraph) and drawing.source == dots[0]


def snapshot_cases():
    def lstm_cell_elided():
        tg.manual_seed(0)
        cell = tg.nn.LSTMCell(2, 3, peephole=True)
        hs, _ = tg.graph.unroll(cell, tg.randn(9, 1, 2))
        return tg.viz.to_dot(hs[-1].sum(), max_steps=4, module=cell)
    return {
        "rnn_cell_op": lambda: tg.viz.to_dot(rnn_cell_loss()[0], module=rnn_cell_loss()[1]),
        "lstm_layer_cell": lambda: tg.viz.to_dot(*bilstm()[:1], level="cell", module=bilstm()[1]),
        "gru_layer_step_tb": lambda: tg.viz.to_dot(
            tg.nn.GRU(2, 3)(tg.randn(3, 1, 2))[0].sum(), level="step", rankdir="TB"),
        "lstm_cell_elided": lstm_cell_elided,
    }


@pytest.mark.parametrize("name", list(snapshot_cases()))
def test_snapshot(name):
    tg.manual_seed(0)
    dot = snapshot_cases()[name]()
    path = SNAPSHOTS / f"{name}.dot"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(dot, encoding="utf-8")
    assert dot == path.read_text(encoding="utf-8"), f"{name}: DOT differs from {path}"


def test_max_steps_elides_the_middle():
    tg.manual_seed(0)
    cell = tg.nn.GRUCell(2, 3)
    hs, _ = tg.graph.unroll(cell, tg.randn(12, 1, 2))
    dot = tg.viz.to_dot(hs[-1].sum(), level="cell", max_steps=4)
    steps = sorted(int(STEP.match(k).group(1)) for k in clusters(dot) if k and STEP.match(k))
    assert steps == [0, 1, 10, 11]
    assert "8 steps hidden\\n(t = 2 … 9)" in dot
    with pytest.raises(ValueError, match="max_steps"):
        tg.viz.to_dot(hs[-1].sum(), max_steps=0)


def test_big_graphs_are_elided_with_a_warning_and_a_note():
    tg.manual_seed(0)
    cell = tg.nn.LSTMCell(2, 3)
    hs, _ = tg.graph.unroll(cell, tg.randn(30, 1, 2))
    with pytest.warns(UserWarning, match="max_nodes=None"):
        dot = tg.viz.to_dot(hs[-1].sum(), max_nodes=200)
    assert "\tnote [" in dot and "steps hidden" in dot
    assert len(labels(dot)) <= 200
    assert "note [" not in tg.viz.to_dot(hs[-1].sum(), max_nodes=None)


def test_gradient_colours_from_a_recording_or_on_the_spot():
    loss, _, hs = rnn_cell_loss(steps=4)
    on_the_spot = tg.viz.to_dot(loss, level="cell", grads=True)  # graph not freed yet
    for h in hs:
        h.retain_grad()
    with tg.viz.record_grads():
        loss.backward()
    recorded = tg.viz.to_dot(loss, level="cell", grads=True)
    assert recorded == on_the_spot
    assert "gradient norm" in recorded and "legend [label=<<TABLE" in recorded
    step_labels = [labels(recorded)[v[0]] for k, v in sorted(clusters(recorded).items(),
                                                           key=str) if k and STEP.match(k)]
    for h, label in zip(hs, step_labels):  # a cell node shows ‖∂L/∂h_t‖
        assert f"‖g‖ {float((h.grad.numpy() ** 2).sum() ** 0.5):.1e}" in label


def test_gradient_colours_after_a_freed_backward_say_how_to_record():
    loss, _, _ = rnn_cell_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"tg\.viz\.record_grads\(\)"):
        tg.viz.to_dot(loss, grads=True)


def test_highlight_an_anomaly_in_the_backward_pass():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.scope("l0", "t1"):
        y = x.sqrt()
    loss = (y * 2.0).sum()
    with pytest.warns(RuntimeWarning), pytest.raises(tg.AnomalyError) as info, \
            tg.detect_anomaly():
        loss.backward(retain_graph=True)
    dot = tg.viz.to_dot(loss, highlight=info.value)
    (line,) = [s for s in dot.splitlines() if "⚠" in s]
    assert "sqrt" in line and 'color="#d62728"' in line and 'penwidth="3"' in line
    assert re.search(r'subgraph "cluster_l0/t1" \{\n\t*graph \[[^\]]*color="#d62728"', dot)
    with pytest.raises(ValueError, match="not in the graph"):
        tg.viz.to_dot(loss, highlight=tg.ones(1))


def test_highlight_an_anomaly_in_the_forward_pass():
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with pytest.warns(RuntimeWarning), pytest.raises(tg.AnomalyError) as info, \
            tg.detect_anomaly(), tg.scope("rnn", "l0", "t4"):
        (x * 2.0).log()
    dot = tg.viz.to_dot(info.value.tensor, highlight=info.value)
    assert sum("⚠ log" in v for v in labels(dot).values()) == 1


def test_truncated_bptt_cut_drawn_as_a_dashed_edge():
    tg.manual_seed(0)
    cell = tg.nn.RNNCell(2, 3)
    xs = tg.randn(6, 1, 2)
    hs1, h = tg.graph.unroll(cell, xs[:3])
    h = tg.nn.cut(h)
    hs2, _ = tg.graph.unroll(cell, xs[3:], h, start=3)
    alone = tg.viz.to_dot(hs2[-1].sum())
    assert "✂ h₂ (detached)" in alone and "style=\"filled,dashed\"" in alone
    both = tg.viz.to_dot([hs1[-1].sum(), hs2[-1].sum()], level="cell")
    assert sum('label="✂ detach"' in e[2] for e in edges(both)) == 1
    hs3, _ = tg.graph.unroll(cell, xs[3:], tg.nn.detach_state(hs1[-1]), start=3)  # shared data
    plain = tg.viz.to_dot([hs1[-1].sum(), hs3[-1].sum()], level="cell")
    assert sum('label="✂ detach"' in e[2] for e in edges(plain)) == 1


def test_without_dot_to_dot_works_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    loss, _, _ = rnn_cell_loss()
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on the PATH
    assert tg.viz.to_dot(loss).startswith("digraph bptt {")
    with pytest.raises(tg.viz.DotNotFound, match="apt-get install graphviz.*brew install"):
        tg.viz.write(loss, tmp_path / "g.svg")
    with pytest.raises(graphviz.ExecutableNotFound, match="apt-get install graphviz"):
        tg.viz.draw(loss).pipe(format="svg")
    assert tg.viz.write(loss, tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="unknown format"):
        tg.viz.write(loss, tmp_path / "g.jpeg")


def svg_clusters(svg: bytes) -> list[str]:
    ns = {"svg": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    return [g.find("svg:title", ns).text for g in root.iter("{http://www.w3.org/2000/svg}g")
            if g.get("class") == "cluster"]


@needs_dot
@pytest.mark.parametrize("level", ["op", "cell"])
def test_rendered_svg_has_one_cluster_per_time_step(level):
    loss, cell, _ = rnn_cell_loss(steps=4)
    svg = tg.viz.draw(loss, level=level, module=cell).pipe(format="svg")
    steps = [c for c in svg_clusters(svg) if STEP.match(c)]
    assert sorted(steps) == [f"cluster_l0/t{t}" for t in range(4)]
    assert "cluster_@parameters" in svg_clusters(svg)


@needs_dot
def test_two_layer_bidirectional_lstm_100_steps_renders_fast(tmp_path):
    import time
    loss, lstm = bilstm(steps=100)
    start = time.perf_counter()
    path = tg.viz.write(loss, tmp_path / "big.svg", level="cell", module=lstm)
    assert time.perf_counter() - start < 5.0
    assert len([c for c in svg_clusters(path.read_bytes()) if STEP.match(c)]) == 400


@pytest.mark.parametrize("cell", list(CELLS))
def test_command_line_writes_dot_for_every_cell(cell, tmp_path, capsys):
    out = tmp_path / f"{cell}.dot"
    assert main(["graph", "--cell", cell, "--steps", "2", "--grads", "--out", str(out)]) == 0
    assert out.read_text().startswith("digraph bptt {") and "legend" in out.read_text()
    assert str(out) in capsys.readouterr().out


@needs_dot
def test_command_line_renders_svg(tmp_path):
    out = tmp_path / "lstm.svg"
    assert main(["graph", "--cell", "lstm", "--steps", "4", "--level", "op", "--out",
                 str(out)]) == 0
    assert len([c for c in svg_clusters(out.read_bytes()) if STEP.match(c)]) == 4
    assert main(["graph", "--steps", "0", "--out", str(out)]) == 2
