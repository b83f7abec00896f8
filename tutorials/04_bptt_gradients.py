r"""
Lesson 4 — Backpropagation through time: vanishing and exploding gradients
==========================================================================

Unrolled over :math:`T` steps, an RNN is a :math:`T`-layer network whose layers share their
weights, and backpropagation through time (BPTT) is backpropagation through that unrolled
graph. For the tanh RNN :math:`h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)` the chain rule
gives, for a loss :math:`L` on the last step,

.. math::

    \frac{\partial L}{\partial h_k}
      = \frac{\partial L}{\partial h_T}
        \prod_{t=k+1}^{T} \frac{\partial h_t}{\partial h_{t-1}},
    \qquad
    \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - h_t^2)\, W_{hh}.

A product of :math:`T - k` matrices tends to shrink or grow geometrically in :math:`T - k`.
Since :math:`0 < 1 - h_t^2 \le 1`, every factor has norm at most :math:`\sigma_{\max}(W_{hh})`,
the largest singular value: below 1 the gradient *must* vanish; above 1 it *may* explode
(Bengio, Simard & Frasconi 1994; Pascanu, Mikolov & Bengio 2013). This lesson measures
:math:`\lVert \partial L/\partial h_t \rVert` at every step, checks it against the product of
Jacobians computed by hand, and tames an explosion by clipping the gradient norm.

**The numbers to check:** over 60 steps, the ratio
:math:`\lVert\partial L/\partial h_0\rVert / \lVert\partial L/\partial h_{59}\rVert` is
about :math:`10^{-21}` with the recurrent weights scaled to spectral radius 0.5, and about
:math:`10^{6}` with spectral radius 3. The product of Jacobians by hand matches autograd to
:math:`10^{-12}`. Clipping turns a training run that ends
in NaN into one whose loss falls below 1/6, the error of always answering 1.
"""

# %%
# Four RNNs, differing only in the size of :math:`W_{hh}`
# --------------------------------------------------------
# We take one random :math:`32 \times 32` matrix and rescale it to spectral radius
# :math:`\rho` (its largest eigenvalue modulus) of 0.5, 0.9, 1.5 and 3, and put it into
# otherwise identical tanh RNNs. Everything runs in float64 so that tiny gradients are measured
# exactly rather than lost to round-off.
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.data import adding_problem

T, H, I = 60, 32, 4
rng = np.random.default_rng(0)
base = rng.standard_normal((H, H))
base /= np.abs(np.linalg.eigvals(base)).max()  # spectral radius 1
x = tg.tensor(rng.standard_normal((T, 4, I)), dtype=tg.float64)  # (T, N, I)


def tanh_rnn(rho, inputs=I, dtype=tg.float64):
    tg.manual_seed(0)
    rnn = tg.nn.RNN(inputs, H, dtype=dtype)
    rnn.weight_hh_l0.data[...] = rho * base
    return rnn


radii = (0.5, 0.9, 1.5, 3.0)
print(f"{'rho':>4} {'spectral radius':>16} {'largest singular value':>23}")
for rho in radii:
    w = tanh_rnn(rho).weight_hh_l0.numpy()
    print(f"{rho:4} {np.abs(np.linalg.eigvals(w)).max():16.3f} "
          f"{np.linalg.svd(w, compute_uv=False)[0]:23.3f}")

# %%
# Measuring :math:`\lVert \partial L/\partial h_t \rVert`
# -------------------------------------------------------
# :func:`tinygrad_rnn.viz.gradient_flow` runs the layer on ``x``, takes as loss the sum of the
# last output, :math:`L = \sum h_T`, and returns :math:`\lVert \partial L / \partial h_t
# \rVert` for every step :math:`t`: it finds each :math:`h_t` in the recorded graph by its
# scope and asks ``tg.grad`` for all of them in one backward pass.
flows = np.concatenate([tg.viz.gradient_flow(tanh_rnn(rho), x) for rho in radii])
labels = [f"ρ = {rho}" for rho in radii]
flow_figure = tg.viz.plot_gradient_flow(flows, labels, title="tanh RNN, loss on step 59")
tg.viz.show(flow_figure)
for label, row in zip(labels, flows):
    print(f"{label:8}  at t = 59: {row[-1]:.2e}   at t = 0: {row[0]:.2e}   "
          f"ratio {row[0] / row[-1]:.1e}")

# %%
# With :math:`\rho = 0.5` the gradient loses a constant factor at every step back in time — a
# straight line on the log scale — and almost nothing of the error at step 59 reaches the early
# steps: the network cannot learn that an early input mattered. With :math:`\rho = 3` the
# gradient *grows* going back in time; the tanh saturates for some units (where
# :math:`1 - h_t^2 \approx 0`) but not enough to stop the growth.
slope = np.polyfit(np.arange(T), np.log(flows[0]), 1)[0]
print(f"rho = 0.5: the gradient shrinks by a factor {np.exp(-slope):.3f} per step back")
ratio = flows[:, 0] / flows[:, -1]
assert ratio[0] < 1e-15 and ratio[-1] > 1e5

# %%
# Why the bound is the singular value, not the spectral radius
# ------------------------------------------------------------
# The measured factor for :math:`\rho = 0.5` is a little below 0.5, and it is tempting to say
# that the tanh derivatives, all at most 1, can only shrink a product of :math:`W_{hh}`
# further than its spectral radius. That is false. The spectral radius says how fast the
# powers :math:`W^k` shrink in the long run, but the Jacobians are not powers of one matrix:
# each is :math:`D_t W` with a different diagonal :math:`D_t = \operatorname{diag}(1 - h_t^2)`,
# and for a *non-normal* :math:`W` (one whose eigenvectors are not orthogonal) a diagonal
# factor can move the eigenvalues up. Take
#
# .. math::
#
#     W = \begin{pmatrix} 1 & 1 \\ -1 & -1 \end{pmatrix}, \qquad
#     D = \begin{pmatrix} 1 & 0 \\ 0 & 0.5 \end{pmatrix}:
#
# :math:`W^2 = 0`, so :math:`\rho(W) = 0` and every product of two or more copies of
# :math:`W` vanishes, yet :math:`DW` has the eigenvalue 0.5, and :math:`(DW)^{10}` is not zero.
W2 = np.array([[1.0, 1.0], [-1.0, -1.0]])
D2 = np.diag([1.0, 0.5])
for name, m in (("W", W2), ("D W", D2 @ W2)):
    print(f"{name:4} spectral radius {np.abs(np.linalg.eigvals(m)).max():.3f}, largest singular "
          f"value {np.linalg.norm(m, 2):.3f}, "
          f"largest entry of its 10th power {np.abs(np.linalg.matrix_power(m, 10)).max():.1e}")
assert np.abs(np.linalg.eigvals(W2)).max() < 1e-12
assert np.isclose(np.abs(np.linalg.eigvals(D2 @ W2)).max(), 0.5)

# %%
# What does hold is the bound of the introduction, with the largest singular value (the
# matrix 2-norm): :math:`\lVert D_t W \rVert \le \lVert D_t \rVert \lVert W \rVert \le
# \sigma_{\max}(W)`, so a product of :math:`k` Jacobians has norm at most
# :math:`\sigma_{\max}(W)^k`. Here :math:`\sigma_{\max}(W) = 2` while :math:`DW` has 1.58: the
# diagonal factor did shrink the norm, though it raised the spectral radius. For our random
# :math:`32 \times 32` matrix the largest singular value is 1.68 times the spectral radius (the
# table above): with :math:`\rho = 0.5` it is 0.84, below 1, so the gradient must vanish at
# least as fast as :math:`0.84^k`. That it shrinks by a little less than 0.5 per step is what
# this :math:`W` and these inputs give, not a law.

# %%
# The product of Jacobians, by hand
# ---------------------------------
# The same numbers follow from the formula above with nothing but NumPy: start from
# :math:`\partial L/\partial h_{59}` (all ones) and multiply by the transposed Jacobians, going
# back one step at a time (row vectors, so that the batch stays in the rows):
# :math:`g_{t-1} = (g_t \odot (1 - h_t^2))\, W_{hh}`.
rnn = tanh_rnn(1.5)
h = rnn(x)[0].numpy()  # (T, N, H): every h_t of the sequence
W_hh = rnn.weight_hh_l0.numpy()
g = np.ones_like(h[-1])
by_hand = [np.linalg.norm(g)]
for t in range(T - 1, 0, -1):
    g = (g * (1 - h[t] ** 2)) @ W_hh
    by_hand.append(np.linalg.norm(g))
by_hand = np.array(by_hand[::-1])
autograd = flows[radii.index(1.5)]
error = np.abs(by_hand - autograd).max() / autograd.max()
print(f"rho = 1.5: largest relative difference, product of Jacobians vs autograd: {error:.1e}")
assert error < 1e-12

# %%
# The unrolled graph, coloured by the gradient
# --------------------------------------------
# The same numbers can be seen on the graph that BPTT walks. Inside
# :class:`tinygrad_rnn.viz.record_grads` the backward pass keeps the norm of every gradient;
# ``tg.viz.draw(..., grads=True)`` then writes :math:`\lVert\partial L/\partial\,\cdot\rVert`
# on each node and colours it on a log scale. At ``level="cell"`` each step is one node, and
# ``max_steps=8`` draws the first four and the last four steps of the 60, the middle folded
# into one node. For :math:`\rho = 0.5` the colour fades from the loss (right) back to the
# first steps (left); for :math:`\rho = 3` it grows.


def coloured_graph(rho):
    rnn = tanh_rnn(rho)
    out, _ = rnn(x)
    loss = out[-1].sum()
    with tg.viz.record_grads():
        loss.backward()
    return tg.viz.draw(loss, level="cell", grads=True, max_steps=8, module=rnn)


vanishing_graph = coloured_graph(0.5)
exploding_graph = coloured_graph(3.0)
tg.viz.show(vanishing_graph, exploding_graph)

# %%
# Gradient-norm clipping
# ----------------------
# An exploding gradient makes one step of gradient descent so large that it throws the
# parameters far away, often into a region where the activations saturate or overflow.
# Pascanu et al. (2013) rescale the gradient :math:`g` whenever its norm passes a threshold
# :math:`c`:
#
# .. math::
#
#     g \leftarrow \frac{c}{\lVert g \rVert}\, g \quad \text{if } \lVert g \rVert > c,
#
# which keeps the direction and bounds the step. We train the :math:`\rho = 3` RNN (float32
# now) on the adding problem (:func:`tinygrad_rnn.data.adding_problem`: add the two marked
# numbers of a sequence, here 10 steps long) with plain SGD, learning rate 0.05 and identical
# batches, once as it is and once with :func:`tinygrad_rnn.nn.utils.clip_grad_norm_` at
# :math:`c = 1`. That function returns the norm *before* clipping, which we record in both
# runs.


def train_adding(clip, steps=1500, lr=0.05):
    rnn, head = tanh_rnn(3.0, inputs=2, dtype=tg.float32), tg.nn.Linear(H, 1)
    params = [*rnn.parameters(), *head.parameters()]
    optimizer = tg.optim.SGD(params, lr=lr)
    losses, norms = [], []
    with np.errstate(all="ignore"):  # the unclipped run overflows on purpose
        for step in range(steps):
            xs, ys = adding_problem(32, 10, seed=step)
            out, _ = rnn(tg.tensor(xs))
            loss = tg.F.mse_loss(head(out[-1]).reshape(-1), tg.tensor(ys))
            optimizer.zero_grad()
            loss.backward()
            norms.append(tg.nn.utils.clip_grad_norm_(params, clip).item())
            optimizer.step()
            losses.append(loss.item())
    return np.array(losses), np.array(norms)


plain_loss, plain_norm = train_adding(clip=float("inf"))
clipped_loss, clipped_norm = train_adding(clip=1.0)

fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for name, losses, norms in (("no clipping", plain_loss, plain_norm),
                            ("clipped at 1", clipped_loss, clipped_norm)):
    ax_loss.semilogy(losses, label=name)
    ax_norm.semilogy(norms, label=name)
ax_loss.axhline(1 / 6, color="grey", linestyle=":", label="always answer 1")
ax_loss.set(xlabel="SGD step", ylabel="mean squared error", title="adding problem, ρ = 3",
            ylim=(0.03, 100))  # the unclipped loss leaves the plot on its way to overflow
ax_norm.set(xlabel="SGD step", ylabel="‖gradient‖ before clipping", title="gradient norm")
ax_loss.legend()
ax_norm.legend()
tg.viz.show(fig)

# %%
# The number to check
# -------------------
# Without clipping, the first large gradients throw the weights out; the loss overflows and
# becomes NaN. With clipping the same run stays finite — every step moves the parameters by at
# most :math:`\eta c = 0.05` — and trains: its loss over the last 50 steps is below the 1/6 of
# always answering 1, so it has learnt something of the sum. (Learning the adding problem over
# long sequences takes far more than that; lesson 5's LSTM is the classic answer.)
first_nan = int(np.argmax(~np.isfinite(plain_loss)))
print(f"no clipping: largest gradient norm {np.nanmax(plain_norm[np.isfinite(plain_norm)]):.1e}, "
      f"loss not finite from step {first_nan}")
print(f"clipped:     largest gradient norm {clipped_norm.max():.1e}, "
      f"mean loss over the last 50 steps {clipped_loss[-50:].mean():.3f}")
assert not np.isfinite(plain_loss[-1]) and np.isfinite(clipped_loss).all()
assert clipped_loss[-50:].mean() < 1 / 6

# %%
# Summary
# -------
# * Backpropagation through time multiplies one Jacobian :math:`\operatorname{diag}(1 -
#   h_t^2)\, W_{hh}` per step, so the gradient shrinks or grows geometrically with the distance
#   in time.
# * The guarantee is the largest singular value: below 1 the gradient must vanish. The spectral
#   radius describes the powers of one matrix, and a product of different diagonal factors and a
#   non-normal :math:`W` can shrink more slowly than it suggests.
# * An exploding gradient throws the weights away; clipping its norm at :math:`c` bounds every
#   step and keeps the training finite.
#
# Exercises
# ---------
# 1. Make :math:`W_{hh}` orthogonal (``np.linalg.qr`` of a random matrix): every singular value
#    is 1. Measure the gradient flow: how far back does the gradient reach now, and what
#    shrinks it?
# 2. Use ``nonlinearity="relu"`` with :math:`\rho = 0.9` and :math:`\rho = 1.5`. Compare the
#    gradient flow with the tanh RNN's. Why can a ReLU RNN's forward pass explode too?
# 3. Clip each gradient element to :math:`[-c, c]` instead of the norm. What happens to the
#    direction of the step?
