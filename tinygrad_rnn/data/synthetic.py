"""Synthetic sequence tasks, generated on demand from a seed (never stored).

Each task tests one kind of memory: the adding problem (Hochreiter & Schmidhuber 1997) needs two
numbers remembered across the whole sequence; the copy and reversal tasks (the "copying memory"
problem of Arjovsky, Shah & Bengio 2016) need a list of symbols held over a delay. Arrays are
time-major, (T, N, ...), as the recurrent layers take them.
"""
from __future__ import annotations

import numpy as np

BLANK = 0  # the id of "nothing" in the copy and reversal tasks


def generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy generator from a seed (or the generator itself)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def adding_problem(n: int, seq_len: int, seed: int | np.random.Generator | None = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: add the two numbers that carry a marker.

    Step ``t`` of sequence ``j`` is ``x[t, j] = (value, marker)``: ``value ~ U(0, 1)``, and
    ``marker`` is 1 at exactly two steps, one in the first half and one in the second, 0
    elsewhere. The target is the sum of the two marked values; always answering 1 scores a
    mean squared error of about 0.167 (1/6), the baseline to beat.

    Returns:
        ``(x, y)``: x (T, N, 2) float32, y (N,) float32.
    """
    if seq_len < 2:
        raise ValueError(f"adding_problem(): seq_len must be at least 2, got {seq_len}")
    rng = generator(seed)
    values = rng.random((seq_len, n))
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((seq_len, n))
    cols = np.arange(n)
    markers[first, cols] = markers[second, cols] = 1.0
    x = np.stack([values, markers], axis=2).astype(np.float32)
    y = (values[first, cols] + values[second, cols]).astype(np.float32)
    return x, y


def recall_task(n: int, length: int, n_symbols: int, delay: int, reverse: bool,
                seed: int | np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """Symbols to remember, a delay, a "go" marker, then the symbols to recall (see below)."""
    if length < 1 or n_symbols < 1 or delay < 0:
        raise ValueError(f"length and n_symbols must be >= 1 and delay >= 0, got {length}, "
                         f"{n_symbols}, {delay}")
    rng = generator(seed)
    symbols = rng.integers(1, n_symbols + 1, size=(length, n))
    go = n_symbols + 1
    T = 2 * length + delay
    x = np.full((T, n), BLANK, dtype=np.int64)
    y = np.full((T, n), BLANK, dtype=np.int64)
    x[:length] = symbols
    x[length + delay] = go
    y[length + delay:] = symbols[::-1] if reverse else symbols
    return x, y


def copy_task(n: int, length: int = 5, n_symbols: int = 8, delay: int = 0,
              seed: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """The copy task: read ``length`` symbols, wait, and write them out again in order.

    Ids: 0 is blank, ``1..n_symbols`` are the symbols, ``n_symbols + 1`` is "go" (so the
    vocabulary has ``n_symbols + 2`` entries). The input is the symbols, ``delay`` blanks, "go",
    and blanks; the target is blank until "go", then the symbols, one per step from "go" on.

    Returns:
        ``(x, y)``, each (2 * length + delay, N) int64.

    >>> x, y = copy_task(1, length=3, n_symbols=4, delay=1, seed=0)
    >>> x[:, 0].tolist(), y[:, 0].tolist()
    ([4, 3, 3, 0, 5, 0, 0], [0, 0, 0, 0, 4, 3, 3])
    """
    return recall_task(n, length, n_symbols, delay, False, seed)


def reversal_task(n: int, length: int = 5, n_symbols: int = 8, delay: int = 0,
                  seed: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`copy_task`, but the symbols are written out last one first.

    >>> x, y = reversal_task(1, length=3, n_symbols=4, delay=1, seed=0)
    >>> x[:, 0].tolist(), y[:, 0].tolist()
    ([4, 3, 3, 0, 5, 0, 0], [0, 0, 0, 0, 3, 3, 4])
    """
    return recall_task(n, length, n_symbols, delay, True, seed)
