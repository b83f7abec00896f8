"""The demo behind ``python -m tinygrad_rnn demo``: linear regression by gradient descent.

The classic first example of a gradient-descent framework: draw 100 points ``x`` uniformly in
[0, 1), set ``y = 0.1 x + 0.3``, and recover ``W = 0.1`` and ``b = 0.3`` by minimising the mean
squared error with plain gradient descent. Every gradient comes from the engine's
``backward()``; nothing here knows a derivative.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

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


def main(seed: int = 0) -> int:
    """Run the fit, print it against the truth; return 0 if within 1e-3 of it, else 1."""
    result = fit_linear_regression(seed=seed)
    print(f"fitted W = {result.W:.6f}  (true {TRUE_W})")
    print(f"fitted b = {result.b:.6f}  (true {TRUE_B})")
    if abs(result.W - TRUE_W) > TOLERANCE or abs(result.b - TRUE_B) > TOLERANCE:
        print(f"FAILED: the fit is not within {TOLERANCE} of the truth", file=sys.stderr)
        return 1
    return 0
