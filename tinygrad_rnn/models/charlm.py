"""``CharLM``: a character language model, with its training step, evaluation and sampling.

The model reads characters and predicts the next one: an embedding, one recurrent layer (LSTM,
GRU or tanh RNN) and a linear decoder. :func:`train_step` makes one update, :func:`evaluate`
gives the validation loss in nats per character, :func:`sample` writes text, and
:func:`save_checkpoint` / :func:`load_checkpoint` keep the model, the optimiser's state, the step
and the configuration in one ``tg.save`` file. Lesson 6 trains it for a few minutes;
``python -m tinygrad_rnn train charlm`` (:mod:`tinygrad_rnn.cli.train`) for longer.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..data import sequential_batches
from ..nn import GRU, LSTM, RNN, Embedding, Linear, Module
from ..nn import functional as F
from ..nn.utils import clip_grad_norm_
from ..serialization import load, save

#: ``cell`` name -> the recurrent layer, and the blocks of weights it has per hidden unit.
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
