"""Drawings never hang: big graphs are elided or refused at once, ``dot`` runs under a time limit.

Graphviz's time depends on the shape of a graph as much as on its size (see
:mod:`tinygrad_rnn.viz.dot`): a drawing counts every node and edge it would hand to ``dot``,
elides middle time steps above ``max_nodes``, refuses what it cannot elide, and stops ``dot``
after ``timeout`` seconds. No test here takes more than a few seconds, before or after the fix.
"""
import os
import re
import shutil
import time

import pytest

import tinygrad_rnn as tg

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def ctc_loss(frames: int):
    """A CTC loss over ``frames`` frames (~21 nodes a frame), each frame scoped ``t<k>``."""
    tg.manual_seed(0)
    x = tg.randn(frames, 2, 5, requires_grad=True)
    return tg.F.ctc_loss(tg.F.log_softmax(x), [[1, 2, 3], [2, 2, 0]], [frames, frames], [3, 2])


def lstm_loss(steps: int):
    tg.manual_seed(0)
    lstm = tg.nn.LSTM(3, 4)
    out, _ = lstm(tg.randn(steps, 2, 3))
    return out.sum(), lstm


def drawn(dot: str) -> tuple[int, int]:
    """The nodes (relay points included) and edges of DOT text."""
    nodes = re.findall(r"^\s*n\d+ \[", dot, re.MULTILINE)
    return len(nodes), len(re.findall(r"^\s*n\d+ -> ", dot, re.MULTILINE))


@needs_dot
def test_ctc_loss_graph_of_20_frames_renders_in_seconds():
    loss = ctc_loss(20)  # 431 nodes: 29-51 s in dot before the layout was bounded, 0.3 s after
    start = time.perf_counter()
    svg = tg.viz.draw(loss, timeout=20).pipe(format="svg")
    assert time.perf_counter() - start < 5
    assert b"</svg>" in svg


@needs_dot
def test_step_level_of_a_150_step_lstm_renders_in_seconds():
    loss, lstm = lstm_loss(150)  # 456 nodes: 24 s before, 0.1 s after
    start = time.perf_counter()
    svg = tg.viz.draw(loss, level="step", module=lstm, timeout=20).pipe(format="svg")
    assert time.perf_counter() - start < 5
    assert svg.count(b'class="cluster"') >= 150


def chain(ops: int):
    """``ops`` primitive ops in a row, with no time-step scopes."""
    x = tg.randn(3, requires_grad=True)
    for _ in range(ops // 2):
        x = x * 1.001 + 0.1
    return x.sum()


def test_a_long_ctc_loss_is_elided_like_an_unrolled_rnn():
    loss = ctc_loss(200)  # ~4,200 nodes, one time step a frame
    with pytest.warns(UserWarning, match="drew 129 of 200 time steps"):
        drawing = tg.viz.draw(loss)
    assert drawing.nodes <= 3000


def test_a_huge_graph_without_time_steps_is_refused_at_once(tmp_path):
    loss = chain(4200)  # ~4,200 nodes and no time steps to elide
    start = time.perf_counter()
    with pytest.raises(tg.viz.DrawingTooLarge, match=r"(?s)\d+ nodes and \d+ edges.*"
                       r"max_nodes=3000.*no time steps.*max_nodes=None.*to_dot") as refused:
        tg.viz.draw(loss)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(tg.viz.DrawingTooLarge):
        tg.viz.write(loss, tmp_path / "chain.svg")
    assert time.perf_counter() - start < 3
    text = tg.viz.to_dot(loss)  # the DOT text is always there, to render by hand
    assert drawn(text)[0] > 3000
    assert tg.viz.write(loss, tmp_path / "chain.dot").read_text() == text
    assert len(tg.viz.draw(loss, max_nodes=None).source) == len(text)  # at one's own risk


def test_a_huge_synthetic_graph_is_refused_with_what_to_do():
    x = tg.ones(2, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    start = time.perf_counter()
    with pytest.raises(tg.viz.DrawingTooLarge, match=r"5002 nodes and 5001 edges"):
        tg.viz.draw(y.sum(), level="op")
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize("level", ["op", "cell"])
def test_elision_counts_every_drawn_node_relay_points_too(level):
    loss, lstm = lstm_loss(100)
    everything = tg.viz.to_dot(loss, level=level, module=lstm, max_nodes=None)
    assert drawn(everything)[0] > 300
    with pytest.warns(UserWarning, match="max_nodes=300"):
        dot = tg.viz.to_dot(loss, level=level, module=lstm, max_nodes=300)
    nodes, edges = drawn(dot)
    assert 200 < nodes <= 300 and edges <= 600
    assert "steps hidden" in dot


def test_a_graph_elided_to_its_first_and_last_steps_but_still_too_big_is_refused():
    loss, lstm = lstm_loss(30)
    with pytest.raises(tg.viz.DrawingTooLarge, match=r"even with 2 of 30 time steps drawn"
                                                     r".*level='cell'"), \
            pytest.warns(UserWarning, match="drew 2 of 30 time steps"):
        tg.viz.draw(loss, module=lstm, max_nodes=10)


@pytest.mark.skipif(os.name == "nt", reason="the fake dot is a shell script")
def test_a_slow_dot_is_stopped_after_timeout_with_the_sizes_and_what_to_do(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    loss, lstm = lstm_loss(12)
    drawing = tg.viz.draw(loss, module=lstm, timeout=0.5)
    nodes, edges = drawn(drawing.source)
    start = time.perf_counter()
    with pytest.raises(tg.viz.RenderTimeout, match=rf"(?s)timeout=0.5 s.*{nodes} nodes and "
                       rf"{edges} edges.*level='cell'.*max_steps=.*to_dot") as stopped:
        drawing.pipe(format="svg")
    assert isinstance(stopped.value, TimeoutError)
    with pytest.raises(tg.viz.RenderTimeout):
        tg.viz.write(loss, tmp_path / "g.svg", module=lstm, timeout=0.5)
    with pytest.raises(tg.viz.RenderTimeout):
        drawing.render(tmp_path / "g", format="svg")
    assert time.perf_counter() - start < 4
    assert tg.viz.draw(loss).timeout == 30  # the default


@needs_dot
def test_render_writes_beside_the_source_as_graphviz_does(tmp_path):
    loss, lstm = lstm_loss(3)
    drawing = tg.viz.draw(loss, module=lstm)
    path = drawing.render(tmp_path / "g", format="svg")
    assert path == str(tmp_path / "g.svg") and b"</svg>" in (tmp_path / "g.svg").read_bytes()
    assert (tmp_path / "g").read_text() == drawing.source
    out = drawing.render(outfile=tmp_path / "h.png", cleanup=True)
    assert out == str(tmp_path / "h.png") and (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "h.gv").exists()
    assert drawing.pipe(format="svg", encoding="utf-8").rstrip().endswith("</svg>")
