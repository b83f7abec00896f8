r"""
Lesson 7 — Why RNNs are hard to train: the rough error surface, clipping, Nesterov momentum and RMSProp
=======================================================================================================

Lesson 4 measured gradients that vanish or explode through time. This lesson looks at what that
does to *training*: the same weight is used at every step, so the output is a high power of it,
and the error surface of an RNN is "either very flat or very steep" — plateaus cut by walls. A
gradient step that lands on a wall is thrown far away. We draw such a wall for the one-unit RNN
of Pascanu, Mikolov & Bengio (2013), run four optimisers into it — plain SGD, SGD with the
gradient norm clipped, SGD with Nesterov momentum and RMSProp — and finish by checking the
bound behind lesson 4's pictures,

.. math::

    \lVert \delta_k \rVert \le \lVert \delta_T \rVert\, (\beta_W \beta_f)^{T-k},
    \qquad \delta_k = \frac{\partial L}{\partial h_k},

where :math:`\beta_W` is the largest singular value of :math:`W_{hh}` and :math:`\beta_f` the
largest slope of the squashing function.

**The numbers to check:** for :math:`y = w^{999}`, :math:`y(1.01) = 20{,}751.6` and
:math:`y(0.99) = 4.36 \cdot 10^{-5}`, and autograd's :math:`dy/dw` at :math:`w = 1` is 999 to
:math:`10^{-12}` through a 1,000-step graph. On the wall of Pascanu et al.'s one-unit RNN,
plain SGD crosses at step 39 and is thrown to :math:`\lVert(w, b)\rVert > 100` (it never comes
back); the same SGD with the gradient norm clipped at 1 reaches the valley (loss below 0.01) at
step 94, Nesterov momentum at step 89 and RMSProp at step 21. The measured
:math:`\lVert\partial L/\partial h_t\rVert` never exceeds the bound.
"""

# %%
# The toy of the lecture: :math:`y = w^{999}`
# -------------------------------------------
# A linear RNN with one unit and no squashing, :math:`h_t = w\, h_{t-1} + x_t`, is fed a 1 and
# then 999 zeros. Its output after 1,000 steps is :math:`y = h_{1000} = w^{999}`. Every step
# multiplies by the *same* :math:`w`, so a small change of :math:`w` changes :math:`y` a lot:
#
# .. math::
#
#     y(1) = 1, \qquad y(1.01) = 1.01^{999} \approx 20{,}752, \qquad
#     y(0.99) = 0.99^{999} \approx 4 \cdot 10^{-5}, \qquad
#     \frac{dy}{dw} = 999\, w^{998}.
#
# We write the RNN with the package: :func:`tinygrad_rnn.nn.unroll` runs a step function over
# the inputs and records each step under its own scope, so the graph can be drawn step by step.
# Four steps, drawn (the same :math:`w` feeds every step):
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg

# sphinx_gallery_thumbnail_number = 3


def linear_rnn(w, steps):
    """h_t = w * h_{t-1} + x_t, fed 1 then zeros; returns h after ``steps`` steps."""
    xs = [tg.tensor(1.0 if t == 0 else 0.0, dtype=tg.float64) for t in range(steps)]
    _, h = tg.nn.unroll(lambda x_t, h: w * h + x_t, xs, tg.tensor(0.0, dtype=tg.float64))
    return h


w = tg.tensor(1.0, dtype=tg.float64, requires_grad=True, name="w")
toy_graph = tg.viz.draw(linear_rnn(w, 4))
tg.viz.show(toy_graph)

# %%
# The same function with 1,000 steps. Its value at three points, and its derivative at
# :math:`w = 1` through the 1,000-step graph (about 2,000 recorded operations):
for value in (0.99, 1.0, 1.01):
    print(f"y({value}) = {linear_rnn(tg.tensor(value, dtype=tg.float64), 1000).item():.6g}")
y = linear_rnn(w, 1000)
y.backward()
print(f"dy/dw at w = 1: {w.grad.item():.15g} (999 w^998 = 999)")

# %%
# Around :math:`w = 1` the surface is flat on one side and a wall on the other: between 0.99
# and 1.01 the output rises from :math:`4 \cdot 10^{-5}` to 20,752 and the slope from 0.04
# to twenty million. A learning rate that is right for one side is far too large (or far too small)
# for the other. That is the lecture's "the error surface is either very flat or very steep".
ws = np.linspace(0.99, 1.01, 401)
fig, (ax_y, ax_dy) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax_y.plot(ws, ws ** 999)
ax_y.set(xlabel="w", ylabel="y = w^999", title="the output: flat, then a wall")
ax_dy.semilogy(ws, 999 * ws ** 998)
ax_dy.set(xlabel="w", ylabel="dy/dw = 999 w^998", title="its slope spans nine decades")
for ax in (ax_y, ax_dy):
    ax.axvline(1.0, color="grey", linestyle=":")
    ax.set_xticks([0.99, 0.995, 1.0, 1.005, 1.01])
    ax.grid(alpha=0.3)
tg.viz.show(fig)

# %%
# A wall in a real RNN: Pascanu, Mikolov & Bengio (2013)
# ------------------------------------------------------
# Section 3 of "On the difficulty of training recurrent neural networks" takes one sigmoid
# unit without input,
#
# .. math::
#
#     x_t = w\, \sigma(x_{t-1}) + b, \qquad x_0 = 0.5, \qquad
#     L(w, b) = \big(\sigma(x_{50}) - 0.7\big)^2,
#
# trained to reach the target 0.7 after 50 steps. For :math:`w` above about 4 the map
# :math:`x \mapsto w\sigma(x) + b` has two stable fixed points, one near :math:`b` and one near
# :math:`w + b`; which one :math:`x_{50}` ends at jumps when :math:`(w, b)` crosses a line
# (a *bifurcation*). There the loss falls from about 0.45 to below 0.05 within a hair of
# :math:`b`: a wall. The function below is written once with tensors; on a grid of
# :math:`(w, b)` (without gradients) it draws the surface, and on two scalar parameters it is
# the training loss.


def pascanu_loss(w, b, steps=50):
    x = tg.tensor(0.5, dtype=tg.float64)
    for _ in range(steps):
        x = w * x.sigmoid() + b
    return (x.sigmoid() - 0.7) ** 2


W_grid, B_grid = np.meshgrid(np.linspace(2, 9, 281), np.linspace(-6, 1, 281))
with tg.no_grad():
    surface = pascanu_loss(tg.tensor(W_grid, dtype=tg.float64),
                           tg.tensor(B_grid, dtype=tg.float64)).numpy()

# %%
# Four optimisers into the wall
# -----------------------------
# All start at :math:`(w, b) = (6, -4.5)`, below the wall on its high-loss side (loss 0.47),
# where the gradient is small and points at the wall, and take 150 steps:
#
# - **SGD**, learning rate 1: :math:`\theta \leftarrow \theta - \eta g`.
# - **SGD with clipping**: the same, after :func:`tinygrad_rnn.nn.utils.clip_grad_norm_`
#   rescales :math:`g` to norm 1 whenever it is larger (lesson 4). Far from the wall it does
#   nothing; on the wall it keeps the step small and the direction.
# - **Nesterov's accelerated gradient** (``tg.optim.SGD(..., momentum=0.9, nesterov=True)``,
#   learning rate 0.1): a velocity :math:`b \leftarrow \mu b + g` that gathers speed on the
#   flat plateau, with the step looking ahead along it, :math:`\theta \leftarrow \theta -
#   \eta (g + \mu b)` (Sutskever, Martens, Dahl & Hinton 2013 trained RNNs with it).
# - **RMSProp** (``tg.optim.RMSprop``, learning rate 0.05; Hinton's lecture 6e): each
#   parameter's step is divided by a running root mean square of its own gradients,
#   :math:`v \leftarrow \alpha v + (1-\alpha) g^2`, :math:`\theta \leftarrow \theta - \eta\,
#   g / \sqrt{v}`, so a step has about the size :math:`\eta` on a plateau and on a wall alike.
#
# For each we record the path, the loss and the gradient norm (before clipping).
START, STEPS = (6.0, -4.5), 150


def descend(make_optimizer, clip=float("inf")):
    w = tg.tensor(START[0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor(START[1], dtype=tg.float64, requires_grad=True)
    optimizer = make_optimizer([w, b])
    path, losses, norms = [], [], []
    for _ in range(STEPS):
        loss = pascanu_loss(w, b)
        path.append((w.item(), b.item()))
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        norms.append(tg.nn.utils.clip_grad_norm_([w, b], clip).item())
        optimizer.step()
    return np.array(path), np.array(losses), np.array(norms)


runs = {
    "SGD": descend(lambda p: tg.optim.SGD(p, lr=1.0)),
    "SGD, clipped at 1": descend(lambda p: tg.optim.SGD(p, lr=1.0), clip=1.0),
    "Nesterov momentum": descend(lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "RMSProp": descend(lambda p: tg.optim.RMSprop(p, lr=0.05)),
}

fig, (ax_surf, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained",
                                       gridspec_kw={"width_ratios": [1.15, 1]})
filled = ax_surf.contourf(W_grid, B_grid, surface, levels=24, cmap="viridis")
fig.colorbar(filled, ax=ax_surf, label="loss L(w, b)")
for (name, (path, losses, norms)), colour in zip(runs.items(), ("C3", "C1", "C0", "w")):
    ax_surf.plot(path[:, 0], path[:, 1], ".-", color=colour, markersize=3, linewidth=1,
                 label=name)
    ax_loss.semilogy(losses, color="k" if colour == "w" else colour, label=name)
ax_surf.plot(*START, "k*", markersize=12)
thrown = runs["SGD"][0]
ax_surf.annotate(f"SGD thrown to ({thrown[-1, 0]:.0f}, {thrown[-1, 1]:.0f})", xy=(7.4, 0.8),
                 xytext=(4.3, 0.3), color="C3", arrowprops={"arrowstyle": "->", "color": "C3"})
ax_surf.set(xlim=(2, 9), ylim=(-6, 1), xlabel="w", ylabel="b",
            title="x_t = w σ(x_{t-1}) + b: the loss after 50 steps")
ax_surf.legend(fontsize="small", loc="lower left", facecolor="0.85")
ax_loss.set(xlabel="step", ylabel="loss", title="the loss along each path")
ax_loss.grid(alpha=0.3)
ax_loss.legend(fontsize="small")
tg.viz.show(fig)

# %%
# The wall is the thin band where the colour jumps from yellow-green to blue. The valley (loss
# near 0, darkest) lies where the wall ends, near :math:`w = 4`, and hugs the wall, so every
# path that crosses the wall zig-zags along it down to the valley. Plain SGD crosses, walks along the wall, and at its next
# hit meets a gradient of norm above 1,000: one step of length :math:`\eta \lVert g\rVert`
# throws it onto a far plateau where the gradient is zero, for good. Clipped SGD takes exactly
# the same steps until that hit and then a step of length 1 instead. Nesterov momentum picks up
# speed on the plateau (its steps are smaller at first, so it crosses later) and reaches the
# valley, but its velocity carries it into the wall again later and it leaves the valley:
# momentum alone does not tame a wall. RMSProp ignores the size of the gradient: its first steps
# are large on the flat plateau, and the wall does not throw it.


def first(condition):
    hits = np.flatnonzero(condition)
    return int(hits[0]) if hits.size else None


outcome = {}
print(f"{'':19} {'crosses the wall':>16} {'in the valley':>14} {'largest |g|':>11}  ends at")
for name, (path, losses, norms) in runs.items():
    far = np.abs(path).max(axis=1) > 100
    outcome[name] = (first(losses < 0.2), first(losses < 0.01), first(far))
    ends = f"({path[-1, 0]:.4g}, {path[-1, 1]:.4g}), loss {losses[-1]:.3f}"
    print(f"{name:19} {outcome[name][0]!s:>16} {outcome[name][1]!s:>14} "
          f"{norms.max():11.1e}  {ends}")

# %%
# The bound, measured
# -------------------
# Why does a gradient vanish or explode? With :math:`h_t = f(W_{hh} h_{t-1} + W_{ih} x_t +
# b)` and :math:`\delta_t = \partial L/\partial h_t` (a row vector), one step back is
# :math:`\delta_{t-1} = \delta_t \operatorname{diag}(f'(\mathrm{net}_t))\, W_{hh}`, so
#
# .. math::
#
#     \lVert \delta_{t-1} \rVert \le \lVert \delta_t \rVert\, \lVert W_{hh} \rVert\,
#     \max |f'| = \lVert \delta_t \rVert\, \beta_W \beta_f
#     \quad\Longrightarrow\quad
#     \lVert \delta_k \rVert \le \lVert \delta_T \rVert\, (\beta_W \beta_f)^{T-k},
#
# with :math:`\beta_W` the largest singular value of :math:`W_{hh}` (the spectral norm) and
# :math:`\beta_f = 1` for tanh, :math:`1/4` for the sigmoid. When :math:`\beta_W \beta_f < 1`
# the gradient *must* vanish; above 1 it *may* explode. A sigmoid RNN needs
# :math:`\beta_W > 4` before its gradient can even keep its size.
#
# We measure :math:`\lVert\delta_t\rVert` for three RNNs of 32 units over 60 steps (float64):
# tanh with :math:`\beta_W = 0.9` and :math:`3`, and a sigmoid RNN with :math:`\beta_W = 3`.
# The tanh one is :class:`tinygrad_rnn.nn.RNNCell`; the package has no sigmoid RNN, so that
# one is the same cell's weights with ``sigmoid`` in one line. ``retain_grad()`` keeps
# :math:`\partial L/\partial h_t` on every step's :math:`h_t` during ``backward()``, as
# in lesson 4; the loss is :math:`L = \sum h_T`.
T, H = 60, 32
rng = np.random.default_rng(0)
direction = rng.standard_normal((H, H))
direction /= np.linalg.svd(direction, compute_uv=False)[0]  # largest singular value 1
x = tg.tensor(rng.standard_normal((T, 4, 3)), dtype=tg.float64)


def measured_deltas(beta_w, squash):
    tg.manual_seed(0)
    cell = tg.nn.RNNCell(3, H, dtype=tg.float64)
    cell.weight_hh.data[...] = beta_w * direction
    if squash == "sigmoid":
        def step(x_t, h):
            h = tg.zeros(len(x_t), H, dtype=tg.float64) if h is None else h
            return (tg.F.linear(x_t, cell.weight_ih, cell.bias_ih)
                    + tg.F.linear(h, cell.weight_hh, cell.bias_hh)).sigmoid()
    else:
        step = cell
    hs, h_T = tg.nn.unroll(step, x)
    for h in hs:
        h.retain_grad()
    h_T.sum().backward()
    return np.array([np.linalg.norm(h.grad.numpy()) for h in hs])


cases = [(0.9, "tanh", 1.0), (3.0, "tanh", 1.0), (3.0, "sigmoid", 0.25)]
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
margins, below = [], []
for (beta_w, squash, beta_f), colour in zip(cases, ("C0", "C1", "C2")):
    deltas = measured_deltas(beta_w, squash)
    bound = deltas[-1] * (beta_w * beta_f) ** (T - 1 - np.arange(T))
    below.append(bool((deltas <= bound * (1 + 1e-12)).all()))
    margins.append((deltas / bound).max())
    label = f"{squash}, β_W = {beta_w}: β_W β_f = {beta_w * beta_f:g}"
    ax.semilogy(deltas, color=colour, label=label)
    ax.semilogy(bound, color=colour, linestyle="--")
    print(f"{label:33} ‖δ_0‖ = {deltas[0]:.2e}, bound {bound[0]:.2e}, "
          f"largest measured / bound {margins[-1]:.3f}")
ax.plot([], [], "k--", label="its bound ‖δ_T‖ (β_W β_f)^(T−t)")
ax.set(xlabel="time step t (loss on step 59)", ylabel="‖∂L/∂h_t‖ (measured: solid)",
       ylim=(1e-30, 1e20), title="the measured gradient and its bound")
ax.grid(alpha=0.3)
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
tg.viz.show(fig)

# %%
# The bound is only an upper bound: the tanh derivatives are mostly below 1 and the directions
# of :math:`\delta_t` rarely line up with the top singular vector, so the measured curves lie
# below it, far below for the sigmoid, whose derivative is at most 1/4 and usually less. With
# :math:`\beta_W = 3` the tanh bound grows as :math:`3^{T-k}` and says nothing; whether the
# gradient then explodes depends on the saturation, as lesson 4 showed. The sigmoid RNN with
# the *same* :math:`W_{hh}` has :math:`\beta_W \beta_f = 0.75 < 1`: its gradient has no choice
# but to vanish.
#
# The number to check
# -------------------
y_up = linear_rnn(tg.tensor(1.01, dtype=tg.float64), 1000).item()
y_down = linear_rnn(tg.tensor(0.99, dtype=tg.float64), 1000).item()
print(f"y(1.01) = {y_up:,.1f}, y(0.99) = {y_down:.3g}, dy/dw(1) - 999 = {w.grad.item() - 999:.1e}")
print("crosses / in the valley / thrown beyond 100:", outcome)
assert round(y_up, 1) == 20751.6 and round(y_down, 7) == 4.36e-5
assert abs(w.grad.item() - 999) < 1e-12
assert outcome["SGD"][0] == 39 and outcome["SGD"][1] is None and outcome["SGD"][2] is not None
assert outcome["SGD, clipped at 1"] == (39, 94, None)
assert outcome["Nesterov momentum"][:2] == (53, 89)
assert outcome["RMSProp"] == (2, 21, None)
assert all(below)

# %%
# Summary
# -------
# - Unrolled, an RNN applies the same weights again and again, so its output is a high power
#   of them and its error surface has flat plateaus next to steep walls.
# - On a wall the gradient is huge; one plain SGD step there can throw the weights far away.
#   Clipping the gradient norm keeps the direction and bounds the step, and costs nothing
#   elsewhere.
# - Momentum (Nesterov's) speeds the walk over plateaus but can carry the weights into a wall;
#   RMSProp divides each step by the running size of its gradients, so walls and plateaus give
#   steps of about the same length.
# - :math:`\lVert\delta_k\rVert \le \lVert\delta_T\rVert(\beta_W\beta_f)^{T-k}`: when
#   :math:`\beta_W\beta_f < 1` the gradient must vanish (for a sigmoid, whenever
#   :math:`\beta_W < 4`); above 1 nothing is promised either way.
#
# Exercises
# ---------
# 1. Add ``clip=1.0`` to the Nesterov run. Does it still leave the valley? Try learning rates
#    0.05 and 0.2 with and without clipping.
# 2. Start at :math:`(5, -4)` and at :math:`(7, -5)`. Which optimisers reach the valley within
#    150 steps now? Perturb the start by :math:`10^{-9}`: which numbers in the table change?
# 3. Change the target from 0.7 to 0.3 and redraw the surface. Where is the valley now, and
#    is there still a wall between the start and it?
