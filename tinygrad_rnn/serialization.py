"""``tg.save`` / ``tg.load``: state dicts as ``.npz`` files, without pickle.

Saving writes a temporary file in the target folder and renames it over the target, so a crash
never leaves a half-written file; loading refuses pickled objects and names the file in every
error.
"""
from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from .backend import to_numpy
from .tensor import Tensor


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_rnn checkpoint."""


def save(state_dict: dict, path) -> None:
    """Write ``state_dict`` (name -> tensor or array) to ``path`` as an ``.npz`` file."""
    path = os.fspath(path)
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save(): keys must be strings, got {name!r}")
        if isinstance(value, Tensor):
            value = value.data
        try:
            array = to_numpy(value) if hasattr(value, "shape") else np.asarray(value)
        except Exception as e:
            raise TypeError(f"save(): entry {name!r} is not an array ({type(value).__name__})") from e
        if array.dtype == object:
            raise TypeError(f"save(): entry {name!r} is not a numeric array")
        arrays[name] = array
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path) -> dict:
    """Read a file written by :func:`save`: a dict of name -> host NumPy array."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load(): no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"load(): {path} is not a readable .npz checkpoint "
                              f"(truncated or another format): {e}") from e
