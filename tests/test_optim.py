"""``tg.optim`` against ``torch.optim``: the same trajectories, step by step, for every option."""
import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.backend import device_of

torch = pytest.importorskip("torch")

STEPS = 25

# (optimiser name, keyword arguments): each option of each optimiser, alone and combined.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5,
                 "centered": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.01,
              "amsgrad": True}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}"
       for name, kw in CASES]


def make_problem(seed=0, dtype=np.float64):
    """A Linear(4, 3) in both libraries from the same weights, and a regression batch."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    model = tg.nn.Linear(4, 3, dtype=dtype)
    model.load_state_dict({"weight": w, "bias": b})
    tmodel = torch.nn.Linear(4, 3).to(getattr(torch, np.dtype(dtype).name))
    tmodel.load_state_dict({"weight": torch.tensor(w), "bias": torch.tensor(b)})
    return model, tmodel, (x.astype(dtype), y.astype(dtype))


def tg_loss(model, x, y):
    return tg.F.mse_loss(model(tg.tensor(x, dtype=x.dtype)).tanh(), tg.tensor(y, dtype=y.dtype))


def torch_loss(model, x, y):
    return torch.nn.functional.mse_loss(torch.tanh(model(torch.from_numpy(x))),
                                        torch.from_numpy(y))


def step_both(model, tmodel, opt, topt, x, y):
    """One optimiser step in each library, gradients from each engine's own backward."""
    opt.zero_grad()
    tg_loss(model, x, y).backward()
    opt.step()
    topt.zero_grad()
    torch_loss(tmodel, x, y).backward()
    topt.step()


def trajectories(name, kwargs, steps=STEPS, dtype=np.float64):
    """Parameters after each step, in tinygrad_rnn and in torch (gradients from each engine)."""
    model, tmodel, (x, y) = make_problem(dtype=dtype)
    opt = getattr(tg.optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kwargs)
    ours, theirs = [], []
    for _ in range(steps):
        step_both(model, tmodel, opt, topt, x, y)
        ours.append([p.numpy().copy() for p in model.parameters()])
        theirs.append([p.detach().numpy().copy() for p in tmodel.parameters()])
    return ours, theirs


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_trajectory_equals_torch(name, kwargs):
    ours, theirs = trajectories(name, kwargs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for pa, pb in zip(a, b):
            np.testing.assert_allclose(pa, pb, rtol=1e-10, atol=1e-13, err_msg=f"step {step}")


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_fixed_gradient_sequence_equals_torch(name, kwargs):
    """Random gradients of changing sign and size (AMSGrad's maximum and momentum really work)."""
    rng = np.random.default_rng(7)
    p0 = rng.normal(size=(5, 2))
    grads = rng.normal(size=(STEPS, 5, 2)) * rng.uniform(0.01, 3.0, size=(STEPS, 1, 1))
    p = tg.tensor(p0, dtype=np.float64, requires_grad=True)
    tp = torch.tensor(p0, requires_grad=True)
    opt = getattr(tg.optim, name)([p], **kwargs)
    topt = getattr(torch.optim, name)([tp], **kwargs)
    for g in grads:
        p.grad = tg.tensor(g, dtype=np.float64)
        tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adam"])
def test_every_option_changes_the_trajectory(name):
    """No option is silently ignored: each case differs from the simplest case of its optimiser."""
    cases = [kw for n, kw in CASES if n == name]
    finals = [trajectories(name, kw, steps=5)[0][-1][0] for kw in cases]
    for kw, final in zip(cases[1:], finals[1:]):
        assert np.abs(final - finals[0]).max() > 1e-6, kw


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_float32_stays_float32(name, kwargs):
    model, tmodel, (x, y) = make_problem(dtype=np.float32)
    kwargs = {k: np.float64(v) if isinstance(v, float) else v for k, v in kwargs.items()}
    opt = getattr(tg.optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(),
                                      **{k: v.item() if isinstance(v, np.float64) else v
                                         for k, v in kwargs.items()})
    for _ in range(5):
        step_both(model, tmodel, opt, topt, x, y)
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=2e-5, atol=1e-6)
    for state in opt.state.values():
        for key, value in state.items():
            assert not hasattr(value, "dtype") or value.dtype == np.float32, key


def test_parameters_without_grad_are_skipped():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    opt = tg.optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0, 4.0]
    assert b not in opt.state and a in opt.state
    assert a.tolist() != [1.0, 2.0]


def test_zero_grad_sets_none_or_zeros():
    model = tg.nn.Linear(2, 2)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    model(tg.ones(1, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_param_groups_and_lr_change_equal_torch():
    model, tmodel, (x, y) = make_problem()
    w, b = model.parameters()
    tw, tb = tmodel.parameters()
    opt = tg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": [tw]}, {"params": [tb], "lr": 0.5}], lr=0.1,
                           momentum=0.9)
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["momentum"] == 0.9
    for step in range(10):
        if step == 5:
            for o in (opt, topt):
                o.param_groups[0]["lr"] = 0.01
                o.param_groups[1]["lr"] = 0.0
        step_both(model, tmodel, opt, topt, x, y)
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(b.numpy(), tb.detach().numpy(), rtol=1e-10)
    before = b.numpy().copy()
    opt.zero_grad()
    tg_loss(model, x, y).backward()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)  # lr 0: frozen, momentum or not


def test_lr_change_takes_effect():
    w = tg.tensor([1.0], dtype=np.float64, requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    w.grad = tg.tensor([1.0], dtype=np.float64)
    opt.step()
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.5])


def test_state_dict_round_trip_continues_the_same_trajectory():
    model, _, (x, y) = make_problem()
    opt = tg.optim.Adam(model.parameters(), lr=0.05, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        tg_loss(model, x, y).backward()
        opt.step()
    saved_model, saved_opt = model.state_dict(), opt.state_dict()
    assert saved_opt["param_groups"][0]["params"] == [0, 1]
    assert saved_opt["state"][0]["step"] == 3
    assert isinstance(saved_opt["state"][0]["exp_avg"], np.ndarray)

    copy = tg.nn.Linear(4, 3, dtype=np.float64)
    copy.load_state_dict(saved_model)
    opt2 = tg.optim.Adam(copy.parameters(), lr=1.0)
    opt2.load_state_dict(saved_opt)
    assert opt2.param_groups[0]["lr"] == 0.05
    for m, o in ((model, opt), (copy, opt2)):
        for _ in range(3):
            o.zero_grad()
            tg_loss(m, x, y).backward()
            o.step()
    for p, q in zip(model.parameters(), copy.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    saved_opt["state"][0]["exp_avg"][...] = 123.0  # a copy: the optimiser is unaffected
    assert not (opt.state[model.weight]["exp_avg"] == 123.0).any()


def test_state_dict_of_a_float32_scalar_parameter():
    p = tg.tensor(2.0, requires_grad=True)
    opt = tg.optim.RMSprop([p], momentum=0.9)
    p.grad = tg.tensor(1.0)
    opt.step()
    q = tg.tensor(2.0, requires_grad=True)
    opt2 = tg.optim.RMSprop([q], momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    state = opt2.state[q]
    assert state["step"] == 1 and isinstance(state["step"], int)
    for key in ("square_avg", "momentum_buffer"):
        assert isinstance(state[key], np.ndarray) and state[key].shape == ()
        assert state[key].dtype == np.float32


def test_load_state_dict_rejects_other_shapes_of_groups():
    opt = tg.optim.SGD(tg.nn.Linear(2, 2).parameters(), lr=0.1)
    other = tg.optim.SGD([tg.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="saved groups hold"):
        opt.load_state_dict(other.state_dict())


def test_step_with_closure_returns_the_loss():
    model, _, (x, y) = make_problem()
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = tg_loss(model, x, y)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    assert opt.step(closure).item() < first


def test_bad_params_raise_clear_errors():
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        tg.optim.Adam(iter([]))
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        tg.optim.Adam([w, np.ones(2)])
    with pytest.raises(TypeError, match="not a single tensor"):
        tg.optim.Adam(w)
    with pytest.raises(TypeError, match="not a set"):
        tg.optim.Adam({w})
    with pytest.raises(TypeError, match="iterable of tensors"):
        tg.optim.Adam(3)
    with pytest.raises(ValueError, match="non-leaf"):
        tg.optim.Adam([w * 2])
    with pytest.raises(ValueError, match="more than once"):
        tg.optim.Adam([w, w])


@pytest.mark.parametrize(("name", "kwargs"), [
    ("SGD", {"lr": -1.0}), ("SGD", {"lr": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("RMSprop", {"alpha": -0.1}), ("Adagrad", {"lr_decay": -1.0}),
    ("Adam", {"betas": (0.9, 1.0)}), ("Adam", {"eps": -1.0}),
])
def test_bad_hyperparameters_raise(name, kwargs):
    with pytest.raises(ValueError):
        getattr(tg.optim, name)([tg.ones(2, requires_grad=True)], **kwargs)


def test_defaults_are_torchs():
    w = [tg.ones(1, requires_grad=True)]
    tw = [torch.ones(1, requires_grad=True)]
    for name in ("SGD", "RMSprop", "Adagrad", "Adam"):
        ours = getattr(tg.optim, name)(w).param_groups[0]
        theirs = getattr(torch.optim, name)(tw).param_groups[0]
        for key, value in ours.items():
            if key != "params":
                assert theirs[key] == value, (name, key)


def test_repr_lists_the_hyperparameters():
    text = repr(tg.optim.Adam([tg.ones(1, requires_grad=True)], lr=0.5))
    assert text.startswith("Adam (") and "lr: 0.5" in text and "Parameter Group 0" in text


@pytest.mark.parametrize(("name", "kwargs"), [CASES[5], CASES[9], CASES[13], CASES[18]],
                         ids=[IDS[5], IDS[9], IDS[13], IDS[18]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_device_matches_cpu(device, name, kwargs, dtype):
    """The same update on each device: state on the parameter's device, dtype kept."""
    rng = np.random.default_rng(3)
    p0, grads = rng.normal(size=(4, 3)), rng.normal(size=(6, 4, 3))
    results = []
    for dev in ("cpu", device):
        p = tg.tensor(p0, dtype=dtype, device=dev, requires_grad=True)
        opt = getattr(tg.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = tg.tensor(g, dtype=dtype, device=dev)
            opt.step()
        assert p.device == dev and p.dtype == dtype
        for value in opt.state[p].values():
            assert not hasattr(value, "shape") or (device_of(value) == dev
                                                  and value.dtype == dtype)
        results.append(p.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5 if dtype == np.float32 else 1e-12)
