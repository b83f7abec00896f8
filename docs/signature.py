"""The picture on the home page, drawn anew at every build by the package itself.

A tanh RNN (hidden size 8) reads 12 random steps; the loss is the sum of its last output. After
``backward()`` every box of the unrolled graph is coloured by the norm of its gradient.
"""
from pathlib import Path

import tinygrad_rnn as tg


def draw_signature(folder: Path) -> Path:
    """Write ``signature.svg`` into ``folder`` and return its path."""
    tg.manual_seed(0)
    rnn = tg.nn.RNN(2, 8)
    out, _ = rnn(tg.randn(12, 2, 2))
    loss = out[-1].sum()
    with tg.viz.record_grads():
        loss.backward()
    drawing = tg.viz.draw(loss, grads=True, level="cell", module=rnn)
    folder.mkdir(parents=True, exist_ok=True)
    return tg.viz.write(drawing, folder / "signature.svg")
