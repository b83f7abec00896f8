"""Run one client's PyTorch code twice: with torch, and with tinygrad_rnn under torch's names.

A client is written once as a function of the namespaces ``torch``, ``nn`` and ``F``; the
two frameworks are two such triples (:data:`FRAMEWORKS`). :func:`train_beside` builds the
model in both, copies torch's initial weights into ours and runs the same training steps.

``DIFFERENCES`` lists, in one place, every line a client must write differently for
tinygrad_rnn: the clients look each up with :func:`differs` instead of hiding a change.
"""
from types import SimpleNamespace

import numpy as np
import torch as real_torch

import tinygrad_rnn as tg

real_torch.set_num_threads(1)  # tiny models: torch's thread pool only costs time here

TORCH = SimpleNamespace(torch=real_torch, nn=real_torch.nn, F=real_torch.nn.functional)
OURS = SimpleNamespace(torch=tg, nn=tg.nn, F=tg.nn.functional)
FRAMEWORKS = {"torch": TORCH, "tinygrad_rnn": OURS}


def sgd_step_on_data(torch, model, lr):
    """word_language_model's manual step: ``p.data`` is a torch tensor there."""
    for p in model.parameters():
        p.data.add_(p.grad, alpha=-lr)


def sgd_step_no_grad(torch, model, lr):
    """The same step where ``.data`` is the raw array: an in-place write under ``no_grad``."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-lr)


def sequence_mask_in_place(torch, X, valid_len, value=0):
    """d2l's ``_sequence_mask``: writes ``value`` into ``X`` past each row's valid length."""
    maxlen = X.size(1)
    mask = torch.arange(maxlen, dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def sequence_mask_out_of_place(torch, X, valid_len, value=0):
    """The same mask without writing into ``X`` (a non-leaf of the graph): ``masked_fill``."""
    maxlen = X.size(1)
    mask = torch.arange(maxlen, dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    return X.masked_fill(~mask, value)


def d2l_clip_gradients(torch, grad_clip_val, model):
    """d2l's ``clip_gradients`` (``grad_clipping`` in its older edition), as the book writes it:
    the gradients rescaled in place through ``param.grad[:] *=``."""
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > grad_clip_val:
        for param in params:
            param.grad[:] *= grad_clip_val / norm


#: Every line that clients write differently for tinygrad_rnn: name -> (torch's, ours).
DIFFERENCES = {
    # ``.data`` is the raw NumPy/CuPy array, not a tensor: update under no_grad instead
    "manual sgd step": (sgd_step_on_data, sgd_step_no_grad),
    # writing into a non-leaf of a recorded graph raises: masked_fill (or tg.where) instead
    "mask a non-leaf": (sequence_mask_in_place, sequence_mask_out_of_place),
}


def differs(torch, name):
    """The version of difference ``name`` for the framework whose namespace is ``torch``."""
    theirs, ours = DIFFERENCES[name]
    return ours if torch is tg else theirs


def copy_weights(theirs, ours) -> None:
    """Torch's state dict into our model, strictly; every name must match, in order (after
    the load: before its first call or load, a lazy module of ours has no state dict)."""
    tg.utils.from_torch(theirs, into=ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def train_beside(client, steps: int = 3, **kw):
    """``client(ns, **kw)`` returns ``(model, step)`` where ``step()`` trains once and returns
    the loss as a float (or a list of the losses of its updates); the model is built in both frameworks from the same weights, and the
    lists of losses over ``steps`` steps are returned (torch's, ours).

    ``client`` may also return ``(model, step, warm)``: ``warm()`` is run once on torch's model
    before the copy (so that lazy modules have their shapes).
    """
    real_torch.manual_seed(0)
    built = {}
    for name, ns in FRAMEWORKS.items():
        built[name] = client(ns, **kw)
        if len(built[name]) == 3 and name == "torch":
            built[name][2]()
    their_model, our_model = built["torch"][0], built["tinygrad_rnn"][0]
    copy_weights(their_model, our_model)
    losses = {name: [b[1]() for _ in range(steps)] for name, b in built.items()}
    for (n, a), (m, b) in zip(their_model.state_dict().items(), our_model.state_dict().items()):
        assert n == m
        np.testing.assert_allclose(tg.utils.from_torch(a), tg.utils.host_copy(b), rtol=1e-4,
                                   atol=1e-5, err_msg=n)
    return losses["torch"], losses["tinygrad_rnn"]


def assert_same_losses(theirs, ours, rtol=1e-6):
    assert len(theirs) == len(ours) > 0
    np.testing.assert_allclose(np.float32(ours), np.float32(theirs), rtol=rtol)
