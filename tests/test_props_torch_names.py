"""Property tests: PyTorch's shape methods (squeeze, unsqueeze, permute, narrow, flatten, repeat,
repeat_interleave, max/min along a dim, argmax) against torch in float64, on shapes with size-0
and size-1 dimensions and with out-of-range arguments (refused by both, ``strategies.check``). Half the profile's
examples each: these are many small variations of one reshape or index."""
import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, check, examples, shapes

import tinygrad_rnn as tg

SEEDS = st.integers(0, 2**32 - 1)


def dims(x, extra: int = 1):
    """An axis of ``x``, sometimes one out of range."""
    n = max(x.ndim, 1)
    return st.integers(-n - extra, n - 1 + extra)


@examples(0.5)
@given(data=st.data(), seed=SEEDS)
def test_squeeze_and_unsqueeze(data, seed):
    x = data.draw(arrays(shapes(max_side=2)))
    d = data.draw(dims(x))
    check(lambda t: t.squeeze(), lambda t: t.squeeze(), [x], seed)
    check(lambda t: t.squeeze(d), lambda t: t.squeeze(d), [x], seed)
    check(lambda t: t.unsqueeze(d), lambda t: t.unsqueeze(d), [x], seed)


@examples(0.5)
@given(data=st.data(), seed=SEEDS)
def test_permute_flatten_and_t(data, seed):
    x = data.draw(arrays(shapes()))
    order = tuple(data.draw(st.permutations(range(x.ndim))))
    check(lambda t: t.permute(*order), lambda t: t.permute(*order), [x], seed)
    check(lambda t: t.flatten(), lambda t: t.flatten(), [x], seed)
    if x.ndim:
        a, b = sorted((data.draw(dims(x, 0)) % x.ndim, data.draw(dims(x, 0)) % x.ndim))
        check(lambda t: t.flatten(a, b), lambda t: t.flatten(a, b), [x], seed)
    check(lambda t: t.t(), lambda t: t.t(), [x], seed)


@examples(0.5)
@given(data=st.data(), seed=SEEDS)
def test_narrow(data, seed):
    x = data.draw(arrays(shapes(min_dims=1)))
    d = data.draw(dims(x, 0))
    n = x.shape[d]
    start = data.draw(st.integers(-n, n))
    length = data.draw(st.integers(0, n + 1))
    check(lambda t: t.narrow(d, start, length), lambda t: t.narrow(d, start, length), [x], seed)


@examples(0.5)
@given(data=st.data(), seed=SEEDS)
def test_repeat_and_repeat_interleave(data, seed):
    x = data.draw(arrays(shapes(max_dims=3, max_side=3)))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=max(x.ndim - 1, 0),
                               max_size=x.ndim + 2))
    check(lambda t: t.repeat(*sizes), lambda t: t.repeat(*sizes), [x], seed)
    times = data.draw(st.integers(0, 3))
    check(lambda t: t.repeat_interleave(times), lambda t: t.repeat_interleave(times), [x], seed)
    if x.ndim:
        d = data.draw(dims(x, 0))
        counts = data.draw(st.lists(st.integers(0, 3), min_size=x.shape[d],
                                    max_size=x.shape[d]))
        check(lambda t: t.repeat_interleave(tg.tensor(counts, dtype=tg.int64), dim=d),
              lambda t: t.repeat_interleave(torch.tensor(counts, dtype=torch.int64), dim=d),
              [x], seed)


@examples(0.5)
@given(data=st.data(), seed=SEEDS)
def test_max_and_min_along_a_dim(data, seed):
    # few distinct values, so ties are common: the gradient goes to the first one, as torch
    x = data.draw(arrays(shapes(max_side=3), st.sampled_from([-1.0, 0.0, 2.0])))
    d = data.draw(dims(x, 0))
    keep = data.draw(st.booleans())
    for fn in ("max", "min"):
        along = lambda t, fn=fn: getattr(t, fn)(dim=d, keepdim=keep)
        check(along, along, [x], seed)
        ours = getattr(tg.tensor(x), "arg" + fn)
        theirs = getattr(torch.tensor(x), "arg" + fn)
        try:
            expected = theirs(dim=d, keepdim=keep).numpy()
        except (RuntimeError, IndexError):
            continue  # refused by torch: check() above saw us refuse max/min too
        np.testing.assert_array_equal(ours(dim=d, keepdim=keep).numpy(), expected)
