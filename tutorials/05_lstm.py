r"""
Lesson 5 — Long short-term memory and its variants
==================================================

Lesson 4 ended with a tanh RNN whose gradient vanishes geometrically with the distance in time:
it cannot learn that something 30 steps ago mattered. The long short-term memory (Hochreiter &
Schmidhuber 1997; with the forget gate of Gers, Schmidhuber & Cummins 2000) adds a *cell
state* :math:`c_t` that is changed only by elementwise gating:

.. math::

    i &= \sigma(W_{ii} x + W_{hi} h + b_i), \quad
    f = \sigma(W_{if} x + W_{hf} h + b_f), \quad
    o = \sigma(W_{io} x + W_{ho} h + b_o), \\
    g &= \tanh(W_{ig} x + W_{hg} h + b_g), \qquad
    c' = f \odot c + i \odot g, \qquad h' = o \odot \tanh(c').

Along the cell state, :math:`\partial c'/\partial c = \operatorname{diag}(f)` — no weight
matrix, no squashing derivative — so when the forget gate stays near 1 the error flows back
across many steps. This lesson draws the gates, looks at the forget-gate bias, the peephole and
the coupled-gate variants, trains an LSTM on a task where the tanh RNN fails, and watches its
gates at work.

**The numbers to check:** on the adding problem with 30 steps, after 1,200 Adam steps the LSTM's
mean squared error is below 0.01, while the tanh RNN stays near 1/6, the error of always
answering 1.
"""

# %%
# The gates, drawn
# ----------------
# One step of :class:`tinygrad_rnn.nn.LSTMCell`, every primitive operation drawn. The four gate
# pre-activations come out of one matrix product (rows in PyTorch's order i, f, g, o) and are
# sliced apart; each slice sits in the cluster named after its gate. The two outputs
# (double-framed) are :math:`c'` and :math:`h'`.
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.data import adding_problem

tg.manual_seed(0)
x = tg.randn(1, 2)
cell = tg.nn.LSTMCell(2, 3)
h, c = cell(x)
lstm_step = tg.viz.draw([h, c], module=cell)

# %%
# The forget-gate bias
# --------------------
# At initialisation the gate pre-activations are near 0, so every gate is near
# :math:`\sigma(0) = 0.5`, and a cell state halves at every step: the memory fades as fast as a
# small RNN's. Adding 1 to the forget gate's bias (Gers et al. 2000; Jozefowicz, Zaremba &
# Sutskever 2015 found it helps on nearly every task) starts the gate near
# :math:`\sigma(1) \approx 0.73`. ``LSTMCell`` and ``LSTM`` take ``forget_bias=1.0`` by default
# and add it to the forget slice of ``bias_ih`` once, at initialisation.
#
# The gradient flow of lesson 4, :math:`\lVert\partial L/\partial h_t\rVert` with the loss on
# the last of 100 steps, for a tanh RNN and for LSTMs with forget bias 0, 1 and 3:
T_FLOW, H = 100, 32
x_flow = tg.randn(T_FLOW, 4, 8, dtype=tg.float64)


def seeded(make):
    tg.manual_seed(0)
    return make()


models = {
    "tanh RNN": seeded(lambda: tg.nn.RNN(8, H, dtype=tg.float64)),
    "LSTM, forget bias 0": seeded(lambda: tg.nn.LSTM(8, H, forget_bias=0.0, dtype=tg.float64)),
    "LSTM, forget bias 1": seeded(lambda: tg.nn.LSTM(8, H, forget_bias=1.0, dtype=tg.float64)),
    "LSTM, forget bias 3": seeded(lambda: tg.nn.LSTM(8, H, forget_bias=3.0, dtype=tg.float64)),
}
flows = np.concatenate([tg.viz.gradient_flow(m, x_flow) for m in models.values()])
flow_figure = tg.viz.plot_gradient_flow(flows, list(models), title="loss on step 99")
for name, row in zip(models, flows):
    print(f"{name:20}  ‖dL/dh_0‖ / ‖dL/dh_99‖ = {row[0] / row[-1]:.1e}")

# %%
# The LSTM's gradient also shrinks at initialisation — through :math:`h` and the gates it still
# meets weight matrices and squashing derivatives — but far more slowly than the tanh RNN's,
# and the larger the forget bias, the more of it survives the 100 steps.
#
# Peepholes and coupled gates
# ---------------------------
# Two variants are one argument away. *Peephole* connections (Gers & Schmidhuber 2000) let the
# gates look at the cell state: :math:`i` and :math:`f` at :math:`c`, :math:`o` at :math:`c'`,
# each through a diagonal weight (a vector :math:`w_{c\cdot}` multiplied elementwise). The
# *coupled* input–forget gate (CIFG, Greff et al. 2017, "LSTM: A Search Space Odyssey") drops
# the input gate and writes exactly as much as it forgets, :math:`c' = f \odot c + (1 - f)
# \odot g`, with a quarter fewer weights.
variants = {
    "standard": tg.nn.LSTMCell(2, 16),
    "peephole": tg.nn.LSTMCell(2, 16, peephole=True),
    "coupled (CIFG)": tg.nn.LSTMCell(2, 16, coupled=True),
}
for name, v in variants.items():
    shapes = ", ".join(f"{n} {tuple(p.shape)}" for n, p in v.named_parameters())
    print(f"{name:15} {sum(p.data.size for p in v.parameters()):4d} parameters: {shapes}")

tg.manual_seed(0)
cifg = tg.nn.LSTMCell(2, 3, coupled=True, peephole=True)
h, c = cifg(x, (tg.zeros(1, 3), tg.ones(1, 3)))
coupled_step = tg.viz.draw([h, c], module=cifg)

# %%
# In the drawing of the coupled cell with peepholes, the "input" cluster holds only
# :math:`1 - f`, and each gate adds its peephole term :math:`w \odot c` before the sigmoid.
#
# Training: the adding problem
# ----------------------------
# Each input step is a pair (a number in :math:`[0, 1)`, a marker); exactly two steps carry
# the marker, one in each half of the sequence, and the target is the sum of the two marked
# numbers (Hochreiter & Schmidhuber 1997). The marked numbers can be up to 29 steps before the
# end, where the answer is read. We train a 16-unit LSTM and a 16-unit tanh RNN the same way:
# Adam, learning rate 0.01, batches of 64 fresh sequences, the gradient norm clipped at 1.
STEPS = 1200


def train_adding(layer):
    head = tg.nn.Linear(16, 1)
    params = [*layer.parameters(), *head.parameters()]
    optimizer = tg.optim.Adam(params, lr=0.01)
    losses = []
    for step in range(STEPS):
        xs, ys = adding_problem(64, 30, seed=step)
        out, _ = layer(tg.tensor(xs))
        loss = tg.F.mse_loss(head(out[-1]).reshape(-1), tg.tensor(ys))
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses), head


tg.manual_seed(0)
lstm = tg.nn.LSTM(2, 16)
lstm_losses, lstm_head = train_adding(lstm)
tg.manual_seed(0)
rnn_losses, _ = train_adding(tg.nn.RNN(2, 16))


def smooth(v, k=50):
    return np.convolve(v, np.ones(k) / k, mode="valid")


fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.semilogy(smooth(rnn_losses), label="tanh RNN")
ax.semilogy(smooth(lstm_losses), label="LSTM")
ax.axhline(1 / 6, color="grey", linestyle=":", label="always answer 1")
ax.set(xlabel="Adam step", ylabel="mean squared error (50-step mean)",
       title="adding problem, 30 steps")
ax.legend()
ax.grid(alpha=0.3)

# %%
# The tanh RNN never leaves the plateau of the constant answer. The LSTM sits on it for a few
# hundred steps too, then finds the solution: it learns to *write* the marked numbers into its
# cell state and to keep them there.
#
# The gates at work
# -----------------
# To watch them, we recompute the gates of the trained LSTM step by step from its own weights
# with NumPy (the same equations as above), and check that this reproduces the layer's output.
xs, ys = adding_problem(1, 30, seed=10_000)
with tg.no_grad():
    out, _ = lstm(tg.tensor(xs))
    prediction = lstm_head(out[-1]).item()
W_ih, W_hh = lstm.weight_ih_l0.numpy(), lstm.weight_hh_l0.numpy()
b = lstm.bias_ih_l0.numpy() + lstm.bias_hh_l0.numpy()


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


h_t, c_t, gates = np.zeros((1, 16)), np.zeros((1, 16)), []
for x_t in xs:
    i, f, g, o = np.split(x_t @ W_ih.T + h_t @ W_hh.T + b, 4, axis=1)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c_t = f * c_t + i * g
    h_t = o * np.tanh(c_t)
    gates.append((i[0], f[0], o[0], c_t[0]))
print("largest difference from the layer's output:", np.abs(h_t - out.numpy()[-1]).max())
assert np.allclose(h_t, out.numpy()[-1], atol=1e-5)

# %%
# Below, for each of the 16 units (rows) and 30 steps (columns): the input gate :math:`i`, the
# forget gate :math:`f`, and the cell state :math:`c`. The two marked steps are the dotted
# lines. Look for units whose input gate opens at the marks and whose forget gate stays near 1
# in between, so that their cell state steps up at each mark and then holds.
marks = np.flatnonzero(xs[:, 0, 1])
fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True, layout="constrained")
for ax, k, name in zip(axes, (0, 1, 3), ("input gate i", "forget gate f", "cell state c")):
    values = np.array([step[k] for step in gates]).T  # (units, steps)
    image = ax.imshow(values, aspect="auto", cmap="coolwarm" if k == 3 else "viridis",
                      interpolation="nearest")
    fig.colorbar(image, ax=ax)
    for m in marks:
        ax.axvline(m, color="white", linestyle=":", linewidth=2)
    ax.set(ylabel="unit", title=name)
axes[-1].set_xlabel(f"time step (marked: {marks.tolist()}; target {ys[0]:.3f}, "
                    f"prediction {prediction:.3f})")

# %%
# How the layer runs fast
# -----------------------
# Drawn op by op, a step is 16 primitive operations. By default ``tg.nn.LSTM`` runs each step
# as *one* primitive, :class:`tinygrad_rnn.fused.LSTMStep`, whose gradient is written out by hand,
# and the steps of a layer share their arrays. Backpropagation through time still visits the
# steps one by one, newest first; what changes is the bookkeeping. The gradient of the shared
# weight is a sum over time,
#
# .. math::
#
#     \frac{\partial L}{\partial W_{hh}} = \sum_t \Big(\frac{\partial L}{\partial z_t}\Big)^{\!T}
#     h_{t-1},
#
# where :math:`z_t` are the gate pre-activations of step :math:`t`. The op-by-op graph adds the
# terms one step at a time; the fused steps write each :math:`\partial L/\partial z_t` into one
# block and the step that runs backward last computes the whole sum as one matrix product, as a
# hand-written BPTT does. ``fused=False`` keeps the op-by-op graph, for drawing. Both give the
# same numbers:
fused = tg.nn.LSTM(2, 16, dtype=tg.float64)
plain = tg.nn.LSTM(2, 16, fused=False, dtype=tg.float64)
plain.load_state_dict(fused.state_dict())
xs64 = tg.tensor(adding_problem(8, 30, seed=1)[0], dtype=tg.float64)
for layer in (fused, plain):
    out, _ = layer(xs64)
    (out[-1] ** 2).sum().backward()
difference = np.abs(fused.weight_hh_l0.grad.numpy() - plain.weight_hh_l0.grad.numpy()).max()
print(f"largest difference between the two gradients of W_hh: {difference:.1e}")
assert difference < 1e-12

# %%
# The number to check
# -------------------
print(f"mean squared error over the last 100 steps: LSTM {lstm_losses[-100:].mean():.4f}, "
      f"tanh RNN {rnn_losses[-100:].mean():.4f} (always answering 1: {1 / 6:.4f})")
assert lstm_losses[-100:].mean() < 0.01 and rnn_losses[-100:].mean() > 0.1
