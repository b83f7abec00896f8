"""Gradient clipping (``tg.nn.utils``), as ``torch.nn.utils``.

Recurrent networks trained by backpropagation through time now and then meet a gradient that
explodes; Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent neural
networks", rescale the gradient when its norm passes a threshold. Both functions change each
parameter's ``.grad`` in place and skip parameters whose ``.grad`` is None.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from .. import backend
from ..tensor import Tensor


def grads_of(parameters: Tensor | Iterable[Tensor]) -> list:
    """The gradient arrays of ``parameters`` (a tensor or an iterable), skipping missing ones."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    r"""Rescale the gradients so that their joint norm is at most ``max_norm`` (Pascanu et al.).

    The norm is taken over all gradients together, as if concatenated into one vector:
    :math:`n = \lVert (\lVert g_1\rVert_p, \lVert g_2\rVert_p, \dots) \rVert_p`, and every
    gradient is multiplied by :math:`\min(c, 1)` with :math:`c = \text{max\_norm} / (n + 10^{-6})`
    (``torch.nn.utils.clip_grad_norm_``), on the gradients' device: no transfer to the host.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        max_norm: the largest allowed norm.
        norm_type: :math:`p` (``2.0``, ``1.0``, ``float("inf")`` for the largest absolute value,
            or any positive number).
        error_if_nonfinite: raise ``RuntimeError`` when the norm is nan or inf.

    Returns:
        The total norm before clipping, a 0-d tensor (``0.0`` when no parameter has a gradient).

    >>> import tinygrad_rnn as tg
    >>> w = tg.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()            # grad = (6, 8), norm 10
    >>> tg.nn.utils.clip_grad_norm_([w], max_norm=5.0).item()
    10.0
    >>> [round(v, 4) for v in w.grad.tolist()]
    [3.0, 4.0]
    """
    grads = grads_of(parameters)
    if not grads:
        return Tensor(backend.xp_for("cpu").asarray(0.0, dtype="float32"))
    xp = backend.get_array_module(grads[0])
    device = backend.device_of(grads[0])
    p = float(norm_type)
    norms = [backend.to_device(vector_norm(g, p), device) for g in grads]
    total = vector_norm(xp.stack(norms), p)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_(): the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped")
    # min(c, 1) on the device, as torch: deciding "c < 1" on the host would stall every step on
    # the GPU (a sync). c is computed in float64 and rounded to each gradient's dtype, as when
    # it was a Python float. A NaN norm makes every gradient NaN, as torch (minimum keeps NaN).
    coef = xp.minimum(float(max_norm) / (total.astype("float64") + 1e-6), 1.0)
    for g in grads:
        g *= coef.astype(g.dtype)
    return Tensor(total)


def vector_norm(a, p: float):
    """The ``p``-norm of array ``a`` taken as one vector, a 0-d array (0 for an empty array)."""
    xp = backend.get_array_module(a)
    if a.size == 0:
        return xp.zeros((), dtype=a.dtype)
    a = a.ravel()
    if math.isinf(p):
        return xp.asarray(xp.abs(a).max() if p > 0 else xp.abs(a).min())
    return xp.asarray(xp.linalg.norm(a, ord=p))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place.

    The simpler of the two remedies for exploding gradients discussed by Pascanu, Mikolov &
    Bengio (2013), "On the difficulty of training recurrent neural networks"; unlike
    :func:`clip_grad_norm_` it can change the gradient's direction.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        clip_value: the largest allowed absolute value of a gradient element.

    >>> import tinygrad_rnn as tg
    >>> w = tg.tensor([3.0, -0.2], requires_grad=True)
    >>> (w * w).sum().backward()            # grad = (6, -0.4)
    >>> tg.nn.utils.clip_grad_value_([w], 1.0)
    >>> [round(v, 4) for v in w.grad.tolist()]
    [1.0, -0.4]
    """
    c = float(clip_value)
    for g in grads_of(parameters):
        xp = backend.get_array_module(g)
        xp.clip(g, -c, c, out=g)
