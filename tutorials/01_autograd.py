r"""
Lesson 1 — Autograd from scratch
================================

A neural network is a long chain of small, differentiable steps, and training it needs the
derivative of one number, the loss, with respect to every weight. *Reverse-mode automatic
differentiation* gets all of those derivatives for about the price of one more pass through the
chain. This lesson takes one artificial neuron,

.. math::

    n = x_1 w_1 + x_2 w_2 + b, \qquad o = \tanh(n),

and finds :math:`\partial o / \partial w_1` and the other gradients three ways: by hand with the
chain rule, by ``backward()``, and by finite differences (``tg.gradcheck``).

**The number to check:** with :math:`x_1 = 2, w_1 = -3, x_2 = 0, w_2 = 1` and :math:`b` chosen
so that :math:`o = 1/\sqrt{2}`, the gradient :math:`\partial o/\partial w_1` is exactly
:math:`1.0` and :math:`\partial o/\partial x_1` is exactly :math:`-1.5`.
"""

# %%
# A forward pass records a graph
# ------------------------------
# Every :class:`~tinygrad_rnn.Tensor` made by an operation remembers the operation (``.op``) and
# its inputs (``.parents``). Leaves — tensors we create ourselves — have no op; the ones we want
# gradients for say ``requires_grad=True``. The bias is :math:`\operatorname{artanh}(1/\sqrt 2)
# + 6 \approx 6.8814`, so that :math:`n = \operatorname{artanh}(1/\sqrt 2)` and
# :math:`o = 1/\sqrt 2`. We work in float64 so that the finite differences below are accurate.
import math

import numpy as np

import tinygrad_rnn as tg


def leaf(value, name):
    return tg.tensor(value, dtype=tg.float64, requires_grad=True, name=name)


x1, x2 = leaf(2.0, "x1"), leaf(0.0, "x2")
w1, w2 = leaf(-3.0, "w1"), leaf(1.0, "w2")
b = leaf(math.atanh(1 / math.sqrt(2)) + 6.0, "b")

n = x1 * w1 + x2 * w2 + b
o = n.tanh()
print(f"n = {n.item():.6f}, o = {o.item():.6f}, 1/sqrt(2) = {1 / math.sqrt(2):.6f}")
print("o was made by", type(o.op).__name__, "from", [type(p.op).__name__ for p in o.parents])

# %%
# The graph, drawn
# ----------------
# :func:`tinygrad_rnn.viz.draw` walks back from ``o`` through ``.parents`` and draws every
# operation as a box and every leaf once: the ``inputs`` we name in a grey box, the weights in
# yellow; ``values=True`` writes each number. Reading it from left to right is the forward pass;
# backpropagation walks it from right to left.
graph = tg.viz.draw(o, inputs=[x1, x2], values=True)
tg.viz.show(graph)

# %%
# The order in which ``backward()`` visits the nodes is the reverse of a *topological order*:
# every node comes after all the nodes it was computed from, so by the time the gradient reaches
# a node, every path from the output to it has contributed.
order = tg.graph.trace(o).nodes
print(" -> ".join(t.name or type(t.op).__name__ for t in order))

# %%
# By hand: the chain rule
# -----------------------
# Going backwards from :math:`o`, each step multiplies by one *local* derivative:
#
# .. math::
#
#     \frac{\partial o}{\partial n} = 1 - \tanh^2 n = 1 - o^2 = \tfrac12, \qquad
#     \frac{\partial o}{\partial w_1} = \frac{\partial o}{\partial n}\,
#         \frac{\partial n}{\partial w_1} = \tfrac12 \, x_1, \qquad
#     \frac{\partial o}{\partial x_1} = \tfrac12 \, w_1,
#
# and likewise for :math:`x_2, w_2` and :math:`b` (whose local derivative is 1).
do_dn = 1 - o.item() ** 2
by_hand = {
    "x1": do_dn * w1.item(), "w1": do_dn * x1.item(),
    "x2": do_dn * w2.item(), "w2": do_dn * x2.item(),
    "b": do_dn,
}
print(f"do/dn = {do_dn:.6f}")

# %%
# By ``backward()``
# -----------------
# ``o.backward()`` does exactly the same computation, mechanically: each operation class knows
# its local derivative (``Tanh`` knows :math:`1 - y^2`, ``Mul`` knows that the gradient of
# :math:`a b` with respect to :math:`a` is :math:`b`), and the engine multiplies and adds them
# along the reversed graph. The gradients land in ``.grad`` of the leaves. (Inside
# ``tg.viz.record_grads()`` the engine also notes the size of every intermediate gradient, for
# the drawing further down.)
with tg.viz.record_grads():
    o.backward()
leaves = {"x1": x1, "w1": w1, "x2": x2, "w2": w2, "b": b}
print(f"{'':4} {'by hand':>10} {'backward':>10}")
for name, t in leaves.items():
    print(f"{name:4} {by_hand[name]:10.6f} {t.grad.item():10.6f}")
    assert abs(by_hand[name] - t.grad.item()) < 1e-12

# %%
# The drawing can carry the gradients too: ``values=True`` now writes each gradient with its
# sign (as micrograd draws it: :math:`-1.5` at ``x1``), and ``grads=True`` colours each node by
# the size :math:`\lVert\partial o/\partial\,\cdot\rVert`.
graph_with_grads = tg.viz.draw(o, inputs=[x1, x2], values=True, grads=True)
tg.viz.show(graph_with_grads)

# %%
# By finite differences
# ---------------------
# The slowest, surest check needs no derivative at all: nudge one input by :math:`\pm
# \varepsilon` and watch the output,
#
# .. math::
#
#     \frac{\partial o}{\partial w_1} \approx
#     \frac{o(w_1 + \varepsilon) - o(w_1 - \varepsilon)}{2 \varepsilon},
#
# with an error of order :math:`\varepsilon^2`.


def neuron(x1, w1, x2, w2, b):
    return (x1 * w1 + x2 * w2 + b).tanh()


eps = 1e-6
plus = neuron(x1, leaf(w1.item() + eps, "w1"), x2, w2, b).item()
minus = neuron(x1, leaf(w1.item() - eps, "w1"), x2, w2, b).item()
numeric = (plus - minus) / (2 * eps)
print(f"do/dw1: central difference {numeric:.9f}, backward {w1.grad.item():.9f}")

# %%
# :func:`tinygrad_rnn.gradcheck` does this for every element of every input, and raises an error
# naming the worst mismatch if analytic and numeric gradients disagree. The whole test suite
# checks every primitive operation this way.
inputs = [leaf(t.item(), name) for name, t in leaves.items()]
print("gradcheck:", tg.gradcheck(neuron, inputs))

# %%
# The number to check
# -------------------
# All three ways agree: :math:`\partial o/\partial w_1 = x_1 (1 - o^2) = 2 \cdot \tfrac12 = 1`
# and :math:`\partial o/\partial x_1 = w_1 (1 - o^2) = -1.5`.
print(f"do/dw1 = {w1.grad.item():.6f}   do/dx1 = {x1.grad.item():.6f}")
assert np.isclose(w1.grad.item(), 1.0) and np.isclose(x1.grad.item(), -1.5)

# %%
# Summary
# -------
# * A forward pass records a graph: every tensor made by an operation knows the operation and
#   its inputs.
# * ``backward()`` walks that graph in reverse topological order and applies the chain rule:
#   each operation multiplies the incoming gradient by its local derivative, and gradients
#   arriving along several paths are added. One backward pass gives the gradient with respect to
#   every input.
# * Central differences need no derivative at all and check the analytic gradients;
#   :func:`tinygrad_rnn.gradcheck` does it for every element of every input.
#
# Exercises
# ---------
# 1. Replace ``tanh`` by ``sigmoid``. Derive :math:`\partial o/\partial w_1` by hand (with
#    :math:`\sigma' = \sigma(1 - \sigma)`) and check it with ``backward()`` and ``tg.gradcheck``.
# 2. Use :math:`x_1` twice: :math:`o = \tanh(x_1 w_1 + x_1 w_2 + b)`. Predict
#    :math:`\partial o/\partial x_1` and check it. What would go wrong if the engine *stored*
#    each gradient in ``.grad`` instead of adding it?
# 3. Vary :math:`\varepsilon` of the central difference from :math:`10^{-1}` to
#    :math:`10^{-12}` and plot its error against ``backward()``. Why does the error first fall
#    like :math:`\varepsilon^2`, then rise again?
