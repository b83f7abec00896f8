"""``cupyx`` of the CuPy stand-in (tests/fake_cuda): ``scatter_add`` and ``allow_synchronize``."""
from __future__ import annotations

import contextlib

from cupy._array import DeviceSynchronized, transfers

__all__ = ["DeviceSynchronized", "allow_synchronize", "scatter_add"]


def scatter_add(a, slices, value) -> None:
    """``a[slices] += value`` where repeated indices add up (integer indices wrap around)."""
    a.scatter_add(slices, value)


@contextlib.contextmanager
def allow_synchronize(allow: bool):
    """Inside ``allow_synchronize(False)`` a device->host transfer raises
    :class:`DeviceSynchronized`, as in CuPy."""
    before, transfers.allowed = transfers.allowed, allow
    try:
        yield
    finally:
        transfers.allowed = before
