"""``Optimizer``: what every optimiser shares, PyTorch's way.

An optimiser holds ``param_groups`` (a list of dicts: the parameters and their hyperparameters,
which may be changed between steps, e.g. ``opt.param_groups[0]["lr"] = 0.01``) and ``state``
(one dict per parameter: step count, moment buffers). ``step()`` walks every parameter that has a
gradient and hands it to the subclass's ``update``, which changes ``p.data`` in place with the
parameter's own array module (NumPy or CuPy) and keeps its dtype.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from .. import backend
from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``zero_grad``, state dicts.

    Args:
        params: an iterable of parameters (leaf tensors), or of dicts each holding ``"params"``
            and hyperparameters that override ``defaults`` for that group.
        defaults: the hyperparameters of a group that does not set them.

    Subclasses implement :meth:`update` (one parameter, one step) and may override
    :meth:`init_state`.
    """

    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(check_iterable(params, type(self).__name__))
        if not groups:
            raise ValueError(f"{type(self).__name__}(): got an empty parameter list; pass e.g. "
                             "model.parameters()")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters, its missing hyperparameters taken from ``defaults``."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}(): a parameter group must be a dict with a 'params' entry, "
                            f"got {type(group).__name__}")
        params = list(check_iterable(group["params"], name))
        if not params:
            raise ValueError(f"{name}(): a parameter group has an empty parameter list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}(): can only optimise tensors, but parameter {i} is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}(): can't optimise a non-leaf tensor (parameter {i} was "
                                 f"made by {type(p.op).__name__}); pass a Parameter or a leaf "
                                 "tensor with requires_grad=True")
            if id(p) in seen:
                raise ValueError(f"{name}(): parameter {i} appears more than once")
            seen.add(id(p))
        group = {**self.defaults, **group, "params": params}
        self.param_groups.append(group)

    # ---- the update ----------------------------------------------------------------------
    def init_state(self, p: Tensor, group: dict) -> dict:
        """The state of parameter ``p`` before its first update (default: a step count)."""
        return {"step": 0}

    def update(self, p: Tensor, g, state: dict, group: dict) -> None:  # pragma: no cover
        """Change ``p.data`` in place, given its gradient array ``g`` (abstract)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update()")

    def step(self, closure: Callable[[], Tensor] | None = None):
        """Update every parameter that has a gradient (those whose ``.grad`` is None are skipped).

        Args:
            closure: optional; recomputes the loss (with backward) and returns it, as in PyTorch.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.dtype != p.data.dtype:
                    g = g.astype(p.data.dtype)
                state = self.state[p]
                if not state:
                    state.update(self.init_state(p, group))
                self.update(p, g, state, group)
                p.version[0] += 1  # changed in place: graphs recorded before refuse backward
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None`` (or zero it in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    # ---- saving ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` as in PyTorch.

        Parameters are numbered in the order of the groups; arrays are host NumPy copies.
        """
        index = {id(p): i for i, p in enumerate(self.all_params())}
        state = {index[id(p)]: {k: backend.to_numpy(v).copy() if hasattr(v, "shape") else v
                                for k, v in s.items()}
                 for p, s in self.state.items() if s}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load hyperparameters and state saved by :meth:`state_dict` (arrays go to each
        parameter's device and dtype)."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in groups] != sizes:
            raise ValueError(f"{name}.load_state_dict(): the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimiser's "
                             f"hold {sizes}")
        by_index = {}
        for mine, saved in zip(self.param_groups, groups):
            mine.update({k: v for k, v in saved.items() if k != "params"})
            by_index.update(zip(saved["params"], mine["params"]))
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            if int(i) not in by_index:
                raise ValueError(f"{name}.load_state_dict(): state for unknown parameter {i}")
            p = by_index[int(i)]
            self.state[p] = {k: to_like(k, v, p) for k, v in s.items()}

    def all_params(self) -> list:
        return [p for g in self.param_groups for p in g["params"]]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def check_iterable(params, name: str) -> Iterable:
    """``params`` if it is an ordered iterable (a single tensor or a set is an error)."""
    if isinstance(params, Tensor):
        raise TypeError(f"{name}(): params must be an iterable of tensors (e.g. "
                        "model.parameters() or [w, b]), not a single tensor")
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{name}(): params must be an ordered iterable (a list), not a set: "
                        "a set's order changes between runs")
    try:
        return iter(params)
    except TypeError:
        raise TypeError(f"{name}(): params must be an iterable of tensors, not "
                        f"{type(params).__name__}") from None


def to_like(key: str, value, p: Tensor):
    """A saved state value for parameter ``p``: the step count as an int, arrays in ``p``'s dtype
    and on its device."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Tensor):
        value = value.numpy()
    array = np.asarray(backend.to_numpy(value))
    if key == "step":
        return int(array)
    return backend.to_device(array.astype(p.dtype, copy=True), p.device)
