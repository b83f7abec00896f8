"""``python -m tinygrad_rnn train charlm``: a character language model on tiny Shakespeare.

The model (:class:`tinygrad_rnn.models.CharLM`) reads characters and predicts the next one: an
embedding, one recurrent layer (LSTM, GRU or tanh RNN) and a linear decoder. The command trains
it on random windows of the training text with Adam and gradient-norm clipping, reports the
validation loss in nats per character every ``--eval-every`` steps, and saves a checkpoint
(``tg.save``: the model, the optimiser's state, the step and the configuration) at each
report. ``--resume`` continues from that checkpoint; the batches depend only on the seed and
the step number, so a resumed run sees exactly the batches an uninterrupted one would have
seen.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from .. import optim
from ..models.charlm import (
    CELLS,
    CharLM,
    count_parameters,
    evaluate,
    load_checkpoint,
    sample,
    save_checkpoint,
    train_step,
)
from ..random import manual_seed

#: The arguments that fix the model's shape: a resumed run keeps the checkpoint's.
ARCHITECTURE = ("cell", "hidden", "embed", "layers")


def train_charlm(args: argparse.Namespace) -> int:
    """Run ``train charlm`` with parsed arguments; returns the exit code."""
    from tqdm import tqdm

    from ..data import load_shakespeare, random_batch

    corpus = load_shakespeare(args.data)
    config = {k: getattr(args, k) for k in ARCHITECTURE}
    path = Path(args.checkpoint or f"checkpoints/charlm_{args.cell}.npz")
    start, saved = 0, None
    if args.resume and path.exists():
        saved_config, start, model_state, optim_state = load_checkpoint(path)
        changed = {k: (config[k], saved_config[k]) for k in ARCHITECTURE
                   if config[k] != saved_config[k]}
        if changed:
            print(f"resuming {path}: keeping its architecture, not the arguments {changed}")
        config, saved = saved_config, (model_state, optim_state)
    manual_seed(args.seed)
    model = CharLM(len(corpus.vocab), config["cell"], config["hidden"], config["embed"],
                   config["layers"])
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    if saved is not None:
        model.load_state_dict(saved[0])
        state = optimizer.state_dict()
        optimizer.load_state_dict({"state": saved[1], "param_groups": state["param_groups"]})
        print(f"resumed from {path} at step {start}")
    print(f"{config['cell'].upper()} character model, {count_parameters(model):,} parameters; "
          f"{len(corpus.train):,} training and {len(corpus.val):,} validation characters")

    deadline = time.monotonic() + 60 * args.minutes if args.minutes else math.inf
    step, loss = start, float("nan")
    with tqdm(total=args.steps, initial=start, disable=None, desc="train charlm") as bar:
        while step < args.steps and time.monotonic() < deadline:
            rng = np.random.default_rng([args.seed, step])
            x, y = random_batch(corpus.train, args.batch, args.seq_len, rng)
            loss = train_step(model, optimizer, x, y, args.clip)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
            if step % args.eval_every == 0 or step == args.steps:
                val = evaluate(model, corpus.val[:args.val_chars])
                bar.write(f"step {step}: train loss {loss:.3f}, validation {val:.3f} nats/char")
                save_checkpoint(path, model, optimizer, step, config)
    save_checkpoint(path, model, optimizer, step, config)
    val = evaluate(model, corpus.val[:args.val_chars])
    print(f"step {step}: validation loss {val:.4f} nats/char; checkpoint {path}")
    if args.sample:
        print("-" * 40)
        print(sample(model, corpus.vocab, length=args.sample, seed=args.seed))
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train`` with its one model, ``charlm``."""
    train = subparsers.add_parser("train", help="train a model (charlm: tiny Shakespeare)")
    models = train.add_subparsers(title="models", metavar="MODEL")
    p = models.add_parser(
        "charlm", help="character language model on tiny Shakespeare",
        description="Train a character-level language model on tiny Shakespeare, with "
        "checkpoints; --resume continues from the checkpoint.")
    p.add_argument("--cell", choices=sorted(CELLS), default="lstm", help="recurrent cell")
    p.add_argument("--hidden", type=int, default=128, help="hidden size (default 128)")
    p.add_argument("--embed", type=int, default=32, help="embedding size (default 32)")
    p.add_argument("--layers", type=int, default=1, help="recurrent layers (default 1)")
    p.add_argument("--steps", type=int, default=5000, help="total training steps (default 5000)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--batch", type=int, default=32, help="sequences per batch (default 32)")
    p.add_argument("--seq-len", type=int, default=64, help="characters per sequence (default 64)")
    p.add_argument("--lr", type=float, default=0.005, help="Adam's learning rate (0.005)")
    p.add_argument("--clip", type=float, default=5.0, help="gradient-norm clip (default 5)")
    p.add_argument("--eval-every", type=int, default=250, help="steps between validations")
    p.add_argument("--val-chars", type=int, default=None,
                   help="validate on this many characters (default: all)")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file (default checkpoints/charlm_<cell>.npz)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    p.add_argument("--data", default=None,
                   help="tiny Shakespeare file (default: $TINYGRAD_RNN_DATA or the cache, "
                   "downloaded once)")
    p.add_argument("--sample", type=int, default=300, help="characters to sample at the end")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(run=train_charlm)
    train.set_defaults(run=lambda args: (train.print_help(), 2)[1])
