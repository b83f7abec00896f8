"""``tg.gradcheck``: the analytic gradient against float64 central differences.

The outputs of ``fn`` are reduced to one scalar with a fixed random weight per element
(``L = sum_k sum(w_k * out_k)``), so one backward pass gives the analytic vector-Jacobian product,
which is compared element by element with ``(L(x + eps) - L(x - eps)) / (2 eps)``.
"""
from __future__ import annotations

import numpy as np

from .autograd import no_grad
from .backend import to_numpy
from .tensor import Tensor
from .tensor import grad as autograd_grad


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree (or the inputs cannot be checked)."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Check the gradients of ``fn(*inputs)`` with respect to every input that requires grad.

    Args:
        fn: a function of tensors returning a tensor or a tuple of tensors.
        inputs: a tensor or a sequence of tensors; those with ``requires_grad`` are checked and
            must be float64.
        eps: the central-difference step.
        atol, rtol: an element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        seed: seeds the random weights that reduce the outputs to a scalar.

    Returns:
        ``True``; otherwise raises :class:`GradcheckError` naming the worst input and index.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input has requires_grad=True")
    for k, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise GradcheckError(f"gradcheck: input {k} is {t.dtype}; central differences need "
                                 "float64 inputs")
    rng = np.random.default_rng(seed)
    weights = []

    def scalar(outputs):
        outs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        if not weights:
            for o in outs:
                weights.append(Tensor(o.xp.asarray(rng.standard_normal(o.shape))))
        total = None
        for o, w in zip(outs, weights):
            s = (o * w).sum()
            total = s if total is None else total + s
        return total

    loss = scalar(fn(*inputs))
    analytic = autograd_grad(loss, checked)
    worst = None
    for k, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        a = analytic[next(j for j, c in enumerate(checked) if c is t)]
        a = np.zeros(t.shape) if a is None else to_numpy(a.data)
        numeric = np.zeros(t.shape)
        flat = t.data.reshape(-1)  # a view: perturbing it perturbs the input
        with no_grad():
            for i in range(t.numel()):
                old = flat[i].item()
                flat[i] = old + eps
                plus = scalar(fn(*inputs)).item()
                flat[i] = old - eps
                minus = scalar(fn(*inputs)).item()
                flat[i] = old
                numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        excess = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and excess.max() > 0:
            i = np.unravel_index(int(np.argmax(excess)), t.shape)
            if worst is None or excess[i] > worst[0]:
                worst = (excess[i], k, i, a[i], numeric[i], t.shape)
    if worst is not None:
        _, k, i, av, nv, shape = worst
        raise GradcheckError(
            f"gradcheck failed: input {k} (shape {shape}) at index {tuple(int(j) for j in i)}: "
            f"analytic {av:.10g} vs numerical {nv:.10g} (atol={atol}, rtol={rtol})")
    return True
