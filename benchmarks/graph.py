"""Time of drawing unrolled graphs: building the DOT text (to_dot) and rendering it (dot -Tsvg).

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/graph.py [--repeats 3] [--timeout 120]

Each row unrolls a model on random input, times ``tg.viz.to_dot`` (pure Python) and Graphviz's
``dot -Tsvg`` on its text (the best of ``--repeats`` runs), and counts the drawn nodes, clusters
and edges. The target: the cell-level graph of a 2-layer bidirectional LSTM over 100 steps
renders in under 5 s. Graphviz's time grows much faster than the graph: keep drawings near
2,000 nodes (``max_steps``, or the automatic elision above ``max_nodes=2000``).
"""
from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable

import tinygrad_rnn as tg

TARGET_S = 5.0  # the 2-layer bidirectional LSTM, 100 steps, cell level


def cell_loop(cell, steps: int):
    hs, _ = tg.graph.unroll(cell, tg.randn(steps, 4, cell.input_size))
    return hs[-1].sum()


def layer(make, steps: int):
    out, _ = make()(tg.randn(steps, 4, 8))
    return out[-1].sum()


def bilstm(**kwargs):
    return lambda: tg.nn.LSTM(8, 16, num_layers=2, bidirectional=True, **kwargs)


#: name -> (root factory, to_dot keyword arguments)
CASES: dict[str, tuple[Callable, dict]] = {
    "RNNCell, 10 steps, op": (lambda: cell_loop(tg.nn.RNNCell(8, 16), 10), {}),
    "LSTMCell, 30 steps, op": (lambda: cell_loop(tg.nn.LSTMCell(8, 16), 30), {}),
    "LSTMCell, 100 steps, cell": (lambda: cell_loop(tg.nn.LSTMCell(8, 16), 100),
                                  {"level": "cell"}),
    "2-layer bi-LSTM, 100 steps, cell": (lambda: layer(bilstm(), 100), {"level": "cell"}),
    "2-layer bi-LSTM, 100 steps, step": (lambda: layer(bilstm(), 100), {"level": "step"}),
    "2-layer bi-LSTM (fused), 100 steps, op": (lambda: layer(bilstm(), 100), {}),
    "2-layer bi-LSTM (unfused), 100 steps, op, auto-elided": (
        lambda: layer(bilstm(fused=False), 100), {}),
    "2-layer bi-LSTM (unfused), 100 steps, op, max_steps=10": (
        lambda: layer(bilstm(fused=False), 100), {"max_steps": 10}),
    "GRU, 1000 steps, cell": (lambda: layer(lambda: tg.nn.GRU(8, 16), 1000), {"level": "cell"}),
    "GRU, 1000 steps, op, auto-elided": (lambda: layer(lambda: tg.nn.GRU(8, 16), 1000), {}),
}


def render_s(dot: str, timeout: float) -> float:
    start = time.perf_counter()
    subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=dot.encode(), check=True,
                   timeout=timeout)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of (default: 3)")
    parser.add_argument("--timeout", type=float, default=120, help="per render, s (default: 120)")
    args = parser.parse_args(argv)
    has_dot = shutil.which("dot") is not None
    version = "dot not installed: build times only"
    if has_dot:
        version = subprocess.run(["dot", "-V"], check=False, capture_output=True,
                                 text=True).stderr.strip()
    print(f"# {platform.python_version()} on {platform.machine()}, {version}")
    print(f"{'graph':58} {'nodes':>6} {'clusters':>8} {'edges':>6} {'to_dot s':>9} "
          f"{'dot -Tsvg s':>11}")
    failed = False
    for name, (make, options) in CASES.items():
        tg.manual_seed(0)
        root = make()
        builds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the elision warning: expected here
                dot = tg.viz.to_dot(root, **options)
            builds.append(time.perf_counter() - start)
        nodes = len(re.findall(r"^\t+(?:n\d+|legend|note) \[", dot, re.MULTILINE))
        clusters = dot.count("subgraph ")
        edges = dot.count(" -> ")
        rendered = "-"
        if has_dot:
            try:
                seconds = min(render_s(dot, args.timeout) for _ in range(args.repeats))
                rendered = f"{seconds:.2f}"
                if name.startswith("2-layer bi-LSTM, 100 steps, cell") and seconds > TARGET_S:
                    failed = True
                    rendered += f" > {TARGET_S} s target"
            except subprocess.TimeoutExpired:
                rendered = f"> {args.timeout:.0f}"
        print(f"{name:58} {nodes:6d} {clusters:8d} {edges:6d} {min(builds):9.3f} "
              f"{rendered:>11}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
