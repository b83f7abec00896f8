"""Property test: the gradients of random graphs agree with torch's.

A graph is a program: each instruction applies an op to two earlier values (the two leaves are
values 0 and 1). The first operand is mostly one of the newest values (chains, where the
backward pass hands a gradient straight on) and sometimes an older one (branches that join
later); the second is often a leaf (whose gradient the engine adds in place). The ops include
an input used twice by one op (``x * x``), integer indexing with repeated indices (a
scatter-added gradient), slices stacked back, broadcasts summed back, a matmul, ties of
``maximum`` and a ``where``. Some values retain their gradient; a weighted sum of some values is
the loss. Hypothesis shrinks a failure to a short chain.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, assert_close, floats

import tinygrad_rnn as tg

OPS = {  # each maps two (4,) values to a (4,) value, bounded so no chain overflows
    "neg": lambda lib, a, b: -a,
    "tanh": lambda lib, a, b: a.tanh(),
    "scale": lambda lib, a, b: a * 0.75,
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b.tanh(),
    "square": lambda lib, a, b: (a * a).tanh(),
    "index": lambda lib, a, b: a[lib.tensor([0, 2, 2, 1, 3, 0])][:4],
    "gather": lambda lib, a, b: lib.stack([a[-1], a[0], a[2], a[0]]),
    "bsum": lambda lib, a, b: a + b.sum() * 0.1,
    "outer": lambda lib, a, b: (a[:, None] * b.tanh()[None, :]).sum(0) * 0.25,
    "matmul": lambda lib, a, b: (a.reshape(2, 2) @ b.reshape(2, 2)).reshape(4).tanh(),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(a > b, a, b * 0.5),
}


@st.composite
def programs(draw, max_steps: int = 30) -> list:
    """Instructions ``(op, i, j)``: value ``k`` is ``OPS[op](value i, value j)``."""
    program = []
    for k in range(2, draw(st.integers(1, max_steps)) + 2):
        i = k - 1 - draw(st.integers(0, min(2, k - 1)) | st.integers(0, k - 1))
        j = draw(st.integers(0, 1) | st.integers(0, k - 1))
        program.append((draw(st.sampled_from(sorted(OPS))), i, j))
    return program


def run_program(lib, program, leaves, retained) -> list:
    """Every value of ``program`` run with ``lib`` (tinygrad_rnn or torch)."""
    values = list(leaves)
    for op, i, j in program:
        values.append(OPS[op](lib, values[i], values[j]))
    for k in retained:
        values[k].retain_grad()
    return values


@given(program=programs(), data=st.data())
def test_random_graphs_match_torch(program, data):
    # The backward order (newest first, with the next tensor taken without the heap when it is
    # known) and the accumulation must give torch's gradients on any graph.
    n = len(program) + 2
    leaves = [data.draw(arrays((4,), floats(-1.0, 1.0))) for _ in "ab"]
    retained = data.draw(st.lists(st.integers(2, n - 1), unique=True, max_size=3))
    loss_terms = data.draw(st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=3))
    ours = run_program(tg, program, [tg.tensor(d, requires_grad=True) for d in leaves], retained)
    theirs = run_program(torch, program, [torch.tensor(d, requires_grad=True) for d in leaves],
                         retained)
    for a, b in zip(ours, theirs):
        assert_close(a, b)
    sum(ours[k].sum() * float(w) for k, w in zip(loss_terms, (1, -2, 3))).backward()
    sum(theirs[k].sum() * float(w) for k, w in zip(loss_terms, (1, -2, 3))).backward()
    for k in [0, 1, *retained]:
        a, b = ours[k].grad, theirs[k].grad
        assert (a is None) == (b is None), k
        if b is not None:
            assert_close(a, b)
