"""``Module`` and ``Parameter``: PyTorch's way of holding weights and calling models.

Child modules and parameters are found from attributes, in the order they were set, and named
with PyTorch's dotted names (``encoder.weight_ih_l0``). Calling a module pushes its name onto
the graph scope, so every tensor it makes knows which module made it.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd import scope
from ..creation import NUMERIC_KINDS
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a module owns and an optimiser updates (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: ``forward`` does the work, ``__call__`` scopes it."""

    training = True
    scope_name: str | None = None

    def __setattr__(self, name, value):
        if isinstance(value, Parameter) and value.name is None:
            value.name = name  # drawings label a parameter with its attribute name
        if isinstance(value, Module) and value.scope_name is None:
            object.__setattr__(value, "scope_name", name)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Module) and item.scope_name is None:
                    object.__setattr__(item, "scope_name", f"{name}{i}")
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        with scope(self.scope_name or type(self).__name__.lower()):
            return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # ---- traversal ---------------------------------------------------------------------
    def named_children(self):
        """``(name, module)`` for each direct child, lists of modules as ``name.i``."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_modules(self, prefix: str = ""):
        """This module and every descendant, with dotted names (this one is ``prefix``)."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_parameters(self, prefix: str = ""):
        """``(dotted name, parameter)`` pairs, each parameter once, in definition order."""
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    # ---- state -------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Name -> host NumPy array (a copy) of every parameter."""
        return OrderedDict((n, p.numpy().copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy arrays into the existing parameters, in their dtype and on their device.

        Every entry is checked before any is copied: ``KeyError`` for missing or unexpected names
        (with ``strict``), ``TypeError`` for a value that is not an array of the parameter's kind
        (floats for a float parameter: not strings, objects, integers or booleans) and
        ``ValueError`` for a shape mismatch, each naming the entry.
        """
        where = f"load_state_dict() for {type(self).__name__}"
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state_dict]
        unexpected = [n for n in state_dict if n not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected}")
        values = {name: checked_value(where, name, state_dict[name], p)
                  for name, p in params.items() if name in state_dict}
        for name, value in values.items():
            p = params[name]
            p.data[...] = backend.to_device(value.astype(p.dtype, copy=False), p.device)
            p.version[0] += 1

    def to(self, device: str | None = None, dtype=None) -> Module:
        """Move and/or convert every parameter in place (the same Parameter objects)."""
        for p in self.parameters():
            data = p.data
            if dtype is not None:
                data = data.astype(dtype, copy=False)
            if device is not None:
                data = backend.to_device(data, device)
            p.data = data
            if p.grad is not None:
                p.grad = Tensor(backend.to_device(p.grad.data.astype(data.dtype, copy=False),
                                                  backend.device_of(data)))
        return self

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient."""
        for p in self.parameters():
            p.grad = None

    def __repr__(self) -> str:
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"  ({n}): " + repr(c).replace("\n", "\n  ") for n, c in children]
        return f"{type(self).__name__}({extra}\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


def checked_value(where: str, name: str, value, p: Parameter) -> np.ndarray:
    """``value`` as a host array if its kind of number and its shape fit parameter ``p``."""
    try:
        value = value.numpy() if isinstance(value, Tensor) else backend.to_numpy(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: {name} is not an array ({type(value).__name__}): {e}") from e
    kinds = {"f": "f", "c": "fc"}.get(p.dtype.kind, NUMERIC_KINDS)
    wrong_kind, wrong_shape = value.dtype.kind not in kinds, value.shape != p.shape
    if wrong_kind or wrong_shape:
        error = TypeError if wrong_kind else ValueError
        raise error(f"{where}: {name} has shape {value.shape} and dtype {value.dtype} in the "
                    f"state dict but shape {p.shape} and dtype {p.dtype} in the model")
    return value
