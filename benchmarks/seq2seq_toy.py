"""Why attention: reversing digit strings with and without Bahdanau attention.

An encoder–decoder learns to write a string of digits backwards, ending with an end symbol
(``3 1 4 1 5`` -> ``5 1 4 1 3 <eos>``). Without attention (:class:`tg.nn.Seq2SeqDecoder`)
the whole source must squeeze through the encoder's last hidden state: exact-match accuracy
falls as the strings get longer. With attention (:class:`tg.nn.AttentionDecoder`) every
decoder step reads every encoder output, and accuracy holds. Both models see the same batches
(lengths drawn uniformly, one length per batch, so no padding), are trained for the same
number of Adam steps and decoded greedily; the script prints the accuracy per source length
and the attention of one example. Not a test: it prints numbers, it asserts nothing.

The query of step t is the decoder's previous state, so a trained model's weights at step t
often point at the source of the token that step reads (emitted at t - 1) rather than at the
one it writes: the heatmap's diagonal is shifted by one row after the first.

    python benchmarks/seq2seq_toy.py                    # GRU, 1500 steps (~25 s of CPU)
    python benchmarks/seq2seq_toy.py --cell lstm --steps 3000
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
import tinygrad_rnn as tg

PAD, BOS, EOS = 0, 1, 2
DIGITS = 10
VOCAB = 3 + DIGITS  # token 3 + d is the digit d


def batch(rng: np.random.Generator, size: int, length: int) -> tuple:
    """``(src, tgt_in, tgt_out)``: random digit strings, and their reversal with the end
    symbol, shifted right by the begin symbol for teacher forcing."""
    src = rng.integers(3, VOCAB, (size, length))
    tgt_out = np.concatenate([src[:, ::-1], np.full((size, 1), EOS)], axis=1)
    tgt_in = np.concatenate([np.full((size, 1), BOS), tgt_out[:, :-1]], axis=1)
    return src, tgt_in, tgt_out


def build(attention: bool, args) -> tg.nn.Seq2Seq:
    decoder = tg.nn.AttentionDecoder if attention else tg.nn.Seq2SeqDecoder
    return tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(VOCAB, args.embed, args.hidden, cell=args.cell),
                         decoder(VOCAB, args.embed, args.hidden, cell=args.cell))


def train(model: tg.nn.Seq2Seq, args) -> float:
    """Adam with gradient clipping on batches of random lengths; returns the CPU seconds."""
    rng = np.random.default_rng(args.seed)
    optimizer = tg.optim.Adam(model.parameters(), lr=args.lr)
    start = time.process_time()
    for step in range(1, args.steps + 1):
        src, tgt_in, tgt_out = batch(rng, args.batch, int(rng.integers(args.min_len,
                                                                         args.max_len + 1)))
        logits = model(src, tgt_in)
        loss = tg.F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % args.log_every == 0:
            print(f"  step {step:5d}  loss {loss.item():.4f}", flush=True)
    return time.process_time() - start


def accuracy(model: tg.nn.Seq2Seq, length: int, args) -> float:
    """Exact-match accuracy of greedy decoding on ``args.eval`` fresh strings of ``length``."""
    src, _, tgt_out = batch(np.random.default_rng(10_000 + length), args.eval, length)
    decoded = model.greedy(src, BOS, EOS, max_len=length + 3)
    return float(np.mean([d.tokens == list(t) for d, t in zip(decoded, tgt_out)]))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", default="gru", choices=["gru", "lstm", "rnn"])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--embed", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--min-len", type=int, default=3)
    parser.add_argument("--max-len", type=int, default=12)
    parser.add_argument("--eval", type=int, default=200, help="strings per length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=250)
    args = parser.parse_args(argv)
    lengths = range(args.min_len, args.max_len + 1)
    table, models = {}, {}
    for attention in (False, True):
        name = "attention" if attention else "no attention"
        tg.manual_seed(args.seed)
        model = models[name] = build(attention, args)
        print(f"{name}: {args.cell.upper()} H={args.hidden}, {args.steps} steps of "
              f"{args.batch}", flush=True)
        seconds = train(model, args)
        model.eval()
        table[name] = [accuracy(model, n, args) for n in lengths]
        print(f"  trained in {seconds:.0f} s of CPU time", flush=True)
    print("\nexact-match accuracy (greedy decoding) against source length")
    print(f"{'length':>12}" + "".join(f"{n:6d}" for n in lengths))
    for name, row in table.items():
        print(f"{name:>12}" + "".join(f"{a:6.2f}" for a in row))
    src = np.array([[3 + d for d in (3, 1, 4, 1, 5, 9, 2, 6)]])
    d = models["attention"].greedy(src, BOS, EOS, max_len=12)[0]
    print("\nwhere the attention decoder looks (rows: output tokens, columns: source digits)")
    print("      " + " ".join(f"{s - 3:4d}" for s in src[0]))
    for token, row in zip(d.tokens, d.weights):
        label = "eos" if token == EOS else str(token - 3)
        print(f"{label:>5} " + " ".join(f"{w:4.2f}" for w in row))


if __name__ == "__main__":
    main()
