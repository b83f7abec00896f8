"""``tg.nn.RNN(..., init="identity")``: Le, Jaitly & Hinton's (2015) IRNN initialisation for the
whole-sequence layer, equal to the cell's (``IRNNCell``) and to the helper it replaced."""
import numpy as np
import pytest

import tinygrad_rnn as tg


def irnn_layer(input_size, hidden_size, num_layers=1, **kwargs):
    """What ``tg.viz.irnn_layer`` made before ``init="identity"`` replaced it: a ReLU RNN
    initialised as usual, then every weight and bias overwritten in parameter order."""
    rnn = tg.nn.RNN(input_size, hidden_size, num_layers, nonlinearity="relu", **kwargs)
    for name, p in rnn.named_parameters():
        if name.startswith("weight_hh"):
            p.data[...] = p.xp.eye(hidden_size, dtype=p.dtype)
        elif name.startswith("weight_ih"):
            p.data[...] = tg.randn(*p.shape, dtype=p.dtype, device=p.device).data * 0.001
        else:
            p.data[...] = 0
    return rnn


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_identity_init_sets_the_weights(device, dtype):
    tg.manual_seed(0)
    rnn = tg.nn.RNN(5, 6, num_layers=2, nonlinearity="relu", bidirectional=True,
                    init="identity", device=device, dtype=dtype)
    assert rnn.init == "identity" and rnn.nonlinearity == "relu"
    for name, p in rnn.named_parameters():
        value = p.numpy()
        assert p.dtype == dtype and p.device == device, name
        if name.startswith("weight_hh"):
            np.testing.assert_array_equal(value, np.eye(6), err_msg=name)
        elif name.startswith("weight_ih"):
            assert 0 < value.std() < 0.003 and value.shape[0] == 6, name
        else:
            assert not value.any(), name


def test_identity_init_equals_what_irnn_layer_made():
    tg.manual_seed(3)
    old = irnn_layer(4, 7, 2, bidirectional=True, dtype=tg.float64)
    tg.manual_seed(3)
    new = tg.nn.RNN(4, 7, 2, nonlinearity="relu", bidirectional=True, init="identity",
                    dtype=tg.float64)
    assert list(old.state_dict()) == list(new.state_dict())
    for name, value in old.state_dict().items():
        np.testing.assert_array_equal(new.state_dict()[name], value, err_msg=name)


def test_identity_layer_matches_the_irnn_cell_step():
    tg.manual_seed(0)
    rnn = tg.nn.RNN(3, 4, nonlinearity="relu", init="identity", dtype=tg.float64)
    cell = tg.nn.IRNNCell(3, 4, dtype=tg.float64)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in rnn.state_dict().items()})
    x = tg.randn(5, 2, 3, dtype=tg.float64)
    out, _ = rnn(x)
    hs, _ = tg.graph.unroll(cell, x)
    np.testing.assert_allclose(out.numpy(), np.stack([h.numpy() for h in hs]), rtol=1e-12)


def test_default_init_is_unchanged_and_unknown_init_is_an_error():
    tg.manual_seed(0)
    default = tg.nn.RNN(3, 4).state_dict()
    tg.manual_seed(0)
    named = tg.nn.RNN(3, 4, init="default").state_dict()
    assert all(np.array_equal(default[k], named[k]) for k in default)
    assert "init" not in repr(tg.nn.RNN(3, 4))
    assert "init='identity'" in repr(tg.nn.RNN(3, 4, nonlinearity="relu", init="identity"))
    with pytest.raises(ValueError, match="'default'.*'identity'"):
        tg.nn.RNN(3, 4, init="orthogonal")
