"""Inputs that used to be accepted and give a wrong answer far away: each is now right or refused.

Where torch has the behaviour (indices, creation) the test asks torch; otherwise it asserts the
exact error, which names the function, the argument and what was expected.
"""
import numpy as np
import pytest
import torch

import tinygrad_rnn as tg
from tinygrad_rnn import backend


# ---- gradients of integer-array indexing with negative and repeated indices -----------------
def index_grads(shape, key, seed=0):
    """The input gradient of ``(x[key] * w).sum()`` in tinygrad_rnn and in torch."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x_tg = tg.tensor(x, requires_grad=True)
    x_pt = torch.tensor(x, requires_grad=True)

    def as_torch(k):  # torch reads a uint8 tensor as a mask: hand it int64 indices
        return torch.as_tensor(np.asarray(k, dtype=np.int64)) if isinstance(k, (list, np.ndarray)) \
            else k

    key_pt = tuple(map(as_torch, key)) if isinstance(key, tuple) else as_torch(key)
    y_pt = x_pt[key_pt]
    w = rng.standard_normal(tuple(y_pt.shape))
    (x_tg[key] * tg.tensor(w)).sum().backward()
    (y_pt * torch.tensor(w)).sum().backward()
    return x_tg.grad.numpy(), x_pt.grad.numpy()


@pytest.mark.parametrize("shape, key", [
    ((5,), [-1, 4, -1, 0]),                               # -1 and 4 are the same row
    ((5,), np.array([-5, 0, 2, -3, -3])),
    ((5, 3), np.array([[-1, 4, 0], [1, -5, -1]])),        # an index of shape (2, 3)
    ((4, 3), (slice(None), [-1, 0])),                     # x[:, [-1, 0]]
    ((4, 3), ([-1, 3, 0], [2, -1, -3])),                  # two index arrays
    ((6,), np.array([3, 3, 3], dtype=np.uint8)),
], ids=["1d", "1d-all-negative", "2d-index", "columns", "pairs", "uint8"])
def test_negative_and_repeated_indices_match_torch(shape, key):
    ours, theirs = index_grads(shape, key)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_the_reported_case():
    x = tg.randn(5, requires_grad=True)
    x[[-1, 4, -1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 3])


def test_embedding_with_repeated_ids_matches_torch():
    tg.manual_seed(0)
    ours = tg.nn.Embedding(6, 4)
    theirs = torch.nn.Embedding(6, 4)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
    ids = np.array([[1, 5, 1, 0], [5, 5, 2, 1]])
    w = np.random.default_rng(1).standard_normal((2, 4, 4)).astype(np.float32)
    (ours(tg.tensor(ids)) * tg.tensor(w)).sum().backward()
    (theirs(torch.tensor(ids)) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-6)


def test_scatter_add_names_an_index_out_of_range():
    target = np.zeros((5, 2))
    with pytest.raises(IndexError, match=r"scatter_add\(\): index 5 is out of range for an axis "
                                         r"of size 5"):
        backend.scatter_add(np, target, np.array([0, 5, 1]), np.ones((3, 2)))
    with pytest.raises(IndexError, match=r"index -6 .* size 5"):
        backend.scatter_add(np, target, np.array([-6, 1]), np.ones((2, 2)))
    assert not target.any()   # nothing was added before the error
