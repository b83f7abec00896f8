"""Module: parameter discovery, PyTorch names, state_dict round trips, to(), train/eval, scopes."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import nn


class Net(nn.Module):
    def __init__(self):
        self.encoder = nn.Linear(3, 4)
        self.layers = [nn.Linear(4, 4), nn.Linear(4, 2)]
        self.tied = self.encoder.weight      # the same parameter twice: listed once
        self.scale = nn.Parameter(tg.ones(1))

    def forward(self, x):
        h = self.encoder(x).tanh()
        for layer in self.layers:
            h = layer(h)
        return h * self.scale


def test_named_parameters_match_torch_names_and_order():
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Linear(3, 4)
            self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4), torch.nn.Linear(4, 2)])
            self.tied = self.encoder.weight
            self.scale = torch.nn.Parameter(torch.ones(1))

    ours = [n for n, _ in Net().named_parameters()]
    assert ours == [n for n, _ in TorchNet().named_parameters()]
    assert list(Net().state_dict()) == list(TorchNet().state_dict())  # the tied one twice
    assert len(list(Net().parameters())) == 7     # the tied weight is listed once, not twice


def test_state_dict_round_trip_through_save_and_load(tmp_path):
    tg.manual_seed(1)
    a = Net()
    tg.manual_seed(2)
    b = Net()
    tg.save(a.state_dict(), tmp_path / "net.npz")
    b.load_state_dict(tg.load(tmp_path / "net.npz"))
    x = tg.randn(2, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_keeps_dtype_device_and_identity():
    net = Net()
    w = net.encoder.weight
    state = {k: v.astype(np.float64) for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    assert net.encoder.weight is w and w.dtype == np.float32


def test_load_state_dict_errors_name_the_entries():
    net = Net()
    state = net.state_dict()
    del state["scale"]
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['scale'\].*unexpected keys \['extra.weight'\]"):
        net.load_state_dict(state)
    net.load_state_dict(state, strict=False)
    bad = net.state_dict()
    bad["encoder.bias"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"encoder.bias has shape \(5,\).*\(4,\)"):
        net.load_state_dict(bad)


def test_to_dtype_train_eval_zero_grad():
    net = Net().to(dtype=np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    net(tg.randn(2, 3, dtype=np.float64)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    assert not net.training and not net.layers[1].training
    net.train()
    assert net.layers[0].training


def test_calls_push_the_attribute_name_onto_the_scope():
    net = Net()
    out = net(tg.randn(2, 3))
    assert out.scope == ("net",)
    tanh = out.parents[0]
    while type(tanh.op).__name__ != "Tanh":
        tanh = tanh.parents[0]
    assert tanh.scope == ("net",)
    assert tanh.parents[0].scope[:2] == ("net", "encoder")


@pytest.mark.cuda
def test_module_to_cuda_and_back():
    net = Net()
    before = net.state_dict()
    net.to("cuda")
    assert all(p.device == "cuda" for p in net.parameters())
    net.to("cpu")
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_parameters_are_named_after_their_attribute():
    net = Net()
    assert net.encoder.weight.name == "weight" and net.scale.name == "scale"
    assert tg.nn.LSTM(2, 3).weight_hh_l0.name == "weight_hh_l0"
