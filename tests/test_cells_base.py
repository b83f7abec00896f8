"""What every cell shares through ``RecurrentCell``: the size, input and state checks."""
import re

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.nn.cells import RecurrentCell

CELLS = {
    "rnn": lambda: tg.nn.RNNCell(3, 4),
    "irnn": lambda: tg.nn.IRNNCell(3, 4),
    "lstm": lambda: tg.nn.LSTMCell(3, 4),
    "gru": lambda: tg.nn.GRUCell(3, 4),
    "clockwork": lambda: tg.nn.ClockworkRNNCell(3, 4, (1, 2)),
    "scrn": lambda: tg.nn.SCRNCell(3, 4, 2),
}


@pytest.mark.parametrize("kind", list(CELLS))
def test_every_cell_checks_its_input_in_one_place(kind):
    cell = CELLS[kind]()
    assert isinstance(cell, RecurrentCell)
    label = re.escape(f"{type(cell).__name__}(3, 4)")
    with pytest.raises(TypeError, match=f"{label}: input must be a Tensor, got ndarray"):
        cell(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"{label}: input must have shape \(N, 3\), got "
                                         r"\(2, 5\)"):
        cell(tg.zeros(2, 5))


@pytest.mark.parametrize("kind", ["lstm", "clockwork", "scrn"])
def test_a_state_that_is_not_a_pair_is_a_type_error(kind):
    with pytest.raises(TypeError, match=r"state must be a tuple \(h, \w\) .*got a Tensor: the pair"):
        CELLS[kind]()(tg.zeros(2, 3), tg.zeros(2, 4))


@pytest.mark.parametrize("kind", list(CELLS))
def test_bad_sizes_are_named(kind):
    cell = CELLS[kind]()
    with pytest.raises(ValueError, match=rf"{type(cell).__name__}\(\): hidden_size must be "
                                         "positive, got 0"):
        type(cell)(3, 0, *{"clockwork": [(1,)], "scrn": [2]}.get(kind, []))
