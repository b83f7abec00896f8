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

This lesson trains both on a character language model of tiny Shakespeare (Karpathy's
``char-rnn`` corpus: 1,115,394 characters, 65 symbols), at equal parameter counts, for the
same number of steps on the same batches, and reports the validation loss in nats per
character.

**The number to check:** after 500 Adam steps (about 1 million characters, one pass over the
training text), both models reach a validation loss below 2.0 nats per character — against
4.17 for a uniform guess and about 3.3 for a model that knows only how often each character
occurs.
"""

# %%
# Cho's GRU and PyTorch's GRU
# ---------------------------
# Cho et al. apply the reset gate *before* the recurrent matrix product,
# :math:`n = \tanh(W_{in} x + b_{in} + W_{hn}(r \odot h) + b_{hn})`; PyTorch and cuDNN apply
# it *after*, to :math:`W_{hn} h + b_{hn}`, which lets the product :math:`W_{hh} h` for all
# three gates be one matrix product computed before the gates. The two forms have the same
# parameters but are different functions: loading the same weights into both gives different
# states. ``GRUCell(..., reset_after=False)`` is Cho's form.
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
# hidden state: :func:`~tinygrad_rnn.models.hidden_size_for` finds it.
lstm_hidden = 128
gru_hidden = hidden_size_for("gru", count_parameters(CharLM(V, "lstm", lstm_hidden)), V)
models = {}
for cell, hidden in (("lstm", lstm_hidden), ("gru", gru_hidden)):
    tg.manual_seed(0)
    models[cell] = CharLM(V, cell, hidden)
    print(f"{cell.upper():4}  hidden {hidden}: {count_parameters(models[cell]):,} parameters")

# %%
# Training
# --------
# Each step takes 32 windows of 64 characters at random places in the training text; the
# target of each character is the next one, and the loss is the mean cross-entropy. Both
# models see the same batches (the random generator is seeded by the step number), with Adam
# at learning rate 0.005 and the gradient norm clipped at 5. The command line trains longer,
# with checkpoints: ``python -m tinygrad_rnn train charlm --cell gru --steps 5000``.
STEPS, BATCH, SEQ_LEN = 500, 32, 64
history = {}
for cell, model in models.items():
    optimizer = tg.optim.Adam(model.parameters(), lr=0.005)
    losses, start = [], time.perf_counter()
    for step in range(STEPS):
        x, y = random_batch(corpus.train, BATCH, SEQ_LEN, np.random.default_rng([0, step]))
        loss, _ = loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
    history[cell] = np.array(losses)
    print(f"{cell.upper():4} {STEPS} steps in {time.perf_counter() - start:.0f} s, "
          f"last training loss {np.mean(losses[-20:]):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for cell, losses in history.items():
    ax.plot(np.convolve(losses, np.ones(20) / 20, mode="valid"), label=cell.upper())
ax.axhline(unigram, color="grey", linestyle=":", label="character frequencies")
ax.set(xlabel="Adam step", ylabel="training loss (nats/char, 20-step mean)",
       title="tiny Shakespeare, equal parameter counts")
ax.legend()
ax.grid(alpha=0.3)

# %%
# Validation loss and samples
# ---------------------------
# :func:`~tinygrad_rnn.models.evaluate` reads the whole validation text as 50 parallel
# streams, carrying the state from one window to the next, and averages the cross-entropy
# over every character. One nat is :math:`1/\ln 2 \approx 1.44` bits. Then each model writes
# 300 characters, one at a time, each drawn from its predicted distribution (temperature 0.8).
val = {cell: evaluate(model, corpus.val) for cell, model in models.items()}
for cell, model in models.items():
    print(f"{cell.upper()}: validation loss {val[cell]:.3f} nats/char "
          f"({val[cell] / np.log(2):.2f} bits/char)")
    print(sample(model, corpus.vocab, prime="\n", length=300, seed=1))
    print("-" * 60)

# %%
# After one pass over the text both models have learnt the shape of a play — names in
# capitals before a colon, line breaks, common short words — but not yet much English. One
# short run with one seed is too little to rank the two cells: Chung et al. (2014) found them
# comparable, and Jozefowicz, Zaremba & Sutskever (2015), searching over ten thousand
# architectures, found the GRU ahead on several tasks but no better than an LSTM whose forget
# bias is 1 on language modelling. Longer training, on the command line, goes on lowering both.
#
# The number to check
# -------------------
print(f"validation loss, nats/char: LSTM {val['lstm']:.3f}, GRU {val['gru']:.3f} "
      f"(uniform {np.log(V):.3f}, character frequencies {unigram:.3f})")
assert max(val.values()) < 2.0
