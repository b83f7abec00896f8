r"""
Lesson 9 — Deep and bidirectional RNNs; one-to-many, many-to-one, many-to-many; sentiment
=========================================================================================

So far every network read its sequence once, from left to right, with one recurrent layer. The
lectures add two directions of growth. *Deep*: stack layers, the states of one layer being the
inputs of the next. *Bidirectional*: a second RNN reads the sequence from right to left, so
that the output at step :math:`t` can depend on the words after :math:`t` too. In the notation
of the lecture notes (Shu-Ting Pi's),

.. math::

    s_t = f(U x_t + W s_{t-1}), \qquad s'_t = f(U' x_t + W' s'_{t+1}), \qquad
    o_t = g(V s_t + V' s'_t).

And the lectures sort what an RNN maps by the shape of its input and output: one to many
(a caption from an image), many to one (the sentiment of a sentence), many to many, aligned
(a tag for every word) or not (a translation). This lesson draws each of them, checks a deep
bidirectional layer against those equations by hand, and trains two models that need what
this lesson adds: a slot-filling tagger whose deciding word comes *after* the slot, and a
sentiment classifier that must understand "not good".

**The numbers to check:** slot filling with the verb at the end: a forward RNN tags the slot
words of 500 held-out sentences about half right (it must guess arrival or departure), a
bidirectional RNN all of them (accuracy above 0.99). Sentiment with negation: a linear model on
word counts is near chance (about 0.5) on the negated sentences, the RNN above 0.95. A
two-layer bidirectional ``tg.nn.RNN`` matches the equations computed in NumPy to
:math:`10^{-12}`.
"""

# %%
# Input and output: four shapes, drawn
# ------------------------------------
# Two small modules are enough to build all four. A *reader* runs an RNN cell over its inputs
# and computes an output :math:`y_t = V h_t + c` at every step; a *writer* starts from a state
# and feeds each output back in as the next input, as a language model does when it samples.
# Every drawing below is :func:`tinygrad_rnn.viz.draw` at ``level="step"`` of the graph that
# actually ran: one box per time step, and the parameters (no biases here, to keep the drawings
# light), drawn once, with a line to every step that uses them.
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.data import TAGS, WORDS
from tinygrad_rnn.data.slots import CITIES, DAYS, MONTHS, PREFIXES, VERBS, encode

I, H, O, T = 2, 3, 2, 4


class Reader(tg.nn.Module):
    """An RNN cell over the inputs, with an output at every step: (T, N, I) -> ([y_t], h_T)."""

    def __init__(self):
        self.cell, self.out = tg.nn.RNNCell(I, H, bias=False), tg.nn.Linear(H, O, bias=False)

    def step(self, x_t, state):
        h = self.cell(x_t, None if state is None else state[1])
        return self.out(h), h

    def forward(self, x):
        ys, (_, h) = tg.nn.unroll(self.step, x)
        return ys, h


class Writer(tg.nn.Module):
    """From a state h, ``steps`` outputs, each fed back as the next input: -> [y_t]."""

    def __init__(self):
        self.cell, self.out = tg.nn.RNNCell(O, H, bias=False), tg.nn.Linear(H, O, bias=False)

    def step(self, _, state):
        y, h = state
        h = self.cell(y, h)
        return self.out(h), h

    def forward(self, h, steps, start=0):
        first = tg.zeros(h.shape[0], O)  # a "start" symbol
        ys, _ = tg.nn.unroll(self.step, range(steps), (first, h), start=start)
        return ys


class OneToMany(tg.nn.Module):
    def __init__(self):
        self.start, self.writer = tg.nn.Linear(I, H, bias=False), Writer()

    def forward(self, x):  # one input (N, I) -> T outputs
        return self.writer(self.start(x).tanh(), T)


class SequenceToSequence(tg.nn.Module):
    def __init__(self):
        self.encoder, self.decoder = Reader(), Writer()

    def forward(self, x):  # T inputs -> 3 outputs, numbered on after the inputs
        _, h = self.encoder(x)
        return self.decoder(h, 3, start=T)


tg.manual_seed(0)
x = tg.randn(T, 1, I)
reader, one_to_many, seq2seq = Reader(), OneToMany(), SequenceToSequence()
one_to_many_graph = tg.viz.draw(one_to_many(x[0]), level="step", module=one_to_many)
tg.viz.show(one_to_many_graph)

# %%
# **One to many** (above): one input sets the first state, and the writer produces an output at
# every step, each the next step's input (an image caption: the image in, the words out).
# **Many to one** (below): the reader's output is read only after the last step (the sentiment
# of a sentence). The drawing shows only what that output depends on: the outputs this reader
# computed at the other steps are unused, so they are not in the graph.
many_to_one_graph = tg.viz.draw(reader(x)[0][-1], level="step", module=reader)
tg.viz.show(many_to_one_graph)

# %%
# **Many to many, aligned**: an output for every input (a tag per word, as in lesson 3 and below).
many_to_many_graph = tg.viz.draw(reader(x)[0], level="step", module=reader)
tg.viz.show(many_to_many_graph)

# %%
# **Many to many, not aligned** (sequence to sequence, Sutskever et al. 2014): an encoder reads
# the whole input, and a decoder writes an output of another length from the encoder's last
# state (machine translation). The decoder's steps are numbered on from the encoder's (t = 4, 5,
# 6), so that the drawing keeps them apart. The lecture's remaining case, an output *shorter*
# than the input without a known alignment (speech to characters), is the subject of
# connectionist temporal classification.
seq2seq_graph = tg.viz.draw(seq2seq(x), level="step", module=seq2seq)
tg.viz.show(seq2seq_graph)

# %%
# A deep bidirectional layer, drawn
# ---------------------------------
# ``tg.nn.RNN(..., num_layers=2, bidirectional=True)`` (and ``LSTM``, ``GRU``: the same
# arguments as PyTorch's) holds four RNNs: layer 0 forward and reverse, layer 1 forward and
# reverse, with PyTorch's parameter names (``weight_ih_l1_reverse``). At ``level="cell"`` each
# step is one node: the reverse direction runs from the last step to the first, and each
# layer's two directions are concatenated, :math:`[s_t; s'_t]`, into the input of the next
# layer and into the output (width :math:`2H`).
tg.manual_seed(0)
deep = tg.nn.RNN(I, H, num_layers=2, bidirectional=True)
out, h_n = deep(x)
print(f"input {tuple(x.shape)} -> output {tuple(out.shape)}, h_n {tuple(h_n.shape)} "
      "(num_layers x directions, N, H)")
deep_graph = tg.viz.draw(out, level="cell", module=deep)
tg.viz.show(deep_graph)

# %%
# Checked by hand
# ---------------
# The lecture's equations, in NumPy, with the layer's own weights: the forward state runs
# :math:`s_t = \tanh(U x_t + W s_{t-1} + b)` from :math:`t = 0`, the backward state
# :math:`s'_t = \tanh(U' x_t + W' s'_{t+1} + b')` from the last step, both from zero. One
# difference from the lecture's deep equations: there layer :math:`i` of each direction reads
# only the same direction of layer :math:`i - 1`, :math:`s_t^{(i)} = f(U^{(i)} s_t^{(i-1)} +
# \dots)`; PyTorch's (and ours) reads both, :math:`U^{(i)} [s_t^{(i-1)}; s_t'^{(i-1)}]`, so
# each direction of layer 2 already sees the whole sentence. The lecture's form is the case of
# :math:`U^{(i)}` with a block of zeros.
tg.manual_seed(1)
small = tg.nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=tg.float64)
xs = np.random.default_rng(0).standard_normal((5, 2, 3))  # (T, N, I)
out, h_n = small(tg.tensor(xs, dtype=tg.float64))
p = {name: value.numpy() for name, value in small.named_parameters()}


def direction(inputs, layer, reverse):
    suffix = f"l{layer}" + ("_reverse" if reverse else "")
    U, W = p[f"weight_ih_{suffix}"], p[f"weight_hh_{suffix}"]
    b = p[f"bias_ih_{suffix}"] + p[f"bias_hh_{suffix}"]
    s, states = np.zeros((inputs.shape[1], W.shape[0])), [None] * len(inputs)
    for t in (range(len(inputs) - 1, -1, -1) if reverse else range(len(inputs))):
        s = np.tanh(inputs[t] @ U.T + s @ W.T + b)
        states[t] = s
    return np.stack(states)


layer_input, finals = xs, []
for layer in range(2):
    forward, backward = direction(layer_input, layer, False), direction(layer_input, layer, True)
    finals += [forward[-1], backward[0]]  # h_n: the last step each direction took
    layer_input = np.concatenate([forward, backward], axis=-1)  # [s_t; s'_t]
error = max(np.abs(layer_input - out.numpy()).max(), np.abs(np.stack(finals) - h_n.numpy()).max())
print(f"largest difference from the layer (output and h_n): {error:.1e}")
assert error < 1e-12

# %%
# And the lecture's output :math:`o_t = g(V s_t + V' s'_t)` is one linear layer on the
# concatenation, whose weight is :math:`[V \; V']`: a ``Linear(2H, K)`` after a bidirectional
# layer is exactly that.
#
# Slot filling when the deciding word comes last
# ----------------------------------------------
# In lesson 3 the verb came first ("i would like to arrive taipei on november 2nd"), and a
# forward RNN could carry it to the slots. Turn the sentence round — "taipei on november 2nd i
# would like to arrive" — and when a forward RNN reads "taipei" it has not yet seen whether the
# traveller arrives or leaves. We generate such sentences from the words and tags of
# :mod:`tinygrad_rnn.data.slots`.


def verb_last_sentences(n, seed):
    rng = np.random.default_rng(seed)

    def pick(options):
        return options[int(rng.integers(len(options)))]

    sentences = []
    for _ in range(n):
        verb = pick(tuple(VERBS))
        place, time = VERBS[verb]
        prefix = pick(PREFIXES).split()
        words = [pick(CITIES), "on", pick(MONTHS), pick(DAYS), *prefix, verb]
        tags = [place, "other", time, time] + ["other"] * (len(prefix) + 1)
        sentences.append((words, tags))
    return encode(sentences)


train, test = verb_last_sentences(2000, seed=0), verb_last_sentences(500, seed=1)
for words, tags in train.sentences[:2]:
    print(" ".join(f"{w}/{t}" if t != "other" else w for w, t in zip(words, tags)))


class Tagger(tg.nn.Module):
    def __init__(self, bidirectional, embed=16, hidden=32):
        self.embed = tg.nn.Embedding(len(WORDS), embed)
        self.rnn = tg.nn.RNN(embed, hidden, bidirectional=bidirectional)
        self.out = tg.nn.Linear(hidden * (2 if bidirectional else 1), len(TAGS))

    def forward(self, x):  # (T, N) word ids -> (T, N, tags)
        h, _ = self.rnn(self.embed(x))
        return self.out(h)


def train_model(model, x, y, steps=300, batch=64, seed=0):
    """Adam on random batches (columns) of (x, y), with the cross-entropy of every position."""
    rng = np.random.default_rng(seed)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        cols = rng.integers(0, x.shape[1], size=batch)
        logits = model(tg.tensor(x[:, cols]))
        target = tg.tensor(y[..., cols].reshape(-1))
        loss = tg.F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def slot_accuracy(model, data):
    with tg.no_grad():
        best = model(tg.tensor(data.x)).numpy().argmax(axis=-1)
    slot = data.y > 0  # "other" is tag 0, padding -100
    return float((best[slot] == data.y[slot]).mean())


taggers = {}
for name, bidirectional in (("forward RNN", False), ("bidirectional RNN", True)):
    tg.manual_seed(0)
    taggers[name] = train_model(Tagger(bidirectional), train.x, train.y)
slot_acc = {name: slot_accuracy(model, test) for name, model in taggers.items()}
for name, acc in slot_acc.items():
    print(f"{name:18} slot accuracy on 500 held-out sentences: {acc:.3f}")

# %%
# The forward tagger is in lesson 3's feed-forward tagger's place: on the slot words it can
# only guess. The bidirectional one reads "arrive" or "leave" through its backward direction.
# That is also why a bidirectional RNN is of no use where the future is not there yet: a model
# that must answer while the sentence is still being spoken, or a language model predicting
# the next word, cannot read from the right.
#
# Many to one: sentiment with negation
# ------------------------------------
# The lecture's many-to-one example is sentiment analysis. We generate short reviews, "the
# movie was really good", "the food was never bad", each positive or negative; a negation
# ("not", "never") flips the adjective's sentiment. The sentences are padded on the *left*,
# so that every one ends at the last step, where the classifier reads its state.
SUBJECTS = ("the movie", "the food", "the service", "the hotel", "the book", "the show")
GOOD = ("good", "great", "fun", "lovely", "fine")
BAD = ("bad", "awful", "boring", "dull", "poor")
NEGATIONS, INTENSIFIERS = ("not", "never"), ("very", "really", "so")
VOCAB = ("<pad>", *sorted({w for s in SUBJECTS for w in s.split()} | {"was"} | set(GOOD)
                          | set(BAD) | set(NEGATIONS) | set(INTENSIFIERS)))


def reviews(n, seed):
    """n reviews as left-padded word ids (T, n), their labels (n,) and whether each is negated."""
    rng = np.random.default_rng(seed)
    sentences, labels, negated = [], [], []
    for _ in range(n):
        positive, negation = bool(rng.integers(2)), bool(rng.integers(2))
        words = [*SUBJECTS[rng.integers(len(SUBJECTS))].split(), "was"]
        words += [NEGATIONS[rng.integers(2)]] if negation else []
        words += [INTENSIFIERS[rng.integers(3)]] if rng.integers(2) else []
        words += [(GOOD if positive else BAD)[rng.integers(5)]]
        sentences.append(words)
        labels.append(int(positive != negation))
        negated.append(negation)
    x = np.zeros((max(map(len, sentences)), n), dtype=np.int64)  # <pad> is id 0
    for j, words in enumerate(sentences):
        x[len(x) - len(words):, j] = [VOCAB.index(w) for w in words]
    return x, np.array(labels), np.array(negated), sentences


x_train, y_train, _, sentences = reviews(2000, seed=0)
x_test, y_test, negated_test, _ = reviews(1000, seed=1)
for words, label in zip(sentences[:4], y_train):
    print(f"{' '.join(words):35} -> {'positive' if label else 'negative'}")

# %%
# Two classifiers. The *bag of words* forgets the order: it counts how often each word occurs
# and feeds the counts to one linear layer. The RNN reads the words in order and classifies its
# last state, :math:`y = V h_T + c`.


def word_counts(x):
    counts = np.zeros((x.shape[1], len(VOCAB)), dtype=np.float32)
    for t in range(len(x)):
        np.add.at(counts, (np.arange(x.shape[1]), x[t]), 1)
    counts[:, 0] = 0  # padding is no word
    return counts


class BagOfWords(tg.nn.Module):
    def __init__(self):
        self.out = tg.nn.Linear(len(VOCAB), 2)

    def forward(self, x):  # (T, N) word ids -> (N, 2), from the counts (N, V) alone
        return self.out(tg.tensor(word_counts(x.numpy())))


class SentimentRNN(tg.nn.Module):
    def __init__(self, embed=16, hidden=32):
        self.embed = tg.nn.Embedding(len(VOCAB), embed)
        self.rnn = tg.nn.RNN(embed, hidden)
        self.out = tg.nn.Linear(hidden, 2)

    def forward(self, x):  # (T, N) -> (N, 2): many to one
        h, _ = self.rnn(self.embed(x))
        return self.out(h[-1])


tg.manual_seed(0)
bag = train_model(BagOfWords(), x_train, y_train)
tg.manual_seed(0)
sentiment = train_model(SentimentRNN(), x_train, y_train)


def accuracy(model, x):
    with tg.no_grad():
        right = model(tg.tensor(x)).numpy().argmax(axis=-1) == y_test
    return {"all": right.mean(), "plain": right[~negated_test].mean(),
            "negated": right[negated_test].mean()}


results = {"bag of words": accuracy(bag, x_test), "RNN": accuracy(sentiment, x_test)}
for name, acc in results.items():
    print(f"{name:13} accuracy: all {acc['all']:.3f}, without negation {acc['plain']:.3f}, "
          f"negated {acc['negated']:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
kinds = ("plain", "negated")
for k, (name, acc) in enumerate(results.items()):
    ax.bar(np.arange(2) + 0.4 * k, [acc[kind] for kind in kinds], width=0.4, label=name)
ax.axhline(0.5, color="grey", linestyle=":", label="chance")
ax.set_xticks(np.arange(2) + 0.2, ["without negation", "negated"])
ax.set(ylabel="held-out accuracy", ylim=(0, 1.05), title="sentiment, many to one")
ax.legend(loc="lower left")
tg.viz.show(fig)

# %%
# Why the bag of words must fail: its score is a sum of one weight per word. To get "good"
# right the weight of "good" must exceed that of "bad"; but "not good" and "not bad" differ by
# the same two weights, with the labels the other way round. No choice of weights gets both
# pairs right — sentiment with negation is an exclusive or, which no linear model computes.
# Here, with as many negated reviews as plain ones, the best it finds is close to weighing
# every adjective alike, and it is near chance on the plain reviews too.
# The RNN's state after "not" is a different state, and the same adjective then moves it the
# other way.
#
# The number to check
# -------------------
print(f"slot accuracy, verb last: forward {slot_acc['forward RNN']:.3f}, "
      f"bidirectional {slot_acc['bidirectional RNN']:.3f}")
print(f"negated reviews: bag of words {results['bag of words']['negated']:.3f}, "
      f"RNN {results['RNN']['negated']:.3f}")
assert slot_acc["forward RNN"] < 0.6 and slot_acc["bidirectional RNN"] > 0.99
assert abs(results["bag of words"]["negated"] - 0.5) < 0.15
assert results["RNN"]["negated"] > 0.95 and results["RNN"]["all"] > 0.95

# %%
# Summary
# -------
# * By the shapes of input and output, RNNs map one to many, many to one, and many to many,
#   aligned (one output per input) or not (an encoder and a decoder).
# * A deep RNN stacks layers; a bidirectional one adds an RNN that reads from the right, and
#   each output sees the whole sequence, :math:`o_t = g(V s_t + V' s'_t)`. In PyTorch's layers
#   each direction of a layer reads both directions of the layer below.
# * A forward RNN cannot use words it has not read yet; a bidirectional one can, where the
#   whole sequence is there before the answer is needed.
# * A bag of words cannot represent negation, an exclusive or; an RNN reading in order can.
#
# Exercises
# ---------
# 1. Give the verb-last slot tagger two forward layers (``num_layers=2``) instead of two
#    directions. Does depth help? Why not?
# 2. Add double negations to the reviews ("the food was not never bad": clumsy English, but a
#    clear rule, two negations cancel). Does the RNN learn them? Does it need more steps?
# 3. Pad the reviews on the right instead of the left and keep reading the state at the last
#    step. What goes wrong, and how would you read each review's state at its own last word?
