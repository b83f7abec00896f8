"""Which array module holds a tensor's data: NumPy on ``"cpu"``, CuPy on ``"cuda"``.

This is the lowest layer of the package. Everything above it asks for the array module of the
arrays it holds (the ``xp`` idiom of Chainer) and never names NumPy or CuPy directly, so one
code path serves both devices. CuPy is imported only when ``"cuda"`` is first asked for.
"""
from __future__ import annotations

import math

import numpy as np

from . import cuda

DEVICES = ("cpu", "cuda")


class DeviceError(RuntimeError):
    """An op was given tensors on different devices, or a device that cannot be used."""


class device(str):
    """A device, as ``torch.device``: ``tg.device("cpu")``, ``tg.device("cuda")``,
    ``tg.device("cuda:0")`` or ``tg.device("cuda", 0)``, with ``.type`` and ``.index``.

    It is also the string of its type, so it compares equal to ``"cpu"`` and ``"cuda"`` and
    prints as one (``t.device == "cuda"``). There is one GPU: ``"cuda:0"`` is ``"cuda"`` (they
    compare equal), another index is refused.

    >>> d = device("cuda:0")
    >>> d.type, d.index, d == "cuda", d == "cpu"
    ('cuda', 0, True, False)
    """

    def __new__(cls, spec, index: int | None = None):
        if isinstance(spec, device) and index is None:
            return spec
        if not isinstance(spec, str):
            raise TypeError(f"device(): expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type(spec).__name__}")
        kind, colon, number = spec.partition(":")
        if colon:
            if index is not None or not number.isdigit():
                raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:0'")
            index = int(number)
        if kind not in DEVICES:
            raise ValueError(f"unknown device {spec!r}: expected one of {', '.join(DEVICES)} "
                             "(or 'cuda:0')")
        if index is not None and index != 0:
            raise ValueError(f"device {spec!r}, index {index}: tinygrad_rnn uses one GPU, "
                             "'cuda' (= 'cuda:0')")
        d = super().__new__(cls, kind)
        d.index = index
        return d

    @property
    def type(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, str):
            return NotImplemented
        try:
            return self.type == device(other).type
        except ValueError:
            return False

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __reduce__(self):
        return device, (self.type, self.index)


CPU, CUDA = device("cpu"), device("cuda")


def check_device(spec) -> str:
    """The type (``"cpu"`` or ``"cuda"``) of a device given as a string or a :class:`device`;
    ``ValueError`` for an unknown one."""
    if spec.__class__ is str and spec in DEVICES:  # "cpu" or "cuda" as they are (the usual case)
        return spec
    return device(spec).type


def xp_for(device: str):
    """The array module of ``device``: ``numpy`` for ``"cpu"``, ``cupy`` for ``"cuda"``."""
    if check_device(device) == "cpu":
        return np
    return cuda.cupy()


def get_array_module(a):
    """The array module that ``a`` belongs to (``numpy`` or ``cupy``)."""
    if a.__class__ is np.ndarray:
        return np
    if is_cupy_array(a):
        return cuda.cupy()
    return np


def is_cupy_array(a) -> bool:
    """Whether ``a`` is a CuPy array (checked without importing CuPy)."""
    return type(a).__module__.partition(".")[0] == "cupy"


def device_of(a) -> device:
    """``"cuda"`` for a CuPy array, ``"cpu"`` for anything else (NumPy arrays, lists, numbers)."""
    return CUDA if is_cupy_array(a) else CPU


def to_device(a, device: str):
    """Copy array ``a`` to ``device`` (no copy when it is already there)."""
    device = check_device(device)
    if device_of(a).type == device:
        return a
    if device == "cpu":
        return to_numpy(a)  # a transfer to the host: the deferred checks are read first
    return xp_for("cuda").asarray(a)


def to_numpy(a) -> np.ndarray:
    """A host NumPy array with the contents of ``a`` (first raising a failed deferred check)."""
    if is_cupy_array(a):
        check_deferred()
        return a.get()
    return np.asarray(a)


def item(a):
    """The one value of array ``a`` as a Python number (first raising a failed deferred check)."""
    if is_cupy_array(a):
        check_deferred()
    return a.item()


_deferred: dict = {}  # (error class, message) -> 0-d device bool: true when the check failed


def check_later(failed, error: type[Exception], message: str) -> None:
    """Raise ``error(message)`` at the next transfer to the host if ``failed`` turns out true.

    ``failed`` is a 0-d boolean array on the GPU, e.g. ``(i < 0).any()`` for indices ``i``.
    Asking for its value now would stop the Python thread until the GPU has caught up (a sync)
    at every training step; instead it is kept (or-ed with earlier failures of the same check)
    and read at the next transfer the user asks for: ``Tensor.item()``, ``.numpy()``,
    ``print``. A bad index then raises a clear error there, naming the function and the
    range, as a CUDA device-side assertion does in PyTorch; the values computed from it since
    are invalid (CuPy wraps an out-of-range index around instead of failing). On the CPU the
    same checks run at once: knowing a NumPy array's values costs nothing.
    """
    key = (error, message)
    previous = _deferred.get(key)
    _deferred[key] = failed if previous is None else previous | failed


LONG_SUM = 4096  # float32 (or float16) sums of more terms than this accumulate in float64
BLOCK = 256      # rows per float32 partial sum of sum_leading (one BLAS product for all blocks)


def accumulator(a, terms: int):
    """The dtype to sum ``terms`` values of ``a`` in: float64 for a long float32 or float16
    sum, else ``None`` (``a``'s own). NumPy adds along a leading axis one row after another, so
    the error of a float32 sum grows with its number of rows: a bias gradient summed over 32,768
    rows would carry a relative error of about 6e-6 where float64 accumulation gives 5e-8
    (torch's is 1e-7). The engine's broadcast sums (``autograd.fit_to``) and the fused steps'
    bias sums both go through :func:`sum_leading`, which uses it.
    """
    long = terms > LONG_SUM and a.dtype.kind == "f" and a.dtype.itemsize < 8
    return "float64" if long else None


SHORT_ROWS, MANY_ROWS = 64, 4096  # row_max: at least MANY_ROWS rows this short go by blocks
ROW_BLOCK = 512  # rows that row_max transposes at a time


def row_max(x):
    """The maximum of each row of ``x`` (M, C), as ``x.max(axis=1, keepdims=True)``.

    NumPy reduces a short row in its own inner loop, about 48 ns a row of 28 (1.56 ms for d2l's
    32,768 rows of logits). For many short rows on the CPU the rows are taken 512 at a time,
    transposed into a small contiguous block and reduced across it, one vector operation per
    column: 0.59 ms, the same values (NaN rows NaN). Fewer or longer rows, or arrays elsewhere
    than NumPy, use ``max`` itself.
    """
    M, C = x.shape
    if x.__class__ is not np.ndarray or M < MANY_ROWS or C > SHORT_ROWS or not C:
        return x.max(axis=1, keepdims=True)
    out = np.empty((M, 1), x.dtype)
    for i in range(0, M, ROW_BLOCK):
        block = slice(i, i + ROW_BLOCK)
        np.ascontiguousarray(x[block].T).max(axis=0, out=out[block, 0])
    return out


def sum_leading(a, n: int):
    """``a`` summed over its first ``n`` axes: a bias gradient from (rows, C) or (T, N, C).

    On the CPU a float32 or float64 sum is a BLAS product with a vector of ones: NumPy's own
    sum over a leading axis adds one row at a time, about 20 ns per row of a narrow gradient
    (6 us against 2 us on 256 x 65). A long float32 sum (:func:`accumulator`) is returned in
    float64: it is summed in blocks of ``BLOCK`` rows, one product ``ones(BLOCK) @ blocks``
    (k, BLOCK, C) -> (k, C) giving every block's float32 sum, and those are added in float64.
    That is as precise as adding every row in float64 (4.6e-8 against 3.1e-8 on 32,768 x 28)
    and 11x faster there.
    """
    rows, rest = math.prod(a.shape[:n]), a.shape[n:]
    acc = accumulator(a, rows)
    if a.__class__ is not np.ndarray or a.dtype not in (np.float32, np.float64) \
            or not a.flags.c_contiguous or acc is not None and a.dtype != np.float32:
        return a.sum(axis=tuple(range(n)), dtype=acc)
    m = a.reshape(rows, math.prod(rest))
    if acc is None:
        return (np.ones(rows, a.dtype) @ m).reshape(rest)
    k = rows // BLOCK
    blocks = np.ones(BLOCK, a.dtype) @ m[:k * BLOCK].reshape(k, BLOCK, m.shape[1])
    total = blocks.sum(axis=0, dtype=acc) + m[k * BLOCK:].sum(axis=0, dtype=acc)
    return total.reshape(rest)


def check_range(values, n: int, error: type[Exception], what: str, keep=None) -> None:
    """Refuse integer ``values`` outside ``[0, n)`` (only where ``keep``, when given).

    The one range check of class targets and indices: ``error(f"{what} must be in [0, n), got
    [lo, hi]")`` at once for values on the host; for values on the GPU at the next transfer
    to the host (:func:`check_later`), so that no training step waits for the GPU.
    """
    bad = (values < 0) | (values >= n)
    if keep is not None:
        bad &= keep
    if is_cupy_array(values):
        check_later(bad.any(), error, f"{what} must be in [0, {n}): one on the 'cuda' device "
                                      f"was outside [0, {n}) (checked at this transfer to the "
                                      "host; results computed from it are invalid)")
    elif bad.any():
        picked = values if keep is None else values[keep]
        raise error(f"{what} must be in [0, {n}), got [{int(picked.min())}, "
                    f"{int(picked.max())}]")


def check_deferred() -> None:
    """Raise the first failed deferred check (one transfer for all of them), and forget them."""
    if not _deferred:
        return
    checks = list(_deferred.items())
    _deferred.clear()
    flags = to_numpy(get_array_module(checks[0][1]).stack([f for _, f in checks]))
    for ((error, message), _), failed in zip(checks, flags):
        if failed:
            raise error(message)


_constants: dict = {}  # array type -> dtype -> value -> 0-d array


def constant(value, like):
    """``value`` as a 0-d array of ``like``'s dtype and device, cached.

    NumPy multiplies an array by a 0-d array of its own dtype about twice as fast as by a Python
    float, and recurrent cells use the same few constants (``1 - z``, ``* 0.5``) at every step.
    The cache is nested (one small dict per array type and dtype): a lookup then hashes no
    tuple, which costs about a third less on every call. An integer that does not fit wraps
    around, as in torch: ``x - 1`` of a uint8 ``x`` is ``x + 255``.
    """
    try:
        return _constants[like.__class__][like.dtype][value]
    except KeyError:
        values = _constants.setdefault(like.__class__, {}).setdefault(like.dtype, {})
        if len(values) >= 4096:
            values.clear()
        c = values[value] = get_array_module(like).asarray(value).astype(like.dtype)
        return c


ONE_HOT = 2**15  # a scatter of rows into a table is a one-hot product up to rows x table this size


def scatter_add(xp, target, index, values) -> None:
    """``target[index] += values`` where repeated indices add up (``np.add.at``).

    The common case, one integer array selecting rows (an embedding's gradient), sorts the
    indices and sums each run of equal ones with ``np.add.reduceat``: several times faster than
    ``np.add.at`` on the CPU. Its indices are first made non-negative (``-1`` is the last row),
    so that ``-1`` and ``n - 1`` fall into one run. A small table (rows x picks up to
    ``ONE_HOT``, a character model's 65 x 256) takes one product ``one_hot^T @ values``
    instead (39 -> 14 us there), unless a value is infinite: 0 * inf would put NaN in every row.
    """
    if xp is not np:  # pragma: no cover - needs a GPU
        import cupyx

        cupyx.scatter_add(target, index, values)
        return
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size > 1:
        rows = normalise_index(index.reshape(-1), target.shape[0])
        values = values.reshape((rows.size,) + target.shape[1:])
        if target.shape[0] * rows.size <= ONE_HOT and values.dtype.kind == "f" \
                and np.isfinite(values).all():  # 0 * inf would spread an inf as NaN
            one_hot = rows == np.arange(target.shape[0])[:, None]
            target += (one_hot.astype(values.dtype) @ values.reshape(rows.size, -1)).reshape(
                target.shape)
            return
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        target[rows[starts]] += np.add.reduceat(values[order], starts, axis=0)
        return
    np.add.at(target, index, values)


def normalise_index(rows: np.ndarray, n: int) -> np.ndarray:
    """Integer indices into an axis of size ``n`` with the negative ones wrapped (``-1 -> n-1``).

    Raises ``IndexError`` naming an index outside ``[-n, n)``.
    """
    low, high = int(rows.min()), int(rows.max())
    if low < -n or high >= n:
        bad = low if low < -n else high
        raise IndexError(f"scatter_add(): index {bad} is out of range for an axis of size {n}")
    return rows + n * (rows < 0) if low < 0 else rows
