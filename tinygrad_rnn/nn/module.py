"""``Module`` and ``Parameter``: PyTorch's way of holding weights and calling models.

Child modules and parameters are found from attributes, in the order they were set, and named
with PyTorch's dotted names (``encoder.weight_ih_l0``). Calling a module pushes its name onto
the graph scope, so every tensor it makes knows which module made it.

As in PyTorch, a parameter that two modules share (tied weights, ``decoder.weight =
encoder.weight``) is one parameter: ``parameters()`` and ``named_parameters()`` give it once
(under its first name), while ``state_dict()`` stores it under every name it has.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from .. import backend
from ..autograd import scope
from ..creation import NUMERIC_KINDS
from ..tensor import Tensor
from .parameter import Parameter, UninitializedParameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as PyTorch: the names it did not find or did not use."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of every layer and model: ``forward`` does the work, ``__call__`` scopes it.

    Subclasses may call ``super().__init__()`` as in PyTorch, or not: nothing needs setting up.
    """

    training = True
    scope_name: str | None = None

    def __init__(self) -> None:
        pass

    def __setattr__(self, name, value):
        if isinstance(value, Parameter) and value.name is None:
            value.name = name  # drawings label a parameter with its attribute name
        if isinstance(value, Module) and value.scope_name is None:
            object.__setattr__(value, "scope_name", name)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Module) and item.scope_name is None:
                    object.__setattr__(item, "scope_name", f"{name}{i}")
        if name in self.buffer_names() and not (value is None or isinstance(value, Tensor)):
            raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} of "
                            f"{type(self).__name__} (a Tensor or None expected)")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self.buffer_names().pop(name, None)
        object.__delattr__(self, name)

    def __call__(self, *args, **kwargs):
        with scope(self.scope_name or type(self).__name__.lower()):
            return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # ---- registering -----------------------------------------------------------------------
    def buffer_names(self) -> dict:
        """``name -> persistent`` of the buffers registered by :meth:`register_buffer`."""
        return vars(self).get("buffers_registered", {})

    def check_entry(self, fn: str, name, value, kind: type) -> None:
        """PyTorch's checks of a name to register and of its value (``kind`` or ``None``)."""
        if not isinstance(name, str):
            raise TypeError(f"{fn}(): the name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{fn}(): the name can't be empty or contain '.', got {name!r}")
        if not (value is None or isinstance(value, kind)):
            raise TypeError(f"{fn}(): {name!r} must be a {kind.__name__} or None, not "
                            f"{type(value).__name__}")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as attribute ``name``: saved in ``state_dict`` (if ``persistent``)
        and moved by ``to()``, but not a parameter (no gradient, no optimiser step)."""
        self.check_entry("register_buffer", name, tensor, Tensor)
        if isinstance(vars(self).get(name), (Parameter, Module)):
            raise KeyError(f"attribute {name!r} already exists")
        vars(self).setdefault("buffers_registered", {})[name] = bool(persistent)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Set parameter ``name`` (``None`` leaves the slot empty, as ``bias=False``)."""
        self.check_entry("register_parameter", name, param, Parameter)
        setattr(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Set child module ``name`` (as ``setattr``, with PyTorch's checks of the name)."""
        self.check_entry("add_module", name, module, Module)
        setattr(self, name, module)

    register_module = add_module

    # ---- traversal -------------------------------------------------------------------------
    def child_items(self) -> list[tuple[str, Module]]:
        """Every ``(name, module)`` child, lists of modules as ``name.i``, a shared one at each
        of its names (containers override this)."""
        items = []
        for name, value in vars(self).items():
            if isinstance(value, Module):
                items.append((name, value))
            elif isinstance(value, (list, tuple)):
                items += [(f"{name}.{i}", v) for i, v in enumerate(value) if isinstance(v, Module)]
        return items

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child, each module once."""
        seen = set()
        for name, child in self.child_items():
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, with dotted names (this one is ``prefix``); a
        module met twice is given once unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def own_parameters(self) -> list[tuple[str, Parameter]]:
        return [(n, v) for n, v in vars(self).items() if isinstance(v, Parameter)]

    @property
    def _parameters(self) -> MappingProxyType:
        """This module's own parameters by name, under torch's private name; read-only (a new
        parameter is set as an attribute or with ``register_parameter``)."""
        return MappingProxyType(dict(self.own_parameters()))

    def own_buffers(self, persistent_only: bool = False) -> list[tuple[str, Tensor]]:
        return [(n, getattr(self, n)) for n, keep in self.buffer_names().items()
                if getattr(self, n) is not None and (keep or not persistent_only)]

    def named_members(self, own, prefix: str, recurse: bool, remove_duplicate: bool):
        """``(dotted name, tensor)`` of what ``own(module)`` lists, for this module or all."""
        seen = set()
        found = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_name, module in found:
            for name, value in own(module):
                if remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, each parameter once, in definition order."""
        return self.named_members(Module.own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, an iterator (``list(model.parameters())`` for a list)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self.named_members(Module.own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """Call ``fn`` on every child (recursively), then on this module; return this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- state -------------------------------------------------------------------------
    def state_tensors(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """What ``state_dict`` holds, as tensors: each module's parameters, then its persistent
        buffers, then its children's; a shared tensor under every name it has (as PyTorch)."""
        for name, t in self.own_parameters() + self.own_buffers(persistent_only=True):
            yield prefix + name, t
        for name, child in self.child_items():
            yield from child.state_tensors(f"{prefix}{name}.")

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """Name -> host NumPy array (a copy) of every parameter and persistent buffer.

        ``keep_vars=True`` gives the tensors themselves instead of copies.
        """
        out = OrderedDict() if destination is None else destination
        for name, t in self.state_tensors(prefix):
            out[name] = t if keep_vars else t.numpy().copy()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the existing parameters and buffers, in their dtype and device.

        Every entry is checked before any is copied: ``KeyError`` for missing or unexpected names
        (with ``strict``), ``TypeError`` for a value that is not an array of the parameter's kind
        (floats for a float parameter: not strings, objects, integers or booleans) and
        ``ValueError`` for a shape mismatch, each naming the entry. Returns the missing and
        unexpected names (``strict=False`` lets them pass).
        """
        where = f"load_state_dict() for {type(self).__name__}"
        params = dict(self.state_tensors())
        missing = [n for n in params if n not in state_dict]
        unexpected = [n for n in state_dict if n not in params]
        if strict and (missing or unexpected):
            raise KeyError(f"{where}: missing keys {missing}, unexpected keys {unexpected}")
        values = {name: checked_value(where, name, state_dict[name], p)
                  for name, p in params.items() if name in state_dict}
        for name, value in values.items():
            p = params[name]
            if isinstance(p, UninitializedParameter):  # a lazy module takes the shapes given
                p.materialize(value.shape)
            p.data[...] = backend.to_device(value.astype(p.dtype, copy=False), p.device)
            p.version[0] += 1
        return IncompatibleKeys(missing, unexpected)

    def to(self, device: str | None = None, dtype=None) -> Module:
        """Move and/or convert every parameter and buffer in place (the same tensor objects);
        ``dtype`` changes only floating-point ones (a buffer of counts stays integer).

        As torch: ``to("cuda")``, ``to(tg.float64)`` (a dtype given first is a dtype),
        ``to("cpu", tg.float64)`` and ``to(tensor)`` (that tensor's device and dtype).
        """
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype
        elif device is not None and not isinstance(device, str):  # to(dtype)
            device, dtype = None, device
        if dtype is not None and np.dtype(dtype).kind not in "fc":
            raise TypeError(f"{type(self).__name__}.to(): dtype must be a floating-point one, "
                            f"got {np.dtype(dtype)}")
        for t in [*self.parameters(), *self.buffers()]:
            data = t.data
            if dtype is not None and data.dtype.kind in "fc":
                data = data.astype(dtype, copy=False)
            if device is not None:
                data = backend.to_device(data, device)
            t.data = data
            if t.grad is not None:
                t.grad = Tensor(backend.to_device(t.grad.data.astype(data.dtype, copy=False),
                                                  backend.device_of(data)))
        return self

    def float(self) -> Module:
        """Every floating-point parameter and buffer as float32 (``to(tg.float32)``)."""
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        """Every floating-point parameter and buffer as float64 (``to(tg.float64)``)."""
        return self.to(dtype=np.float64)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``Dropout`` drops) on this module and every descendant."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, got {mode!r}")  # noqa: TRY004 (torch)
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (``False`` freezes them)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (or zero it in place with ``set_to_none=False``)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def __repr__(self) -> str:
        """PyTorch's tree: ``Name(extra)``, or one line per child, indented."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({n}): " + repr(c).replace("\n", "\n  ") for n, c in
                    self.child_items()]
        if len(extra) == 1 and not children:
            return f"{type(self).__name__}({extra[0]})"
        lines = extra + children
        inside = "\n  " + "\n  ".join(lines) + "\n" if lines else ""
        return f"{type(self).__name__}({inside})"

    def extra_repr(self) -> str:
        return ""


def checked_value(where: str, name: str, value, p: Tensor) -> np.ndarray:
    """``value`` as a host array if its kind of number and its shape fit tensor ``p``."""
    try:
        value = value.numpy() if isinstance(value, Tensor) else backend.to_numpy(value)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"{where}: {name} is not an array ({type(value).__name__}): {e}") from e
    kinds = {"f": "f", "c": "fc"}.get(p.dtype.kind, NUMERIC_KINDS)
    wrong_kind = value.dtype.kind not in kinds
    wrong_shape = value.shape != p.shape and not isinstance(p, UninitializedParameter)
    if wrong_kind or wrong_shape:
        error = TypeError if wrong_kind else ValueError
        raise error(f"{where}: {name} has shape {value.shape} and dtype {value.dtype} in the "
                    f"state dict but shape {p.shape} and dtype {p.dtype} in the model")
    return value
