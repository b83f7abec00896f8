"""``python -m tinygrad_rnn train charlm``: a character language model on tiny Shakespeare.

The model (:class:`CharLM`) reads characters and predicts the next one: an embedding, one
recurrent layer (LSTM, GRU or tanh RNN) and a linear decoder. The command trains it on random
windows of the training text with Adam and gradient-norm clipping, reports the validation loss
in nats per character every ``--eval-every`` steps, and saves a checkpoint (``tg.save``: the
model, the optimiser's state, the step and the configuration) at each report. ``--resume``
continues from that checkpoint; the batches depend only on the seed and the step number, so a
resumed run sees exactly the batches an uninterrupted one would have seen.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from . import optim
from .autograd import no_grad
from .creation import tensor
from .nn import GRU, LSTM, RNN, Embedding, Linear, Module
from .nn import functional as F
from .nn.utils import clip_grad_norm_
from .random import manual_seed
from .serialization import load, save

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


class CharLM(Module):
    """Embedding -> recurrent layer -> linear decoder: the scores of the next character.

    Args:
        vocab_size: V, the number of distinct characters.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        hidden_size: H of the recurrent layer.
        embed_size: E, the size of a character's embedding.
        num_layers: stacked recurrent layers.

    >>> import tinygrad_rnn as tg
    >>> model = CharLM(65, "gru", hidden_size=8, embed_size=4)
    >>> logits, state = model(tg.tensor([[1, 2], [3, 4], [5, 6]]))   # x: (T, N) ids
    >>> logits.shape, state.shape
    ((3, 2, 65), (1, 2, 8))
    """

    def __init__(self, vocab_size: int, cell: str = "lstm", hidden_size: int = 128,
                 embed_size: int = 32, num_layers: int = 1):
        if cell not in CELLS:
            raise ValueError(f"CharLM: cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.cell = cell
        self.embed = Embedding(vocab_size, embed_size)
        self.rnn = CELLS[cell](embed_size, hidden_size, num_layers)
        self.head = Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        """``x`` (T, N) character ids -> logits (T, N, V) and the recurrent state after them."""
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


def count_parameters(model: Module) -> int:
    """The number of scalars in all parameters of ``model``."""
    return sum(int(p.data.size) for p in model.parameters())


def hidden_size_for(cell: str, target: int, vocab_size: int, embed_size: int = 32) -> int:
    """The hidden size whose one-layer :class:`CharLM` has the parameter count nearest ``target``.

    >>> lstm = count_parameters(CharLM(65, "lstm", 128))
    >>> hidden_size_for("gru", lstm, 65)
    149
    """
    gates, V, E = GATES[cell], vocab_size, embed_size

    def size(H):  # embedding + recurrent weights and both biases + decoder
        return V * E + gates * H * (E + H + 2) + H * V + V

    return min(range(1, 4097), key=lambda H: abs(size(H) - target))


def loss_of(model: CharLM, x: np.ndarray, y: np.ndarray, state=None):
    """The mean cross-entropy (nats per character) of predicting ``y`` from ``x``, and the state."""
    logits, state = model(tensor(x), state)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tensor(y.reshape(-1))), state


def train_step(model: CharLM, optimizer, x: np.ndarray, y: np.ndarray,
               clip: float = 5.0) -> float:
    """One update on a batch (T, N): forward, backward, clip the gradient norm, step."""
    loss, _ = loss_of(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


def evaluate(model: CharLM, ids: np.ndarray, batch_size: int = 50, seq_len: int = 100) -> float:
    """The cross-entropy of ``model`` on the whole of ``ids``, in nats per character.

    The text is read as ``batch_size`` parallel streams with the state carried from one window
    to the next, so every character after the first of a stream is predicted with its context.
    """
    from .data import sequential_batches

    total, count, state = 0.0, 0, None
    with no_grad():
        for x, y in sequential_batches(ids, batch_size, seq_len):
            logits, state = model(tensor(x), state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tensor(y.reshape(-1)),
                                   reduction="sum")
            total, count = total + loss.item(), count + y.size
    return total / count


def sample(model: CharLM, vocab, prime: str = "\n", length: int = 300,
           temperature: float = 0.8, seed: int = 0) -> str:
    """``length`` characters drawn one at a time from the model, after the text ``prime``.

    ``temperature`` below 1 sharpens the distribution (more likely, more repetitive text).
    """
    rng = np.random.default_rng(seed)
    with no_grad():
        logits, state = model(tensor(vocab.encode(prime)[:, None]))
        out = []
        for _ in range(length):
            z = logits.numpy()[-1, 0].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            k = int(rng.choice(len(p), p=p / p.sum()))
            out.append(k)
            logits, state = model(tensor(np.array([[k]])), state)
    return vocab.decode(out)


# ---- checkpoints ---------------------------------------------------------------------------
def save_checkpoint(path: Path, model: CharLM, optimizer, step: int, config: dict) -> None:
    """Model, optimiser state, step and configuration in one ``tg.save`` file."""
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    for i, state in optimizer.state_dict()["state"].items():
        arrays.update({f"optim.{i}.{k}": np.asarray(v) for k, v in state.items()})
    arrays["step"] = np.asarray(step)
    arrays["config"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(arrays, path)


def load_checkpoint(path: Path) -> tuple[dict, int, dict, dict]:
    """``(config, step, model state dict, optimiser state)`` from :func:`save_checkpoint`."""
    arrays = load(path)
    config = json.loads(arrays.pop("config").tobytes().decode())
    step = int(arrays.pop("step"))
    model_state = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
    optim_state: dict = {}
    for k, v in arrays.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            optim_state.setdefault(int(i), {})[name] = v
    return config, step, model_state, optim_state


# ---- the command -----------------------------------------------------------------------------
ARCHITECTURE = ("cell", "hidden", "embed", "layers")


def train_charlm(args: argparse.Namespace) -> int:
    """Run ``train charlm`` with parsed arguments; returns the exit code."""
    from tqdm import tqdm

    from .data import load_shakespeare, random_batch

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


__all__ = ["CharLM", "count_parameters", "evaluate", "hidden_size_for", "sample", "train_step"]
