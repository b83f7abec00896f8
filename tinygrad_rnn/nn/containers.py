"""Containers as PyTorch's: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

Each holds its modules under string keys (``"0"``, ``"1"``, ... or the names given), which
become the middle of their parameters' dotted names: ``Sequential(Linear(2, 3))`` has
``0.weight``, and a ``ModuleList`` at attribute ``layers`` gives ``layers.0.weight``.

>>> import tinygrad_rnn as tg
>>> net = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.Tanh(), tg.nn.Linear(3, 1))
>>> [name for name, _ in net.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> net(tg.ones(5, 2)).shape
(5, 1)
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Self

from .module import Module


def checked_module(container: str, key, module) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{container}: entry {key!r} must be a Module, not "
                        f"{type(module).__name__}")
    return module


class Container(Module):
    """What the three share: modules in an ordered dict ``entries`` under string keys."""

    def child_items(self) -> list[tuple[str, Module]]:
        return list(self.entries.items()) + super().child_items()

    def __len__(self) -> int:
        return len(self.entries)

    def __getattr__(self, name: str):
        """An entry by its key as an attribute (``model.conv1``), as torch."""
        entries = vars(self).get("entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def renumbered(self, modules: Iterable[Module]) -> None:
        """Hold ``modules`` under the keys ``"0"``, ``"1"``, ... (after a change in the middle)."""
        self.entries = OrderedDict((str(i), checked_module(type(self).__name__, i, m))
                                   for i, m in enumerate(modules))

    def index(self, idx: int) -> int:
        """``idx`` as a position in ``0 .. len - 1`` (negative counts from the end)."""
        n = len(self)
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not "
                            f"{type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length "
                             f"{n}")
        return idx % n


class Indexed(Container):
    """What ``Sequential`` and ``ModuleList`` share: entries in order, indexed by position."""

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.sliced(list(self.entries.items())[idx])
        return list(self.entries.values())[self.index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self.entries)[self.index(idx)]
        self.entries[key] = checked_module(type(self).__name__, key, module)

    def __delitem__(self, idx) -> None:
        modules = list(self.entries.values())
        del modules[idx if isinstance(idx, slice) else self.index(idx)]
        self.renumbered(modules)  # as torch: the keys are renumbered

    def __iter__(self) -> Iterator[Module]:
        return iter(self.entries.values())

    def append(self, module: Module) -> Self:
        self.entries[str(len(self))] = checked_module(type(self).__name__, len(self), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Self:
        modules = list(self.entries.values())
        modules.insert(index, module)
        self.renumbered(modules)
        return self

    def pop(self, idx: int = -1) -> Module:
        module = self[idx]
        del self[idx]
        return module


class Sequential(Indexed):
    """Modules applied in order, each to the output of the one before.

    ``Sequential(m0, m1, ...)`` names them ``"0"``, ``"1"``, ...; ``Sequential(OrderedDict(
    [("name", m), ...]))`` keeps the names given.
    """

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            self.entries = OrderedDict((str(k), checked_module("Sequential", k, m))
                                       for k, m in args[0].items())
        else:
            self.renumbered(args)

    def sliced(self, items: list) -> Sequential:
        return Sequential(OrderedDict(items))

    def forward(self, x):
        for module in self.entries.values():
            x = module(x)
        return x


class ModuleList(Indexed):
    """A list of modules whose parent finds their parameters (``layers.0.weight``, ...).

    It has no ``forward``: the parent's ``forward`` calls its entries.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        self.renumbered(modules or [])

    def sliced(self, items: list) -> ModuleList:
        return ModuleList([m for _, m in items])

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(): call its entries in a loop")

    def __repr__(self) -> str:
        """As torch: a run of entries that print alike is one line, ``(0-2): 3 x Linear(...)``."""
        runs = []  # [first, last, text]
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        if not runs:
            return "ModuleList()"
        lines = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text
                 for a, b, text in runs]
        return "ModuleList(\n  " + "\n  ".join(s.replace("\n", "\n  ") for s in lines) + "\n)"


class ModuleDict(Container):
    """A dict of modules under string keys, in insertion order (``encoders.fr.weight``, ...)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        self.entries = OrderedDict()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self.entries[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.check_entry("ModuleDict", key, module, Module)
        self.entries[key] = checked_module("ModuleDict", key, module)

    def __delitem__(self, key: str) -> None:
        del self.entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, key) -> bool:
        return key in self.entries

    def keys(self):
        return self.entries.keys()

    def items(self):
        return self.entries.items()

    def values(self):
        return self.entries.values()

    def update(self, modules) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        return self.entries.pop(key)

    def clear(self) -> None:
        self.entries.clear()

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(): call its entries by key")
