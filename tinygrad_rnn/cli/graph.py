"""``python -m tinygrad_rnn graph``: draw one recurrent cell unrolled over a few steps.

    python -m tinygrad_rnn graph --cell lstm --steps 4 --level op --out lstm.svg
    python -m tinygrad_rnn graph --cell gru --steps 30 --level cell --grads --out gru.svg

The cell is unrolled with :func:`tinygrad_rnn.graph.unroll` on random inputs; the loss is the
sum of the last hidden state, so ``--grads`` shows how its gradient fades back through time.
The file's suffix picks the format: ``.svg``, ``.png``, ``.pdf`` (Graphviz's ``dot``) or ``.dot``
(the DOT text, no Graphviz needed).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .. import graph, viz
from ..creation import randn
from ..nn import GRUCell, IRNNCell, LSTMCell, RNNCell
from ..random import manual_seed
from ..tensor import Tensor
from .checks import CommandError, non_negative_int, positive_int

#: The suffixes ``--out`` may end in; each picks a format (:func:`tinygrad_rnn.viz.write`).
SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
#: ``--cell`` name -> (description, factory of ``(input_size, hidden_size)``).
CELLS: dict[str, tuple[str, Callable]] = {
    "rnn": ("Elman RNN, tanh", RNNCell),
    "lstm": ("LSTM (PyTorch's gates i, f, g, o)", LSTMCell),
    "gru": ("GRU (PyTorch's reset-after form)", GRUCell),
    "irnn": ("IRNN: ReLU RNN initialised to the identity (Le et al. 2015)", IRNNCell),
    "peephole": ("LSTM with peephole connections", lambda i, h: LSTMCell(i, h, peephole=True)),
    "coupled": ("LSTM with coupled input-forget gate (CIFG)",
                lambda i, h: LSTMCell(i, h, coupled=True)),
    "gru-cho": ("GRU in Cho et al.'s original (reset-before) form",
                lambda i, h: GRUCell(i, h, reset_after=False)),
}


def unrolled(cell_name: str, steps: int, batch: int = 2, hidden: int = 3, inputs: int = 2,
             seed: int = 0) -> tuple[Tensor, object]:
    """``(loss, cell)``: the cell ``cell_name`` unrolled over ``steps`` random inputs.

    The loss is the sum of the last hidden state.
    """
    if cell_name not in CELLS:
        raise ValueError(f"unknown cell {cell_name!r}; choose one of {', '.join(CELLS)}")
    for name, value in (("steps", steps), ("batch", batch), ("hidden", hidden),
                        ("input", inputs)):
        if value < 1:
            raise ValueError(f"--{name} must be at least 1, got {value}")
    manual_seed(seed)
    cell = CELLS[cell_name][1](inputs, hidden)
    xs = randn(steps, batch, inputs)
    hs, _ = graph.unroll(cell, xs)
    return hs[-1].sum(), cell


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``graph`` command."""
    parser = subparsers.add_parser(
        "graph", help="draw a recurrent cell unrolled through time (SVG, PNG, PDF or DOT)",
        description="Unroll a recurrent cell over a few random steps and draw the graph that "
        "backpropagation through time walks: one cluster per time step, the shared parameters "
        "drawn once. Cells: " + "; ".join(f"{k}: {d}" for k, (d, _) in CELLS.items()) + ".",
    )
    parser.add_argument("--cell", choices=list(CELLS), default="lstm", help="default: lstm")
    parser.add_argument("--steps", type=positive_int, default=4, help="time steps (default: 4)")
    parser.add_argument("--level", choices=["op", "cell", "step"], default="op",
                        help="op: every primitive; cell: one node per step (default: op)")
    parser.add_argument("--out", type=out_path, default=None,
                        help="output file, .svg/.png/.pdf/.dot (default: <cell>.svg); its "
                        "folder is made if missing")
    parser.add_argument("--grads", action="store_true",
                        help="colour nodes and edges by the norm of their gradient")
    parser.add_argument("--batch", type=positive_int, default=2, help="batch size N (default: 2)")
    parser.add_argument("--hidden", type=positive_int, default=3, help="hidden size H (default: 3)")
    parser.add_argument("--input", type=positive_int, default=2, help="input size I (default: 2)")
    parser.add_argument("--max-steps", type=positive_int, default=None,
                        help="draw only the first and last of this many steps")
    parser.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                        help="time runs left to right (LR, default) or top to bottom (TB)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed (default: 0)")
    parser.set_defaults(run=run, prog=parser.prog)


def out_path(text: str) -> Path:
    """The ``--out`` file: a known suffix, and not a folder (a missing folder is made later)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; name a file in it")
    if path.suffix.lower() not in SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r} must end in one of {', '.join(SUFFIXES)}")
    return path


def run(args: argparse.Namespace) -> int:
    """Draw the graph the arguments describe; print where it went. Returns the exit code."""
    loss, cell = unrolled(args.cell, args.steps, args.batch, args.hidden, args.input, args.seed)
    if args.grads:
        with viz.record_grads():
            loss.backward()
    out = args.out or Path(f"{args.cell}.svg")
    options = {"level": args.level, "grads": args.grads, "module": cell,
               "max_steps": args.max_steps, "rankdir": args.rankdir}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        path = viz.write(loss, out, **options)
    except (viz.DrawingTooLarge, viz.RenderTimeout) as e:  # one line, with what to do instead
        raise CommandError(f"--out {out}: {e}") from None
    except viz.DotNotFound as e:
        dot_path = out.with_suffix(".dot")
        viz.write(loss, dot_path, **options)
        print(f"graph: {e}\nwrote the DOT text to {dot_path} instead", file=sys.stderr)
        return 1
    except OSError as e:
        raise CommandError(f"--out {out}: cannot write it: {e.strerror or e}") from None
    print(f"wrote {path} ({args.cell}, {args.steps} steps, level={args.level}"
          f"{', gradient norms' if args.grads else ''})")
    return 0
