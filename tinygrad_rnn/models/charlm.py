"""``CharLM``: a character language model, with its training step, evaluation and sampling.

The model reads characters and predicts the next one: an embedding, one recurrent layer (LSTM,
GRU or tanh RNN) and a linear decoder. :func:`train_step` makes one update, :func:`evaluate`
gives the validation loss in nats per character, :func:`sample` writes text, and
:func:`save_checkpoint` / :func:`load_checkpoint` / :func:`restore` keep the model, the optimiser's
state, the step and the configuration in one ``tg.save`` file, and check all of it on the way
back. Lesson 6 trains it for a few minutes; ``python -m tinygrad_rnn train charlm``
(:mod:`tinygrad_rnn.cli.train`) for longer.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..data import sequential_batches
from ..nn import GRU, LSTM, RNN, Embedding, Linear, Module
from ..nn import functional as F
from ..nn.utils import clip_grad_norm_
from ..serialization import CheckpointError, load, save
from ..tensor import Tensor

#: ``cell`` name -> the recurrent layer, and the blocks of weights it has per hidden unit.
CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
#: The parallel streams :func:`evaluate` reads the text as: it needs one character more.
EVAL_STREAMS = 50


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


def parameter_count(cell: str, vocab_size: int, hidden_size: int, embed_size: int = 32,
                    num_layers: int = 1) -> int:
    """The number of scalars in ``CharLM(vocab_size, cell, hidden_size, embed_size, num_layers)``,
    without building it.

    >>> parameter_count("gru", 65, 8, 4) == count_parameters(CharLM(65, "gru", 8, 4))
    True
    """
    gates, V, E, H = GATES[cell], vocab_size, embed_size, hidden_size
    # embedding + each layer's recurrent weights and both biases + decoder
    first, others = gates * H * (E + H + 2), gates * H * (H + H + 2)
    return V * E + first + (num_layers - 1) * others + H * V + V


def hidden_size_for(cell: str, target: int, vocab_size: int, embed_size: int = 32) -> int:
    """The hidden size whose one-layer :class:`CharLM` has the parameter count nearest ``target``.

    >>> lstm = count_parameters(CharLM(65, "lstm", 128))
    >>> hidden_size_for("gru", lstm, 65)
    149
    """
    return min(range(1, 4097),
               key=lambda H: abs(parameter_count(cell, vocab_size, H, embed_size) - target))


def loss_of(model: CharLM, x: np.ndarray, y: np.ndarray, state=None):
    """The mean cross-entropy (nats per character) of predicting ``y`` from ``x``, and the state."""
    logits, state = model(tensor(x), state)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tensor(y.reshape(-1))), state


class Step(NamedTuple):
    """What :func:`train_step` reports: the loss (a float) and the gradient norm before clipping
    (a 0-d tensor on the model's device: reading it is a device-to-host copy on a GPU, made only
    by who needs it)."""

    loss: float
    grad_norm: Tensor


def train_step(model: CharLM, optimizer, x: np.ndarray, y: np.ndarray,
               clip: float = 5.0) -> Step:
    """One update on a batch (T, N): forward, backward, clip the gradient norm, step."""
    loss, _ = loss_of(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    grad_norm = clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return Step(loss.item(), grad_norm)


def evaluate(model: CharLM, ids: np.ndarray, batch_size: int = EVAL_STREAMS,
             seq_len: int = 100) -> float:
    """The cross-entropy of ``model`` on the whole of ``ids``, in nats per character.

    The text is read as ``batch_size`` parallel streams with the state carried from one window
    to the next, so every character after the first of a stream is predicted with its context.
    """
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
    Scores that are not finite (a diverged model) raise ``ValueError``.
    """
    rng = np.random.default_rng(seed)
    with no_grad():
        logits, state = model(tensor(vocab.encode(prime)[:, None]))
        out = []
        for _ in range(length):
            z = logits.numpy()[-1, 0].astype(np.float64) / temperature
            if not np.isfinite(z).all():
                raise ValueError(f"sample(): after {len(out)} characters the model's scores are "
                                 "not finite (its weights have diverged)")
            p = np.exp(z - z.max())
            k = int(rng.choice(len(p), p=p / p.sum()))
            out.append(k)
            logits, state = model(tensor(np.array([[k]])), state)
    return vocab.decode(out)


# ---- checkpoints ---------------------------------------------------------------------------
def save_checkpoint(path: Path, model: CharLM, optimizer, step: int, config: dict) -> None:
    """Model, optimiser state, step and configuration (a JSON-able dict) in one ``tg.save`` file.

    The entries: ``model.<name>`` (the state dict), ``optim.<index>.<name>`` (each parameter's
    optimiser state), ``step`` (one integer) and ``config`` (JSON as UTF-8 bytes).
    """
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    for i, state in optimizer.state_dict()["state"].items():
        arrays.update({f"optim.{i}.{k}": np.asarray(v) for k, v in state.items()})
    arrays["step"] = np.asarray(step)
    arrays["config"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(arrays, path)


def load_checkpoint(path: Path) -> tuple[dict, int, dict, dict]:
    """``(config, step, model state dict, optimiser state)`` from :func:`save_checkpoint`.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is not one :func:`save_checkpoint` writes: a damaged archive
            (``tg.load``), a missing or unreadable ``config`` or ``step``, an entry it does not
            write; the message names the file and the entry. The values are checked against a
            model by :func:`restore`.
    """
    arrays = load(path)
    if not isinstance(arrays, dict):
        raise CheckpointError(f"{path}: one array (np.save), not a checkpoint of named entries")
    for key in ("config", "step"):
        if key not in arrays:
            raise CheckpointError(f"{path}: entry {key!r} is missing (not a checkpoint written "
                                  "by save_checkpoint)")
    config, step = read_config(path, arrays.pop("config")), arrays.pop("step")
    if step.shape != () or step.dtype.kind not in "iu" or step < 0:
        raise CheckpointError(f"{path}: entry 'step' must be one integer >= 0, got "
                              f"{step.dtype} of shape {step.shape}")
    model_state = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
    optim_state: dict = {}
    for k, v in arrays.items():
        prefix, _, rest = k.partition(".")
        i, _, name = rest.partition(".")
        if prefix == "model":
            continue
        if not (prefix == "optim" and i.isascii() and i.isdigit() and name):
            raise CheckpointError(f"{path}: unexpected entry {k!r} (a checkpoint holds config, "
                                  "step, model.<name> and optim.<index>.<name>)")
        optim_state.setdefault(int(i), {})[name] = v
    return config, int(step), model_state, optim_state


def read_config(path: Path, data: np.ndarray) -> dict:
    """The JSON object the ``config`` entry holds, or :class:`CheckpointError` saying why not."""
    where = f"{path}: entry 'config'"
    if data.dtype != np.uint8 or data.ndim != 1:
        raise CheckpointError(f"{where} must be UTF-8 bytes (uint8, one axis), got {data.dtype} "
                              f"of shape {data.shape}")
    try:
        config = json.loads(data.tobytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{where} is not UTF-8 text: {e}") from None
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{where} is not JSON: {e}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{where} must be a JSON object, got {type(config).__name__}")
    return config


def restore(path: Path, model: CharLM, optimizer, model_state: dict, optim_state: dict) -> None:
    """Load the states :func:`load_checkpoint` read into ``model`` and ``optimizer``.

    Every entry is checked before anything is loaded: each weight and each optimiser array must
    be finite, and have its parameter's shape; each parameter's optimiser state must hold what
    the optimiser keeps (Adam: ``step``, ``exp_avg``, ``exp_avg_sq``). Any problem raises
    :class:`CheckpointError` naming ``path`` and the entry.
    """
    for name, value in model_state.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CheckpointError(f"{path}: entry 'model.{name}' holds NaN or infinite weights")
    fresh = [optimizer.init_state(p, group)
             for group in optimizer.param_groups for p in group["params"]]
    for i, state in optim_state.items():
        where = f"{path}: entry 'optim.{i}"
        if i >= len(fresh):
            raise CheckpointError(f"{where}.*' is the state of parameter {i}, but the model has "
                                  f"{len(fresh)} parameters")
        init = fresh[i]
        if set(state) != set(init):
            raise CheckpointError(f"{where}.*' holds {sorted(state)}, but "
                                  f"{type(optimizer).__name__} keeps {sorted(init)}")
        for k, value in state.items():
            moment = hasattr(init[k], "shape")  # an array like its parameter, else a count
            shape, kinds, kind = ((tuple(init[k].shape), "f", "float") if moment else
                                  ((), "iu", "integer"))
            if value.shape != shape or value.dtype.kind not in kinds:
                raise CheckpointError(f"{where}.{k}' is {value.dtype} of shape {value.shape}, "
                                      f"expected {kind} of shape {shape}")
            if not np.isfinite(value).all() if moment else value < 0:
                raise CheckpointError(f"{where}.{k}' holds "
                                      f"{'NaN or infinite values' if moment else int(value)}")
    try:
        model.load_state_dict(model_state)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: {e.args[0] if e.args else e}") from None
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": optim_state, "param_groups": groups})
