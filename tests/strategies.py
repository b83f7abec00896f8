"""Hypothesis strategies and the torch comparison that the property tests (``test_props_*``) share.

Every property test draws shapes (size-0 and size-1 dimensions included) and float64 values in a
range where the op is defined, runs the same function in tinygrad_rnn and in torch, and checks
the value, then the gradient of every input for a random upstream gradient (:func:`check`).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_rnn as tg

RTOL = 1e-10
MAX_SIDE = 4


def examples(fraction: float) -> settings:
    """Settings running ``fraction`` of the profile's examples (for the costlier tests)."""
    return settings(max_examples=max(4, int(settings.default.max_examples * fraction)))


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable(n: int = 2, max_dims: int = 4):
    """``n`` shapes that broadcast together (each may lack leading dimensions or have 1s)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=max_dims,
                                             min_side=0, max_side=MAX_SIDE).map(
        lambda b: b.input_shapes)


def floats(lo: float = -10.0, hi: float = 10.0):
    return st.floats(lo, hi, allow_subnormal=False)


#: values away from zero (divisors, 1/x): both signs
NONZERO = st.one_of(floats(0.25, 10.0), floats(-10.0, -0.25))


def arrays(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements)


def assert_close(ours, theirs, rtol: float = RTOL) -> None:
    """Values (or gradients) equal to ``rtol``, with an absolute floor at the array's scale (a
    sum of broadcast gradients may cancel to near zero, in either order of summation)."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    scale = float(np.max(np.abs(theirs), initial=1.0, where=np.isfinite(theirs)))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)


def outputs(y) -> list:
    """An op's result as a list of tensors (split and chunk give several)."""
    return list(y) if isinstance(y, (list, tuple)) else [y]


REFUSALS = (ValueError, TypeError, IndexError)


def check(fn_tg, fn_torch, arrays_in, seed: int = 0) -> None:
    """``fn`` in both libraries on float64 leaves made from ``arrays_in``: the outputs, then the
    gradient of every input for random upstream gradients (one per output), agree. Where torch
    refuses the inputs, we must refuse them too, with one of ``REFUSALS``."""
    xs = [tg.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays_in]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays_in]
    try:
        tys = outputs(fn_torch(*ts))
    except (RuntimeError, IndexError, ValueError, TypeError):
        with pytest.raises(REFUSALS, match="shape"):  # the message names the shapes
            fn_tg(*xs)
        return
    ys = outputs(fn_tg(*xs))
    assert len(ys) == len(tys)
    for y, ty in zip(ys, tys):
        assert_close(y, ty)
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(ty.shape) for ty in tys]
    loss = sum(((y * u).sum() for y, u in zip(ys, upstream)), tg.tensor(0.0, dtype=np.float64))
    tloss = sum((ty * torch.from_numpy(u)).sum() for ty, u in zip(tys, upstream))
    if not torch.is_tensor(tloss) or not tloss.requires_grad:
        return  # no output: nothing to differentiate
    loss.backward()
    tloss.backward()
    for x, t in zip(xs, ts):
        if t.grad is None or t.grad.numel() == 0 and x.grad is None:  # no gradient, or empty
            assert x.grad is None or not np.any(x.grad.numpy())
        else:
            assert_close(x.grad, t.grad)
