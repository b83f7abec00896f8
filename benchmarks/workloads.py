"""The code users run, beside PyTorch: training steps of well-known recurrent models, same weights.

Each workload is written once, against a small table of names (``Lib``) that both libraries
fill, so the two models are the same code: the modules come from ``tg.nn`` or ``torch.nn``,
and the few functions whose spelling differs (``axis=`` / ``dim=``, ``concat`` / ``cat``) are
looked up in the table. The models are written here from the public descriptions of

- PyTorch's ``word_language_model`` example: Embedding -> dropout -> 2-layer LSTM, GRU or tanh
  RNN -> dropout -> Linear decoder (optionally tied to the embedding) -> ``log_softmax`` and
  ``nll_loss`` over the vocabulary; SGD with the global gradient norm clipped at 0.25; bptt 35,
  batch 20, 10,578 words, emsize = nhid = 200, dropout 0.2; the hidden state carried from batch
  to batch (detached);
- d2l.ai's concise recurrent language models: one-hot characters (vocabulary 28) -> RNN, GRU,
  LSTM, a 2-layer GRU or a bidirectional GRU (hidden 32) -> Linear; cross-entropy; SGD lr 1,
  norm clipped at 1; batch 1024 x 32 steps;
- d2l.ai's sequence to sequence model: a 2-layer GRU encoder and a GRU decoder fed the
  encoder's last state at every step (embed = hidden = 256, dropout 0.2, batch 128 x 9 steps,
  vocabularies 194 and 214, padded targets ignored by the loss), Adam lr 0.005, clipping 1;
- d2l.ai's Bahdanau attention decoder: the same encoder, and a decoder that at every step
  scores the encoder's outputs against its state with additive attention (``tanh`` of the two
  projections summed, a masked softmax over the valid source steps) and feeds the context with
  the next token's embedding to its GRU, one step at a time.

Token ids are synthetic (a seeded generator); no dataset is read.

What is printed, per workload: the median CPU time of a training step of each library and the
tokens per second it gives, the ratio (ours / torch, higher is better), the losses of the two
at step 1 and 2 from the same weights (dropout off for that check, so the two compute the same
numbers), and the peak memory of each. The libraries alternate step by step in one process,
one thread each (``OPENBLAS_NUM_THREADS=1``, ``torch.set_num_threads(1)``), so a busy moment of
the machine slows both alike; CPU time (``time.process_time``) is counted, not wall time.

Peak memory is measured in a fresh child process per (workload, library), which imports only
that library: the resident set size after the model and the batches are built, subtracted
from the kernel's high-water mark of the resident set after three training steps (Linux's
``VmHWM``, reset after building). It counts every allocation (NumPy's and torch's own
allocator alike), which ``tracemalloc`` would not (it sees NumPy's arrays, not torch's).

    python benchmarks/workloads.py                  # every workload
    python benchmarks/workloads.py --only word_lm_lstm d2l_gru --steps 10
    python benchmarks/workloads.py --no-memory      # skip the child processes
    python benchmarks/workloads.py --profile word_lm_lstm   # time per op type, both libraries
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package

import numpy as np

TARGETS = {"word_lm": 0.8, "d2l": 0.9, "seq2seq": 0.9, "attention": 0.7}
MEMORY_TARGET = 1.5  # our peak at most this times torch's


# ---------------------------------------------------------------------------------------------
# The two libraries behind one table of names


class Lib:
    """What the models need from a library; the subclasses fill it in."""

    axis = "axis"  # the keyword of an axis argument: ``axis`` here, ``dim`` in torch

    def cat(self, ts, axis):
        return self.concat_fn(ts, **{self.axis: axis})

    def stack(self, ts, axis):
        return self.stack_fn(ts, **{self.axis: axis})

    def log_softmax(self, x, axis):
        return self.F.log_softmax(x, **{self.axis: axis})

    def softmax(self, x, axis):
        return self.F.softmax(x, **{self.axis: axis})


class Ours(Lib):
    name = "tinygrad_rnn"

    def __init__(self):
        import tinygrad_rnn as tg

        tg.set_num_threads(1)
        self.tg, self.nn, self.F = tg, tg.nn, tg.F
        self.concat_fn, self.stack_fn = tg.concat, tg.stack
        self.clip = tg.nn.utils.clip_grad_norm_
        self.SGD, self.Adam = tg.optim.SGD, tg.optim.Adam

    def tensor(self, a):
        return self.tg.tensor(a)

    def one_hot(self, x, n):
        return self.F.one_hot(x, n).astype(np.float32)

    def load(self, model, state: dict):
        model.load_state_dict(state)

    def state(self, model) -> dict:
        return model.state_dict()


class Torch(Lib):
    name, axis = "torch", "dim"

    def __init__(self):
        import torch

        torch.set_num_threads(1)
        self.torch, self.nn, self.F = torch, torch.nn, torch.nn.functional
        self.concat_fn, self.stack_fn = torch.cat, torch.stack
        self.clip = torch.nn.utils.clip_grad_norm_
        self.SGD, self.Adam = torch.optim.SGD, torch.optim.Adam

    def tensor(self, a):
        return self.torch.from_numpy(np.ascontiguousarray(a))

    def one_hot(self, x, n):
        return self.F.one_hot(x, n).float()

    def load(self, model, state: dict):
        model.load_state_dict({k: self.torch.from_numpy(np.array(v)) for k, v in state.items()})

    def state(self, model) -> dict:
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


# ---------------------------------------------------------------------------------------------
# The models, written once


def word_lm(L, cell: str, ntoken=10578, ninp=200, nhid=200, nlayers=2, dropout=0.2,
            tie=False):
    """The word language model: encoder, stacked recurrent layer, decoder, log-probabilities."""
    class RNNModel(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = L.nn.Dropout(dropout)
            self.encoder = L.nn.Embedding(ntoken, ninp)
            layer = {"LSTM": L.nn.LSTM, "GRU": L.nn.GRU}.get(cell)
            self.rnn = (layer(ninp, nhid, nlayers, dropout=dropout) if layer else
                        L.nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=dropout))
            self.decoder = L.nn.Linear(nhid, ntoken)
            if tie:
                self.decoder.weight = self.encoder.weight

        def forward(self, x, hidden):
            emb = self.drop(self.encoder(x))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output))
            return L.log_softmax(decoded.reshape(-1, ntoken), axis=1), hidden

    return RNNModel()


def d2l_lm(L, cell: str, vocab=28, hidden=32):
    """d2l's concise language model: one-hot inputs, a recurrent layer, a linear output."""
    class RNNModel(L.nn.Module):
        def __init__(self):
            super().__init__()
            layers = 2 if cell == "deep" else 1
            kind = {"rnn": L.nn.RNN, "lstm": L.nn.LSTM}.get(cell, L.nn.GRU)
            self.rnn = kind(vocab, hidden, layers, bidirectional=cell == "bi")
            self.linear = L.nn.Linear(hidden * (2 if cell == "bi" else 1), vocab)

        def forward(self, x):
            y, _ = self.rnn(L.one_hot(x.T, vocab))
            return self.linear(y.reshape(-1, y.shape[-1]))

    return RNNModel()


def seq2seq(L, attention: bool, src_vocab=194, tgt_vocab=214, embed=256, hidden=256,
            layers=2, dropout=0.2):
    """d2l's encoder-decoder: a GRU encoder, and a GRU decoder with or without attention."""
    nn = L.nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(src_vocab, embed)
            self.rnn = nn.GRU(embed, hidden, layers, dropout=dropout)

        def forward(self, x):
            return self.rnn(self.embedding(x.T))      # outputs (T, B, H), state (layers, B, H)

    class AdditiveAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_k = nn.Linear(hidden, hidden, bias=False)
            self.W_q = nn.Linear(hidden, hidden, bias=False)
            self.w_v = nn.Linear(hidden, 1, bias=False)
            self.dropout = nn.Dropout(dropout)

        def forward(self, queries, keys, values, mask):
            q, k = self.W_q(queries), self.W_k(keys)            # (B, 1, H), (B, K, H)
            B, K = k.shape[0], k.shape[1]
            features = (q.reshape(B, 1, 1, hidden) + k.reshape(B, 1, K, hidden)).tanh()
            scores = self.w_v(features).reshape(B, 1, K) + mask  # masked: -1e6 past the end
            return self.dropout(L.softmax(scores, axis=-1)) @ values

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            if attention:
                self.attention = AdditiveAttention()
            self.embedding = nn.Embedding(tgt_vocab, embed)
            self.rnn = nn.GRU(embed + hidden, hidden, layers, dropout=dropout)
            self.dense = nn.Linear(hidden, tgt_vocab)

        def forward(self, x, enc_outputs, state, mask):
            embs = self.embedding(x.T)                        # (T, B, E)
            T, B = embs.shape[0], embs.shape[1]
            if not attention:  # the encoder's last top state beside every input
                context = L.stack([enc_outputs[-1]] * T, axis=0)
                outputs, state = self.rnn(L.cat([embs, context], axis=2), state)
                return self.dense(outputs), state
            keys = enc_outputs.transpose(0, 1)                 # (B, K, H)
            outputs = []
            for t in range(T):
                query = state[-1].reshape(B, 1, hidden)
                context = self.attention(query, keys, keys, mask)        # (B, 1, H)
                xt = L.cat([context, embs[t].reshape(B, 1, embed)], axis=2)
                out, state = self.rnn(xt.transpose(0, 1), state)
                outputs.append(out)
            return self.dense(L.cat(outputs, axis=0)), state

    class EncoderDecoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = Encoder(), Decoder()

        def forward(self, src, tgt_in, mask):
            enc_outputs, state = self.encoder(src)
            logits, _ = self.decoder(tgt_in, enc_outputs, state, mask)
            return logits.reshape(-1, tgt_vocab)

    return EncoderDecoder()


# ---------------------------------------------------------------------------------------------
# Workloads: data, model and one training step, for either library


def update(L, model, opt, loss, clip: float) -> float:
    """The end of every training step: backward, the global norm clipped, the optimiser's step."""
    opt.zero_grad()
    loss.backward()
    L.clip(model.parameters(), clip)
    opt.step()
    return loss.item()


def detach(h):
    return tuple(x.detach() for x in h) if isinstance(h, tuple) else h.detach()


class WordLM:
    family, bptt, batch, ntoken = "word_lm", 35, 20, 10578

    def __init__(self, cell: str, tie: bool = False):
        self.cell, self.tie = cell, tie
        self.name = f"word_lm_{cell.lower()}{'_tied' if tie else ''}"
        self.tokens = self.bptt * self.batch

    def data(self, seed: int, n: int = 4):
        rng = np.random.default_rng(seed)
        ids = rng.integers(0, self.ntoken, (n * self.bptt + 1, self.batch))
        return [(ids[i * self.bptt:(i + 1) * self.bptt],
                 ids[i * self.bptt + 1:(i + 1) * self.bptt + 1].reshape(-1)) for i in range(n)]

    def build(self, L):
        model = word_lm(L, self.cell, self.ntoken, tie=self.tie)
        opt = L.SGD(model.parameters(), lr=20.0)
        zeros = np.zeros((2, self.batch, 200), np.float32)
        hidden = [(L.tensor(zeros), L.tensor(zeros)) if self.cell == "LSTM" else L.tensor(zeros)]

        def step(x, y):
            output, hidden[0] = model(L.tensor(x), detach(hidden[0]))
            return update(L, model, opt, L.F.nll_loss(output, L.tensor(y)), 0.25)

        return model, step


class D2lLM:
    family, batch, steps, vocab = "d2l", 1024, 32, 28

    def __init__(self, cell: str):
        self.cell, self.name = cell, f"d2l_{cell}"
        self.tokens = self.batch * self.steps

    def data(self, seed: int, n: int = 4):
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            ids = rng.integers(0, self.vocab, (self.batch, self.steps + 1))
            out.append((ids[:, :-1], ids[:, 1:].T.reshape(-1)))  # targets in (T, B) order
        return out

    def build(self, L):
        model = d2l_lm(L, self.cell, self.vocab)
        opt = L.SGD(model.parameters(), lr=1.0)

        def step(x, y):
            return update(L, model, opt, L.F.cross_entropy(model(L.tensor(x)), L.tensor(y)), 1.0)

        return model, step


class Seq2Seq:
    family, batch, steps, src_vocab, tgt_vocab, pad = "seq2seq", 128, 9, 194, 214, 0

    def __init__(self, attention: bool):
        self.attention = attention
        self.name = "d2l_bahdanau" if attention else "d2l_seq2seq"
        if attention:
            self.family = "attention"
        self.tokens = self.batch * self.steps

    def data(self, seed: int, n: int = 4):
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            src = rng.integers(3, self.src_vocab, (self.batch, self.steps))
            tgt = rng.integers(3, self.tgt_vocab, (self.batch, self.steps + 1))
            src_len = rng.integers(3, self.steps + 1, self.batch)
            tgt_len = rng.integers(3, self.steps + 2, self.batch)
            pos = np.arange(self.steps)
            src[pos[None, :] >= src_len[:, None]] = self.pad
            tgt[np.arange(self.steps + 1)[None, :] >= tgt_len[:, None]] = self.pad
            mask = np.where(pos[None, None, :] < src_len[:, None, None], 0.0, -1e6)
            label = tgt[:, 1:].T.reshape(-1)                   # (T, B) order, as the logits
            out.append(((src, tgt[:, :-1], mask.astype(np.float32)), label))
        return out

    def build(self, L):
        model = seq2seq(L, self.attention, self.src_vocab, self.tgt_vocab)
        opt = L.Adam(model.parameters(), lr=0.005)

        def step(x, y):
            src, tgt_in, mask = x
            logits = model(L.tensor(src), L.tensor(tgt_in), L.tensor(mask))
            loss = L.F.cross_entropy(logits, L.tensor(y), ignore_index=self.pad)
            return update(L, model, opt, loss, 1.0)

        return model, step


WORKLOADS = {w.name: w for w in [
    WordLM("LSTM"), WordLM("GRU"), WordLM("RNN_TANH"), WordLM("LSTM", tie=True),
    D2lLM("rnn"), D2lLM("gru"), D2lLM("lstm"), D2lLM("deep"), D2lLM("bi"),
    Seq2Seq(False), Seq2Seq(True)]}


# ---------------------------------------------------------------------------------------------
# Measuring


def same_start(work, libs, seed: int):
    """Both models with the same weights (ours, copied into torch's) and their steps."""
    ours, theirs = libs
    np.random.seed(seed)
    ours.tg.manual_seed(seed)
    theirs.torch.manual_seed(seed)
    built = [work.build(lib_) for lib_ in libs]
    theirs.load(built[1][0], ours.state(built[0][0]))
    return built


def check_losses(work, libs, batches, seed: int) -> list:
    """Losses at steps 1 and 2 of both libraries, dropout off, from the same weights."""
    built = same_start(work, libs, seed)
    losses = []
    for model, step in built:
        model.eval()
        losses.append([step(*batches[0]), step(*batches[1])])
    return losses


def time_steps(work, libs, batches, warmup: int, steps: int, seed: int) -> dict:
    """Median CPU seconds per training step of each library, alternating step by step."""
    built = same_start(work, libs, seed)
    times = {lib_.name: [] for lib_ in libs}
    for i in range(warmup + steps):
        for lib_, (_, step) in zip(libs, built):
            start = time.process_time()
            step(*batches[i % len(batches)])
            if i >= warmup:
                times[lib_.name].append(time.process_time() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def status_mb(field: str) -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_child(name: str, lib_name: str, seed: int) -> None:
    """Peak memory of three training steps over the memory after building (in this process).

    The kernel's high-water mark of the resident set (``VmHWM``) is reset after building
    (``/proc/self/clear_refs``), then read after the steps. (``ru_maxrss`` would not do: Linux
    carries it over from the parent process across ``exec``.)
    """
    work = WORKLOADS[name]
    L = Ours() if lib_name == "tinygrad_rnn" else Torch()
    batches = work.data(seed)
    _, step = work.build(L)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = status_mb("VmRSS")
    for i in range(3):
        step(*batches[i % len(batches)])
    print(status_mb("VmHWM") - base)


def memory(name: str, seed: int) -> dict:
    out = {}
    for lib_name in ("tinygrad_rnn", "torch"):
        r = subprocess.run([sys.executable, __file__, "--memory-child", name, lib_name,
                            "--seed", str(seed)], capture_output=True, text=True, check=False)
        out[lib_name] = float(r.stdout.split()[-1]) if r.returncode == 0 else float("nan")
        if r.returncode:
            print(r.stderr, file=sys.stderr)
    return out


def op_classes(root) -> list:
    """Every op class below ``root`` (primitives and fused ops)."""
    found, todo = [], [root]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def profile_ours(work, seed: int, steps: int) -> None:
    """CPU time per op type (forward and backward) of our training step, the rest named.

    Each op class's ``forward`` and ``backward`` is wrapped here, in the benchmark, for the
    duration of the profile; so are the optimiser's ``step`` and the clipping. What is left of
    the step's time is the graph's bookkeeping (``Op.apply``, the backward loop, gradient
    accumulation and ``fit_to``) and Python around the model.
    """
    import tinygrad_rnn as tg

    L = Ours()
    totals: dict = {}

    def timed(key, fn):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[key] = totals.get(key, 0.0) + time.process_time() - start
        return wrapper

    originals = []
    for cls in op_classes(tg.ops.Op):
        for method in ("forward", "backward"):
            if method in cls.__dict__:
                originals.append((cls, method, cls.__dict__[method]))
                setattr(cls, method, timed(f"{cls.__name__}.{method}", cls.__dict__[method]))
    L.clip = timed("clip_grad_norm_", L.clip)
    batches = work.data(seed)
    _, step = work.build(L)
    for opt_cls in op_classes(tg.optim.Optimizer):
        if "step" in opt_cls.__dict__:
            originals.append((opt_cls, "step", opt_cls.__dict__["step"]))
            opt_cls.step = timed("optimizer.step", opt_cls.__dict__["step"])
    try:
        step(*batches[0])
        totals.clear()
        start = time.process_time()
        for i in range(steps):
            step(*batches[i % len(batches)])
        total = time.process_time() - start
    finally:
        for cls, method, fn in originals:
            setattr(cls, method, fn)
    print(f"tinygrad_rnn, {work.name}: {total / steps * 1e3:.1f} ms CPU per step")
    print(f"  {'op.method':34s} {'ms/step':>8s} {'share':>6s}")
    for key, t in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {key:34s} {t / steps * 1e3:8.2f} {t / total:6.1%}")
    rest = total - sum(totals.values())
    print(f"  {'(engine, bookkeeping, Python)':34s} {rest / steps * 1e3:8.2f} {rest / total:6.1%}")


def profile_torch(work, seed: int, steps: int) -> None:
    """torch.profiler's table of the same training step (self CPU time per aten op)."""
    from torch.profiler import ProfilerActivity, profile

    L = Torch()
    batches = work.data(seed)
    _, step = work.build(L)
    step(*batches[0])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(steps):
            step(*batches[i % len(batches)])
    print(f"torch, {work.name}, {steps} steps:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    ap.add_argument("--steps", type=int, default=6, help="timed steps of each library")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    ap.add_argument("--profile", metavar="WORKLOAD", choices=list(WORKLOADS),
                    help="time per op type of both libraries' training step, then exit")
    ap.add_argument("--memory-child", nargs=2, metavar=("WORKLOAD", "LIBRARY"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child, args.seed)
        return 0
    if args.profile:
        profile_ours(WORKLOADS[args.profile], args.seed, args.steps)
        profile_torch(WORKLOADS[args.profile], args.seed, args.steps)
        return 0
    libs = (Ours(), Torch())
    print(f"{'workload':20s} {'ours ms':>8s} {'torch ms':>8s} {'ours tok/s':>10s} "
          f"{'torch tok/s':>11s} {'ratio':>6s} {'target':>6s}  {'loss step 1 (ours/torch)':>26s}"
          f"  {'step 2 rel diff':>15s}" + ("" if args.no_memory else
                                            f"  {'peak MB ours/torch':>18s} {'ratio':>5s}"))
    for name in args.only:
        work = WORKLOADS[name]
        batches = work.data(args.seed)
        losses = check_losses(work, libs, batches, args.seed)
        t = time_steps(work, libs, batches, args.warmup, args.steps, args.seed)
        ours, theirs = t["tinygrad_rnn"], t["torch"]
        rel = [abs(a - b) / abs(b) for a, b in zip(*losses)]
        line = (f"{name:20s} {ours * 1e3:8.1f} {theirs * 1e3:8.1f} {work.tokens / ours:10.0f} "
                f"{work.tokens / theirs:11.0f} {theirs / ours:6.2f} {TARGETS[work.family]:6.2f}"
                f"  {losses[0][0]:12.6f}/{losses[1][0]:<12.6f}  {rel[1]:15.1e}")
        if max(rel) > 1e-4:
            line += "  LOSSES DIFFER"
        if not args.no_memory:
            m = memory(name, args.seed)
            line += (f"  {m['tinygrad_rnn']:8.1f}/{m['torch']:<9.1f} "
                     f"{m['tinygrad_rnn'] / m['torch']:5.2f}")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
