"""detect_anomaly names the first op, scope and time step that made a NaN or Inf; grad hooks."""
import warnings

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.autograd import state


def test_forward_anomaly_names_op_scope_and_step():
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(tg.AnomalyError, match=r"Log produced Inf in the forward pass "
                           r"\(scope rnn/l0/t4/cell, time step 4") as info, \
                tg.detect_anomaly(), tg.scope("rnn", "l0", "t4", "cell"):
            h = x * 2.0          # finite
            h.log()              # log(0) = -inf: this op is to blame
    assert type(info.value.tensor.op).__name__ == "Log"


def test_forward_anomaly_blames_the_first_op_not_its_consumers():
    x = tg.tensor([np.inf, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x * 2.0).tanh()         # inf in, but inputs were not finite: not these ops' doing
    assert np.isfinite(y.numpy()).all()


def test_backward_anomaly_names_op_and_step():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.scope("gru", "t2"):
        y = x.sqrt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(tg.AnomalyError, match=r"Sqrt produced Inf in the backward pass.*"
                           r"scope gru/t2, time step 2"), tg.detect_anomaly():
            y.sum().backward()


def test_no_anomaly_no_error_and_state_restored():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        (x * x).sum().backward()
    assert not state.anomaly
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])


def test_grad_hooks_see_every_gradient():
    seen = {}
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    loss = (h * h).sum()
    state.grad_hooks = (lambda t, g: seen.__setitem__(id(t), np.array(g)),)
    try:
        loss.backward()
    finally:
        state.grad_hooks = ()
    np.testing.assert_allclose(seen[id(h)], 2 * h.numpy())
    np.testing.assert_allclose(seen[id(x)], x.grad.numpy())
    assert id(loss) in seen


def test_grad_hooks_see_leaves_under_tg_grad_too():
    seen = {}
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    state.grad_hooks = (lambda t, g: seen.__setitem__(id(t), np.array(g)),)
    try:
        (gx,) = tg.grad(loss, [x])
    finally:
        state.grad_hooks = ()
    np.testing.assert_allclose(seen[id(x)], gx.numpy())
    assert x.grad is None
