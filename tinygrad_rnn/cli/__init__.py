"""The command line: ``python -m tinygrad_rnn <command>``.

One module per command, each with an ``add_command(subparsers)`` that registers its subparser
and sets ``run`` (parsed arguments -> exit code): :mod:`.demo` (linear regression and the
signature pictures), :mod:`.graph` (draw an unrolled cell), :mod:`.train` (train a model).
Adding a command is one module and one line in ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import demo, graph, train

#: The commands, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    demo.add_command, train.add_command, graph.add_command]


def build_parser() -> argparse.ArgumentParser:
    """Return the ``python -m tinygrad_rnn`` argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_rnn",
        description="tinygrad_rnn: recurrent neural networks on a minimal autograd engine.",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; with no command, print help and return 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)
