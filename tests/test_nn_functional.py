"""tg.nn.functional and Linear/Embedding against PyTorch (values and gradients, float64)."""
import numpy as np
import pytest

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def pair(array, grad=True):
    return (tg.tensor(array, dtype=np.float64, requires_grad=grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=grad))


def close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(a.numpy() if hasattr(a, "numpy") and not hasattr(a, "detach")
                               else a.detach().numpy(), b.detach().numpy() if hasattr(b, "detach")
                               else b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax(axis, rng):
    x, tx = pair(rng.standard_normal((3, 5)) * 10)
    w = rng.standard_normal((3, 5))
    (tg.F.softmax(x, axis=axis) * tg.tensor(w) + tg.F.log_softmax(x, axis=axis) * 0.5).sum().backward()
    (TF.softmax(tx, dim=axis) * torch.tensor(w) + TF.log_softmax(tx, dim=axis) * 0.5).sum().backward()
    close(tg.F.log_softmax(x, axis=axis), TF.log_softmax(tx, dim=axis))
    close(x.grad, tx.grad)


def test_logsumexp_with_minus_infinity_rows():
    x = tg.tensor([[0.0, -np.inf], [-np.inf, -np.inf]], dtype=np.float64)
    out = tg.F.logsumexp(x, axis=1).numpy()
    assert out[0] == 0.0 and out[1] == -np.inf


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_stable_at_plus_minus_1000(reduction, fused):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 1.0, 2.0]])
    target = np.array([1, 2, 0])
    x, tx = pair(logits)
    loss = tg.F.cross_entropy(x, target, reduction=reduction, fused=fused)
    tloss = TF.cross_entropy(tx, torch.tensor(target), reduction=reduction)
    assert np.isfinite(loss.numpy()).all()
    close(loss, tloss)
    loss.sum().backward()
    tloss.sum().backward()
    close(x.grad, tx.grad)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_ignore_index(rng, reduction, fused):
    x, tx = pair(rng.standard_normal((4, 3)))
    target = np.array([0, -100, 2, -100])
    w = rng.standard_normal(4) if reduction == "none" else 1.0
    loss = tg.F.cross_entropy(x, target, reduction=reduction, fused=fused)
    tloss = TF.cross_entropy(tx, torch.tensor(target), reduction=reduction)
    (loss * tg.tensor(w)).sum().backward()
    (tloss * torch.tensor(w)).sum().backward()
    close(loss, tloss)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_fused_equals_composite(rng, dtype):
    """The one-op loss and the loss built from primitives: same values, same gradients."""
    logits = (rng.standard_normal((64, 65)) * 5).astype(dtype)
    target = rng.integers(0, 65, 64)
    target[::7] = 3
    results = []
    for fused in (True, False):
        x = tg.tensor(logits, requires_grad=True)
        loss = tg.F.cross_entropy(x, target, fused=fused)
        loss.backward()
        assert loss.dtype == x.grad.dtype == dtype
        results.append((loss.numpy(), x.grad.numpy()))
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=tol)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=tol, atol=tol)
    fused = tg.F.cross_entropy(tg.tensor(logits, requires_grad=True), target)
    assert type(fused.op).__name__ == "CrossEntropy"  # one node, the mean included
    assert fused.parents[0].op is None                # straight from the logits


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignored", [False, True])
def test_fused_cross_entropy_reduces_in_one_op_as_the_composite(rng, reduction, ignored):
    logits, target = rng.standard_normal((9, 5)), rng.integers(0, 5, 9)
    if ignored:
        target[[1, 4]] = -100
    upstream = rng.standard_normal(9) if reduction == "none" else 1.7
    results = []
    for fused in (True, False):
        x = tg.tensor(logits, dtype=np.float64, requires_grad=True)
        loss = tg.F.cross_entropy(x, target, reduction=reduction, fused=fused)
        (loss * tg.tensor(upstream, dtype=np.float64)).sum().backward()
        results.append((loss.numpy(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fused", [True, False])
def test_cross_entropy_of_an_empty_batch_is_nan_without_warnings(fused):
    import warnings

    x = tg.zeros(0, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = tg.F.cross_entropy(x, np.zeros(0, dtype=np.int64), fused=fused)
        loss.backward()
    assert np.isnan(loss.item()) and x.grad.shape == (0, 3)
    assert np.isnan(TF.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)).item())


def test_cross_entropy_bad_input():
    with pytest.raises(ValueError, match=r"\(N, C\).*\(2, 3\) and \(3,\)"):
        tg.F.cross_entropy(tg.zeros(2, 3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        tg.F.cross_entropy(tg.zeros(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"float target holds class probabilities.*\(2, 3\) "
                                         r"and target \(2,\) \(integer classes need"):
        tg.F.cross_entropy(tg.zeros(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="integer classes"):
        tg.F.nll_loss(tg.zeros(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        tg.F.cross_entropy(tg.zeros(2, 3), np.array([0, 1]), reduction="avg")


@pytest.mark.parametrize("shape", [(4, 5), (3, 5, 2), (5,)])
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"label_smoothing": 0.2},
                                     {"weight": True, "label_smoothing": 0.1}])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_class_probabilities_matches_torch(rng, shape, options, reduction):
    """Soft labels (float targets of the logits' shape), with class weights and smoothing:
    losses and the gradients of the logits and of the target as torch's."""
    x, tx = pair(rng.standard_normal(shape) * 3)
    axis = 1 if len(shape) > 1 else 0
    p = rng.random(shape)
    y, ty = pair(p / p.sum(axis=axis, keepdims=True))
    kwargs, tkwargs = {"reduction": reduction}, {"reduction": reduction}
    if options.get("weight"):
        w = rng.random(shape[axis]) + 0.5
        kwargs["weight"], tkwargs["weight"] = tg.tensor(w, dtype=np.float64), torch.tensor(w)
    if "label_smoothing" in options:
        kwargs["label_smoothing"] = tkwargs["label_smoothing"] = options["label_smoothing"]
    loss, tloss = tg.F.cross_entropy(x, y, **kwargs), TF.cross_entropy(tx, ty, **tkwargs)
    close(loss, tloss)
    g = rng.standard_normal(tloss.shape)
    (loss * tg.tensor(g, dtype=np.float64)).sum().backward()
    (tloss * torch.tensor(g)).sum().backward()
    close(x.grad, tx.grad)
    close(y.grad, ty.grad)


def test_cross_entropy_loss_module_takes_class_probabilities(rng):
    logits, target = rng.standard_normal((6, 4)), rng.dirichlet(np.ones(4), size=6)
    ours = tg.nn.CrossEntropyLoss(label_smoothing=0.1)(tg.tensor(logits, dtype=np.float64),
                                                       target)
    theirs = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(torch.tensor(logits),
                                                            torch.tensor(target))
    close(ours, theirs)
    float32 = tg.F.cross_entropy(tg.tensor(logits, dtype=np.float32), target.tolist())
    assert float32.dtype == np.float32  # a list of probabilities, cast to the logits' dtype
    close(float32, TF.cross_entropy(torch.tensor(logits), torch.tensor(target)), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction, rng):
    a, ta = pair(rng.standard_normal((3, 4)))
    b, tb = pair(rng.standard_normal((3, 4)))
    loss, tloss = tg.F.mse_loss(a, b, reduction), TF.mse_loss(ta, tb, reduction=reduction)
    close(loss, tloss)
    loss.sum().backward()
    tloss.sum().backward()
    close(a.grad, ta.grad)
    close(b.grad, tb.grad)


def test_linear_module_matches_torch(rng):
    tg.manual_seed(0)
    lin = tg.nn.Linear(4, 3).to(dtype=np.float64)
    tlin = torch.nn.Linear(4, 3).double()
    tlin.load_state_dict({k: torch.from_numpy(v) for k, v in lin.state_dict().items()})
    x, tx = pair(rng.standard_normal((5, 4)))
    lin(x).tanh().sum().backward()
    tlin(tx).tanh().sum().backward()
    close(lin.weight.grad, tlin.weight.grad)
    close(lin.bias.grad, tlin.bias.grad)
    close(x.grad, tx.grad)
    bound = 1 / np.sqrt(4)
    assert np.abs(tg.nn.Linear(4, 300).weight.numpy()).max() <= bound


def test_embedding_gradient_scatter_adds_repeated_rows(rng):
    w, tw = pair(rng.standard_normal((6, 3)))
    idx = np.array([[1, 4, 1], [1, 0, 5]])
    weights = rng.standard_normal((2, 3, 3))
    (tg.F.embedding(idx, w) * tg.tensor(weights)).sum().backward()
    (TF.embedding(torch.tensor(idx), tw) * torch.tensor(weights)).sum().backward()
    close(w.grad, tw.grad)
    with pytest.raises(IndexError, match=r"\[0, 6\)"):
        tg.F.embedding(np.array([6]), w)


@pytest.mark.parametrize("rows, picks", [(6, 40), (65, 256), (300, 200), (70, 1000)])
def test_scatter_add_of_rows_equals_numpy_add_at_on_both_paths(rng, rows, picks):
    """backend.scatter_add: a one-hot product for small tables (rows x picks <= ONE_HOT), sorted
    runs otherwise; both equal np.add.at (repeated and negative indices), and an infinite value
    reaches its own row only (the one-hot path steps aside: 0 * inf would be NaN)."""
    from tinygrad_rnn import backend

    idx = rng.integers(-rows, rows, picks)
    values = rng.standard_normal((picks, 3))
    expected = np.zeros((rows, 3))
    np.add.at(expected, idx, values)
    got = np.zeros((rows, 3))
    backend.scatter_add(np, got, idx, values)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    values[0, 1] = np.inf
    got = np.zeros((rows, 3))
    backend.scatter_add(np, got, idx, values)
    assert got[idx[0], 1] == np.inf and not np.isnan(got).any()
    assert np.isinf(got).sum() == 1


def test_dropout_scales_and_is_off_in_eval():
    tg.manual_seed(0)
    x = tg.ones(20000)
    y = tg.F.dropout(x, 0.25, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert tg.F.dropout(x, 0.25, training=False) is x
    with pytest.raises(ValueError, match="p must be in"):
        tg.F.dropout(x, 1.5)
