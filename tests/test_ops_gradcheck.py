"""Every primitive op's gradient against float64 central differences, on every device."""
import numpy as np
import pytest
from gradcheck_cases import CASES

import tinygrad_rnn as tg
from tinygrad_rnn import fused, ops


def all_op_classes():
    """Every concrete subclass of ``ops.Op`` defined in the package."""
    found, todo = set(), [ops.Op]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("tinygrad_rnn.") and sub.forward is not ops.Op.forward:
                found.add(sub)
    return found


def graph_ops(root):
    """Names of the op classes in the graph that produced ``root``."""
    names, seen, stack = set(), set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.op is not None:
            names.add(type(t.op).__name__)
        stack.extend(t.parents)
    return names


def test_every_primitive_has_a_gradcheck_case():
    covered = {case.op for case in CASES}
    missing = sorted(cls.__name__ for cls in all_op_classes() if cls.__name__ not in covered)
    assert not missing, f"primitives without a gradcheck case in gradcheck_cases.py: {missing}"


def test_primitives_list_is_complete():
    # ops.PRIMITIVES holds the primitives only; the fused operations are listed in fused.FUSED
    assert {cls.__name__ for cls in all_op_classes()} == \
        {c.__name__ for c in ops.PRIMITIVES + fused.FUSED}
    assert all(c.__module__.startswith("tinygrad_rnn.ops.") for c in ops.PRIMITIVES)
    assert all(c.__module__.startswith("tinygrad_rnn.fused.") for c in fused.FUSED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradcheck(case, device, rng):
    if case.needs_cuda and device != "cuda":
        pytest.skip("this case moves data between devices")
    inputs = [tg.tensor(a, dtype=np.float64, device=device if not case.needs_cuda else "cpu",
                        requires_grad=True) for a in case.inputs(rng)]
    out = case.fn(*inputs)
    assert case.op in graph_ops(out), f"{case.id}: the graph does not contain {case.op}"
    assert tg.gradcheck(case.fn, inputs, **case.kw)


@pytest.mark.parametrize("case", [c for c in CASES if not c.needs_cuda], ids=lambda c: c.id)
def test_float32_keeps_dtype_and_matches_float64(case, device, rng):
    arrays = case.inputs(rng)
    out64 = case.fn(*[tg.tensor(a, dtype=np.float64, device=device) for a in arrays])
    xs = [tg.tensor(a, dtype=np.float32, device=device, requires_grad=True) for a in arrays]
    out32 = case.fn(*xs)
    if case.op != "Cast":
        assert out32.dtype == np.float32, f"{case.id}: float32 inputs gave {out32.dtype}"
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-5, atol=1e-5)
    (out32 * 1.0).sum().backward()
    for x in xs:
        assert x.grad is None or x.grad.dtype == np.float32
