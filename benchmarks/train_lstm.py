"""Training throughput of tinygrad_rnn on the peers' workload, measured beside the peers in one run.

The workload (``shared/bench/peers/``): token ids (T, B) -> embedding (V, E) -> one recurrent
layer (LSTM, GRU or RNN, hidden H) -> linear decoder H -> V at every step -> mean softmax
cross-entropy -> backward through time -> SGD step. Initial weights, batches, the timing loop
and the peak-memory reading are the peers' own code (their COMMON section, imported from
``numpy_bptt.py``), so every row is measured the same way; each measurement runs in a fresh
child process. For each (config, cell) the peers and tinygrad_rnn run back to back, so a busy
period of the machine hits all of them alike and their ratios stay comparable.

    python benchmarks/train_lstm.py                       # small, medium, large; LSTM, GRU, RNN
    python benchmarks/train_lstm.py --config small --cell lstm gru rnn --steps 20
    python benchmarks/train_lstm.py --peers PATH/TO/bench/peers --json out.jsonl
    python benchmarks/train_lstm.py --rounds 3            # verdicts on the median of 3 rounds
    python benchmarks/train_lstm.py --interleaved         # with NumPy BPTT, in one process
    python benchmarks/train_lstm.py --device cuda --config small medium large xl

``--device cuda`` runs tinygrad_rnn on the GPU (CuPy) beside torch's fused layers on the same
GPU (the peers' weights and batches, parameters moved with ``.cuda()``); the NumPy peers and
torch on the CPU are left out. ``xl`` (batch 256, hidden 1024) exists for the GPU only.
``benchmarks/gpu_run.sh`` runs this and the CUDA test suite in one command.

The peers are looked for in ``$TINYGRAD_RNN_PEERS``, else in ``../shared/bench/peers`` beside
the repository. torch is optional (``pip install torch==2.13.0``); without it the torch
columns are empty.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package
TARGETS = {  # targets of the project, as (column, config) -> minimum ratio of tokens/s; those
    # against the hand-written NumPy BPTT hold for every cell (LSTM, GRU, tanh RNN), torch's
    # for the LSTM
    ("numpy hoisted", "small"): 0.5, ("torch primitive", "small"): 2.0,
    ("numpy hoisted", "medium"): 0.85, ("torch primitive", "medium"): 1.3,
    ("numpy hoisted", "large"): 0.9,
}
MEMORY_TARGET = 1.5  # peak RSS at most this times the hoisted NumPy BPTT's
GPU_CONFIGS = {"xl": {"vocab": 65, "input": 128, "hidden": 1024, "batch": 256, "seq": 100,
                      "warmup": 3, "steps": 12}}


def target(name: str, cfg: str, cell: str) -> float | None:
    """The minimum ratio against column ``name`` for (``cfg``, ``cell``), or None."""
    if cell == "lstm" or name == "numpy hoisted":
        return TARGETS.get((name, cfg))
    return None


def peers_dir(arg: str | None) -> Path:
    """The folder of the peer scripts, or exit with a message saying where it was looked for."""
    for candidate in (arg, os.environ.get("TINYGRAD_RNN_PEERS"),
                      REPO.parent / "shared" / "bench" / "peers"):
        if candidate and (Path(candidate) / "numpy_bptt.py").exists():
            return Path(candidate)
    sys.exit("train_lstm.py: cannot find the peer benchmarks (numpy_bptt.py); pass --peers DIR "
             "or set TINYGRAD_RNN_PEERS")


def load_common(peers: Path):
    """The peers' COMMON helpers (init_params, make_batches, measure_quiet, ...) as a module."""
    spec = importlib.util.spec_from_file_location("peer_common", peers / "numpy_bptt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_step(common, cfg: dict, cell: str, args):
    """tinygrad_rnn's training step, with the peers' initial weights loaded into its modules."""
    import numpy as np

    import tinygrad_rnn as tg

    dtype, device = np.dtype(args.dtype), args.device
    p = common.init_params(cfg, cell, args.seed, dtype)
    V, E, H = cfg["vocab"], cfg["input"], cfg["hidden"]
    layer_cls = {"lstm": tg.nn.LSTM, "gru": tg.nn.GRU, "rnn": tg.nn.RNN}[cell]
    emb = tg.nn.Embedding(V, E, dtype=dtype)
    rnn = layer_cls(E, H).to(dtype=dtype)
    dec = tg.nn.Linear(H, V, dtype=dtype)
    emb.weight.data[...] = p["emb"]
    rnn.weight_ih_l0.data[...] = p["W"][:E].T
    rnn.weight_hh_l0.data[...] = p["W"][E:].T
    rnn.bias_ih_l0.data[...] = p["b_ih"] if cell == "gru" else p["b"]
    rnn.bias_hh_l0.data[...] = p["b_hh"] if cell == "gru" else 0
    dec.weight.data[...] = p["Wd"].T
    dec.bias.data[...] = p["bd"]
    for module in (emb, rnn, dec):
        module.to(device)
    params = [*emb.parameters(), *rnn.parameters(), *dec.parameters()]
    opt = tg.optim.SGD(params, lr=args.lr)

    def step(X, Y):
        T, B = X.shape
        X, Y = tg.tensor(X, device=device), tg.tensor(Y, device=device)
        out, _ = rnn(emb(X))
        loss = tg.F.cross_entropy(dec(out.reshape(T * B, H)), Y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def run_child(args) -> int:
    """Measure tinygrad_rnn once (this process is fresh: its peak RSS is this measurement's)."""
    common = load_common(Path(args.peers))
    common.set_threads_env(args.threads)
    common.import_numpy()
    import numpy as np

    import tinygrad_rnn as tg

    cfg = dict(configs(common)[args.config[0]], name=args.config[0])
    cell = args.cell[0]
    warmup = args.warmup if args.warmup is not None else cfg["warmup"]
    steps = args.steps if args.steps is not None else cfg["steps"]
    base = common.rss_now_mb()
    batches = common.make_batches(cfg, args.seed)
    step = build_step(common, cfg, cell, args)
    times, losses, load = common.measure_quiet(step, batches, warmup, steps, args)
    extra = {"peer": "tinygrad_rnn", "impl": "layer", "device": args.device,
             "dtype": args.dtype, "warmup": warmup,
             "steps": steps, "lr": args.lr, "base_rss_mb": base,
             "peak_rss_mb": common.peak_rss_mb(),
             "versions": {"numpy": np.__version__, "tinygrad_rnn": tg.__version__},
             "host": common.host_info(args.threads)}
    extra.update(load)
    print(json.dumps(common.summarize(times, losses, cfg, cell, extra)), flush=True)
    return 0


def configs(common) -> dict:
    return dict(common.CONFIGS, **GPU_CONFIGS)


def run_torch_cuda_child(args) -> int:
    """Measure torch's fused layers on the GPU once: the peers' model, moved with ``.cuda()``."""
    peers = Path(args.peers)
    spec = importlib.util.spec_from_file_location("torch_peer", peers / "torch_lstm.py")
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    peer.set_threads_env(args.threads)
    peer.import_numpy()
    peer.import_torch(args.threads)
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        print(f"torch {torch.__version__} has no usable CUDA here: its column stays empty",
              file=sys.stderr)
        return 0
    cfg = dict(configs(peer)[args.config[0]], name=args.config[0])
    cell = args.cell[0]
    warmup = args.warmup if args.warmup is not None else cfg["warmup"]
    steps = args.steps if args.steps is not None else cfg["steps"]
    p = peer.init_params(cfg, cell, args.seed, np.dtype(args.dtype))
    params, loss_fn, _ = peer.build_fused(cell, p, cfg)
    for q in params:  # the modules hold these Parameter objects: moving .data moves them
        q.data = q.data.cuda()
    opt = torch.optim.SGD(params, lr=args.lr)
    batches = [(torch.from_numpy(X).cuda(), torch.from_numpy(Y).cuda())
               for X, Y in peer.make_batches(cfg, args.seed)]

    def step(X, Y):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(X, Y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the GPU, as tinygrad_rnn's step does

    times, losses, load = peer.measure_quiet(step, batches, warmup, steps, args)
    extra = {"peer": "torch", "impl": "fused", "device": "cuda", "dtype": args.dtype,
             "warmup": warmup, "steps": steps, "lr": args.lr,
             "gpu_peak_mb": torch.cuda.max_memory_allocated() / 2 ** 20,
             "versions": {"numpy": np.__version__, "torch": torch.__version__,
                          "gpu": torch.cuda.get_device_name()},
             "host": peer.host_info(args.threads)}
    extra.update(load)
    print(json.dumps(peer.summarize(times, losses, cfg, cell, extra)), flush=True)
    return 0


def measure_gpu(args) -> list[dict]:
    """Every (config, cell): torch's fused layers, then tinygrad_rnn, on the same GPU."""
    peers, py, records = Path(args.peers), sys.executable, []
    for cfg in args.config:
        for cell in args.cell:
            flags = common_flags(args, cfg, cell) + ["--device", "cuda"]
            print(f"== {cfg} {cell} on the GPU", file=sys.stderr, flush=True)
            if has_torch():
                records += run([py, __file__, "--_torch_child", "--peers", str(peers), *flags])
            records += run([py, __file__, "--_child", "--peers", str(peers), *flags])
    return records


def report_gpu(records: list[dict]) -> None:
    print("\ntokens/s on the GPU (median step); ratio = tinygrad_rnn / torch fused (cuDNN)")
    by = {(r["config"], r["cell"], r["peer"]): r for r in records}
    for cfg, cell in sorted({(r["config"], r["cell"]) for r in records}):
        ours, torch = by.get((cfg, cell, "tinygrad_rnn")), by.get((cfg, cell, "torch"))
        line = f"{cfg:7s} {cell:5s} "
        line += f"{ours['tokens_per_s']:12,.0f}" if ours else f"{'failed':>12s}"
        if torch:
            line += f" {torch['tokens_per_s']:12,.0f}"
            if ours:
                line += f" {ours['tokens_per_s'] / torch['tokens_per_s']:6.2f}x"
        print(line)


def run_interleaved(args) -> int:
    """tinygrad_rnn and the hand-written NumPy BPTT (hoisted) in one process, step by step.

    Each round times one training step of each, alternately, on the same batches: a busy moment
    of the machine slows both alike. Prints the fastest and the median step of each and their
    ratios. (torch is left out: its thread pool would compete with NumPy's in one process.)
    """
    import time

    common = load_common(Path(args.peers))
    common.set_threads_env(args.threads)
    common.import_numpy()
    import numpy as np

    print("interleaved in one process: time per training step, fastest / median; "
          "ratio = tokens/s of tinygrad_rnn / NumPy BPTT (hoisted)")
    for name in args.config:
        cfg = dict(common.CONFIGS[name], name=name)
        for cell in args.cell:
            batches = common.make_batches(cfg, args.seed)
            p = common.init_params(cfg, cell, args.seed, np.dtype(args.dtype))
            steps = {"tinygrad_rnn": build_step(common, cfg, cell, args),
                     "numpy hoisted": common.build("hoisted", cell, p, cfg["seq"],
                                                   cfg["batch"], args.lr).step}
            warmup = args.warmup if args.warmup is not None else cfg["warmup"]
            count = args.steps if args.steps is not None else cfg["steps"]
            times: dict = {k: [] for k in steps}
            for i in range(warmup + count):
                X, Y = batches[i % len(batches)]
                for k, step in steps.items():
                    start = time.perf_counter()
                    step(X, Y)
                    if i >= warmup:
                        times[k].append(time.perf_counter() - start)
            best = {k: min(v) for k, v in times.items()}
            mid = {k: statistics.median(v) for k, v in times.items()}
            print(f"{name:7s} {cell:5s} " + "  ".join(
                f"{k} {best[k] * 1e3:.2f} / {mid[k] * 1e3:.2f} ms" for k in steps) +
                f"   ratio {best['numpy hoisted'] / best['tinygrad_rnn']:.2f}x fastest, "
                f"{mid['numpy hoisted'] / mid['tinygrad_rnn']:.2f}x median")
    return 0


def run(cmd: list[str]) -> list[dict]:
    """Run one measuring command; its JSON lines (progress goes to stderr)."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if r.returncode:
        print(f"  command failed ({r.returncode}): {' '.join(cmd)}", file=sys.stderr)
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def common_flags(args, cfg: str, cell: str) -> list[str]:
    flags = ["--config", cfg, "--cell", cell, "--threads", str(args.threads), "--dtype",
             args.dtype, "--lr", repr(args.lr), "--seed", str(args.seed), "--wait",
             repr(args.wait), "--max-bg", repr(args.max_bg), "--retries", str(args.retries)]
    for name in ("steps", "warmup"):
        if getattr(args, name) is not None:
            flags += [f"--{name}", str(getattr(args, name))]
    return flags


def has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def measure_all(args) -> list[dict]:
    """Every round, every (config, cell): NumPy BPTT, torch, then tinygrad_rnn, back to back."""
    peers, py, records = Path(args.peers), sys.executable, []
    for round_ in range(args.rounds):
        for cfg in args.config:
            for cell in args.cell:
                flags = common_flags(args, cfg, cell)
                print(f"== round {round_ + 1}/{args.rounds}: {cfg} {cell}", file=sys.stderr,
                      flush=True)
                found = run([py, str(peers / "numpy_bptt.py"), *flags, "--impl", "hoisted",
                             "perstep"])
                if has_torch():
                    found += run([py, str(peers / "torch_lstm.py"), *flags, "--impl",
                                  "primitive", "fused"])
                found += run([py, __file__, "--_child", "--peers", str(peers), *flags])
                records += [dict(r, round=round_) for r in found]
    return records


COLUMNS = [("numpy hoisted", "numpy_bptt", "hoisted"), ("numpy perstep", "numpy_bptt", "perstep"),
           ("torch primitive", "torch", "primitive"), ("torch fused", "torch", "fused")]


def report(records: list[dict]) -> None:
    """Per round: tokens/s per row and tinygrad_rnn's ratios; then the targets.

    A ratio is always taken between measurements of the same round (minutes apart). With
    several rounds the verdict uses the median of the rounds' ratios, and prints their range:
    on a shared machine one busy minute moves a single ratio by tens of percent.
    """
    ratios: dict = {}   # (config, cell, target column) -> [ratio per round]
    memory: dict = {}   # (config, cell) -> [peak RSS ratio per round]
    rounds = sorted({r.get("round", 0) for r in records})
    for round_ in rounds:
        if len(rounds) > 1:
            print(f"\nround {round_ + 1} of {len(rounds)}", end="")
        table([r for r in records if r.get("round", 0) == round_], ratios, memory)
    print()
    for (cfg, cell, name), found in ratios.items():
        goal = target(name, cfg, cell)
        mid = statistics.median(found)
        spread = f" (rounds: {min(found):.2f}-{max(found):.2f}x)" if len(found) > 1 else ""
        print(f"{cfg} {cell} vs {name}: {mid:.2f}x{spread} (target >= {goal}x) "
              f"{'PASS' if mid >= goal else 'MISS'}")
    for (cfg, cell), found in memory.items():
        worst = max(found)
        print(f"{cfg} {cell} peak memory: {worst:.2f}x hoisted NumPy (target <= {MEMORY_TARGET}x) "
              f"{'PASS' if worst <= MEMORY_TARGET else 'MISS'}")


def table(records: list[dict], ratios: dict, memory: dict) -> None:
    """One round's table; its ratios against the targets are added to ``ratios``."""
    by = {(r["config"], r["cell"], r["peer"], r["impl"]): r for r in records}
    rows = sorted({(r["config"], r["cell"]) for r in records},
                  key=lambda k: (["small", "medium", "large"].index(k[0]), k[1]))
    print("\ntokens/s (median step); ratio = tinygrad_rnn / peer, measured in the same run")
    print(f"{'config':7s} {'cell':5s} {'tinygrad_rnn':>12s}" +
          "".join(f" {name:>16s}" for name, _, _ in COLUMNS) + "   peak MB (ours / hoisted)")
    for cfg, cell in rows:
        ours = by.get((cfg, cell, "tinygrad_rnn", "layer"))
        if ours is None:
            continue
        line = f"{cfg:7s} {cell:5s} {ours['tokens_per_s']:12,.0f}"
        for name, peer, impl in COLUMNS:
            r = by.get((cfg, cell, peer, impl))
            if r is None:
                line += f" {'-':>16s}"
                continue
            ratio = ours["tokens_per_s"] / r["tokens_per_s"]
            line += f" {r['tokens_per_s']:8,.0f} {ratio:5.2f}x"
            if target(name, cfg, cell) is not None:
                ratios.setdefault((cfg, cell, name), []).append(ratio)
        hoisted = by.get((cfg, cell, "numpy_bptt", "hoisted"))
        if hoisted:
            mem = ours["peak_rss_mb"] / hoisted["peak_rss_mb"]
            line += f"   {ours['peak_rss_mb']:.0f} / {hoisted['peak_rss_mb']:.0f} = {mem:.2f}x"
            memory.setdefault((cfg, cell), []).append(mem)
            first = abs(ours["loss_first"] - hoisted["loss_first"])
            if first > 1e-3 * abs(hoisted["loss_first"]):
                line += (f"\n  first-step loss {ours['loss_first']:.6f} differs from NumPy's "
                         f"{hoisted['loss_first']:.6f}: NOT the same workload")
        print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", nargs="+", default=["small", "medium", "large"],
                    choices=["small", "medium", "large", *GPU_CONFIGS])
    ap.add_argument("--cell", nargs="+", default=["lstm", "gru", "rnn"],
                    choices=["lstm", "gru", "rnn"])
    ap.add_argument("--peers", default=None, help="folder of the peer scripts")
    ap.add_argument("--threads", type=int, default=2, help="BLAS/OpenMP/torch threads (2)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default per config)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up steps (default per config)")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wait", type=float, default=10.0,
                    help="seconds to wait for a quiet machine before each measurement")
    ap.add_argument("--max-bg", type=float, default=0.3, help="others' load counted as quiet")
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure everything this many times; verdicts on the median ratio")
    ap.add_argument("--json", default=None, help="also write every record to this file")
    ap.add_argument("--interleaved", action="store_true",
                    help="tinygrad_rnn and NumPy BPTT alternately in one process (no torch)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where tinygrad_rnn trains; cuda: beside torch on the same GPU")
    ap.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_torch_child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.peers = str(peers_dir(args.peers))
    if args._child:
        return run_child(args)
    if args._torch_child:
        return run_torch_cuda_child(args)
    if args.device == "cpu" and set(args.config) & set(GPU_CONFIGS):
        ap.error(f"--config {' '.join(GPU_CONFIGS)} is for --device cuda only")
    if args.interleaved:
        return run_interleaved(args)
    records = measure_gpu(args) if args.device == "cuda" else measure_all(args)
    if args.json:
        with open(args.json, "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records)
    report_gpu(records) if args.device == "cuda" else report(records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
