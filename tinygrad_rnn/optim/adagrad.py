"""Adagrad (Duchi, Hazan & Singer 2011): per-coordinate steps shrinking with the summed squares."""
from __future__ import annotations

from collections.abc import Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Scale each coordinate's step by its accumulated squared gradients, as ``torch.optim.Adagrad``.

    At step :math:`t = 1, 2, \dots`, with learning-rate decay :math:`\delta`:

    .. math::
        g &\leftarrow g + \lambda\theta \\
        \tilde\eta &= \eta / (1 + (t-1)\delta) \\
        s &\leftarrow s + g^2 \\
        \theta &\leftarrow \theta - \tilde\eta\, g / (\sqrt{s} + \epsilon)

    :math:`s` starts at ``initial_accumulator_value``.

    Args:
        params: parameters (or parameter-group dicts) to optimise.
        lr: learning rate :math:`\eta`.
        lr_decay: :math:`\delta`.
        weight_decay: L2 penalty :math:`\lambda`.
        initial_accumulator_value: the starting value of :math:`s`.
        eps: :math:`\epsilon`, added to the denominator.
    """

    def __init__(self, params: Iterable, lr: float = 0.01, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10):
        for name, value in (("learning rate", lr), ("lr_decay", lr_decay), ("eps", eps),
                            ("weight_decay", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value)):
            if value < 0:
                raise ValueError(f"Adagrad(): invalid {name} {value}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "eps": eps}
        super().__init__(params, defaults)

    def init_state(self, p, group: dict) -> dict:
        xp = get_array_module(p.data)
        return {"step": 0,
                "sum": xp.full_like(p.data, float(group["initial_accumulator_value"]))}

    def update(self, p, g, state: dict, group: dict) -> None:
        xp = get_array_module(p.data)
        lr, lr_decay, wd, eps = (float(group[k]) for k in ("lr", "lr_decay", "weight_decay",
                                                           "eps"))
        state["step"] += 1
        if wd != 0:
            g = g + wd * p.data
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        s = state["sum"]
        s += g * g
        p.data -= clr * g / (xp.sqrt(s) + eps)
