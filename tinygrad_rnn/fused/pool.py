"""``ArrayPool``: arrays a fused layer uses again from one call to the next."""
from __future__ import annotations

import collections
import sys
import threading

from ..backend import get_array_module


class ArrayPool:
    """Arrays to use again: a layer keeps those of its last call for the next one.

    An array is handed out again only when nothing else refers to it (``sys.getrefcount``): no
    output, gradient or view of it is alive anywhere. Reuse spares the allocation and, for large
    arrays, the operating system's zero-filling of fresh pages on first touch (measured at ~90 ms
    of a 350 ms step of the large benchmark model). At most ``keep`` arrays wait here.

    One layer may run in several threads at once: :meth:`take` holds a lock while it looks for
    an array and removes it, so two threads never get the same one. :meth:`give` takes no lock:
    it only appends to ``returned`` (a deque: appending is atomic), which ``take`` empties into
    ``spare`` under its lock. So ``give`` may run anywhere, even inside ``take`` in the same
    thread (a garbage collection there can finalize a sequence, which gives its arrays back),
    without waiting for the lock or changing ``spare`` while ``take`` walks it.
    """

    def __init__(self, keep: int = 16):
        self.keep, self.spare = keep, []
        self.returned: collections.deque = collections.deque(maxlen=keep)
        self.lock = threading.Lock()
        # the reference count of an array that only this pool holds (-1: not CPython, where
        # nothing tells whether an array is still used, so nothing is reused)
        self.unshared = self._count([object()], 0) if hasattr(sys, "getrefcount") else -1

    @staticmethod
    def _count(spare: list, k: int) -> int:
        a = spare[k]
        return sys.getrefcount(a)

    def take(self, xp, shape: tuple, dtype):
        """An unused array of this shape and dtype from the pool, or a new one."""
        if self.unshared >= 0:
            with self.lock:
                spare, returned = self.spare, self.returned
                while returned:
                    spare.append(returned.popleft())
                del spare[:-self.keep]
                for k in range(len(spare)):  # no local name for spare[k]: it would count as a user
                    if spare[k].shape == shape and spare[k].dtype == dtype and \
                            get_array_module(spare[k]) is xp and \
                            self._count(spare, k) <= self.unshared:
                        return spare.pop(k)
        return xp.empty(shape, dtype=dtype)

    def give(self, arrays) -> None:
        """Keep ``arrays`` (an iterable; ``None`` entries are skipped) for later calls."""
        self.returned.extend(a for a in arrays if a is not None)


def _give_back(pool: ArrayPool, arrays: dict) -> None:
    pool.give(arrays.values())
