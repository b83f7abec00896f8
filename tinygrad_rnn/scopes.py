"""The scope grammar: how a tensor's scope names its layer, direction and time step.

Every tensor records the scope it was made in, a tuple of names such as
``("lstm", "l1_reverse", "t3", "forget")``: modules push their name, recurrent layers push a
layer entry ``l<k>`` (``l<k>_reverse`` for the backward direction) and a step entry ``t<k>``.
This module is the one place that writes and reads those entries; the engine, the tracer and
the drawings all go through it.

>>> step_name(3), layer_name(1, reverse=True)
('t3', 'l1_reverse')
>>> parse_scope(("lstm", "l1_reverse", "t3", "forget"))
Place(outer=('lstm', 'l1_reverse'), step=3, inner=('forget',), layer=1, reverse=True)
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

STEP = re.compile(r"t(\d+)$")
LAYER = re.compile(r"l(\d+)(_reverse)?$")
REVERSE = "_reverse"


STEP_NAMES = tuple(f"t{t}" for t in range(1024))  # made once: a time loop records one per
# step, and a new string at every step cost a small RNN's training step about 1%


def step_name(t: int) -> str:
    """The scope entry of time step ``t``: ``"t3"``."""
    return STEP_NAMES[t] if 0 <= t < len(STEP_NAMES) else f"t{t}"


def layer_name(k: int, reverse: bool = False) -> str:
    """The scope entry of layer ``k``: ``"l0"``, or ``"l0_reverse"`` for the backward direction."""
    return f"l{k}{REVERSE if reverse else ''}"


def parse_step(entry: str) -> int | None:
    """The time step named by a scope entry (``"t3"`` -> 3), or ``None``."""
    m = STEP.match(entry)
    return None if m is None else int(m.group(1))


def parse_layer(entry: str) -> tuple[int, bool] | None:
    """``(k, reverse)`` of a layer entry (``"l1_reverse"`` -> ``(1, True)``), or ``None``."""
    m = LAYER.match(entry)
    return None if m is None else (int(m.group(1)), m.group(2) is not None)


def is_layer(entry: str) -> bool:
    """Whether a scope entry names a layer (``l<k>`` or ``l<k>_reverse``)."""
    return LAYER.match(entry) is not None


def unlayered(scope: Sequence[str]) -> tuple[str, ...]:
    """A scope without its layer entries (``("lstm", "l1_reverse")`` -> ``("lstm",)``)."""
    return tuple(entry for entry in scope if not is_layer(entry))


def step_of(scope: Sequence[str]) -> int | None:
    """The time step of the last step entry of a scope, or ``None``."""
    for entry in reversed(scope):
        t = parse_step(entry)
        if t is not None:
            return t
    return None


class Place(NamedTuple):
    """Where a tensor was made, read from its scope.

    Attributes:
        outer: the scope entries before the time step (modules, ``l<k>`` layer entries); the
            whole scope when there is no step.
        step: the time step ``k`` of the last ``t<k>`` entry, or ``None``.
        inner: the entries after the step (a cell module, a gate: ``("forget",)``).
        layer: ``k`` of the last ``l<k>`` / ``l<k>_reverse`` entry in ``outer``, or ``None``.
        reverse: whether that layer entry is a backward direction (``_reverse``).
    """

    outer: tuple[str, ...]
    step: int | None
    inner: tuple[str, ...]
    layer: int | None
    reverse: bool


def parse_scope(names: Sequence[str]) -> Place:
    """Read a scope tuple as a :class:`Place` (the last ``t<k>`` entry is the time step)."""
    names = tuple(names)
    at = next((i for i in range(len(names) - 1, -1, -1) if STEP.match(names[i])), None)
    outer = names if at is None else names[:at]
    step = None if at is None else int(names[at][1:])
    inner = () if at is None else names[at + 1:]
    layer, reverse = None, False
    for name in reversed(outer):
        parsed = parse_layer(name)
        if parsed is not None:
            layer, reverse = parsed
            break
    return Place(outer, step, inner, layer, reverse)
