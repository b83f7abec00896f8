"""The random number generator behind every random initialisation.

Random values are drawn on the host with one NumPy generator and then moved to the device, so
``tg.manual_seed(s)`` gives the same values on ``"cpu"`` and ``"cuda"``.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the generator: the same seed gives the same random tensors on every device."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator in use (a ``numpy.random.Generator``)."""
    return _generator
