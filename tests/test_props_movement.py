"""Property tests: ops that move, select or join elements, against torch in float64.

reshape (with -1), transpose (two axes swapped, as torch, or all permuted), basic indexing
(ints, slices, None, Ellipsis), integer-array indexing (negative and repeated indices, several
arrays, arrays apart, boolean masks), concat, stack, split and chunk: shapes with size-0 and
size-1 dimensions, values and gradients. Invalid inputs torch refuses are drawn too: we refuse
them as well (``strategies.check``).
"""
import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import arrays, check, shapes

import tinygrad_rnn as tg

SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def reshapes(draw, shape):
    """A shape with as many elements: ``shape`` permuted, neighbours merged, 1s put in and
    perhaps one side left to -1."""
    out = []
    for n in draw(st.permutations(shape)):
        if out and draw(st.booleans()):
            out[-1] *= n
        else:
            out.append(n)
    for _ in range(draw(st.integers(0, 2))):
        out.insert(draw(st.integers(0, len(out))), 1)
    if out and draw(st.booleans()):
        out[draw(st.integers(0, len(out) - 1))] = -1
    return tuple(out)


@given(data=st.data(), seed=SEEDS)
def test_reshape(data, seed):
    x = data.draw(arrays(shapes()))
    target = data.draw(reshapes(x.shape))
    check(lambda t: t.reshape(target), lambda t: t.reshape(target), [x], seed)


@given(data=st.data(), seed=SEEDS)
@example(data=None, seed=0)
def test_transpose_and_permute(data, seed):
    if data is None:  # the first example: two axes of a 3-D tensor, as torch's transpose
        x, (a, b), order = np.arange(24.0).reshape(2, 3, 4), (0, 2), (2, 0, 1)
    else:
        x = data.draw(arrays(shapes(min_dims=1)))
        a, b = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
        order = tuple(data.draw(st.permutations(range(x.ndim))))
    check(lambda t: t.transpose(a, b), lambda t: t.transpose(a, b), [x], seed)
    check(lambda t: t.transpose(order), lambda t: t.permute(order), [x], seed)
    check(lambda t: t.T, lambda t: t.permute(tuple(reversed(range(t.ndim)))), [x], seed)


def slices(n: int):
    ends = st.none() | st.integers(-n - 2, n + 2)
    return st.builds(slice, ends, ends, st.none() | st.integers(1, 3))  # torch: no step < 1


@st.composite
def basic_indices(draw, shape):
    """A basic index: ints (negative too) and slices for leading axes, Nones and an Ellipsis
    anywhere (so an int may land on an axis too short for it: both refuse)."""
    key = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        key.append(draw(slices(n) | st.integers(-n, n - 1)) if n else draw(slices(n)))
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    return key[0] if len(key) == 1 and draw(st.booleans()) else tuple(key)


@given(data=st.data(), seed=SEEDS)
def test_basic_indexing(data, seed):
    x = data.draw(arrays(shapes()))
    key = data.draw(basic_indices(x.shape))
    check(lambda t: t[key], lambda t: t[key], [x], seed)


@st.composite
def array_indices(draw, shape):
    """Integer arrays of one shape (negative and repeated entries; the first axis gets one
    unless it is empty) for some leading axes, slices and ints between them; or a bool mask."""
    if draw(st.integers(0, 4)) == 0:
        return draw(hnp.arrays(np.bool_, shape[:draw(st.integers(1, len(shape)))]))
    index_shape = draw(shapes(max_dims=2, max_side=3))
    key = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        kind = draw(st.sampled_from(["array", "slice", "int"]))
        if kind == "array" or not key and n:
            values = st.integers(-n, n - 1) if n else st.just(0)  # 0 of an empty axis: refused
            key.append(draw(hnp.arrays(np.int64, index_shape, elements=values)))
        else:
            key.append(draw(slices(n)) if kind == "slice" or not n else draw(st.integers(-n, n - 1)))
    return tuple(key)


def with_tensors(key, wrap):
    """``key`` with its arrays wrapped by ``wrap`` (a tensor constructor)."""
    if isinstance(key, np.ndarray):
        return wrap(key)
    return tuple(wrap(k) if isinstance(k, np.ndarray) else k for k in key)


@given(data=st.data(), seed=SEEDS)
@example(data=None, seed=0)
def test_integer_array_indexing(data, seed):
    if data is None:  # negative, repeated and out-of-order rows, then a slice of columns
        x, key = np.arange(12.0).reshape(3, 4), (np.array([[-1, 0], [2, -1]]), slice(1, None))
    else:
        x = data.draw(arrays(shapes(min_dims=1)))
        key = data.draw(array_indices(x.shape))
    ours = with_tensors(key, tg.tensor) if seed % 2 else key  # tensors or arrays as indices
    check(lambda t: t[ours], lambda t: t[with_tensors(key, torch.from_numpy)], [x], seed)


@given(x=arrays(shapes(min_dims=1, min_side=1)), seed=SEEDS)
def test_index_out_of_range_is_refused(x, seed):
    n = x.shape[0]
    for key in (n, -n - 1, np.array([0, n]), np.array([-n - 1])):
        check(lambda t, k=key: t[k], lambda t, k=key: t[torch.as_tensor(k)], [x], seed)


@st.composite
def joinable(draw, same_shape: bool):
    """1 to 3 arrays of one shape (``same_shape``) or differing only along one axis (else)."""
    shape = draw(shapes(min_dims=0 if same_shape else 1, max_dims=3))
    k = draw(st.integers(1, 3))
    if same_shape:
        return [draw(arrays(shape)) for _ in range(k)], None
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    sides = [draw(st.integers(0, 3)) for _ in range(k)]
    parts = [shape[:axis % len(shape)] + (s,) + shape[axis % len(shape) + 1:] for s in sides]
    return [draw(arrays(p)) for p in parts], axis


@given(data=joinable(same_shape=False), seed=SEEDS)
def test_concat(data, seed):
    xs, axis = data
    check(lambda *ts: tg.concat(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), xs, seed)


@given(data=joinable(same_shape=True), axis=st.integers(-4, 3), seed=SEEDS)
def test_stack(data, axis, seed):
    xs, _ = data  # an axis beyond ndim + 1: both refuse
    check(lambda *ts: tg.stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis), xs, seed)


@given(shape_a=shapes(min_dims=1, max_dims=3), shape_b=shapes(min_dims=1, max_dims=3),
       seed=SEEDS)
@example(shape_a=(0,), shape_b=(2, 3), seed=0)  # torch.cat leaves a 1-D empty tensor out
def test_concat_and_stack_of_other_shapes(shape_a, shape_b, seed):
    # shapes drawn apart: mostly refused by both, for the sides off the axis or the dimensions
    xs = [np.ones(shape_a), np.zeros(shape_b)]
    check(lambda *ts: tg.concat(ts), lambda *ts: torch.cat(ts), xs, seed)
    check(lambda *ts: tg.stack(ts), lambda *ts: torch.stack(ts), xs, seed)


@st.composite
def split_sizes(draw, n: int):
    """An int size (0 for an empty axis only: both refuse it otherwise), or sizes adding to n."""
    if draw(st.booleans()):
        return draw(st.integers(0 if n == 0 else 1, n + 2))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, n])]


@given(data=st.data(), seed=SEEDS)
def test_split_and_chunk(data, seed):
    x = data.draw(arrays(shapes(min_dims=1)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    sizes, n = data.draw(split_sizes(x.shape[axis])), data.draw(st.integers(1, 5))
    check(lambda t: t.split(sizes, axis), lambda t: t.split(sizes, dim=axis), [x], seed)
    check(lambda t: t.chunk(n, axis), lambda t: t.chunk(n, dim=axis), [x], seed)


def test_split_and_chunk_found_by_the_properties():
    empty = np.zeros((0, 2))
    check(lambda t: t.chunk(3), lambda t: t.chunk(3), [empty])  # three empty pieces
    check(lambda t: t.split(0), lambda t: t.split(0), [empty])  # one empty piece
    check(lambda t: t.split(2), lambda t: t.split(2), [empty])
    check(lambda t: t.split([6, -1]), lambda t: t.split([6, -1]), [np.zeros(5)])  # refused
