"""The command line: ``python -m tinygrad_rnn <command>``.

One module per command, each with an ``add_command(subparsers)`` that registers its subparser
and sets ``run`` (parsed arguments -> exit code): :mod:`.demo` (linear regression and the
signature pictures), :mod:`.graph` (draw an unrolled cell), :mod:`.train` (train a model),
:mod:`.sample` (text from a trained model).
Adding a command is one module and one line in ``COMMANDS``. Every option is checked by its
argparse type (:mod:`.checks`) before any work; a problem found while a command runs (a damaged
checkpoint, a missing file) is a :class:`~.checks.CommandError`, printed on one line as
``prog: error: ...``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from ..threads import set_num_threads
from . import demo, graph, sample, train
from .checks import CommandError, positive_int

#: The commands, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    demo.add_command, train.add_command, sample.add_command, graph.add_command]


def build_parser(prog: str = "python -m tinygrad_rnn") -> argparse.ArgumentParser:
    """Return the argument parser with every command registered (``prog`` names the program)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="tinygrad_rnn: recurrent neural networks on a minimal autograd engine.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="BLAS threads for matrix products (default 1: fastest for small "
                        "recurrent networks; see tinygrad_rnn.threads)")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m tinygrad_rnn") -> int:
    """Parse ``argv``, run the chosen command and return its exit status.

    Returns 2 with no command (after the help), for an option argparse refuses (its usage and
    ``prog: error: ...`` line) and for a :class:`CommandError` (its one line); ``--help`` returns 0.
    """
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed the help or the error
        return e.code if isinstance(e.code, int) else 2
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    if args.threads is not None:
        set_num_threads(args.threads)
    try:
        return args.run(args)
    except CommandError as e:
        print(f"{getattr(args, 'prog', parser.prog)}: error: {e}", file=sys.stderr)
        return e.status


def console() -> int:
    """The ``tinygrad-rnn`` console script (installed with the package): :func:`main`."""
    return main(prog="tinygrad-rnn")
