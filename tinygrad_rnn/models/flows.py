"""The four recurrent networks whose gradient flow the demo and the lessons compare.

A tanh RNN, an LSTM, a GRU and an IRNN (a ReLU RNN that starts as the identity, Le et al. 2015),
built with the same sizes and seed and measured on the same float64 sequence with
:func:`tinygrad_rnn.viz.gradient_flow`; :func:`tinygrad_rnn.viz.compare_gradient_flow` draws
the result side by side.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..creation import randn
from ..nn import GRU, LSTM, RNN
from ..random import manual_seed
from ..viz import gradient_flow, row_labels

#: name -> the layer's class, called as ``(input_size, hidden_size, num_layers, dtype=...)``.
MODELS = {"tanh RNN": RNN, "LSTM": LSTM, "GRU": GRU,
          "IRNN": partial(RNN, nonlinearity="relu", init="identity")}


def measure_flows(steps: int = 100, hidden: int = 32, num_layers: int = 2, batch: int = 4,
                  input_size: int = 8, seed: int = 0) -> dict[str, tuple[np.ndarray, list]]:
    """Gradient flow of a tanh RNN, an LSTM, a GRU and an IRNN on the same float64 sequence.

    Every model is built right after ``tg.manual_seed(seed)``, so each starts from the same
    random state.

    Returns:
        ``{name: (norms (num_layers, steps), row labels)}`` for each of the four models.

    Example:
        >>> flows = measure_flows(steps=5, hidden=3, num_layers=1, batch=1, input_size=2)
        >>> list(flows), flows["IRNN"][0].shape
        (['tanh RNN', 'LSTM', 'GRU', 'IRNN'], (1, 5))
    """
    manual_seed(seed)
    x = randn(steps, batch, input_size, dtype=np.float64)
    flows = {}
    for name, make in MODELS.items():
        manual_seed(seed)
        model = make(input_size, hidden, num_layers, dtype=np.float64)
        flows[name] = (gradient_flow(model, x), row_labels(model))
    return flows
