"""Property test: RNN, LSTM and GRU layers against ``torch.nn`` over random configurations.

Sizes, depth (1 or 2 layers), biases, ``batch_first``, both directions, the fused or op-by-op
step (LSTM, GRU), sequence length 1 to 4, batch 1 to 3, with or without initial states; our
randomly initialised weights are loaded into torch's twin by their state-dict names. In float64
the outputs, the final states and the gradients of every parameter, of the input and of the
initial states agree to 1e-9, for random upstream gradients of the output and of every final
state. Some examples call the same layer again on a sequence of other sizes (the fused
layers keep their arrays from one call to the next).
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import assert_close, examples
from torch_twins import assert_gradients_equal

import tinygrad_rnn as tg

MODES = {  # name: (our layer, torch's, keyword arguments of both)
    "rnn_tanh": (tg.nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (tg.nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (tg.nn.LSTM, torch.nn.LSTM, {}),
    "gru": (tg.nn.GRU, torch.nn.GRU, {}),
}
LAYERS = st.fixed_dictionaries({
    "input_size": st.integers(1, 3), "hidden_size": st.integers(1, 3),
    "num_layers": st.integers(1, 2), "bias": st.booleans(), "batch_first": st.booleans(),
    "bidirectional": st.booleans()})
SEQUENCES = st.tuples(st.integers(1, 4), st.integers(1, 3), st.booleans())  # T, N, with states


def close(ours, theirs):
    assert_close(ours, theirs, rtol=1e-9)


def twins(mode: str, config: dict, fused: bool, seed: int) -> tuple:
    """Our layer (random weights from ``seed``) and torch's, holding the same weights."""
    ours_class, theirs_class, kwargs = MODES[mode]
    if mode in ("lstm", "gru"):
        kwargs = kwargs | {"fused": fused}
    tg.manual_seed(seed)
    ours = ours_class(**config, **kwargs, dtype=np.float64)
    theirs = theirs_class(**config, **MODES[mode][2], dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def run_both(mode, ours, theirs, sequence, rng) -> None:
    """One forward and backward of both layers on the same random sequence and states."""
    T, N, with_states = sequence
    layers = ours.num_layers * (2 if ours.bidirectional else 1)
    x = rng.standard_normal((N, T, ours.input_size) if ours.batch_first else
                            (T, N, ours.input_size))
    states = [rng.standard_normal((layers, N, ours.hidden_size))
              for _ in range(2 if mode == "lstm" else 1) if with_states]
    inputs = [tg.tensor(a, requires_grad=True) for a in [x, *states]]
    tinputs = [torch.tensor(a, requires_grad=True) for a in [x, *states]]
    results = []
    for layer, (x_, *s), lib in ((ours, inputs, tg), (theirs, tinputs, torch)):
        hx = None if not s else s[0] if len(s) == 1 else tuple(s)
        out, final = layer(x_, hx)
        results.append([out, *(final if isinstance(final, tuple) else (final,))])
    upstream = [rng.standard_normal(tuple(r.shape)) for r in results[1]]
    for outputs, wrap in ((results[0], np.asarray), (results[1], torch.from_numpy)):
        sum((r * wrap(u)).sum() for r, u in zip(outputs, upstream)).backward()
    for a, b in zip(*results):
        close(a, b)
    assert_gradients_equal(close, ours, theirs, list(zip(inputs, tinputs)))


@pytest.mark.parametrize("mode", MODES)
@examples(0.25)
@given(config=LAYERS, fused=st.booleans(), first=SEQUENCES, again=st.none() | SEQUENCES,
       seed=st.integers(0, 2**32 - 1))
def test_layer_matches_torch(mode, config, fused, first, again, seed):
    ours, theirs = twins(mode, config, fused, seed)
    rng = np.random.default_rng(seed)
    run_both(mode, ours, theirs, first, rng)
    if again is not None:  # the same layers again, gradients cleared, on other sizes
        ours.zero_grad()
        theirs.zero_grad()
        run_both(mode, ours, theirs, again, rng)
