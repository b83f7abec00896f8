"""``python -m tinygrad_rnn sample CHECKPOINT``: text from a trained character model.

    python -m tinygrad_rnn sample checkpoints/charlm_lstm.npz --prime "ROMEO:" --temperature 0.8

The checkpoint that ``train charlm`` writes is self-contained: it holds the model's settings,
the training text's characters (the vocabulary), the seed and the step, so sampling needs no
data file. Every entry is checked as ``--resume`` checks it; ``--prime`` may use only characters
of the vocabulary (an unknown one is named, with its position).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..data.shakespeare import Vocab
from ..models.charlm import load_checkpoint, sample
from ..serialization import CheckpointError
from .checks import CommandError, non_negative_int, positive_float
from .train import built_model, stored_settings


def run(args: argparse.Namespace) -> int:
    """Run ``sample`` with parsed arguments; returns the exit code."""
    path = Path(args.checkpoint)
    if not path.is_file():
        raise CommandError(f"{path}: no such checkpoint file" + (" (a folder)" if path.is_dir()
                                                                  else ""))
    try:
        config, step, model_state, optim_state = load_checkpoint(path)
    except (CheckpointError, OSError) as e:
        raise CommandError(str(e)) from None
    settings = stored_settings(path, config)
    model, _ = built_model(path, settings, (model_state, optim_state))
    vocab = Vocab(settings["vocab"])
    prime = args.prime
    if args.escapes:  # \n -> a new line; other characters (É, 好) pass through unchanged
        prime = prime.encode("latin-1", "backslashreplace").decode("unicode_escape")
    if not prime:
        raise CommandError("--prime: give at least one character for the model to read")
    try:
        vocab.encode(prime)
    except ValueError as e:
        raise CommandError(f"--prime: {e}") from None
    seed = settings["seed"] if args.seed is None else args.seed
    try:
        text = sample(model, vocab, prime=prime, length=args.length,
                      temperature=args.temperature, seed=seed)
    except ValueError as e:  # a diverged model: its scores are not finite
        raise CommandError(f"{path}: {e}", status=1) from None
    print(f"# {settings['cell'].upper()} character model from {path}, step {step}, "
          f"temperature {args.temperature}, seed {seed}")
    print(prime + text)
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``sample``."""
    p = subparsers.add_parser(
        "sample", help="sample text from a checkpoint of train charlm",
        description="Draw text one character at a time from a character model trained by "
        "`train charlm`. The checkpoint holds the model, its settings and its vocabulary.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file of train charlm")
    p.add_argument("--prime", default="\n",
                   help="text the model reads before it writes (default: a new line)")
    p.add_argument("--escapes", action="store_true",
                   help=r"read backslash escapes in --prime (\n for a new line)")
    p.add_argument("--temperature", type=positive_float, default=0.8,
                   help="below 1: likelier, more repetitive text; above 1: more surprising "
                   "(default 0.8)")
    p.add_argument("--length", type=non_negative_int, default=500,
                   help="characters to write (default 500)")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="random seed of the draws (default: the checkpoint's)")
    p.set_defaults(run=run, prog=p.prog)
