r"""
Lesson 6 — GRU, and LSTM against GRU on tiny Shakespeare
========================================================

The gated recurrent unit (Cho et al. 2014) keeps the LSTM's central idea — a state updated by
gated, elementwise interpolation — with two gates instead of three and no separate cell state.
In PyTorch's form (``reset_after=True``, the default here too):

.. math::

    r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \qquad
    z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}), \\
    n &= \tanh\bigl(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\bigr), \qquad
    h' = (1 - z) \odot n + z \odot h.

The update gate :math:`z` plays the part of the LSTM's forget gate (and :math:`1 - z` of its
input gate, as in the coupled LSTM of lesson 5); the reset gate :math:`r` decides how much of
the old state the candidate :math:`n` may look at.

**Which way round is z?** The lectures (after Chung et al. 2014 and colah's "Understanding
LSTM Networks") write the last line the other way round:

.. math::

    \text{lectures:}\quad h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t,
    \qquad\qquad
    \text{PyTorch, here:}\quad h' = (1 - z) \odot n + z \odot h.

There :math:`z_t` is the share of the *new* candidate :math:`\tilde h_t`; in PyTorch (and
Cho et al.'s paper) :math:`z` is the share of the *old* state kept. The two are the same model
with :math:`z` replaced by :math:`1 - z`, that is, with the signs of the update gate's
weights and biases flipped: weights copied from code written one way into code written the
other way give a different network. ``tinygrad_rnn`` follows PyTorch.

This lesson trains both on a character language model of tiny Shakespeare (Karpathy's
``char-rnn`` corpus: 1,115,394 characters, 65 symbols), at equal parameter counts, for the
same number of steps on the same batches, with three seeds each, and reports the validation
loss in nats per character and as a perplexity.

**The number to check:** after 500 Adam steps (half a million characters, about half a pass
over the training text), all six models — LSTM and GRU, three seeds each — reach a validation
loss below 2.0 nats per character (perplexity below :math:`e^2 \approx 7.4`), against 4.17
(perplexity 65) for a uniform guess and about 3.3 (perplexity 27) for a model that knows only
how often each character occurs.
"""

# %%
# The imports
# -----------
# This lesson's matrices are small — 32 sequences times 64 to 75 hidden units — and the package
# runs NumPy's matrix products on one thread by default, faster on them than several
# (:func:`tinygrad_rnn.set_num_threads` changes it).
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.data import load_shakespeare, random_batch
from tinygrad_rnn.models import (
    CharLM,
    count_parameters,
    evaluate,
    hidden_size_for,
    loss_of,
    sample,
)

# %%
# Cho's GRU and PyTorch's GRU
# ---------------------------
# Cho et al. apply the reset gate *before* the recurrent matrix product,
# :math:`n = \tanh(W_{in} x + b_{in} + W_{hn}(r \odot h) + b_{hn})`; PyTorch and cuDNN apply
# it *after*, to :math:`W_{hn} h + b_{hn}`, which lets the product :math:`W_{hh} h` for all
# three gates be one matrix product computed before the gates. The two forms have the same
# parameters but are different functions: loading the same weights into both gives different
# states. ``GRUCell(..., reset_after=False)`` is Cho's form.
tg.manual_seed(0)
pytorch_form = tg.nn.GRUCell(3, 4)
cho_form = tg.nn.GRUCell(3, 4, reset_after=False)
cho_form.load_state_dict(pytorch_form.state_dict())
x, h = tg.randn(2, 3), tg.randn(2, 4)
print("same parameters, largest difference of h':",
      f"{np.abs(pytorch_form(x, h).numpy() - cho_form(x, h).numpy()).max():.3f}")

# %%
# One step of each, drawn: in PyTorch's form (first) the reset gate multiplies the result of
# a matrix product; in Cho's (second) it multiplies :math:`h` on its way into one.
tg.manual_seed(0)
gru_step = tg.viz.draw(pytorch_form(x[:1], h[:1]), module=pytorch_form)
cho_step = tg.viz.draw(cho_form(x[:1], h[:1]), module=cho_form)
tg.viz.show(gru_step, cho_step)

# %%
# Tiny Shakespeare
# ----------------
# :func:`tinygrad_rnn.data.load_shakespeare` reads the text (from ``$TINYGRAD_RNN_DATA``, or a
# copy downloaded once into ``~/.cache/tinygrad_rnn``), checks its SHA-256, and splits it: the
# first 90 % for training, the last 10 % for validation. Two baselines to beat: guessing
# uniformly among 65 symbols costs :math:`\ln 65 \approx 4.17` nats per character; knowing only
# the frequency of each character, its entropy.
corpus = load_shakespeare()
V = len(corpus.vocab)
counts = np.bincount(corpus.train, minlength=V)
freq = counts[counts > 0] / counts.sum()
unigram = float(-(freq * np.log(freq)).sum())
print(f"{V} symbols, {len(corpus.train):,} training and {len(corpus.val):,} validation characters")
print(f"uniform guess {np.log(V):.3f} nats/char, character frequencies {unigram:.3f} nats/char")
print(repr(corpus.vocab.decode(corpus.train[:120])))

# %%
# Two models with the same number of parameters
# ---------------------------------------------
# :class:`tinygrad_rnn.models.CharLM` is an embedding (32 numbers per character), one
# recurrent layer and a linear decoder to the 65 scores of the next character. An LSTM layer
# has four blocks of weights, a GRU three, so at equal size the GRU can afford a larger
# hidden state: :func:`~tinygrad_rnn.models.hidden_size_for` finds it. The models are small,
# so that the lesson runs in well under a minute.
lstm_hidden = 64
gru_hidden = hidden_size_for("gru", count_parameters(CharLM(V, "lstm", lstm_hidden)), V)
HIDDEN = {"lstm": lstm_hidden, "gru": gru_hidden}
for cell, hidden in HIDDEN.items():
    print(f"{cell.upper():4}  hidden {hidden}: {count_parameters(CharLM(V, cell, hidden)):,} "
          "parameters")

# %%
# Training
# --------
# Each step takes 32 windows of 32 characters at random places in the training text; the
# target of each character is the next one, and the loss is the mean cross-entropy. Both
# models see the same batches (the random generator is seeded by the seed and the step
# number), with Adam at learning rate 0.01 and the gradient norm clipped at 5. We train each
# cell with three seeds (the seed sets the initial weights and the batches), and let the GRU
# of seed 0 write a few lines at steps 0 (untrained), 100 and 500:
# :func:`~tinygrad_rnn.models.sample` draws one character at a time from the predicted
# distribution (temperature 0.8) and feeds it back in. The command line trains longer, with
# checkpoints: ``python -m tinygrad_rnn train charlm --cell gru --steps 5000``.
STEPS, BATCH, SEQ_LEN, SEEDS = 500, 32, 32, (0, 1, 2)
SAMPLE_AT = (0, 100, 500)


def train(cell, seed, samples=None):
    """Train a CharLM for STEPS steps; if ``samples`` is a dict, fill it {step: text}."""
    tg.manual_seed(seed)
    model = CharLM(V, cell, HIDDEN[cell])
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for step in range(STEPS + 1):
        if samples is not None and step in SAMPLE_AT:
            samples[step] = sample(model, corpus.vocab, prime="\n", length=150, seed=1)
        if step == STEPS:
            break
        x, y = random_batch(corpus.train, BATCH, SEQ_LEN, np.random.default_rng([seed, step]))
        loss, _ = loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
    return model, np.array(losses)


history, val, samples, start = {}, {}, {}, time.perf_counter()
for seed in SEEDS:
    for cell in HIDDEN:
        model, history[cell, seed] = train(cell, seed, samples if (cell, seed) == ("gru", 0)
                                           else None)
        val[cell, seed] = evaluate(model, corpus.val)
print(f"{len(history)} models, {STEPS} steps each, in {time.perf_counter() - start:.0f} s")

for step, text in samples.items():
    print(f"--- GRU, seed 0, after {step} steps ---")
    print(text)

# %%
# At step 0 the characters are drawn nearly uniformly; after 100 steps the model has learnt
# which characters are common and that words are short; after 500, the shape of a play —
# names in capitals before a colon, line breaks, common short words — but not yet much
# English.
#
# Validation loss and perplexity
# ------------------------------
# :func:`~tinygrad_rnn.models.evaluate` reads the whole validation text as 50 parallel
# streams, carrying the state from one window to the next, and averages the cross-entropy
# over every character. One nat is :math:`1/\ln 2 \approx 1.44` bits. The *perplexity*
# :math:`e^{\text{loss}}` reads as a number of choices: a model with perplexity 7 is as unsure
# of the next character as one that picks uniformly among 7 (the uniform guess has perplexity
# 65, the number of symbols).
print("loss in nats/char (perplexity)")
print(f"{'':5}" + "".join(f"{f'seed {seed}':>25}" for seed in SEEDS))
for cell in HIDDEN:
    print(f"{cell.upper():5}" + "".join(
        f"   {val[cell, seed]:.3f} nats/char ({np.exp(val[cell, seed]):.2f})" for seed in SEEDS))
print(f"uniform guess {np.log(V):.3f} ({V}), character frequencies {unigram:.3f} "
      f"({np.exp(unigram):.1f})")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for (cell, seed), losses in history.items():
    ax.plot(np.convolve(losses, np.ones(20) / 20, mode="valid"),
            color="C0" if cell == "lstm" else "C1", alpha=0.8,
            label=cell.upper() if seed == 0 else None)
ax.axhline(unigram, color="grey", linestyle=":", label="character frequencies")
ax.set(xlabel="Adam step", ylabel="training loss (nats/char, 20-step mean)",
       title=f"tiny Shakespeare, equal parameter counts, seeds {SEEDS}")
ax.legend()
ax.grid(alpha=0.3)
tg.viz.show(fig)

# %%
# Here the GRU is ahead for every seed, by about 0.05 nats per character, more than the
# spread between seeds. That ranks the two cells at this size and after 500 steps, not in
# general: for the same parameters the GRU has the larger state (75 units against 64), and a
# short run rewards the cell that learns fastest at first. Chung et al. (2014) found the two
# comparable, and Jozefowicz, Zaremba & Sutskever (2015), searching over ten thousand
# architectures, found the GRU ahead on several tasks but no better than an LSTM whose forget
# bias is 1 on language modelling. The lecture's advice — no clear winner; with a lot of data,
# the LSTM — is about as far as the evidence goes. Longer training, on the command line, goes
# on lowering both.
#
# The number to check
# -------------------
for cell in HIDDEN:
    losses = np.array([val[cell, seed] for seed in SEEDS])
    print(f"{cell.upper():4} validation loss over seeds {SEEDS}: {losses.round(3)}, "
          f"mean {losses.mean():.3f} (perplexity {np.exp(losses.mean()):.2f})")
assert max(val.values()) < 2.0

# %%
# Summary
# -------
# * The GRU interpolates between the old state and a candidate with one update gate, and lets
#   a reset gate decide how much of the old state the candidate sees; it has no separate cell
#   state.
# * Which share :math:`z` stands for differs: the lectures' :math:`z` weighs the candidate,
#   PyTorch's (and ours) the old state. Cho's reset gate acts before the recurrent matrix
#   product, PyTorch's after it.
# * A character language model's loss is read in nats per character, or as a perplexity
#   :math:`e^{\text{loss}}`, the number of equally likely choices it amounts to.
#
# Exercises
# ---------
# 1. Write the lectures' GRU step in NumPy, :math:`h_t = (1 - z_t) h_{t-1} + z_t \tilde h_t`,
#    and check it against ``tg.nn.GRUCell(..., reset_after=False)`` (the lectures' reset gate)
#    after negating the update gate's weights and biases.
# 2. Sample at temperatures 0.5, 1 and 1.5. How do the samples change, and why does a low
#    temperature repeat itself?
# 3. Train both cells four times longer on the command line. Does the GRU's lead hold?
