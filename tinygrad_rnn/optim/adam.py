"""Adam (Kingma & Ba 2015) and its AMSGrad variant (Reddi, Kale & Kumar 2018)."""
from __future__ import annotations

import math
from collections.abc import Iterable

from ..backend import get_array_module
from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Bias-corrected running averages of the gradient and its square, as ``torch.optim.Adam``.

    At step :math:`t = 1, 2, \dots`:

    .. math::
        g &\leftarrow g + \lambda\theta \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g \\
        v &\leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat v &\leftarrow \max(\hat v, v) \text{ (amsgrad)} \quad\text{or}\quad \hat v = v \\
        \theta &\leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,
            \frac{m}{\sqrt{\hat v}/\sqrt{1-\beta_2^t} + \epsilon}

    :math:`m`, :math:`v` and :math:`\hat v` start at zero. Weight decay is the L2 penalty added to
    the gradient (``torch.optim.Adam``), not AdamW's decoupled decay.

    Args:
        params: parameters (or parameter-group dicts) to optimise.
        lr: learning rate :math:`\eta`.
        betas: :math:`(\beta_1, \beta_2)`, the smoothing constants of :math:`m` and :math:`v`.
        eps: :math:`\epsilon`, added to the denominator.
        weight_decay: L2 penalty :math:`\lambda`.
        amsgrad: divide by the largest :math:`v` so far.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adam(): lr, eps and weight_decay must be >= 0, got {lr}, {eps}, "
                             f"{weight_decay}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam(): betas must be in [0, 1), got {betas}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad}
        super().__init__(params, defaults)

    def init_state(self, p, group: dict) -> dict:
        xp = get_array_module(p.data)
        state = {"step": 0, "exp_avg": xp.zeros_like(p.data), "exp_avg_sq": xp.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        return state

    def update(self, p, g, state: dict, group: dict) -> None:
        xp = get_array_module(p.data)
        lr, eps, wd = (float(group[k]) for k in ("lr", "eps", "weight_decay"))
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            g = g + wd * p.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        d = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        p.data -= lr / (1 - beta1 ** t) * m / d
