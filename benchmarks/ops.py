"""Forward+backward cost per primitive op: tinygrad_rnn against PyTorch eager, in one run.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/ops.py [--threads 1] [--repeats 7] [--quick]
                                                    [--json rows.json]

Each row builds a chain of about 1,000 primitive ops on a tiny float32 tensor that requires grad
(``y = op(y)`` or ``y = op(y, w)``), calls ``.sum().backward()`` and reports the time per op
(total / number of ops). The chain is written once, as one Python expression, and run with
``lib = tinygrad_rnn`` and with ``lib = torch``: both libraries compute exactly the same thing.
Before timing, each row checks that both libraries give the same result and gradients.

The project's floor: tinygrad_rnn's per-op cost is at most 1.2x PyTorch eager's on tiny arrays
(geometric mean over the tiny rows). It is a floor, not a goal: the engine's backward loop and
``Op.apply`` are written to be read, and readability wins over microseconds on 8-element arrays;
speed lives in the fused ops (see ``train_lstm.py``).
torch is only a reference here (``pip install torch==2.13.0``); the engine never imports it.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

TARGET = 1.2  # floor: tinygrad_rnn per-op time / torch per-op time, geometric mean, tiny arrays
np = tg = torch = None  # imported by load_libraries(), after the thread limits are set


@dataclass
class Case:
    """One row: a chain step written once for both libraries, and the arrays it starts from.

    ``step(lib, y, w, c)`` returns the next ``y``; ``lib`` is ``tinygrad_rnn`` or ``torch``, ``w``
    a second leaf that requires grad (or ``None``) and ``c`` a constant boolean mask (or ``None``).
    ``ops`` is the number of primitive ops one step records; ``steps`` the chain's length
    (``None``: as many steps as make the chain length of the run, 1,000 ops by default);
    ``inner`` the number of independent runs of the whole chain in one timed sample (for rows
    too short to time alone).
    """

    name: str
    step: Callable
    inputs: Callable  # rng -> dict with "x" and optionally "w" and "cond" (NumPy arrays)
    ops: int = 1
    steps: int | None = None
    inner: int = 1
    tiny: bool = True  # counts towards the target and the geometric mean


def vec(rng, lo, hi):
    """A shape-(8,) float32 array of uniform values in [lo, hi)."""
    return rng.uniform(lo, hi, 8).astype(np.float32)


def signed(rng):
    """A shape-(8,) float32 array with both signs, none near zero."""
    return (vec(rng, 0.2, 1.0) * np.array([1, -1] * 4)).astype(np.float32)


def binary(rng, w_width, w_center=0.0):
    """Inputs for a two-tensor chain: ``x`` in [-1, 1) and a second leaf ``w`` near w_center."""
    return {"x": vec(rng, -1, 1), "w": vec(rng, w_center - w_width, w_center + w_width)}


def orthogonal(rng, n):
    """A random orthogonal (n, n) float32 matrix: a long product by it stays finite."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q.astype(np.float32)


def make_cases(chain: int) -> list[Case]:
    """All rows. Every chain keeps its values finite and away from where the op is undefined.

    exp and log cannot be iterated alone (exp(y) > y diverges; log(y) < y - 1 leaves the domain),
    so their rows pair them with one other op and say so in the label; their time per op is the
    average over both ops of the step.
    """
    cases = [
        Case("add     y = y + w", lambda lib, y, w, c: y + w, lambda r: binary(r, .01)),
        Case("sub     y = y - w", lambda lib, y, w, c: y - w, lambda r: binary(r, .01)),
        Case("mul     y = y * w", lambda lib, y, w, c: y * w, lambda r: binary(r, .001, 1)),
        Case("div     y = y / w", lambda lib, y, w, c: y / w, lambda r: binary(r, .001, 1)),
        Case("add scalar  y + 0.001", lambda lib, y, w, c: y + 0.001, lambda r: {"x": signed(r)}),
        Case("mul scalar  y * 0.999", lambda lib, y, w, c: y * 0.999, lambda r: {"x": signed(r)}),
        Case("neg     y = -y", lambda lib, y, w, c: -y, lambda r: {"x": signed(r)}),
        Case("exp(neg)  (-y).exp() [2 ops]", lambda lib, y, w, c: (-y).exp(),
             lambda r: {"x": vec(r, -1, 2)}, ops=2),
        Case("log(y+1)  (y + 1.0).log() [2 ops]", lambda lib, y, w, c: (y + 1.0).log(),
             lambda r: {"x": vec(r, 0.1, 3)}, ops=2),
        Case("tanh    y.tanh()", lambda lib, y, w, c: y.tanh(), lambda r: {"x": signed(r)}),
        Case("sigmoid y.sigmoid()", lambda lib, y, w, c: y.sigmoid(), lambda r: {"x": signed(r)}),
        Case("relu    y.relu()", lambda lib, y, w, c: y.relu(), lambda r: {"x": signed(r)}),
        Case("abs     y.abs()", lambda lib, y, w, c: y.abs(), lambda r: {"x": signed(r)}),
        Case("sqrt    y.sqrt()", lambda lib, y, w, c: y.sqrt(), lambda r: {"x": vec(r, 0.1, 4)}),
        Case("clip    y.clip(-0.5, 0.5)", lambda lib, y, w, c: y.clip(-0.5, 0.5),
             lambda r: {"x": signed(r)}),
        Case("pow     y ** 2", lambda lib, y, w, c: y ** 2, lambda r: {"x": vec(r, 0.99, 0.9999)}),
        Case("maximum lib.maximum(y, w)", lambda lib, y, w, c: lib.maximum(y, w),
             lambda r: binary(r, 1)),
        Case("where   lib.where(c, y, w)", lambda lib, y, w, c: lib.where(c, y, w),
             lambda r: {**binary(r, 1), "cond": np.arange(8) % 3 != 0}),
        Case("matmul  (8,8) @ (8,8) chain", lambda lib, y, w, c: y @ w,
             lambda r: {"x": r.standard_normal((8, 8)).astype(np.float32),
                        "w": orthogonal(r, 8)}, tiny=False),
        Case("matmul  (256,256) @ (256,256) once", lambda lib, y, w, c: y @ w,
             lambda r: {"x": (r.standard_normal((256, 256)) / 16).astype(np.float32),
                        "w": (r.standard_normal((256, 256)) / 16).astype(np.float32)},
             steps=1, inner=max(1, chain // 20), tiny=False),
    ]
    return [c if c.steps else replace(c, steps=chain // c.ops) for c in cases]


def run_chain(lib, case: Case, arrays: dict):
    """Time ``case.inner`` runs of the chain plus ``.sum().backward()``; return the results too.

    The leaves are made before the clock starts. The timed part includes building the graph,
    the backward pass and freeing the graph, which every training step pays.
    Returns (seconds, output value, list of leaf gradients as NumPy arrays).
    """
    x = lib.tensor(arrays["x"], requires_grad=True)
    w = lib.tensor(arrays["w"], requires_grad=True) if "w" in arrays else None
    c = lib.tensor(arrays["cond"]) if "cond" in arrays else None
    step, steps = case.step, case.steps
    start = time.perf_counter()
    for _ in range(case.inner):
        x.grad = None
        if w is not None:
            w.grad = None
        y = x
        for _ in range(steps):
            y = step(lib, y, w, c)
        out = y.sum()
        out.backward()
        value = out.item()
        del y, out  # frees the graph: part of the cost of every step
    seconds = time.perf_counter() - start
    leaves = [x] if w is None else [x, w]
    return seconds, value, [t.grad.numpy() for t in leaves]


def check_same(case: Case, tg_result, torch_result) -> None:
    """Raise ``AssertionError`` unless both libraries computed the same output and gradients."""
    (_, tg_out, tg_grads), (_, torch_out, torch_grads) = tg_result, torch_result
    pairs = [("output", np.float32(tg_out), np.float32(torch_out))]
    pairs += [(f"grad of {n}", a, b) for n, a, b in zip("xw", tg_grads, torch_grads)]
    for what, a, b in pairs:
        scale = max(1.0, float(np.max(np.abs(b))))
        if a.shape != np.shape(b) or not np.allclose(a, b, rtol=1e-3, atol=1e-5 * scale):
            raise AssertionError(f"{case.name}: {what} differs between tinygrad_rnn and torch:\n"
                                 f"  tinygrad_rnn {a}\n  torch        {b}")


def measure(case: Case, repeats: int, seed: int = 0) -> dict:
    """Check a row (this is also the warm-up), then time it ``repeats`` times per library.

    The libraries alternate (tg, torch, tg, torch, ...) so that machine noise hits both alike;
    each library's median is reported in microseconds per primitive op.
    """
    arrays = case.inputs(np.random.default_rng(seed))
    # Long contractive chains (sigmoid, sqrt, exp(neg), pow) drive the input's gradient to 0 in
    # float32, which any library would match; a short prefix of the chain checks real values.
    for checked in (replace(case, steps=min(case.steps, 8), inner=1), case):
        check_same(case, run_chain(tg, checked, arrays), run_chain(torch, checked, arrays))
    times = {"tg": [], "torch": []}
    for _ in range(repeats):
        times["tg"].append(run_chain(tg, case, arrays)[0])
        times["torch"].append(run_chain(torch, case, arrays)[0])
    n_ops = case.inner * case.steps * case.ops
    tg_us, torch_us = (statistics.median(times[k]) / n_ops * 1e6 for k in ("tg", "torch"))
    spread = {k: (max(v) - min(v)) / statistics.median(v) for k, v in times.items()}
    return {"op": case.name, "tiny": case.tiny, "ops_timed": n_ops,
            "tinygrad_rnn_us_per_op": tg_us, "torch_us_per_op": torch_us,
            "ratio": tg_us / torch_us, "pass": tg_us / torch_us <= TARGET,
            "spread_tg": spread["tg"], "spread_torch": spread["torch"]}


def load_libraries(threads: int) -> None:
    """Limit BLAS/OpenMP threads, then import NumPy, tinygrad_rnn and torch into the globals.

    The limits must be set before NumPy or torch is imported: their thread pools read them
    once. Afterwards ``gc.collect(); gc.freeze()`` moves every object that exists so far into
    the permanent generation, which the cyclic GC never scans again. Importing torch creates
    many Python objects (about 167,000, against 21,000 for NumPy and tinygrad_rnn alone), and
    every full (generation-2) collection walks them all: ~110 ms each on the machine of
    RESULTS.md. Any Python code that allocates a lot (tinygrad_rnn's graph nodes, torch's Python
    wrappers) triggers such collections now and then, so without the freeze a row could be
    charged for torch's import. Frozen, the tax is gone for both libraries alike.
    """
    global np, tg, torch
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
    import numpy

    import tinygrad_rnn
    np, tg = numpy, tinygrad_rnn
    try:
        import torch as torch_module
    except ImportError:
        sys.exit("benchmarks/ops.py needs PyTorch as its reference, and it is not installed:\n"
                 "    pip install torch==2.13.0")
    torch = torch_module
    torch.set_num_threads(threads)
    gc.collect()
    gc.freeze()


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or what the platform module knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def print_table(rows: list[dict], args) -> None:
    """The header, one line per row and the geometric mean ratio over the tiny-array rows."""
    print("tinygrad_rnn vs PyTorch eager: forward+backward time per primitive op "
          "(median of the repeats)")
    print(f"floor: tinygrad_rnn per-op cost <= {TARGET}x PyTorch eager's on tiny arrays, on the "
          f"geometric mean (a row with ratio <= {TARGET} -> PASS)")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"settings: threads={args.threads} repeats={args.repeats} chain={args.chain} ops; "
          "rows marked * are not tiny elementwise rows (no target, not in the mean)")
    print()
    print(f"{'op':<38} {'tg us/op':>9} {'torch us/op':>12} {'ratio':>7}  target")
    for r in rows:
        mark = "PASS" if r["pass"] else "MISS"
        name = r["op"] if r["tiny"] else "* " + r["op"]
        print(f"{name:<38} {r['tinygrad_rnn_us_per_op']:>9.2f} {r['torch_us_per_op']:>12.2f} "
              f"{r['ratio']:>7.2f}  {mark if r['tiny'] else '(' + mark + ')'}")
    tiny = [r["ratio"] for r in rows if r["tiny"]]
    geo = math.exp(sum(math.log(x) for x in tiny) / len(tiny))
    passed = sum(r["pass"] for r in rows if r["tiny"])
    print()
    verdict = "PASS" if geo <= TARGET else "MISS"
    print(f"geometric mean ratio over the {len(tiny)} tiny-array rows: {geo:.2f} "
          f"(floor <= {TARGET}: {verdict}); {passed}/{len(tiny)} rows PASS")


def parse_args(argv=None):
    """Command-line flags."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (1)")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per library and row (7)")
    p.add_argument("--quick", action="store_true",
                   help="a few-second smoke run: chains of 200 ops, 3 repeats")
    p.add_argument("--json", metavar="PATH", help="also write the rows to PATH as JSON")
    args = p.parse_args(argv)
    args.chain = 200 if args.quick else 1000
    if args.quick:
        args.repeats = min(args.repeats, 3)
    return args


def main(argv=None) -> None:
    """Measure every row and print the table (and write the JSON file when asked)."""
    args = parse_args(argv)
    load_libraries(args.threads)
    rows = [measure(case, args.repeats) for case in make_cases(args.chain)]
    print_table(rows, args)
    if args.json:
        meta = {"threads": args.threads, "repeats": args.repeats, "chain": args.chain,
                "cpu": cpu_model(), "numpy": np.__version__, "torch": torch.__version__,
                "python": platform.python_version(), "target": TARGET}
        Path(args.json).write_text(json.dumps({"settings": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
