"""``cupy.random`` of the stand-in: CuPy's API over NumPy's generators, arrays on the device.

The numbers differ from real CuPy's (another generator); the package draws its random numbers
on the host (``tg.manual_seed``), so it does not depend on them.
"""
from __future__ import annotations

import numpy as np

from ._array import wrap


class RandomState:
    """``cupy.random.RandomState``: legacy draws as device arrays."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed=None) -> None:
        self.state = np.random.RandomState(seed)

    def rand(self, *size, dtype=float):
        return wrap(self.state.random_sample(size).astype(dtype))

    def randn(self, *size, dtype=float):
        return wrap(self.state.standard_normal(size).astype(dtype))

    def random_sample(self, size=None, dtype=float):
        return wrap(np.asarray(self.state.random_sample(size)).astype(dtype))

    def standard_normal(self, size=None, dtype=float):
        return wrap(np.asarray(self.state.standard_normal(size)).astype(dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return wrap(np.asarray(self.state.normal(loc, scale, size)).astype(dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return wrap(np.asarray(self.state.uniform(low, high, size)).astype(dtype))

    def randint(self, low, high=None, size=None, dtype=int):
        return wrap(np.asarray(self.state.randint(low, high, size)).astype(dtype))


class Generator:
    """``cupy.random.Generator`` (from :func:`default_rng`)."""

    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def random(self, size=None, dtype=np.float64):
        return wrap(np.asarray(self.rng.random(size, dtype=dtype)))

    def standard_normal(self, size=None, dtype=np.float64):
        return wrap(np.asarray(self.rng.standard_normal(size, dtype=dtype)))

    def normal(self, loc=0.0, scale=1.0, size=None):
        return wrap(np.asarray(self.rng.normal(loc, scale, size)))

    def uniform(self, low=0.0, high=1.0, size=None):
        return wrap(np.asarray(self.rng.uniform(low, high, size)))

    def integers(self, low, high=None, size=None, dtype=np.int64):
        return wrap(np.asarray(self.rng.integers(low, high, size, dtype=dtype)))


def default_rng(seed=None) -> Generator:
    return Generator(seed)


_global = RandomState()
seed = _global.seed
rand, randn, random_sample = _global.rand, _global.randn, _global.random_sample
random = _global.random_sample
standard_normal, normal, uniform = _global.standard_normal, _global.normal, _global.uniform
randint = _global.randint
