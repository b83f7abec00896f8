"""Command line: ``python -m tinygrad_rnn <command>``.

Each command is a small function that registers its own subparser in ``COMMANDS``, so adding
one (train, draw, ...) is one function and one line here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence


def _add_demo(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="fit y = 0.1 x + 0.3 by gradient descent with the engine's tensors",
        description="Fit the classic linear regression y = 0.1 x + 0.3 by plain gradient "
        "descent; exits non-zero if the fit misses the truth by more than 1e-3.",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    def run(args: argparse.Namespace) -> int:
        from tinygrad_rnn.demo import main as demo_main

        return demo_main(seed=args.seed)

    parser.set_defaults(run=run)


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    from tinygrad_rnn.cli_train import add_command

    add_command(subparsers)


def _add_graph(subparsers: argparse._SubParsersAction) -> None:
    from tinygrad_rnn.cli_graph import add_command

    add_command(subparsers)


#: One function per command; each adds its subparser and sets ``run`` (args -> exit code).
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_demo, _add_train,
                                                                _add_graph]


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


if __name__ == "__main__":
    sys.exit(main())
