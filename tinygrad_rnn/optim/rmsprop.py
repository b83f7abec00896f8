"""RMSprop (Hinton's lecture 6e), with PyTorch's momentum and centred variants."""
from __future__ import annotations

from collections.abc import Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""Divide the gradient by a running root-mean-square of its history, as ``torch.optim.RMSprop``.

    With smoothing :math:`\alpha`, momentum :math:`\mu` and learning rate :math:`\eta`:

    .. math::
        g &\leftarrow g + \lambda\theta \\
        v &\leftarrow \alpha v + (1-\alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1-\alpha) g, \quad
            d = \sqrt{v - \bar g^2} + \epsilon \text{ (centered)} \quad\text{or}\quad
            d = \sqrt{v} + \epsilon \\
        b &\leftarrow \mu b + g / d, \quad \theta \leftarrow \theta - \eta b
            \quad\text{(or } \theta \leftarrow \theta - \eta\, g / d \text{ when } \mu = 0)

    :math:`v`, :math:`\bar g` and :math:`b` start at zero.

    Args:
        params: parameters (or parameter-group dicts) to optimise.
        lr: learning rate :math:`\eta`.
        alpha: smoothing constant :math:`\alpha` of the running averages.
        eps: :math:`\epsilon`, added to the denominator.
        weight_decay: L2 penalty :math:`\lambda`.
        momentum: momentum factor :math:`\mu`.
        centered: divide by an estimate of the gradient's variance instead of its second moment.
    """

    def __init__(self, params: Iterable, lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False):
        for name, value in (("learning rate", lr), ("eps", eps), ("momentum", momentum),
                            ("weight_decay", weight_decay), ("alpha", alpha)):
            if value < 0:
                raise ValueError(f"RMSprop(): invalid {name} {value}")
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered}
        super().__init__(params, defaults)

    def init_state(self, p, group: dict) -> dict:
        xp = get_array_module(p.data)
        state = {"step": 0, "square_avg": xp.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(p.data)
        return state

    def update(self, p, g, state: dict, group: dict) -> None:
        xp = get_array_module(p.data)
        lr, alpha, eps, wd, mu = (float(group[k]) for k in ("lr", "alpha", "eps",
                                                            "weight_decay", "momentum"))
        state["step"] += 1
        if wd != 0:
            g = g + wd * p.data
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg *= alpha
            g_avg += (1 - alpha) * g
            d = xp.sqrt(v - g_avg * g_avg) + eps
        else:
            d = xp.sqrt(v) + eps
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            b += g / d
            p.data -= lr * b
        else:
            p.data -= lr * g / d
