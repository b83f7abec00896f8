"""CTC against the enumeration of every path: the loss, best-path and prefix beam decoding.

On inputs small enough to list all :math:`C^T` frame labellings, :math:`p(\\ell \\mid x)` is the
sum of the path probabilities that collapse to :math:`\\ell` (merge repeats, then drop blanks).
That sum is an independent reference for ``ctc_loss`` (and torch's), and its argmax for the
decoders.
"""
import itertools
from collections import defaultdict

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.nn.ctc import ctc_beam_search, ctc_greedy_decode

torch = pytest.importorskip("torch")


def collapse(path, blank=0):
    """The labelling of a path: repeats merged, then blanks removed."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def labelling_probs(p, blank=0):
    """{labelling: probability} for (T, C) per-frame probabilities ``p``, by enumeration."""
    total = defaultdict(float)
    for path in itertools.product(range(p.shape[1]), repeat=p.shape[0]):
        total[collapse(path, blank)] += np.prod(p[np.arange(p.shape[0]), path])
    return total


def random_probs(rng, frames, classes, n=1):
    x = rng.standard_normal((frames, n, classes)) * 2
    return np.exp(x) / np.exp(x).sum(-1, keepdims=True)


def test_lesson_10_numbers_hao_bang():
    """Lesson 10: 8 frames over {blank, hao, bang}; 210 paths give 好棒 and 210 give 好棒棒;
    without the blank 好棒棒 has none; -log p by enumeration = ours = torch's, float64."""
    paths = list(itertools.product(range(3), repeat=8))
    counts = defaultdict(int)
    for path in paths:
        counts[collapse(path)] += 1
    assert counts[(1, 2)] == 210 and counts[(1, 2, 2)] == 210
    assert sum(collapse(p) == (1, 2, 2) for p in paths if 0 not in p) == 0
    assert sum(collapse(p) == (1, 2) for p in paths if 0 not in p) == 7

    p = random_probs(np.random.default_rng(0), 8, 3)
    probs = labelling_probs(p[:, 0])
    lp = np.log(p)
    for target in ([1, 2], [1, 2, 2]):
        brute = -np.log(probs[tuple(target)])
        ours = tg.F.ctc_loss(tg.tensor(lp), [target], [8], [len(target)], reduction="sum")
        theirs = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor([target]),
                                              torch.tensor([8]), torch.tensor([len(target)]),
                                              reduction="sum")
        assert abs(ours.item() - brute) < 1e-12 and abs(theirs.item() - brute) < 1e-12


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("blank", [0, 2])
def test_wide_beam_finds_the_most_probable_labelling(seed, blank):
    p = random_probs(np.random.default_rng(seed), 5, 3)[:, 0]
    probs = labelling_probs(p, blank)
    best = max(probs, key=probs.get)
    # 5 frames, 2 labels: at most 1 + 2 + 4 + 8 + 16 + 32 prefixes, so a beam of 64 prunes none
    found = ctc_beam_search(np.log(p)[:, None], beam_width=64, blank=blank)
    assert tuple(found[0]) == best
    path = p.argmax(axis=1)  # the most probable path: the best class at each frame
    assert ctc_greedy_decode(np.log(p)[:, None], blank=blank) == [list(collapse(path, blank))]


def test_beam_beats_best_path_where_paths_add_up():
    # blank 0.6 at each of 3 frames: the best path is all blanks (0.216), but the labelling
    # "1" adds up 6 paths (1 1 1, 0 1 1, 0 0 1, 1 1 0, 1 0 0, 0 1 0) to 0.459
    p = np.array([[0.6, 0.3, 0.1]] * 3)
    probs = labelling_probs(p)
    assert ctc_greedy_decode(np.log(p)[:, None]) == [[]]
    assert ctc_beam_search(np.log(p)[:, None]) == [[1]]
    assert max(probs, key=probs.get) == (1,)
    np.testing.assert_allclose([probs[(1,)], probs[()]], [0.459, 0.216])


def test_narrow_beam_is_never_better_than_the_best(rng):
    p = random_probs(rng, 6, 4)[:, 0]
    probs = labelling_probs(p)
    top = max(probs.values())
    for width in (1, 2, 4):
        found = tuple(ctc_beam_search(np.log(p)[:, None], beam_width=width)[0])
        assert probs[found] <= top + 1e-15


def test_batch_with_lengths_is_each_sequence_alone(rng):
    lp = np.log(random_probs(rng, 7, 4, n=3))
    lengths = [7, 3, 5]
    for decode in (ctc_greedy_decode, ctc_beam_search):
        together = decode(tg.tensor(lp), tg.tensor(lengths))
        alone = [decode(lp[:k, n:n + 1])[0] for n, k in enumerate(lengths)]
        assert together == alone


def test_zero_length_decodes_to_nothing(rng):
    lp = np.log(random_probs(rng, 4, 3, n=2))
    assert ctc_greedy_decode(lp, [0, 4])[0] == [] and ctc_beam_search(lp, [0, 4])[0] == []


@pytest.mark.parametrize("kwargs, match", [
    ({"beam_width": 0}, "beam_width must be a positive integer"),
    ({"blank": 3}, r"blank must be in \[0, 3\)"),
    ({"input_lengths": [5]}, "input_lengths must be at most T = 4"),
    ({"input_lengths": [1, 2]}, "input_lengths must be 1 integers"),
])
def test_bad_arguments(kwargs, match):
    lp = np.log(np.full((4, 1, 3), 1 / 3))
    with pytest.raises(ValueError, match=f"ctc_beam_search\\(\\): {match}"):
        ctc_beam_search(lp, **kwargs)
    if "beam_width" not in kwargs:
        with pytest.raises(ValueError, match=f"ctc_greedy_decode\\(\\): {match}"):
            ctc_greedy_decode(lp, **kwargs)


def test_bad_shape():
    with pytest.raises(ValueError, match=r"floating \(T, N, C\) array, got shape \(4, 3\)"):
        ctc_greedy_decode(np.zeros((4, 3)))


def test_decoders_read_tensors_on_any_device(device, rng):
    lp = np.log(random_probs(rng, 6, 4, n=2))
    on_device = tg.tensor(lp, device=device)
    for decode in (ctc_greedy_decode, ctc_beam_search):
        assert decode(on_device, [6, 4]) == decode(lp, [6, 4])
