"""Tiny Shakespeare: the character corpus of Karpathy's char-rnn, and its batches.

The text (1,115,394 characters, 65 distinct symbols) is read from, in this order: the ``path``
argument, the ``TINYGRAD_RNN_DATA`` environment variable (a file, or a folder holding
``tinyshakespeare.txt``), or the cache folder (``TINYGRAD_RNN_CACHE``, else
``~/.cache/tinygrad_rnn``), where it is downloaded once from :data:`URL`. Every copy is checked
against :data:`SHA256`, so a page of results can always name the exact text it was trained on.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
N_CHARS = 1_115_394
FILENAME = "tinyshakespeare.txt"
DATA_ENV = "TINYGRAD_RNN_DATA"
CACHE_ENV = "TINYGRAD_RNN_CACHE"


class DataError(RuntimeError):
    """A data file is missing, unreadable or not the file it should be; the message names it."""


def cache_dir() -> Path:
    """Where downloads go: ``$TINYGRAD_RNN_CACHE``, else ``~/.cache/tinygrad_rnn``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tinygrad_rnn")


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify(path: Path) -> Path:
    """Return ``path`` if it holds tiny Shakespeare, else raise :class:`DataError` naming it."""
    if not path.is_file():
        raise DataError(f"tiny Shakespeare: no such file {path} (pass path=..., set "
                        f"{DATA_ENV} to the file, or let the loader download it from {URL})")
    digest = sha256_of(path)
    if digest != SHA256:
        raise DataError(f"tiny Shakespeare: {path} has sha256 {digest}, expected {SHA256}: "
                        "it is not the char-rnn input.txt (delete it, or point to the right file)")
    return path


def download(dest: Path) -> Path:
    """Fetch :data:`URL` into ``dest`` through a temporary file, so a failed fetch leaves none."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(URL, timeout=60) as response:
            out.write(response.read())
        digest = sha256_of(Path(tmp))
        if digest != SHA256:
            raise DataError(f"tiny Shakespeare: the file downloaded from {URL} has sha256 "
                            f"{digest}, expected {SHA256}; nothing was saved to {dest}")
        os.replace(tmp, dest)
    except OSError as e:
        raise DataError(f"tiny Shakespeare: could not download {URL} to {dest}: {e}; put the "
                        f"file there by hand, or set {DATA_ENV} to a local copy") from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest


def shakespeare_path(path: str | os.PathLike | None = None, *, download_ok: bool = True) -> Path:
    """The checked location of tiny Shakespeare (see the module docstring for the search order).

    Args:
        path: a local copy (a file, or a folder holding ``tinyshakespeare.txt``).
        download_ok: download into the cache folder when no local copy is given or cached.

    Raises:
        DataError: the file is missing (and cannot be downloaded) or its checksum is wrong.
    """
    given = path if path is not None else os.environ.get(DATA_ENV) or None
    if given is not None:
        p = Path(given).expanduser()
        return verify(p / FILENAME if p.is_dir() else p)
    cached = cache_dir() / FILENAME
    if cached.exists() or not download_ok:
        return verify(cached)
    return download(cached)


class Vocab:
    """The sorted distinct characters of a text, and the maps between characters and ids.

    >>> v = Vocab("hello")
    >>> len(v), v.encode("hole").tolist(), v.decode([3, 1])
    (4, [1, 3, 2, 0], 'oh')
    """

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text`` as an int64 array.

        Raises:
            ValueError: a character is not in the vocabulary; the message gives it and where.
        """
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            at = next(i for i, c in enumerate(text) if c not in self.index)
            raise ValueError(
                f"Vocab.encode(): character {text[at]!r} at position {at} is not in the "
                f"vocabulary of {len(self)} characters (it is built from the training text: "
                "use only characters that text has)") from None

    def decode(self, ids) -> str:
        """The characters of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)


@dataclass
class CharCorpus:
    """A text cut into a training and a validation part, both as id arrays.

    Attributes:
        vocab: the characters of the whole text.
        train: ids of the first ``1 - val_fraction`` of the text.
        val: ids of the rest (contiguous: validation text the model never saw).
    """

    vocab: Vocab
    train: np.ndarray
    val: np.ndarray


def load_text(path: str | os.PathLike | None = None, *, download_ok: bool = True) -> str:
    """The text of tiny Shakespeare, checked (see :func:`shakespeare_path`)."""
    return shakespeare_path(path, download_ok=download_ok).read_text(encoding="utf-8")


def load_shakespeare(path: str | os.PathLike | None = None, *, val_fraction: float = 0.1,
                     download_ok: bool = True) -> CharCorpus:
    """Tiny Shakespeare as a :class:`CharCorpus`: 65 symbols, the last 10 % for validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"load_shakespeare(): val_fraction must be in (0, 1), got {val_fraction}")
    text = load_text(path, download_ok=download_ok)
    vocab = Vocab(text)
    ids = vocab.encode(text)
    cut = round(len(ids) * (1 - val_fraction))
    return CharCorpus(vocab, ids[:cut], ids[cut:])


def random_batch(ids: np.ndarray, batch_size: int, seq_len: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` windows of ``seq_len`` ids at random offsets, and the ids one step on.

    Returns:
        ``(x, y)``, each (T, N) int64 with ``y[t] = x[t + 1]`` along each window.
    """
    if len(ids) < seq_len + 1:
        raise ValueError(f"random_batch(): {len(ids)} ids are fewer than seq_len + 1 = "
                         f"{seq_len + 1}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)
    rows = starts[None, :] + np.arange(seq_len + 1)[:, None]
    window = ids[rows]
    return window[:-1], window[1:]


def sequential_batches(ids: np.ndarray, batch_size: int,
                       seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The text as ``batch_size`` parallel streams, read ``seq_len`` steps at a time.

    Column ``n`` of consecutive batches continues the same passage, so a recurrent state can be
    carried from one batch to the next (truncated BPTT). Each stream has
    ``(len(ids) - 1) // batch_size`` steps; the last batch may be shorter.

    Yields:
        ``(x, y)``, each (T, N) int64 with ``y`` one step ahead of ``x``.
    """
    steps = (len(ids) - 1) // batch_size
    if steps < 1:
        raise ValueError(f"sequential_batches(): {len(ids)} ids cannot fill {batch_size} streams")
    x = ids[:steps * batch_size].reshape(batch_size, steps).T
    y = ids[1:steps * batch_size + 1].reshape(batch_size, steps).T
    for t in range(0, steps, seq_len):
        yield x[t:t + seq_len], y[t:t + seq_len]
