"""What the commands share to refuse bad input before any work: argument types and one error.

Each type turns the text of an option into its value or raises ``argparse.ArgumentTypeError``,
which ``argparse`` reports as ``prog: error: argument --name: ...`` with exit status 2. The same
functions check the settings a checkpoint stores (:mod:`.train`), so a value is judged by one
rule whether it comes from the command line or from a file. A problem found later (a damaged
checkpoint, a missing data file) is a :class:`CommandError`, which :func:`tinygrad_rnn.cli.main`
prints the same way, on one line.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable


class CommandError(Exception):
    """A command cannot go on: ``main`` prints ``prog: error: <message>`` and returns ``status``.

    Status 2 (the default, argparse's) says the input was wrong: an option, a file it names;
    status 1 says the run itself failed (training diverged).
    """

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def integer(text) -> int:
    """The integer ``text`` spells (``"12"``; not ``"1.5"``, ``"True"`` or ``"1e3"``)."""
    try:
        return int(str(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def at_least(low: int) -> Callable[[str], int]:
    """The type of an integer option that must be ``low`` or more."""
    def check(text) -> int:
        value = integer(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return check


positive_int = at_least(1)
non_negative_int = at_least(0)


def positive_float(text) -> float:
    """A finite number above zero (``"0.005"``, ``"1e-3"``; not ``"0"``, ``"nan"``, ``"inf"``)."""
    try:
        value = float(str(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def one_of(names: Iterable[str]) -> Callable[[str], str]:
    """The type of an option that takes one of ``names`` (argparse's ``choices``, as a type)."""
    names = sorted(names)

    def check(text) -> str:
        if text not in names:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(names)}, got {text!r}")
        return text
    return check
