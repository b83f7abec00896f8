"""PyTorch's module surface against torch itself: containers, small modules, Module's methods,
losses and tied weights, each with the same weights in both libraries."""
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def same_weights(ours, theirs):
    """Copy ``ours``'s state dict into its torch twin ``theirs`` (names must agree)."""
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})


def close(a, b, rtol=1e-6, atol=1e-7):
    a = a.numpy() if isinstance(a, tg.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---- containers ----------------------------------------------------------------------------
def test_sequential_names_repr_and_output_match_torch():
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                                 torch.nn.LogSoftmax(dim=1))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    assert repr(ours) == repr(theirs)
    same_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    close(ours(tg.tensor(x)), theirs(torch.tensor(x)))


def test_sequential_ordered_dict_indexing_and_editing_as_torch():
    def build(lib):
        return lib.Sequential(OrderedDict([("enc", lib.Linear(2, 3)), ("act", lib.ReLU()),
                                           ("dec", lib.Linear(3, 1))]))
    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.enc is ours[0] and ours[-1] is ours.dec and len(ours) == 3
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict()) == ["dec.weight",
                                                                          "dec.bias"]
    ours, theirs = (lib.Sequential(lib.Linear(2, 3), lib.ReLU(), lib.Linear(3, 1))
                    for lib in (nn, torch.nn))
    for seq, lib in ((ours, nn), (theirs, torch.nn)):
        seq.append(lib.Linear(1, 1))
        seq.insert(1, lib.Identity())
        del seq[0]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(IndexError, match="out of range"):
        ours[10]
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential(nn.Linear(1, 1), "relu")


def test_module_list_and_dict_names_as_torch():
    def twin(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.layers = lib.ModuleList([lib.Linear(2, 2)])
                self.layers.append(lib.Linear(2, 3))
                self.layers.extend([lib.Linear(3, 3)])
                self.layers.insert(0, lib.Linear(2, 2))
                self.heads = lib.ModuleDict({"a": lib.Linear(3, 1)})
                self.heads["b"] = lib.Linear(3, 2)
        return Net()

    ours, theirs = twin(nn), twin(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)
    assert len(ours.layers) == 4 and ours.layers[-1] is list(ours.layers)[3]
    assert list(ours.heads) == ["a", "b"] and "a" in ours.heads
    assert [k for k, _ in ours.heads.items()] == list(theirs.heads.keys())
    assert len(ours.layers[1:3]) == 2
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        ours.layers(tg.ones(1, 2))


# ---- small modules -------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib: lib.Tanh(), lambda lib: lib.ReLU(), lambda lib: lib.Sigmoid(),
    lambda lib: lib.Softmax(dim=1), lambda lib: lib.LogSoftmax(dim=-1), lambda lib: lib.Identity(),
    lambda lib: lib.Flatten(), lambda lib: lib.Flatten(0, 1), lambda lib: lib.Dropout(0.3),
])
def test_small_modules_match_torch(make):
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    a = tg.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    ours.eval()
    theirs.eval()
    out, tout = ours(a), theirs(b)
    close(out, tout, rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    close(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_dropout_follows_train_and_eval():
    drop = nn.Dropout(0.5)
    x = tg.ones(1000)
    tg.manual_seed(3)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, 2.0} and 400 < (y == 0).sum() < 600
    tg.manual_seed(3)
    np.testing.assert_array_equal(drop(x).numpy(), y)          # the package's generator
    assert drop.eval() is drop
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout(1.5)


def test_lazy_linear_infers_in_features_and_trains_like_linear():
    lazy = nn.LazyLinear(3)
    assert repr(lazy) == repr(torch.nn.LazyLinear(3))
    optimizer = tg.optim.SGD(lazy.parameters(), lr=0.1)      # before the first call, as torch
    with pytest.raises(ValueError, match="no value before the module's first call"):
        lazy.state_dict()
    x = tg.randn(4, 5)
    out = lazy(x)
    assert type(lazy) is nn.Linear and lazy.in_features == 5 and lazy.weight.shape == (3, 5)
    assert abs(lazy.weight.numpy()).max() <= 1 / np.sqrt(5) and lazy.bias.shape == (3,)
    theirs = torch.nn.Linear(5, 3)
    same_weights(lazy, theirs)
    close(out, theirs(torch.tensor(x.numpy())))
    before = lazy.weight.numpy().copy()
    out.sum().backward()
    optimizer.step()
    close(lazy.weight.numpy(), before - 0.1 * lazy.weight.grad.numpy(), rtol=1e-6)
    fresh = nn.LazyLinear(3)
    fresh.load_state_dict(lazy.state_dict())                 # shapes from the state dict
    close(fresh(x), lazy(x))


# ---- Module --------------------------------------------------------------------------------
def block(lib):
    """A module with a child, two buffers (one not persistent) and a parameter."""
    new = tg if lib is nn else torch

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.inner = lib.Linear(2, 2)
            self.register_buffer("count", new.zeros(3))
            self.register_buffer("scratch", new.ones(1), persistent=False)
            self.scale = lib.Parameter(new.ones(2))
    return Block()


def test_buffers_are_state_but_not_parameters_as_torch():
    ours, theirs = block(nn), block(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    state = ours.state_dict()
    state["count"] = np.arange(3.0)
    ours.load_state_dict(state)
    np.testing.assert_array_equal(ours.count.numpy(), np.arange(3.0))
    ours.to(dtype=np.float64)
    assert ours.count.dtype == np.float64 and ours.scale.dtype == np.float64
    with pytest.raises(TypeError, match="buffer 'count'"):
        ours.count = 3


def test_traversal_is_lazy_and_ordered_as_torch():
    ours, theirs = block(nn), block(torch.nn)
    params = ours.parameters()
    assert iter(params) is params                            # an iterator, as torch
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.children()] == ["Linear"]
    assert [type(m).__name__ for m in ours.modules()] == ["Block", "Linear"]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert next(ours.parameters()) is ours.scale


def test_apply_visits_children_first_then_self():
    def build(lib):
        return lib.Sequential(lib.Linear(1, 1), lib.Sequential(lib.Tanh(), lib.ReLU()))
    seen, tseen = [], []
    assert build(nn).apply(lambda m: seen.append(type(m).__name__)) is not None
    build(torch.nn).apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen == ["Linear", "Tanh", "ReLU", "Sequential", "Sequential"]


def test_apply_initialises_as_in_the_books():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    def init_weights(m):
        if type(m) is nn.Linear:
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    net.apply(init_weights)
    assert not net[0].bias.numpy().any() and abs(net[2].weight.numpy()).max() <= np.sqrt(0.6)


def test_register_add_module_train_and_requires_grad():
    m = nn.Module()
    m.add_module("fc", nn.Linear(2, 2))
    m.register_parameter("w", nn.Parameter(tg.ones(2)))
    m.register_parameter("none", None)
    assert [n for n, _ in m.named_parameters()] == ["w", "fc.weight", "fc.bias"]
    with pytest.raises(KeyError, match="contain"):
        m.add_module("a.b", nn.Linear(1, 1))
    with pytest.raises(TypeError, match="must be a Parameter"):
        m.register_parameter("x", tg.ones(1))
    assert m.train(False) is m and not m.fc.training
    assert m.train() is m and m.fc.training
    with pytest.raises(ValueError, match="mode must be a bool"):
        m.train("no")
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())


# ---- losses --------------------------------------------------------------------------------
def pair(array, grad=True):
    return (tg.tensor(array, dtype=np.float64, requires_grad=grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=grad))


CASES = [  # (input shape, target shape)
    ((6, 4), (6,)), ((3, 4, 5), (3, 5)), ((2, 4, 3, 2), (2, 3, 2)), ((4,), ()),
]


@pytest.mark.parametrize("shape, tshape", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_and_nll_loss_match_torch(shape, tshape, reduction, weighted, smoothing):
    rng = np.random.default_rng(7)
    classes = shape[0] if len(shape) == 1 else shape[1]
    target = rng.integers(0, classes, tshape)
    if target.ndim:
        target.flat[::3] = -100                               # some targets ignored
    weight = rng.random(classes) + 0.5 if weighted else None
    tweight = None if weight is None else torch.tensor(weight)
    x, tx = pair(rng.standard_normal(shape))
    ce = nn.CrossEntropyLoss(weight=None if weight is None else tg.tensor(weight),
                             reduction=reduction, label_smoothing=smoothing)
    tce = torch.nn.CrossEntropyLoss(weight=tweight, reduction=reduction,
                                    label_smoothing=smoothing)
    loss, tloss = ce(x, tg.tensor(target)), tce(tx, torch.tensor(target))
    close(loss, tloss, rtol=1e-10, atol=1e-12)
    (loss * 1.0).sum().backward()
    tloss.sum().backward()
    close(x.grad, tx.grad, rtol=1e-10, atol=1e-12)
    if smoothing:
        return
    lp, tlp = pair(TF.log_softmax(tx, dim=0 if len(shape) == 1 else 1).detach().numpy())
    nll = nn.NLLLoss(None if weight is None else tg.tensor(weight), reduction=reduction)
    tnll = torch.nn.NLLLoss(tweight, reduction=reduction)
    out, tout = nll(lp, target), tnll(tlp, torch.tensor(target))
    close(out, tout, rtol=1e-10, atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    close(lp.grad, tlp.grad, rtol=1e-10, atol=1e-12)


def test_loss_modules_state_and_errors():
    weight = tg.tensor([1.0, 2.0])
    assert list(nn.CrossEntropyLoss(weight).state_dict()) == list(
        torch.nn.CrossEntropyLoss(torch.tensor([1.0, 2.0])).state_dict()) == ["weight"]
    assert list(nn.MSELoss().state_dict()) == []
    with pytest.raises(TypeError, match="reduction="):
        nn.CrossEntropyLoss(size_average=True)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 2\)"):
        tg.F.nll_loss(tg.zeros(2, 2), [0, 2])
    with pytest.raises(ValueError, match="one entry per class"):
        tg.F.nll_loss(tg.zeros(2, 2), [0, 1], weight=tg.ones(3))
    with pytest.raises(ValueError, match=r"\(N, C, d1, ...\)"):
        tg.F.cross_entropy(tg.zeros(2, 3, 4), tg.tensor([0, 1]))
    with pytest.raises(TypeError, match="pass reduction='sum'"):
        tg.F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1]), "sum")


def test_mse_loss_module_matches_torch(rng):
    a, ta = pair(rng.standard_normal((3, 2)))
    b, tb = pair(rng.standard_normal((3, 2)), grad=False)
    for reduction in ("mean", "sum", "none"):
        close(nn.MSELoss(reduction=reduction)(a, b),
              torch.nn.MSELoss(reduction=reduction)(ta, tb), rtol=1e-12)


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        ours, theirs = tg.F.one_hot(tg.tensor(idx), n), TF.one_hot(torch.tensor(idx), n)
        assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        tg.F.one_hot(tg.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="empty"):
        tg.F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64)))
    with pytest.raises(TypeError, match="integers"):
        tg.F.one_hot(tg.tensor([0.0, 1.0]))


# ---- tied weights --------------------------------------------------------------------------
def tied_lm(lib, ntoken=11, ninp=6, nlayers=2):
    """pytorch/examples' word_language_model with tied weights, written for either library."""

    class RNNModel(lib.Module):
        def __init__(self):
            super().__init__()
            self.drop = lib.Dropout(0.2)
            self.encoder = lib.Embedding(ntoken, ninp)
            self.rnn = lib.LSTM(ninp, ninp, nlayers, dropout=0.2)
            self.decoder = lib.Linear(ninp, ntoken)
            self.decoder.weight = self.encoder.weight

        def forward(self, x):
            out, _ = self.rnn(self.drop(self.encoder(x)))
            return self.decoder(self.drop(out))
    return RNNModel()


def test_tied_weights_are_stored_as_torch_stores_them():
    ours, theirs = tied_lm(nn).eval(), tied_lm(torch.nn).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "decoder.weight" in ours.state_dict() and "encoder.weight" in ours.state_dict()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert "decoder.weight" not in dict(ours.named_parameters())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    optimizer = tg.optim.SGD(ours.parameters(), lr=0.1)        # gets the tied weight once
    assert sum(p is ours.encoder.weight for p in optimizer.param_groups[0]["params"]) == 1

    theirs.load_state_dict(OrderedDict((k, torch.from_numpy(v))
                                       for k, v in ours.state_dict().items()), strict=True)
    x = np.random.default_rng(2).integers(0, 11, (5, 3))
    close(ours(tg.tensor(x)), theirs(torch.tensor(x)), rtol=1e-5, atol=1e-6)

    other = tied_lm(torch.nn)
    ours.load_state_dict({k: v.numpy() for k, v in other.state_dict().items()}, strict=True)
    assert ours.decoder.weight is ours.encoder.weight
    np.testing.assert_array_equal(ours.state_dict()["decoder.weight"],
                                  other.state_dict()["encoder.weight"].numpy())
    close(ours(tg.tensor(x)), other.eval()(torch.tensor(x)), rtol=1e-5, atol=1e-6)
    state = ours.state_dict()
    del state["decoder.weight"]
    with pytest.raises(KeyError, match=r"missing keys \['decoder.weight'\]"):
        ours.load_state_dict(state)


def test_a_book_model_trains_as_its_torch_twin():
    """d2l's concise RNN language model (a GRU and a LazyLinear head), trained by SGD with the
    optimiser built before the lazy layer's first call: the same losses and weights as torch."""
    def book_model(lib, vocab=7, hidden=5):
        class RNNModel(lib.Module):
            def __init__(self):
                super().__init__()
                self.rnn = lib.GRU(vocab, hidden)
                self.linear = lib.LazyLinear(vocab)

            def forward(self, x):
                y, _ = self.rnn(x)
                return self.linear(y.reshape((-1, y.shape[-1])))
        return RNNModel()

    rng = np.random.default_rng(3)
    ids = rng.integers(0, 7, (6, 2))
    x = np.eye(7, dtype=np.float32)[ids]                       # one-hot (T, N, V)
    y = rng.integers(0, 7, 12)
    ours, theirs = book_model(nn), book_model(torch.nn)
    opt = tg.optim.SGD(ours.parameters(), lr=0.5)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.5)
    ours(tg.tensor(x))
    theirs(torch.tensor(x))
    theirs.load_state_dict(tg.utils.to_torch(ours))
    loss_fn, tloss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for _ in range(3):
        loss = loss_fn(ours(tg.tensor(x)), tg.tensor(y))
        tloss = tloss_fn(theirs(torch.tensor(x)), torch.tensor(y))
        close(loss, tloss, rtol=1e-5)
        opt.zero_grad()
        topt.zero_grad()
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
    for name, value in ours.state_dict().items():
        close(value, theirs.state_dict()[name], rtol=1e-4, atol=1e-6)
