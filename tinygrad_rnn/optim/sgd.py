"""Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from collections.abc import Iterable

from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly as ``torch.optim.SGD``.

    With gradient :math:`g`, weight decay :math:`\lambda`, momentum :math:`\mu`, dampening
    :math:`\tau` and learning rate :math:`\eta`:

    .. math::
        g &\leftarrow g + \lambda\theta \\
        b &\leftarrow \mu b + (1-\tau) g \quad (b = g \text{ at the first step}) \\
        g &\leftarrow g + \mu b \text{ (Nesterov)} \quad\text{or}\quad g \leftarrow b \\
        \theta &\leftarrow \theta - \eta g

    Args:
        params: parameters (or parameter-group dicts) to optimise.
        lr: learning rate :math:`\eta`.
        momentum: momentum factor :math:`\mu` (0 turns momentum off).
        dampening: :math:`\tau`, scales down the gradient added to the momentum buffer.
        weight_decay: L2 penalty :math:`\lambda`.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    >>> import tinygrad_rnn as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.tolist()
    [0.800000011920929, 1.600000023841858]
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False):
        if lr < 0:
            raise ValueError(f"SGD(): invalid learning rate {lr}")
        if momentum < 0:
            raise ValueError(f"SGD(): invalid momentum {momentum}")
        if weight_decay < 0:
            raise ValueError(f"SGD(): invalid weight_decay {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD(): Nesterov momentum needs momentum > 0 and dampening == 0")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults)

    def init_state(self, p, group: dict) -> dict:
        return {"momentum_buffer": None}

    def update(self, p, g, state: dict, group: dict) -> None:
        lr, mu, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        if wd != 0:
            g = g + wd * p.data
        if mu != 0:
            tau, b = float(group["dampening"]), state["momentum_buffer"]
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= mu
                b += (1 - tau) * g
            g = g + mu * b if group["nesterov"] else b
        p.data -= lr * g
