r"""
Lesson 2 — Linear regression by gradient descent
================================================

The deep-learning lecture on RNNs ends with two items, "Linear Regression in TensorFlow" and
"TensorBoard" (add the metrics of interest to ``tf.summary``, e.g. ``tf.summary.scalar``, and
run ``tensorboard --logdir``). The classic program for the first is TensorFlow's old
getting-started example: it makes 100 points on the line :math:`y = 0.1\,x + 0.3` and recovers
the slope and the intercept by gradient descent. This lesson does the same with
``tinygrad_rnn`` — the same data, the same model, the same optimiser — and logs the loss for
TensorBoard, with event files written through ``tensorboardX``.

**The number to check:** after 201 steps of gradient descent with learning rate 0.5, the fitted
:math:`W` and :math:`b` are within :math:`10^{-3}` of the true 0.1 and 0.3.
"""

# %%
# The data and the model
# ----------------------
# TensorFlow 1's getting-started example (the lecture's notes carry no code of their own)
# read::
#
#     x_data = np.random.rand(100).astype(np.float32)
#     y_data = x_data * 0.1 + 0.3
#     W = tf.Variable(tf.random_uniform([1], -1.0, 1.0))
#     b = tf.Variable(tf.zeros([1]))
#     loss = tf.reduce_mean(tf.square(W * x_data + b - y_data))
#     train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
#
# Here the parameters are tensors with ``requires_grad=True`` and the optimiser is
# :class:`tinygrad_rnn.optim.SGD`, whose update is :math:`\theta \leftarrow \theta - \eta\,
# \partial L/\partial\theta`.
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg

TRUE_W, TRUE_B = 0.1, 0.3
tg.manual_seed(0)
x = tg.rand(100)
y = TRUE_W * x + TRUE_B

W = tg.tensor(tg.rand(1).numpy() * 2 - 1, requires_grad=True, name="W")  # U(-1, 1)
b = tg.zeros(1, requires_grad=True)
optimizer = tg.optim.SGD([W, b], lr=0.5)
print(f"initial W = {W.item():.4f}, b = {b.item():.4f}")

# %%
# Logging scalars for TensorBoard
# -------------------------------
# ``tf.summary.scalar("loss", loss)`` becomes ``writer.add_scalar("loss", value, step)`` with
# ``tensorboardX``, which writes the same event files without TensorFlow (``pip install
# tinygrad_rnn[tb]``, or ``pip install tensorboardX``). The files go where TensorBoard and
# PyTorch's ``SummaryWriter`` put them by default, one folder per run under ``runs/`` in the
# folder you run the lesson from: ``runs/linear_regression``. Each run of the lesson first
# removes the event files of the previous one, so that TensorBoard shows one curve, not a pile.
# Without ``tensorboardX`` the lesson says so and goes on: it keeps the numbers in a list and
# plots them with matplotlib all the same.
try:
    from tensorboardX import SummaryWriter
except ImportError:
    SummaryWriter = None
    print("tensorboardX is not installed, so this run writes no TensorBoard event files "
          "(pip install tensorboardX, or the package's [tb] extra); the rest runs as usual")

logdir = Path("runs") / "linear_regression"
writer = None
if SummaryWriter:
    for old in logdir.glob("events.out.tfevents.*"):
        old.unlink()
    writer = SummaryWriter(str(logdir))

# %%
# Training
# --------
# Each step is the whole recipe of this course: a forward pass that builds the graph of the
# loss, ``backward()`` to fill ``.grad``, and an update. ``zero_grad()`` clears the gradients,
# which would otherwise accumulate from one step to the next.
losses, path = [], []
for step in range(201):
    loss = ((W * x + b - y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    path.append((W.item(), b.item()))
    if writer:
        writer.add_scalar("loss", loss.item(), step)
        writer.add_scalar("W", W.item(), step)
        writer.add_scalar("b", b.item(), step)
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.3e}  W {W.item():+.4f}  b {b.item():+.4f}")
if writer:
    writer.close()

# %%
# The loss curve
# --------------
# On a log scale the loss falls on a straight line. For a quadratic loss, gradient descent
# shrinks the error of the parameters by a constant factor at every step: with the Hessian
# :math:`\mathbf{H} = \tfrac{2}{N} A^\top A` of the mean squared error (:math:`A` has rows
# :math:`(x_i, 1)`) and learning rate :math:`\eta`, the slowest direction shrinks by
# :math:`\max_k |1 - \eta \lambda_k(\mathbf{H})|` per step, so the loss by its square. That is
# what the curve shows, until it meets float32's round-off, near :math:`10^{-15}` here.
A = np.stack([x.numpy().astype(np.float64), np.ones(100)], axis=1)
eigenvalues = np.linalg.eigvalsh(2 * A.T @ A / 100)
predicted = np.max(np.abs(1 - 0.5 * eigenvalues)) ** 2
measured = (losses[100] / losses[60]) ** (1 / 40)
print(f"eigenvalues of the Hessian {eigenvalues.round(4)}: the loss should shrink by "
      f"{predicted:.4f} per step; it shrinks by {measured:.4f} (steps 60 to 100)")
assert abs(predicted - measured) < 1e-3

fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
ax_loss.semilogy(losses)
ax_loss.set(xlabel="step", ylabel="mean squared error", title="loss")
ax_loss.grid(alpha=0.3)
xs = np.linspace(0, 1, 2)
ax_fit.plot(x.numpy(), y.numpy(), ".", label="data", alpha=0.6)
ax_fit.plot(xs, path[0][0] * xs + path[0][1], "--", label="after step 0")
ax_fit.plot(xs, W.item() * xs + b.item(), label=f"fitted: {W.item():.4f} x + {b.item():.4f}")
ax_fit.set(xlabel="x", ylabel="y", title="the fit")
ax_fit.legend()
tg.viz.show(fig)

# %%
# Reading the event file back
# ---------------------------
# ``tensorboard --logdir runs`` shows the same curves in a browser. An event file is a
# sequence of records (length, checksum, a serialised ``Event`` protocol buffer, checksum);
# reading the ``loss`` scalars back shows they are exactly the numbers plotted above.
if writer:
    print("event files in", logdir.resolve())
    from tensorboardX.proto.event_pb2 import Event

    def read_scalars(folder, tag):
        values = {}
        for file in sorted(Path(folder).glob("events.out.tfevents.*")):
            data, offset = file.read_bytes(), 0
            while offset < len(data):
                length = int.from_bytes(data[offset:offset + 8], "little")
                event = Event.FromString(data[offset + 12:offset + 12 + length])
                offset += 12 + length + 4
                for value in event.summary.value:
                    if value.tag == tag:
                        values[event.step] = value.simple_value
        return values

    logged = read_scalars(logdir, "loss")
    print(f"{len(logged)} loss scalars logged; step 200: {logged[200]:.3e}")
    assert len(logged) == 201 and np.allclose([logged[s] for s in range(201)], losses)

# %%
# The number to check
# -------------------
# The fitted parameters against the true ones:
print(f"W = {W.item():.6f}  (true {TRUE_W})   b = {b.item():.6f}  (true {TRUE_B})")
assert abs(W.item() - TRUE_W) < 1e-3 and abs(b.item() - TRUE_B) < 1e-3

# %%
# Summary
# -------
# * Every training loop of this course is the same four lines: a forward pass to the loss,
#   ``zero_grad()``, ``backward()``, ``step()``.
# * On a quadratic loss, gradient descent shrinks the error by a constant factor per step,
#   :math:`\max_k |1 - \eta \lambda_k|`, set by the learning rate and the Hessian's eigenvalues.
# * ``tensorboardX`` writes TensorBoard's event files without TensorFlow;
#   ``tensorboard --logdir runs`` plots them.
#
# Exercises
# ---------
# 1. From the Hessian's eigenvalues, predict the largest learning rate for which gradient
#    descent still converges (:math:`\eta < 2/\lambda_{\max}`). Try a rate just below and
#    just above it.
# 2. Replace SGD by ``tg.optim.Adam(..., lr=0.1)``. Does the loss still fall on a straight line
#    on the log scale? Why not?
# 3. Log the gradient norm as a second scalar and look at both curves in TensorBoard.
