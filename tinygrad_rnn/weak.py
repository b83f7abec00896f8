"""``WeakTensorDict``: a dict keyed by tensors, by identity, that holds them weakly.

``weakref.WeakKeyDictionary`` compares keys with ``==``, which for tensors is elementwise (as in
torch), so it cannot hold tensors; this one compares by identity, as torch's
``WeakIdKeyDictionary`` does. An entry goes when its tensor goes.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterator, MutableMapping


class WeakTensorDict(MutableMapping):
    """A mapping from live objects (by identity, held weakly) to values."""

    def __init__(self):
        self.entries: dict[int, tuple[weakref.ref, object]] = {}  # id -> (ref, value)

    def __setitem__(self, key, value) -> None:
        k, entries = id(key), self.entries

        def gone(ref):  # the key died: drop its entry (unless a newer key took the id)
            if entries.get(k, (None,))[0] is ref:
                del entries[k]

        entries[k] = (weakref.ref(key, gone), value)

    def __getitem__(self, key):
        ref, value = self.entries.get(id(key), (None, None))
        if ref is None or ref() is not key:
            raise KeyError(key)
        return value

    def __delitem__(self, key) -> None:
        self[key]
        del self.entries[id(key)]

    def __iter__(self) -> Iterator:
        return (k for k in (ref() for ref, _ in list(self.entries.values())) if k is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)
