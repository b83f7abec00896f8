"""``docs/pytorch.rst`` tells the truth: every row of its table of differences is checked here,
PyTorch's line with PyTorch and the translation with tinygrad_rnn, and the page has no row
this file does not check (nor does this file check a row the page lost). So are the import
lines it gives and the names it says are the same.
"""
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import tinygrad_rnn as tg

PAGE = Path(__file__).resolve().parents[1] / "docs" / "pytorch.rst"


def table_rows(text: str) -> list[str]:
    """The first cell (the PyTorch column) of each row of the page's list-table, one line."""
    rows, cell = [], None
    for line in text.split("\n"):
        if line.startswith("   * - "):
            cell = [line[7:]]
            rows.append(cell)
        elif cell is not None and line.startswith("       ") and not line.startswith("     - "):
            cell.append(line.strip())
        else:
            cell = None
    return [" ".join(c) for c in rows[1:]]  # rows[0] is the header


def check_data_is_the_array():
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    p.data.add_(p.grad, alpha=-0.5)
    ours = tg.nn.Parameter(tg.ones(3))
    ours.grad = tg.ones(3)
    assert isinstance(ours.data, np.ndarray) and not hasattr(ours.data, "add_")
    with tg.no_grad():
        ours.add_(ours.grad, alpha=-0.5)
    np.testing.assert_array_equal(ours.numpy(), p.detach().numpy())


def check_save_a_model(tmp_path):
    with pytest.raises(TypeError, match="dict of name -> array"):
        tg.save(tg.nn.Linear(2, 3), tmp_path / "model.npz")
    with pytest.raises(TypeError, match="dict of name -> array"):
        tg.save(tg.ones(2), tmp_path / "model.npz")
    model = tg.nn.Linear(2, 3)
    tg.save(model.state_dict(), tmp_path / "model.npz")
    assert (tmp_path / "model.npz").read_bytes()[:2] == b"PK"  # a zip of .npy files
    again = tg.nn.Linear(2, 3)
    again.load_state_dict(tg.load(tmp_path / "model.npz"))
    np.testing.assert_array_equal(again.weight.numpy(), model.weight.numpy())


def check_save_to_a_path(tmp_path):
    torch.save({"w": torch.ones(2)}, io.BytesIO())
    with pytest.raises(TypeError):
        tg.save({"w": tg.ones(2)}, io.BytesIO())
    tg.save({"w": tg.ones(2)}, str(tmp_path / "model.npz"))
    assert list(tg.load(tmp_path / "model.npz")) == ["w"]


def check_state_dict_holds_arrays():
    assert isinstance(torch.nn.Linear(2, 3).state_dict()["weight"], torch.Tensor)
    model = tg.nn.Linear(2, 3)
    sd = model.state_dict()
    assert isinstance(sd["weight"], np.ndarray)
    assert tg.tensor(sd["weight"]).shape == (3, 2)
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def check_lazy_state_dict():
    torch.nn.LazyLinear(3).state_dict()
    lazy = tg.nn.LazyLinear(3)
    with pytest.raises(ValueError, match="first call"):
        lazy.state_dict()
    lazy(tg.ones(1, 2))
    assert lazy.state_dict()["weight"].shape == (3, 2)


def check_max_axis():
    x = [[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]]
    values, indices = torch.tensor(x).max(axis=1)
    ours = tg.tensor(x)
    assert isinstance(ours.max(axis=1), tg.Tensor)  # NumPy's: the values only
    np.testing.assert_array_equal(ours.max(axis=1).numpy(), values.numpy())
    for result in (ours.max(dim=1), ours.max(1)):
        np.testing.assert_array_equal(result.values.numpy(), values.numpy())
        np.testing.assert_array_equal(result.indices.numpy(), indices.numpy())


def check_fully_masked_rows():
    q = torch.randn(2, 1, 4)
    out, _ = torch.nn.MultiheadAttention(4, 1)(q, q, q,
                                                key_padding_mask=torch.tensor([[True, True]]))
    assert torch.isnan(out).all()
    ours = tg.tensor(q.numpy(), requires_grad=True)
    out, weights = tg.nn.MultiheadAttention(4, 1)(ours, ours, ours,
                                                  key_padding_mask=tg.tensor([[True, True]]))
    assert (weights.numpy() == 0).all() and np.isfinite(out.numpy()).all()
    out.sum().backward()
    assert np.isfinite(ours.grad.numpy()).all()
    x = tg.randn(1, 2, 3, requires_grad=True)
    y = tg.F.masked_softmax(x, tg.tensor([0]))
    (y * tg.randn(1, 2, 3)).sum().backward()
    assert (y.numpy() == 0).all() and np.isfinite(x.grad.numpy()).all()


def check_write_into_a_non_leaf():
    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    mask_np = np.array([[True, True, False], [True, False, False]])
    theirs = torch.tensor(values, requires_grad=True) * 2
    theirs[~torch.tensor(mask_np)] = -1e6  # torch records the write
    x = tg.tensor(values, requires_grad=True)
    X, mask = x * 2, tg.tensor(mask_np)
    with pytest.raises(RuntimeError, match="recorded graph"):
        X[~mask] = -1e6
    for ours in (X.masked_fill(~mask, -1e6), tg.where(mask, X, -1e6)):
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    weights = tg.ones_like(tg.tensor([[1, 2, 3]]))  # a leaf that needs no gradient
    weights[~tg.tensor([[True, False, False]])] = 0
    assert weights.tolist() == [[1, 0, 0]]


def check_int_state_dict():
    ints = {"weight": np.ones((3, 2), np.int64), "bias": np.zeros(3, np.int64)}
    torch.nn.Linear(2, 3).load_state_dict({k: torch.tensor(v) for k, v in ints.items()})
    model = tg.nn.Linear(2, 3)
    with pytest.raises(TypeError, match="weight"):
        model.load_state_dict(ints)
    model.load_state_dict({k: v.astype(np.float32) for k, v in ints.items()})
    assert model.weight.numpy().sum() == 6


def check_index_errors():
    with pytest.raises(IndexError):
        torch.ones(2, 3)[5]
    with pytest.raises((IndexError, ValueError)) as info:
        tg.ones(2, 3)[5]
    assert info.type is ValueError and "(2, 3)" in str(info.value)


def check_negative_steps():
    with pytest.raises(ValueError, match="step"):
        torch.arange(3)[::-1]
    x = tg.arange(3)
    assert x[::-1].tolist() == x.flip(0).tolist() == torch.arange(3).flip(0).tolist()


def check_dropout_inplace():
    x = torch.ones(100)
    torch.nn.Dropout(0.5, inplace=True)(x)
    assert (x == 0).any()
    ours = tg.ones(100)
    dropped = tg.nn.Dropout(0.5, inplace=True)(ours)
    assert dropped is not ours and (ours.numpy() == 1).all() and (dropped.numpy() == 0).any()


def check_parameters_view():
    m = torch.nn.Linear(2, 3)
    m._parameters["extra"] = torch.nn.Parameter(torch.zeros(1))
    assert "extra" in dict(m.named_parameters())
    ours = tg.nn.Linear(2, 3)
    assert ours._parameters["weight"] is ours.weight
    with pytest.raises(TypeError):
        ours._parameters["extra"] = tg.nn.Parameter(tg.zeros(1))
    ours.register_parameter("extra", tg.nn.Parameter(tg.zeros(1)))
    assert "extra" in dict(ours.named_parameters())


def check_seeds():
    torch.manual_seed(0)
    tg.manual_seed(0)
    assert not np.allclose(tg.randn(2).numpy(), torch.randn(2).numpy())
    theirs, ours = torch.nn.GRU(2, 3), tg.nn.GRU(2, 3)
    tg.utils.from_torch(theirs, into=ours)
    np.testing.assert_array_equal(ours.weight_hh_l0.numpy(), theirs.weight_hh_l0.detach().numpy())


def check_dtypes():
    x = tg.ones(2)
    assert x.dtype == np.dtype("float32") == tg.float32 and tg.float32 is np.float32
    assert tg.long is np.int64 and tg.bool is np.bool_
    assert repr(x.dtype) == "dtype('float32')"


CHECKS = {
    "``p.data.add_(p.grad, alpha=-lr)``": check_data_is_the_array,
    '``torch.save(model, "model.pt")``': check_save_a_model,
    "``torch.save(sd, f)`` with an open file ``f``": check_save_to_a_path,
    '``model.state_dict()["weight"]`` is a tensor': check_state_dict_holds_arrays,
    "``LazyLinear(3).state_dict()`` before the first call": check_lazy_state_dict,
    "``x.max(axis=1)`` gives ``(values, indices)``": check_max_axis,
    "``nn.MultiheadAttention`` or a masked softmax over a row with every key masked gives "
    "``nan``": check_fully_masked_rows,
    "``X[~mask] = value`` into a tensor computed from others (d2l's ``_sequence_mask``)":
        check_write_into_a_non_leaf,
    "``load_state_dict`` with an integer array for a float parameter": check_int_state_dict,
    "``x[5]`` past the end raises ``IndexError``": check_index_errors,
    "``x[::-1]`` raises ``ValueError`` (``x.flip(0)`` instead)": check_negative_steps,
    "``nn.Dropout(p, inplace=True)(x)`` changes ``x``": check_dropout_inplace,
    "``module._parameters[name] = p``": check_parameters_view,
    "``torch.manual_seed(0); torch.randn(2)``": check_seeds,
    "``x.dtype`` is ``torch.float32``": check_dtypes,
}


def test_every_row_of_the_page_is_checked():
    assert table_rows(PAGE.read_text()) == list(CHECKS)


@pytest.mark.parametrize("row", list(CHECKS))
def test_row_is_true(row, tmp_path):
    check = CHECKS[row]
    check(tmp_path) if check.__code__.co_argcount else check()


def test_the_import_lines_of_the_page_run_a_torch_client():
    code = re.search(r"code-block:: python\n\n((?:   .*\n|\n)+)", PAGE.read_text()).group(1)
    names = {}
    exec("\n".join(line[3:] for line in code.split("\n")), names)  # noqa: S102 (the page's)
    assert names["torch"] is tg and names["nn"] is tg.nn and names["F"] is tg.nn.functional


SAME = {  # what the page says is the same, and where it lives
    "tensor": ["view", "reshape", "unsqueeze", "squeeze", "permute", "transpose", "swapaxes",
               "t", "size", "dim", "narrow", "repeat", "repeat_interleave", "flip", "cumsum",
               "masked_fill", "new_zeros", "type", "T", "item", "tolist", "detach", "to",
               "add_", "mul_", "zero_", "__reversed__", "__len__", "__iter__", "__iadd__"],
    "tg": ["cat", "stack", "bmm", "matmul", "mm", "tanh", "sigmoid", "exp", "sqrt", "sum",
           "zeros", "ones", "randn", "arange", "tensor", "zeros_like", "ones_like", "where",
           "no_grad", "device", "manual_seed"],
    "F": ["one_hot", "softmax", "log_softmax", "cross_entropy", "nll_loss", "dropout"],
    "nn": ["Module", "Parameter", "Linear", "LazyLinear", "Embedding", "Dropout", "Sequential",
           "ModuleList", "RNN", "GRU", "LSTM", "MultiheadAttention", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "init"],
    "module": ["apply", "train", "eval", "zero_grad", "to", "float", "double"],
}


@pytest.mark.parametrize("where", list(SAME))
def test_what_the_page_calls_the_same_exists(where):
    text = PAGE.read_text()
    home = {"tensor": tg.Tensor, "tg": tg, "F": tg.nn.functional, "nn": tg.nn,
            "module": tg.nn.Module}[where]
    for name in SAME[where]:
        assert hasattr(home, name), name
        if not name.startswith("__"):
            assert re.search(rf"``(torch\.|F\.|nn\.|x\.|\.)?{name}\b", text), name
    assert hasattr(tg.nn.utils, "clip_grad_norm_") and hasattr(tg.optim, "Adam")
    assert hasattr(tg.nn.GRU(1, 1), "_flat_weights_names")
