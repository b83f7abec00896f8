"""PyTorch's tensor surface, checked against torch itself: the same expression written once with
the module as a parameter (``m`` is ``tinygrad_rnn`` or ``torch``) must give the same values,
dtypes and input gradients. Then the argument spelling rule, ``tg.device``, NumPy and DLPack
interop, and in-place writes (allowed forms against torch's numbers, refused forms raise)."""
import math
import pickle
from collections import namedtuple

import numpy as np
import pytest
import torch

import tinygrad_rnn as tg

Case = namedtuple("Case", "name fn shapes")


def close(ours, theirs, what="value"):
    """Compare a tinygrad_rnn result with torch's: tensors (values and dtype), named tuples
    (their field names too), sequences and numbers."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tg.Tensor), f"{what}: {type(ours)} is not a tensor"
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), what
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-7, atol=1e-12,
                                   err_msg=what)
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), what
        if hasattr(theirs, "_fields") or hasattr(theirs, "indices"):  # torch.return_types
            assert ours._fields == ("values", "indices"), what
            assert type(ours).__name__ == type(theirs).__name__.rpartition(".")[2], what
        for k, (a, b) in enumerate(zip(ours, theirs)):
            close(a, b, f"{what}[{k}]")
    else:
        assert ours == theirs, f"{what}: {ours!r} != {theirs!r}"


def outputs(result):
    """The float tensors in a result (a tensor, a tuple or a list of them)."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    return [t for t in items if hasattr(t, "requires_grad") and t.requires_grad]


def twins(fn, *arrays, **kw):
    """Run ``fn(m, *inputs)`` with both modules; compare the results and the input gradients of
    a random weighted sum of the outputs."""
    ours = [tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    a, b = fn(tg, *ours, **kw), fn(torch, *theirs, **kw)
    close(a, b)
    outs_a, outs_b = outputs(a), outputs(b)
    assert len(outs_a) == len(outs_b)
    if not outs_b:
        return
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal(o.shape) for o in outs_b]
    sum(((o * tg.tensor(w)).sum() for o, w in zip(outs_a, weights)), tg.tensor(0.0)).backward()
    sum(((o * torch.tensor(w)).sum() for o, w in zip(outs_b, weights))).backward()
    for k, (x, y) in enumerate(zip(ours, theirs)):
        if y.requires_grad:
            close(x.grad if x.grad is not None else tg.zeros_like(x), y.grad
                  if y.grad is not None else torch.zeros_like(y), f"gradient of input {k}")


def data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


CASES = [
    # shape methods
    Case("view", lambda m, x: x.view(2, -1)[:, :3] * x.view((3, 4)).view(-1)[:6].view(2, 3),
         [(3, 4)]),
    Case("t-2d", lambda m, x: x.t(), [(3, 4)]),
    Case("t-1d", lambda m, x: x.t() * 2, [(3,)]),
    Case("contiguous", lambda m, x: x.t().contiguous().view(-1), [(3, 4)]),
    Case("narrow", lambda m, x: x.narrow(1, 1, 2) + x.narrow(1, -3, 2), [(3, 4)]),
    Case("narrow-empty", lambda m, x: x.narrow(0, 3, 0), [(3, 4)]),
    Case("unsqueeze", lambda m, x: x.unsqueeze(0) + x.unsqueeze(-1), [(3,)]),
    Case("squeeze-all", lambda m, x: x.squeeze(), [(3, 1, 4, 1)]),
    Case("squeeze-dim", lambda m, x: x.squeeze(1) * 1 + x.squeeze(0).sum(), [(3, 1, 4)]),
    Case("squeeze-dims", lambda m, x: x.squeeze((0, 1, -1)), [(1, 3, 1)]),
    Case("permute", lambda m, x: x.permute(2, 0, 1) * x.permute((2, 0, 1)), [(2, 3, 4)]),
    Case("swapaxes", lambda m, x: x.swapaxes(0, 2) + x.transpose(2, 0), [(2, 3, 4)]),
    Case("flatten", lambda m, x: x.flatten() * 1 + x.flatten(1).sum(), [(2, 3, 4)]),
    Case("repeat", lambda m, x: x.repeat(2, 1, 3), [(2, 3)]),
    Case("repeat-same-rank", lambda m, x: x.repeat(2, 2), [(2, 3)]),
    Case("repeat-zero", lambda m, x: x.repeat(0, 2), [(2, 3)]),
    Case("repeat_interleave", lambda m, x: x.repeat_interleave(2), [(2, 3)]),
    Case("repeat_interleave-dim", lambda m, x: x.repeat_interleave(3, dim=1), [(2, 3)]),
    Case("repeat_interleave-counts",
         lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=0), [(3, 2)]),
    # reductions in both spellings, and torch's max(dim)
    Case("sum-dim", lambda m, x: x.sum(dim=1, keepdim=True) + x.sum(1), [(3, 4)]),
    Case("mean-dims", lambda m, x: x.mean(dim=(0, 2)), [(3, 4, 2)]),
    Case("max-all", lambda m, x: x.max() + x.min(), [(3, 4)]),
    Case("max-dim", lambda m, x: x.max(dim=1), [(3, 4)]),
    Case("max-positional-keepdim", lambda m, x: x.max(0, True), [(3, 4)]),
    Case("min-dim", lambda m, x: x.min(dim=-1, keepdim=False), [(2, 3, 4)]),
    Case("max-0d", lambda m, x: x.max(dim=0), [()]),
    Case("max-other", lambda m, x, y: x.max(y) + x.min(y), [(3, 4), (4,)]),
    Case("argmax", lambda m, x: (x.argmax(), x.argmax(dim=1), x.argmin(1, keepdim=True),
                                 x.argmax(keepdim=True)), [(3, 4)]),
    Case("softmax", lambda m, x: x.softmax(dim=0) + x.log_softmax(1), [(3, 4)]),
    Case("logsumexp", lambda m, x: x.logsumexp(1) + x.logsumexp(dim=0, keepdim=True).sum(),
         [(3, 4)]),
    Case("clamp", lambda m, x: x.clamp(min=-0.5, max=0.5) + x.clamp(0) + x.clamp(max=0.1),
         [(3, 4)]),
    Case("chunk-split", lambda m, x: x.chunk(2, dim=1) + x.split(3, dim=1), [(2, 5)]),
    Case("cat-stack", lambda m, x, y: (m.cat([x, y], dim=1), m.stack([x, y], dim=1),
                                       m.cat((x, y))), [(2, 3), (2, 3)]),
    Case("dtypes", lambda m, x: (x.float(), x.double(), x.half(), x.long(), x.int(), x.bool(),
                                 x.type_as(x.long())), [(2, 3)]),
    Case("new", lambda m, x: (x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((2, 2), 7.0),
                              x.new_tensor([1, 2]), x.new_zeros(2, dtype=m.int64)), [(2, 3)]),
    Case("sizes", lambda m, x: (tuple(x.size()), x.size(1), x.size(-1), x.dim(), x.numel(),
                                len(x), m.numel(x)), [(2, 3)]),
    Case("iteration", lambda m, x: [row * 2 for row in x], [(3, 2)]),
    # function forms
    Case("unary-functions", lambda m, x: (m.tanh(x), m.sigmoid(x), m.relu(x), m.exp(x),
                                          m.abs(x), m.clamp(x, -0.3, 0.3)), [(3, 4)]),
    Case("log-sqrt", lambda m, x: m.log(m.abs(x) + 1) + m.sqrt(m.abs(x) + 1), [(3, 4)]),
    Case("reductions", lambda m, x: (m.sum(x), m.sum(x, dim=0), m.mean(x, 1), m.max(x),
                                     m.max(x, dim=1), m.min(x, 0), m.argmax(x, dim=1),
                                     m.softmax(x, dim=1), m.log_softmax(x, dim=0)), [(3, 4)]),
    Case("matmuls", lambda m, a, b, c: (m.matmul(a, b), m.mm(a, b), m.bmm(c, c.transpose(1, 2))),
         [(3, 4), (4, 2), (5, 3, 2)]),
    Case("shape-functions", lambda m, x: (m.reshape(x, (4, 3)), m.transpose(x, 0, 1),
                                          m.unsqueeze(x, 1), m.squeeze(m.unsqueeze(x, 0)),
                                          m.squeeze(x, 0)), [(3, 4)]),
    Case("likes", lambda m, x: (m.zeros_like(x), m.ones_like(x), m.full_like(x, 2.5),
                                m.randn_like(x).shape), [(3, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_values_dtypes_and_gradients_as_torch(case):
    twins(case.fn, *data(*case.shapes))


def test_max_along_a_dim_gives_the_gradient_to_the_first_tied_maximum_as_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    twins(lambda m, x: x.max(dim=1).values * 1 + x.min(dim=0).values.sum(), x)
    # with axis= it stays NumPy's amax: tied maxima share the gradient, as torch.amax
    twins(lambda m, x: x.max(axis=1) if m is tg else x.amax(dim=1), x)


def test_integer_and_bool_tensors_as_torch():
    i = np.array([[3, 1, 2], [0, 5, 5]])
    twins(lambda m, x: (x.max(dim=1), x.argmin(), x.repeat(2, 1), x.t(), x.view(-1), x.float(),
                        x.unsqueeze(0), x.narrow(1, 0, 2), x.min()), i)


def test_function_forms_are_one_small_module_of_the_namespace():
    from tinygrad_rnn import functions

    for name in ("tanh", "sigmoid", "relu", "exp", "log", "abs", "sqrt", "sum", "mean", "max",
                 "min", "matmul", "mm", "bmm", "cat", "reshape", "transpose", "unsqueeze",
                 "squeeze", "argmax", "softmax", "clamp", "from_numpy", "is_tensor", "numel"):
        assert getattr(tg, name) is getattr(functions, name)
    assert tg.cat is tg.concat
    ns = {}
    exec("from tinygrad_rnn import *", ns)  # noqa: S102 - as torch, max/sum are exported
    assert ns["max"] is tg.max and ns["tanh"] is tg.tanh


def test_bmm_and_mm_refuse_other_shapes_clearly():
    a3, a2 = tg.zeros(2, 3, 4), tg.zeros(3, 4)
    with pytest.raises(ValueError, match=r"bmm\(\).*3-D.*\(3, 4\)"):
        tg.bmm(a2, a2.T)
    with pytest.raises(ValueError, match=r"bmm\(\).*batch size"):
        tg.bmm(a3, tg.zeros(3, 4, 5))
    with pytest.raises(ValueError, match=r"mm\(\).*2-D"):
        tg.mm(a3, a2)
    for fn, args in ((torch.bmm, (torch.zeros(3, 4), torch.zeros(4, 3))),
                     (torch.mm, (torch.zeros(2, 3, 4), torch.zeros(3, 4)))):
        with pytest.raises(RuntimeError):  # torch refuses the same shapes
            fn(*args)


def test_shape_methods_refuse_what_torch_refuses():
    x = tg.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"t\(\).*at most 2"):
        x.t()
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0, 1)
    with pytest.raises(ValueError, match="at least one per axis"):
        x.repeat(2, 2)
    with pytest.raises(ValueError, match="exceeds"):
        x.narrow(2, 3, 2)
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(4)
    with pytest.raises(IndexError, match="size"):
        x.size(3)
    with pytest.raises(ValueError, match="repeats"):
        x.repeat_interleave([1, 2, 3], dim=0)
    with pytest.raises(ValueError, match="empty"):
        tg.zeros(0, 3).argmax()
    tx = torch.zeros(2, 3, 4)
    for bad in (tx.t, lambda: tx.permute(0, 0, 1), lambda: tx.repeat(2, 2),
                lambda: tx.narrow(2, 3, 2), lambda: tx.unsqueeze(4), lambda: tx.size(3),
                lambda: torch.zeros(0, 3).argmax()):
        with pytest.raises((RuntimeError, IndexError)):
            bad()


def test_new_tensors_keep_dtype_and_device(device):
    x = tg.zeros(2, dtype=tg.float64, device=device)
    for t in (x.new_zeros(3), x.new_ones(1, 2), x.new_full((2,), 1.5), x.new_tensor([1, 2])):
        assert (t.dtype, t.device, t.is_leaf, t.requires_grad) == (np.float64, device, True, False)
    assert x.new_zeros(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        x.new_zeros(2, dtype=tg.int64, requires_grad=True)


# ---- one spelling rule -----------------------------------------------------------------------
BOTH = [
    ("sum", lambda x: x.sum(axis=0, dim=0)),
    ("keepdims", lambda x: x.mean(0, keepdims=True, keepdim=True)),
    ("max", lambda x: x.max(axis=0, dim=0)),
    ("min", lambda x: x.min(1, keepdims=False, keepdim=False)),
    ("argmax", lambda x: x.argmax(axis=1, dim=1)),
    ("softmax", lambda x: x.softmax(axis=1, dim=1)),
    ("log_softmax", lambda x: tg.F.log_softmax(x, axis=1, dim=1)),
    ("logsumexp", lambda x: tg.F.logsumexp(x, axis=1, dim=1)),
    ("concat", lambda x: tg.cat([x, x], axis=0, dim=0)),
    ("stack", lambda x: tg.stack([x, x], axis=0, dim=0)),
    ("chunk", lambda x: x.chunk(2, axis=0, dim=0)),
    ("split", lambda x: x.split(1, axis=0, dim=0)),
]


@pytest.mark.parametrize("name,call", BOTH, ids=[b[0] for b in BOTH])
def test_both_spellings_of_one_argument_is_a_type_error_naming_both(name, call):
    with pytest.raises(TypeError, match=r"(axis|keepdims)=.*(dim|keepdim)=.*two spellings"):
        call(tg.ones(2, 3))


def test_dim_spelling_gives_the_axis_results():
    x = tg.tensor(data((3, 4))[0])
    pairs = [(x.sum(dim=1, keepdim=True), x.sum(axis=1, keepdims=True)),
             (x.mean(dim=0), x.mean(axis=0)),
             (tg.F.softmax(x, dim=0), tg.F.softmax(x, axis=0)),
             (tg.F.log_softmax(x, dim=0), tg.F.log_softmax(x, 0)),
             (tg.F.logsumexp(x, dim=0), tg.F.logsumexp(x, axis=0)),
             (tg.concat([x, x], dim=1), tg.concat([x, x], axis=1)),
             (tg.stack([x, x], dim=2), tg.stack([x, x], axis=2)),
             (x.chunk(2, dim=1)[1], x.chunk(2, axis=1)[1]),
             (x.split(3, dim=1)[0], x.split(3, 1)[0]),
             (x.argmax(dim=1), x.argmax(axis=1))]
    for a, b in pairs:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # max: axis= is NumPy's (values), dim= PyTorch's (values, indices)
    assert isinstance(x.max(axis=1), tg.Tensor)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), x.max(axis=1).numpy())
    np.testing.assert_array_equal(indices.numpy(), x.numpy().argmax(1))


# ---- tg.device --------------------------------------------------------------------------------
def test_device_parses_as_torch_and_compares_with_strings():
    for spec, kind, index in (("cpu", "cpu", None), ("cuda", "cuda", None),
                              ("cuda:0", "cuda", 0)):
        d, t = tg.device(spec), torch.device(spec)
        assert (d.type, d.index) == (t.type, t.index) == (kind, index)
        assert repr(d) == repr(t)
        assert d == kind and d != "gpu" and d == tg.device(kind)
        assert pickle.loads(pickle.dumps(d)) == d
    assert tg.device("cuda", 0) == tg.device("cuda:0") == "cuda"  # one GPU: cuda is cuda:0
    assert {tg.device("cpu"), "cpu"} == {"cpu"}
    for bad in ("tpu", "cuda:1", "cuda:x", "cpu:"):
        with pytest.raises(ValueError, match="device"):
            tg.device(bad)
    with pytest.raises(TypeError):
        tg.device(0)


def test_device_is_accepted_wherever_a_device_is():
    cpu = tg.device("cpu")
    t = tg.tensor([1.0], device=None)
    assert t.device == "cpu" and t.device.type == "cpu" and f"{t.device}" == "cpu"
    for make in (lambda: tg.zeros(2, device=cpu), lambda: tg.tensor([1.0], device=cpu),
                 lambda: tg.randn(2, device="cpu"), lambda: t.to(cpu), lambda: t.to("cpu"),
                 lambda: tg.zeros_like(t, device=cpu), lambda: t.new_zeros(2, device=cpu)):
        assert make().device == "cpu"
    model = tg.nn.Linear(2, 3).to(cpu)
    assert model.weight.device == "cpu"
    assert t.to(tg.float64).dtype == np.float64  # to(dtype), as torch
    assert t.to(tg.zeros(1, dtype=tg.float64)).dtype == np.float64  # to(other)


# ---- interop ----------------------------------------------------------------------------------
def test_numpy_asarray_of_a_cpu_tensor_is_its_host_array():
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 2
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and np.shares_memory(a, t.data)
    np.testing.assert_array_equal(a, [[2, 4], [6, 8]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(t, copy=True), t.data)


@pytest.mark.cuda
def test_numpy_asarray_of_a_cuda_tensor_raises_as_cupy_does():
    t = tg.zeros(2, device="cuda")
    with pytest.raises(TypeError, match=r"\.numpy\(\) or \.cpu\(\)"):
        np.asarray(t)
    np.testing.assert_array_equal(t.numpy(), [0, 0])


def test_torch_reads_tensors_through_dlpack_and_the_array_protocol():
    t = tg.tensor(data((2, 3))[0])
    for convert in (torch.from_dlpack, torch.as_tensor):
        a = convert(t)
        assert a.dtype == torch.float64 and np.shares_memory(a.numpy(), t.data)
        np.testing.assert_array_equal(a.numpy(), t.numpy())
    b = torch.tensor(t)
    assert b.dtype == torch.float64 and not np.shares_memory(b.numpy(), t.data)
    np.testing.assert_array_equal(b.numpy(), t.numpy())
    assert torch.tensor(tg.tensor([1, 2])).dtype == torch.int64
    assert t.__dlpack_device__() == (1, 0)  # kDLCPU


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.arange(3.0)
    t, r = tg.from_numpy(a), torch.from_numpy(a)
    a[0] = 7
    assert t.dtype == np.float64 and t.tolist() == r.tolist() == [7.0, 1.0, 2.0]
    assert tg.is_tensor(t) and not tg.is_tensor(a)
    with pytest.raises(TypeError, match="ndarray"):
        tg.from_numpy([1.0])


# ---- in-place writes --------------------------------------------------------------------------
def both_ways(write, *arrays):
    """Apply ``write(m, *tensors)`` (in place) to copies of ``arrays`` in both modules; compare
    the written tensors."""
    ours = [tg.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays]
    write(tg, *ours)
    write(torch, *theirs)
    for a, b in zip(ours, theirs):
        close(a, b)


def write_mask(m, x):
    x[x > 0] = -1.0


def write_row(m, x):
    x[1] = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
    x[0, 2] = 9


def write_view(m, x):
    v = x[0]  # basic indexing is a view: writing into it writes into x, as torch
    v *= 10
    w = x[1, 1]  # even a single element
    w += 100


def write_operators(m, x, y):
    x += y
    x -= 0.5
    x *= y
    x /= 2


def write_methods(m, x, y):
    x.add_(y, alpha=2).sub_(y, alpha=0.5).mul_(3).div_(y).clamp_(-1, 1)
    y.zero_()


def write_fill_copy(m, x, y):
    x.fill_(2.5)
    y.copy_(m.tensor([1.0, 2.0, 3.0], dtype=m.float64))  # broadcast over the rows, as torch


@pytest.mark.parametrize("write", [write_mask, write_row, write_view],
                         ids=["mask", "row", "view"])
def test_item_writes_as_torch(write):
    both_ways(write, data((2, 3))[0])


@pytest.mark.parametrize("write", [write_operators, write_methods, write_fill_copy],
                         ids=["operators", "methods", "fill-copy"])
def test_in_place_arithmetic_as_torch(write):
    x, y = data((2, 3), (2, 3))
    both_ways(write, x, np.abs(y) + 1)


def d2l_step(m, params, x, lr=0.1, theta=0.5):
    """d2l's from-scratch training step: loss, backward, clip by norm, SGD, zero the grads."""
    w, b = params
    loss = ((m.tanh(x @ w + b) - 1) ** 2).sum()
    loss.backward()
    norm = sum((p.grad ** 2).sum() for p in params).sqrt()
    if norm > theta:
        for p in params:
            p.grad[:] *= theta / norm
    with m.no_grad():
        for p in params:
            p -= lr * p.grad / 4
            p.grad.zero_()


def test_d2l_sgd_and_gradient_clipping_update_the_parameters_as_torch():
    w, b, x = data((3, 2), (2,), (4, 3))
    ours = [tg.tensor(w, requires_grad=True), tg.tensor(b, requires_grad=True)]
    theirs = [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    for _ in range(3):
        d2l_step(tg, ours, tg.tensor(x))
        d2l_step(torch, theirs, torch.tensor(x))
    for a, t in zip(ours, theirs):
        close(a, t)
        close(a.grad, t.grad)
        assert a.is_leaf and a.requires_grad
    assert ours[0].version[0] == 3  # one write per step


def test_writing_into_a_parameter_needs_no_grad_as_torch():
    w, tw = tg.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    for write in (lambda p: p.__iadd__(1), lambda p: p.__setitem__(0, 2.0), lambda p: p.zero_(),
                  lambda p: p.fill_(1.0), lambda p: p.mul_(2), lambda p: p.copy_(p.detach())):
        with pytest.raises(RuntimeError, match="leaf .* in-place operation.*no_grad"):
            write(w)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            write(tw)
    with tg.no_grad():
        w[0] = 5.0
        w.add_(1)
    assert w.tolist() == [6.0, 2.0, 2.0] and w.version[0] == 2


def test_writing_into_the_recorded_graph_is_refused_with_what_to_do_instead():
    w = tg.ones(3, requires_grad=True)
    h = w * 2
    with pytest.raises(RuntimeError, match=r"made by Mul.*out of place.*tg\.where"):
        h[0] = 0.0
    with pytest.raises(RuntimeError, match="out of place"):
        h += 1
    buf = tg.zeros(3)
    with pytest.raises(RuntimeError, match=r"requires grad.*tg\.stack"):
        buf[0] = h[0]
    with pytest.raises(RuntimeError, match="requires grad"):
        buf += h
    assert buf.version[0] == 0 and buf.tolist() == [0.0, 0.0, 0.0]
    # the out-of-place forms the errors name give torch's gradients
    twins(lambda m, x: x.masked_fill(x > 0, 0.5) * 3, data((2, 3))[0])


def test_in_place_keeps_shape_and_dtype_as_torch():
    with pytest.raises(ValueError, match="broadcast shape"):
        tg.zeros(3).__iadd__(tg.zeros(2, 3))
    with pytest.raises(TypeError, match="float32 cannot be written into .* int64"):
        tg.zeros(3, dtype=tg.int64).__iadd__(0.5)
    with pytest.raises(RuntimeError):
        torch.zeros(3).__iadd__(torch.zeros(2, 3))
    with pytest.raises(RuntimeError):
        torch.zeros(3, dtype=torch.int64).__iadd__(0.5)
    x = tg.zeros(3, dtype=tg.int64)
    x += 2  # an int result fits
    x[0] = 7.9  # an assigned value is converted, as torch (truncated)
    assert x.tolist() == torch.tensor([7, 2, 2]).tolist()


@pytest.mark.parametrize("write", [lambda a: a.__setitem__(0, 5.0), lambda a: a.mul_(2),
                                   lambda a: a.__isub__(1), lambda a: a.detach().zero_(),
                                   lambda a: a.T.__setitem__(0, 1.0)],
                         ids=["setitem", "mul_", "isub", "detached", "view"])
def test_a_saved_tensor_overwritten_raises_at_backward_as_torch(write):
    for m in (tg, torch):
        w = m.ones(2, 2, dtype=m.float64, requires_grad=True)
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64)
        y = (w * a).sum()  # Mul saved a for w's gradient
        write(a)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_an_op_that_saved_nothing_allows_the_write_as_torch():
    grads = []
    for m in (tg, torch):
        w = m.ones(2, dtype=m.float64, requires_grad=True)
        a = m.tensor([1.0, 2.0], dtype=m.float64)
        y = (w + a).sum()
        a[0] = 5.0
        y.backward()
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1] == [1.0, 1.0]


def test_writes_under_no_grad_into_a_parameter_bump_the_version():
    w = tg.ones(2, requires_grad=True)
    y = (w * w).sum()
    with tg.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---- what code from books calls besides -------------------------------------------------------
MORE = [
    Case("operator-methods", lambda m, x, y: (x.add(y), x.add(y, alpha=2), x.sub(y, alpha=0.5),
                                              x.mul(y), x.div(y.abs() + 1), x.pow(2), x.neg(),
                                              x.matmul(y.t())), [(2, 3), (2, 3)]),
    Case("type", lambda m, x: (x.type(m.float32), x.type(m.long), x.type(m.float)), [(2, 3)]),
    Case("more-function-forms", lambda m, x: (m.permute(x, (1, 0)), m.flatten(x),
                                              m.narrow(x, 1, 0, 2), m.pow(x, 3),
                                              m.repeat_interleave(x, 2, dim=0)), [(2, 3)]),
]


@pytest.mark.parametrize("case", MORE, ids=[c.name for c in MORE])
def test_more_names_as_torch(case):
    twins(case.fn, *data(*case.shapes))


def batchify(m, data, bsz):
    """pytorch/examples word_language_model/main.py, as written."""
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(m.device("cpu"))


def test_word_language_model_batchify_and_init_hidden_run_as_written():
    ids = np.arange(23)
    close(batchify(tg, tg.tensor(ids).type(tg.int64), 4),
          batchify(torch, torch.tensor(ids).type(torch.int64), 4))
    weight = tg.nn.Linear(2, 3).weight  # next(self.parameters())
    hidden = weight.new_zeros(2, 5, 7), weight.new_zeros(2, 5, 7)
    assert [(h.shape, h.dtype, h.requires_grad) for h in hidden] == [((2, 5, 7), np.float32,
                                                                      False)] * 2
    word = tg.randint(10, (1, 1), dtype=tg.long)
    word.fill_(tg.multinomial(tg.tensor([0.0, 1.0, 0.0]), 1)[0])
    assert word.tolist() == [[1]]


def test_detach_cuts_a_state_after_backward_as_d2l_uses_it():
    w = tg.ones(2, requires_grad=True)
    h = (w * 3).tanh()
    with pytest.raises(RuntimeError, match=r"detach_\(\).*backward\(\) first"):
        h.detach_()  # its graph has not run backward: cutting it would change it
    h.sum().backward()
    assert h.detach_() is h and h.is_leaf and not h.requires_grad and h.parents == ()
    y = (h * w).sum()  # a new graph stops at h, as torch's after detach_()
    y.backward()
    t = torch.ones(2, requires_grad=True)
    th = (t * 3).tanh()
    th.sum().backward()
    th.detach_()
    (th * t).sum().backward()
    close(w.grad, t.grad)


def test_detach_refused_before_backward_even_where_the_op_saved_nothing():
    """``a + 1`` saves no array; cutting ``h`` before backward would drop a's gradient."""
    a = tg.ones(2, requires_grad=True)
    h = a + 1
    z = h * 3
    with pytest.raises(RuntimeError, match=r"detach_\(\).*backward\(\) first"):
        h.detach_()
    z.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]  # as torch: nothing was cut
    assert h.detach_() is h and h.is_leaf


def test_creation_takes_torch_s_size_keyword():
    assert tg.zeros(size=(2, 3)).shape == torch.zeros(size=(2, 3)).shape == (2, 3)
    assert tg.randn(size=(4,)).dtype == np.float32
    with pytest.raises(TypeError, match="twice"):
        tg.ones(2, size=(2,))


def test_randint_draws_in_range_and_repeats_with_the_seed():
    tg.manual_seed(3)
    a = tg.randint(2, 5, (1000,))
    tg.manual_seed(3)
    b = tg.randint(2, 5, size=(1000,))
    assert a.dtype == np.int64 and a.tolist() == b.tolist()
    assert set(a.tolist()) == {2, 3, 4}
    with pytest.raises(ValueError, match="empty range"):
        tg.randint(3, 3, (2,))


def test_multinomial_draws_in_proportion_to_the_weights():
    tg.manual_seed(0)
    weights = np.array([1.0, 0.0, 3.0])
    for replacement in (True, False):  # the first draw follows the weights either way
        first = np.array([tg.multinomial(tg.tensor(weights), 1 if replacement else 3,
                                         replacement=replacement).tolist()[0]
                          for _ in range(3000)])
        freq = np.bincount(first, minlength=3) / first.size
        np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.03)
    rows = tg.multinomial(tg.tensor([[1.0, 1.0, 0.0], [0.0, 2.0, 5.0]]), 2).numpy()
    assert rows.shape == (2, 2) and sorted(rows[0]) == [0, 1] and sorted(rows[1]) == [1, 2]
    # without replacement, the zero weights come last, as torch
    assert tg.multinomial(tg.tensor(weights), 3).tolist()[2] == 1
    assert torch.multinomial(torch.tensor(weights), 3).tolist()[2] == 1
    for bad in (lambda m: m.multinomial(m.tensor(weights), 4),
                lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1)):
        with pytest.raises(ValueError, match="multinomial"):
            bad(tg)
        with pytest.raises(RuntimeError):  # torch refuses the same draws
            bad(torch)


# ---- d2l's RNN from scratch (Dive into Deep Learning, 9.5), as written ----------------------
def d2l_rnn_from_scratch(m, weights, batches, lr=1.0):
    """d2l's get_params / init_rnn_state / rnn / grad_clipping / sgd / train_epoch_ch8, with
    ``torch`` swapped for ``m``; returns the parameters after training."""
    nn, F = m.nn, m.nn.functional

    def get_params(vocab_size, num_hiddens, device):
        params = [m.tensor(w, dtype=m.float32, device=device) for w in weights]
        for param in params:
            param.requires_grad_(True)
        return params

    def init_rnn_state(batch_size, num_hiddens, device):
        return (m.zeros((batch_size, num_hiddens), device=device), )

    def rnn(inputs, state, params):
        W_xh, W_hh, b_h, W_hq, b_q = params
        H, = state
        outputs = []
        for X in inputs:
            H = m.tanh(m.mm(X, W_xh) + m.mm(H, W_hh) + b_h)
            Y = m.mm(H, W_hq) + b_q
            outputs.append(Y)
        return m.cat(outputs, dim=0), (H,)

    def grad_clipping(params, theta):
        norm = m.sqrt(sum(m.sum(p.grad ** 2) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm

    def sgd(params, lr, batch_size):
        with m.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    vocab_size, num_hiddens, device = weights[0].shape[0], weights[1].shape[0], m.device("cpu")
    params = get_params(vocab_size, num_hiddens, device)
    loss, state = nn.CrossEntropyLoss(), None
    for X, Y in batches:
        X, Y = m.tensor(X), m.tensor(Y)
        if state is None:
            state = init_rnn_state(X.shape[0], num_hiddens, device)
        else:
            for s in state:
                s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = rnn(F.one_hot(X.T, vocab_size).type(m.float32), state, params)
        lo = loss(y_hat, y.long()).mean()
        lo.backward()
        grad_clipping(params, 1)
        sgd(params, lr, batch_size=1)
        assert math.isfinite(float(lo * y.numel()))
        assert int(y_hat.argmax(dim=1).reshape(-1)[0]) in range(vocab_size)
    return params


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # torch, at float()
def test_d2l_rnn_from_scratch_trains_as_its_torch_original():
    vocab, hidden, rng = 7, 5, np.random.default_rng(3)
    weights = [rng.standard_normal(s) * 0.3 for s in ((vocab, hidden), (hidden, hidden),
                                                      (hidden,), (hidden, vocab), (vocab,))]
    text = rng.integers(0, vocab, 2 * 3 * 6 + 1)
    batches = [(text[k:k + 12].reshape(2, 6), text[k + 1:k + 13].reshape(2, 6))
               for k in (0, 12, 24)]  # consecutive windows: the state is carried and detached
    for ours, theirs in zip(d2l_rnn_from_scratch(tg, weights, batches),
                            d2l_rnn_from_scratch(torch, weights, batches)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_randint_and_randn_like_spellings():
    """torch's ``randint(high, size=...)``; ``randn_like`` of integers refused, not zeros."""
    tg.manual_seed(0)
    x = tg.randint(10, size=(2, 3))
    assert x.shape == (2, 3) and 0 <= int(x.min()) and int(x.max()) < 10
    with pytest.raises(TypeError, match="randn_like\\(\\): normal draws need a floating dtype"):
        tg.randn_like(tg.tensor([1, 2]))
