"""tg.utils.to_torch / from_torch: weights moved either way give identical outputs in both
libraries; tensors keep their dtype; mismatches are named; torch is needed only when called."""
import sys

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn

torch = pytest.importorskip("torch")

TWINS = [  # (ours, theirs, input maker)
    (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True),
     lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True), "sequence"),
    (lambda: nn.GRU(3, 4), lambda: torch.nn.GRU(3, 4), "sequence"),
    (lambda: nn.RNN(3, 4, nonlinearity="relu", num_layers=2),
     lambda: torch.nn.RNN(3, 4, nonlinearity="relu", num_layers=2), "sequence"),
    (lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4), "rows"),
    (lambda: nn.Embedding(7, 4), lambda: torch.nn.Embedding(7, 4), "ids"),
]


def inputs(kind):
    rng = np.random.default_rng(5)
    if kind == "ids":
        ids = rng.integers(0, 7, (5, 2))
        return tg.tensor(ids), torch.tensor(ids)
    x = rng.standard_normal((5, 2, 3) if kind == "sequence" else (2, 3)).astype(np.float32)
    return tg.tensor(x), torch.tensor(x)


def first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("make, make_torch, kind", TWINS)
def test_ours_to_torch_gives_the_same_outputs(make, make_torch, kind):
    ours, theirs = make(), make_torch()
    theirs.load_state_dict(tg.utils.to_torch(ours), strict=True)
    x, tx = inputs(kind)
    np.testing.assert_allclose(first(ours(x)).numpy(), first(theirs(tx)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, make_torch, kind", TWINS)
def test_torch_to_ours_gives_the_same_outputs(make, make_torch, kind):
    ours, theirs = make(), make_torch()
    assert tg.utils.from_torch(theirs, into=ours) is ours
    x, tx = inputs(kind)
    np.testing.assert_allclose(first(ours(x)).numpy(), first(theirs(tx)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    arrays = tg.utils.from_torch(theirs)
    assert list(arrays) == list(ours.state_dict())
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(arrays[name], value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_tensors_keep_dtype_and_are_copies(dtype):
    t = tg.tensor(np.arange(6).reshape(2, 3).astype(dtype))
    tt = tg.utils.to_torch(t)
    assert isinstance(tt, torch.Tensor) and tt.numpy().dtype == dtype
    np.testing.assert_array_equal(tt.numpy(), t.numpy())
    tt.zero_()
    assert t.numpy().any()                            # a copy: ours is untouched
    back = tg.utils.from_torch(tt)
    assert isinstance(back, np.ndarray) and back.dtype == dtype


def test_mismatches_are_named():
    with pytest.raises(KeyError, match="missing keys.*weight_ih_l1"):
        tg.utils.from_torch(torch.nn.LSTM(3, 4), into=nn.LSTM(3, 4, num_layers=2))
    with pytest.raises(ValueError, match=r"weight_ih_l0 has shape \(16, 2\)"):
        tg.utils.from_torch(torch.nn.LSTM(2, 4), into=nn.LSTM(3, 4))
    with pytest.raises(TypeError, match="bfloat16"):
        tg.utils.from_torch(torch.zeros(2, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="expected a Tensor, a Module or a state dict"):
        tg.utils.to_torch([1, 2])


def test_a_missing_torch_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` raises ImportError
    with pytest.raises(ImportError, match=r"to_torch\(\) needs PyTorch"):
        tg.utils.to_torch(tg.ones(2))
    with pytest.raises(ImportError, match=r"from_torch\(\) needs PyTorch"):
        tg.utils.from_torch({})
