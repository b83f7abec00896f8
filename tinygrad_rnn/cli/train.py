"""``python -m tinygrad_rnn train charlm``: a character language model on tiny Shakespeare.

The model (:class:`tinygrad_rnn.models.CharLM`) reads characters and predicts the next one: an
embedding, one recurrent layer (LSTM, GRU or tanh RNN) and a linear decoder. The command trains
it on random windows of the training text with Adam and gradient-norm clipping, reports the
validation loss in nats per character every ``--eval-every`` steps, and saves a checkpoint
(``tg.save``: the model, the optimiser's state, the step and every setting of :data:`SETTINGS`)
at each report.

Nothing is silently wrong: every option is checked before any work; an existing checkpoint is
never replaced by a new run without ``--force``; ``--resume`` needs the checkpoint, checks all of
it, and refuses a setting that would change the model or the batches (only ``--lr`` and
``--clip`` may change, and the change is printed), so a resumed run sees exactly the batches an
uninterrupted one would have seen (they depend only on the seed and the step number); a
non-finite loss stops the run before it can overwrite the last good checkpoint.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

from .. import optim
from ..data import DataError, load_shakespeare, random_batch
from ..models.charlm import (
    CELLS,
    EVAL_STREAMS,
    CharLM,
    count_parameters,
    evaluate,
    load_checkpoint,
    parameter_count,
    restore,
    sample,
    save_checkpoint,
    train_step,
)
from ..random import manual_seed
from ..serialization import CheckpointError
from .checks import CommandError, at_least, non_negative_int, one_of, positive_float, positive_int

#: The settings a checkpoint stores: option -> (type, default, help). A resumed run takes them
#: from the checkpoint; an option given with ``--resume`` must equal the checkpoint's value,
#: except those in :data:`ADJUSTABLE`.
SETTINGS = {
    "cell": (one_of(CELLS), "lstm", "recurrent cell"),
    "hidden": (positive_int, 128, "hidden size"),
    "embed": (positive_int, 32, "embedding size"),
    "layers": (positive_int, 1, "recurrent layers"),
    "seed": (non_negative_int, 0, "random seed of the initial weights and of every batch"),
    "batch": (positive_int, 32, "sequences per batch"),
    "seq_len": (positive_int, 64, "characters per sequence"),
    "lr": (positive_float, 0.005, "Adam's learning rate"),
    "clip": (positive_float, 5.0, "gradient-norm clip"),
}
#: The settings a resumed run may change (the change is printed and saved with the run).
ADJUSTABLE = ("lr", "clip")


def option(name: str) -> str:
    """The command-line spelling of a setting: ``seq_len`` -> ``--seq-len``."""
    return "--" + name.replace("_", "-")


#: What ``--help`` says of checkpoints and ``--resume``.
RESUME_RULES = (
    f"A checkpoint stores {', '.join(map(option, SETTINGS))} and the text's characters. "
    "--resume continues with those: the options that fix the model or the batches ("
    f"{', '.join(option(k) for k in SETTINGS if k not in ADJUSTABLE)}) must be left out or "
    f"equal the checkpoint's; {' and '.join(map(option, ADJUSTABLE))} may change (the change "
    "is printed and saved). --steps (the total to reach), --minutes, --eval-every, "
    "--val-chars, --sample and --data apply to each run. Without --resume, an existing "
    "checkpoint is refused unless --force starts a new run over it.")


def checked_path(args: argparse.Namespace) -> Path:
    """The checkpoint file, refused before any work if it cannot be the one the run wants."""
    path = Path(args.checkpoint or f"checkpoints/charlm_{args.cell or SETTINGS['cell'][1]}.npz")
    if path.is_dir():
        raise CommandError(f"--checkpoint {path} is a folder; name a file, e.g. "
                           f"{path / 'charlm.npz'}")
    if args.resume and not path.exists():
        raise CommandError(f"--resume: there is no checkpoint {path} (leave out --resume to "
                           "start a new run)")
    if not args.resume and path.exists() and not args.force:
        raise CommandError(f"{path} exists: --resume continues it, --force starts a new run "
                           "over it")
    folder = next(p for p in path.absolute().parents if p.exists())
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"--checkpoint {path}: cannot write in {folder} (not a folder, or "
                           "not writable)")
    return path


def stored_settings(path: Path, config: dict) -> dict:
    """The settings of a checkpoint's ``config``, each checked by its option's type."""
    settings = {}
    for name, (kind, _, _) in SETTINGS.items():
        if name not in config:
            raise CommandError(f"{path}: entry 'config' has no field {name!r}")
        try:
            settings[name] = kind(config[name])
        except argparse.ArgumentTypeError as e:
            raise CommandError(f"{path}: entry 'config', field {name!r} {e}") from None
    vocab = config.get("vocab")
    if not isinstance(vocab, str) or not vocab:
        raise CommandError(f"{path}: entry 'config', field 'vocab' must be the text's "
                           f"characters, got {str(vocab)[:40]!r}")
    return {**settings, "vocab": vocab}


def resumed_settings(args: argparse.Namespace, path: Path, saved: dict) -> dict:
    """The checkpoint's settings, with the adjustable ones the command line changes."""
    given = {name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None}
    refused = [f"{option(k)} {v} (the checkpoint's is {saved[k]})" for k, v in given.items()
               if k not in ADJUSTABLE and v != saved[k]]
    if refused:
        raise CommandError(f"--resume {path}: {', '.join(refused)}; a resumed run keeps the "
                           "model and the batches (leave these options out, or start a new run "
                           "with --force)")
    for k, v in given.items():
        if v != saved[k]:
            print(f"resuming with {option(k)} {v} (the checkpoint's was {saved[k]})")
    return {**saved, **given}


def resumed_run(args: argparse.Namespace, path: Path) -> tuple[dict, int, tuple]:
    """``(settings, step, (model state, optimiser state))`` of the checkpoint ``--resume`` names.

    Everything but the arrays is checked here (:func:`tinygrad_rnn.models.restore` checks them).
    """
    try:
        config, step, model_state, optim_state = load_checkpoint(path)
    except (CheckpointError, OSError) as e:
        raise CommandError(str(e)) from None
    settings = resumed_settings(args, path, stored_settings(path, config))
    if step > args.steps:
        raise CommandError(f"--resume {path}: the checkpoint is at step {step}, beyond "
                           f"--steps {args.steps} (--steps is the total to reach)")
    return settings, step, (model_state, optim_state)


def checked_corpus(args: argparse.Namespace, path: Path, settings: dict, saved):
    """Tiny Shakespeare, checked against the settings (and against the checkpoint's text)."""
    try:
        corpus = load_shakespeare(args.data)
    except (DataError, OSError) as e:
        raise CommandError(str(e)) from None
    vocab = "".join(corpus.vocab.chars)
    if saved is not None and settings["vocab"] != vocab:
        raise CommandError(f"{path}: entry 'config', field 'vocab' ({len(settings['vocab'])} "
                           f"characters) is not the training text's ({len(vocab)}): the "
                           "checkpoint was trained on another text")
    if settings["seq_len"] >= len(corpus.train):
        raise CommandError(f"--seq-len {settings['seq_len']}: the training text has only "
                           f"{len(corpus.train):,} characters")
    return corpus


def built_model(path: Path, settings: dict, saved) -> tuple[CharLM, optim.Adam]:
    """The model and its optimiser: new from the seed, or with the checkpoint's states."""
    sizes = (settings["cell"], len(settings["vocab"]), settings["hidden"], settings["embed"],
             settings["layers"])
    if saved is not None:
        held = sum(v.size for v in saved[0].values())
        if parameter_count(*sizes) != held:  # before building a model of absurd size
            raise CommandError(f"{path}: entry 'config' describes a model of "
                               f"{parameter_count(*sizes):,} weights, the file's model.* "
                               f"entries hold {held:,}")
    manual_seed(settings["seed"])
    model = CharLM(sizes[1], sizes[0], *sizes[2:])
    optimizer = optim.Adam(model.parameters(), lr=settings["lr"])
    if saved is not None:
        try:
            restore(path, model, optimizer, *saved)
        except CheckpointError as e:
            raise CommandError(str(e)) from None
    return model, optimizer


def checked_logdir(logdir: str | None):
    """tensorboardX's ``SummaryWriter`` class for ``--logdir``, or None without it.

    Checked before any work: tensorboardX must be installed (the ``tb`` extra) and ``logdir``
    must be a folder that can be made and written. The writer itself (which creates the event
    file) is made only when training starts.
    """
    if logdir is None:
        return None
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise CommandError("--logdir needs tensorboardX: pip install 'tinygrad_rnn[tb]' (or "
                           "pip install tensorboardX)") from None
    folder = Path(logdir)
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"--logdir {folder} is a file; name a folder, e.g. runs/lstm")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"--logdir {folder}: cannot make the folder ({e.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"--logdir {folder}: the folder is not writable")
    return SummaryWriter


def train_charlm(args: argparse.Namespace) -> int:
    """Run ``train charlm`` with parsed arguments; returns the exit code."""
    from tqdm import tqdm

    path, start, saved = checked_path(args), 0, None
    writer = checked_logdir(args.logdir)
    if args.resume:
        settings, start, saved = resumed_run(args, path)
    else:
        settings = {k: default if getattr(args, k) is None else getattr(args, k)
                    for k, (_, default, _) in SETTINGS.items()}
    corpus = checked_corpus(args, path, settings, saved)
    settings["vocab"] = "".join(corpus.vocab.chars)
    model, optimizer = built_model(path, settings, saved)
    if saved is not None:
        print(f"resumed from {path} at step {start}")
    print(f"{settings['cell'].upper()} character model, {count_parameters(model):,} parameters; "
          f"{len(corpus.train):,} training and {len(corpus.val):,} validation characters")

    log = writer(logdir=args.logdir) if writer is not None else None
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else math.inf
    step, loss, last_saved = start, float("nan"), start if saved is not None else None

    def checkpoint(step: int) -> float:
        """Validate, and save the run unless it has diverged; the validation loss."""
        val = evaluate(model, corpus.val[:args.val_chars])
        if not (math.isfinite(val) and all(np.isfinite(p.numpy()).all()
                                           for p in model.parameters())):
            raise diverged(step, f"the weights or the validation loss ({val}) are not finite")
        save_checkpoint(path, model, optimizer, step, settings)
        if log is not None:
            log.add_scalar("validation/loss", val, step)
        return val

    def diverged(step: int, what: str) -> CommandError:
        kept = f"{path} keeps step {last_saved}" if last_saved is not None else \
            f"{path} was not written"
        return CommandError(f"step {step}: {what}; training stopped and {kept} (a smaller --lr "
                            "or --clip may help)", status=1)

    try:  # the event file is closed (its last scalars written) however the run ends
        with tqdm(total=args.steps, initial=start, disable=None, desc="train charlm") as bar:
            while step < args.steps and time.monotonic() < deadline:
                rng = np.random.default_rng([settings["seed"], step])
                x, y = random_batch(corpus.train, settings["batch"], settings["seq_len"], rng)
                loss, grad_norm = train_step(model, optimizer, x, y, settings["clip"])
                step += 1
                if not math.isfinite(loss):
                    raise diverged(step, f"the training loss is {loss}")
                if log is not None:
                    log.add_scalar("train/loss", loss, step)
                    log.add_scalar("train/grad_norm", grad_norm.item(), step)
                    log.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
                if step % args.eval_every == 0 or step == args.steps:
                    val, last_saved = checkpoint(step), step
                    bar.write(f"step {step}: train loss {loss:.3f}, validation {val:.3f} nats/char")
        val = checkpoint(step) if step != last_saved else evaluate(model, corpus.val[:args.val_chars])
    finally:
        if log is not None:
            log.close()
    print(f"step {step}: validation loss {val:.4f} nats/char; checkpoint {path}")
    if log is not None:
        print(f"TensorBoard scalars in {args.logdir} (tensorboard --logdir {args.logdir})")
    if args.sample:
        print("-" * 40)
        try:
            print(sample(model, corpus.vocab, length=args.sample, seed=settings["seed"]))
        except ValueError as e:
            raise CommandError(str(e), status=1) from None
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train`` with its one model, ``charlm``."""
    train = subparsers.add_parser("train", help="train a model (charlm: tiny Shakespeare)")
    models = train.add_subparsers(title="models", metavar="MODEL")
    p = models.add_parser(
        "charlm", help="character language model on tiny Shakespeare",
        description="Train a character-level language model on tiny Shakespeare, with "
        "checkpoints; --resume continues from the checkpoint.", epilog=RESUME_RULES)
    for name, (kind, default, what) in SETTINGS.items():
        choices = f"{{{','.join(sorted(CELLS))}}}" if name == "cell" else None
        p.add_argument(option(name), type=kind, default=None, metavar=choices,
                       help=f"{what} (default {default}; stored in the checkpoint)")
    p.add_argument("--steps", type=positive_int, default=5000,
                   help="total training steps, counting a resumed run's (default 5000)")
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="stop after this many minutes")
    p.add_argument("--eval-every", type=positive_int, default=250,
                   help="steps between validations and checkpoints (default 250)")
    p.add_argument("--val-chars", type=at_least(EVAL_STREAMS + 1), default=None,
                   help=f"validate on this many characters, at least {EVAL_STREAMS + 1} "
                   "(default: all)")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file (default checkpoints/charlm_<cell>.npz)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    again.add_argument("--force", action="store_true",
                       help="start a new run even if the checkpoint exists (replacing it)")
    p.add_argument("--data", default=None,
                   help="tiny Shakespeare file (default: $TINYGRAD_RNN_DATA or the cache, "
                   "downloaded once)")
    p.add_argument("--logdir", default=None,
                   help="write TensorBoard scalars here (train/loss, train/grad_norm, train/lr, "
                   "validation/loss), e.g. runs/lstm; needs tensorboardX (the tb extra)")
    p.add_argument("--sample", type=non_negative_int, default=300,
                   help="characters to sample at the end (default 300)")
    p.set_defaults(run=train_charlm, prog=p.prog)
    train.set_defaults(run=lambda args: (train.print_help(), 2)[1])
