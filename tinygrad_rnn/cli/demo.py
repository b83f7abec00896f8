"""The demo behind ``python -m tinygrad_rnn demo``: linear regression by gradient descent.

The classic first example of a gradient-descent framework: draw 100 points ``x`` uniformly in
[0, 1), set ``y = 0.1 x + 0.3``, and recover ``W = 0.1`` and ``b = 0.3`` by minimising the mean
squared error with plain gradient descent. Every gradient comes from the engine's
``backward()``; nothing here knows a derivative.

Then it writes the package's signature pictures into ``out/``: an LSTM cell unrolled through
time with every node coloured by its gradient norm (SVG), and the gradient flow of four
recurrent networks over 100 steps (PNG).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tinygrad_rnn as tg

TRUE_W = 0.1
TRUE_B = 0.3
TOLERANCE = 1e-3


@dataclass
class FitResult:
    """Outcome of :func:`fit_linear_regression`.

    Attributes:
        W: fitted slope.
        b: fitted intercept.
        losses: the loss at every step, before that step's update.
    """

    W: float
    b: float
    losses: list[float] = field(default_factory=list)


def fit_linear_regression(
    steps: int = 201,
    lr: float = 0.5,
    seed: int = 0,
    log_every: int = 20,
    log: Callable[[str], None] | None = print,
) -> FitResult:
    """Fit ``y = W x + b`` to ``y = 0.1 x + 0.3`` by gradient descent on the mean squared error.

    Args:
        steps: number of gradient-descent steps.
        lr: learning rate.
        seed: seed for ``tg.manual_seed``, so the data and the initial ``W`` repeat.
        log_every: print the step and loss every this many steps.
        log: where progress lines go (``None`` for silence).

    Returns:
        The fitted ``W`` and ``b`` and the loss at every step.
    """
    tg.manual_seed(seed)
    x = tg.rand(100)  # float32, uniform in [0, 1)
    y = TRUE_W * x + TRUE_B

    W = tg.tensor(tg.rand(1).numpy() * 2 - 1, requires_grad=True, name="W")  # uniform in [-1, 1)
    b = tg.zeros(1, requires_grad=True)

    losses = []
    for step in range(steps):
        loss = ((W * x + b - y) ** 2).mean()
        loss.backward()
        with tg.no_grad():
            W.data -= lr * W.grad.data
            b.data -= lr * b.grad.data
        W.grad = None
        b.grad = None

        losses.append(loss.item())
        if log is not None and step % log_every == 0:
            log(f"step {step:4d}  loss {losses[-1]:.3e}")

    return FitResult(W=W.item(), b=b.item(), losses=losses)


def write_figures(folder: str | Path = "out", seed: int = 0) -> list[Path]:
    """Write the signature pictures into ``folder`` and return their paths.

    - ``lstm_unrolled.svg``: an LSTM cell unrolled over 5 steps, every primitive drawn, coloured
      by the norm of its gradient (``.dot`` text instead when Graphviz's ``dot`` is missing);
    - ``gradient_flow.png``: ``‖∂L/∂h_t‖`` over 100 steps for a tanh RNN, an LSTM, a GRU and an
      IRNN side by side (:func:`tinygrad_rnn.models.measure_flows`,
      :func:`tinygrad_rnn.viz.compare_gradient_flow`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tg.manual_seed(seed)
    cell = tg.nn.LSTMCell(2, 3)
    hs, _ = tg.graph.unroll(cell, tg.randn(5, 2, 2))
    loss = hs[-1].sum()
    with tg.viz.record_grads():
        loss.backward()
    drawing = tg.viz.draw(loss, grads=True, module=cell)
    try:
        graph_path = tg.viz.write(drawing, folder / "lstm_unrolled.svg")
    except tg.viz.DotNotFound as e:
        print(f"note: {e}", file=sys.stderr)
        graph_path = tg.viz.write(drawing, folder / "lstm_unrolled.dot")
    flow_path = folder / "gradient_flow.png"
    tg.viz.compare_gradient_flow(tg.models.measure_flows(seed=seed)).savefig(flow_path, dpi=100)
    return [graph_path, flow_path]


def main(seed: int = 0, out: str | Path = "out") -> int:
    """Run the fit, print it against the truth; return 0 if within 1e-3 of it, else 1.

    Then write the unrolled LSTM graph and the gradient-flow figure into ``out``.
    """
    result = fit_linear_regression(seed=seed)
    print(f"fitted W = {result.W:.6f}  (true {TRUE_W})")
    print(f"fitted b = {result.b:.6f}  (true {TRUE_B})")
    if abs(result.W - TRUE_W) > TOLERANCE or abs(result.b - TRUE_B) > TOLERANCE:
        print(f"FAILED: the fit is not within {TOLERANCE} of the truth", file=sys.stderr)
        return 1
    graph_path, flow_path = write_figures(out, seed=seed)
    print(f"unrolled LSTM graph (gradient norms): {graph_path}")
    print(f"gradient flow through time:           {flow_path}")
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="fit y = 0.1 x + 0.3 by gradient descent with the engine's tensors",
        description="Fit the classic linear regression y = 0.1 x + 0.3 by plain gradient "
        "descent; exits non-zero if the fit misses the truth by more than 1e-3.",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.set_defaults(run=lambda args: main(seed=args.seed))
