r"""
Lesson 3 — Why a network needs memory: slot filling
===================================================

A ticket-booking system reads "I would like to **arrive Taipei** on **November 2nd**" and must
fill two slots: *destination* = Taipei, *time of arrival* = November 2nd. This is the example
that opens the recurrent-network lecture. Now read "I would like to **leave Taipei** on
November 2nd": the same words fill different slots, *place of departure* and *time of
departure*. A feed-forward network that tags one word at a time sees the word "taipei" and
nothing else, so it must give both sentences the same answer. A recurrent network carries a
memory :math:`h_t` from word to word, and can remember whether it read "arrive" or "leave".

**The number to check:** on 500 held-out sentences, the feed-forward tagger gets about half of
the slot words right (it can only guess between arrival and departure), the RNN tagger all of
them (accuracy 1.0).
"""

# %%
# A small slot-filling set
# ------------------------
# :func:`tinygrad_rnn.data.slot_filling` generates booking requests from a seed: a prefix ("i
# want to", "can i", ...), the verb "arrive" or "leave", a city, "on", a month and a day. Every
# word has one of five tags. The data are generated, never stored, so the set is the same on
# every machine.
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.data import TAGS, WORDS, slot_filling
from tinygrad_rnn.data.slots import encode, tagged_sentence

train, test = slot_filling(2000, seed=0), slot_filling(500, seed=1)
N_TAGS = len(TAGS)
for words, tags in train.sentences[:3]:
    print(" ".join(f"{w}/{t}" if t != "other" else w for w, t in zip(words, tags)))
print(f"{len(WORDS)} words, tags {TAGS}; x is (T, N) = {train.x.shape}")

# %%
# Two taggers
# -----------
# Both map each word to a 16-dimensional embedding and produce scores for the 5 tags at every
# position. The feed-forward tagger computes :math:`y_t = W_o \tanh(W_h e_t + b_h) + b_o` from
# word :math:`t` alone. The RNN tagger computes
#
# .. math::
#
#     h_t = \tanh(W_{ih} e_t + W_{hh} h_{t-1} + b), \qquad y_t = W_o h_t + b_o,
#
# so :math:`y_t` depends on every word up to :math:`t` through :math:`h_{t-1}`.


class FeedForwardTagger(tg.nn.Module):
    def __init__(self, vocab, embed=16, hidden=32, tags=N_TAGS):
        self.embed = tg.nn.Embedding(vocab, embed)
        self.hidden = tg.nn.Linear(embed, hidden)
        self.out = tg.nn.Linear(hidden, tags)

    def forward(self, x):  # x: (T, N) word ids -> (T, N, tags)
        return self.out(self.hidden(self.embed(x)).tanh())


class RNNTagger(tg.nn.Module):
    def __init__(self, vocab, embed=16, hidden=32, tags=N_TAGS):
        self.embed = tg.nn.Embedding(vocab, embed)
        self.rnn = tg.nn.RNN(embed, hidden)
        self.out = tg.nn.Linear(hidden, tags)

    def forward(self, x):
        h, _ = self.rnn(self.embed(x))  # h: (T, N, hidden), one h_t per word
        return self.out(h)


def loss_of(model, x, y):
    logits = model(tg.tensor(x))
    return tg.F.cross_entropy(logits.reshape(-1, len(TAGS)), tg.tensor(y.reshape(-1)))


# %%
# Training
# --------
# Both are trained the same way: 300 Adam steps on random batches of 64 sentences, with the
# cross-entropy of the tags (padding positions carry the tag id -100 and are ignored).


def train_tagger(model, steps=300, batch=64, seed=0):
    rng = np.random.default_rng(seed)
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        cols = rng.integers(0, train.x.shape[1], size=batch)
        loss = loss_of(model, train.x[:, cols], train.y[:, cols])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


tg.manual_seed(0)
feedforward = FeedForwardTagger(len(WORDS))
ff_losses = train_tagger(feedforward)
tg.manual_seed(0)
recurrent = RNNTagger(len(WORDS))
rnn_losses = train_tagger(recurrent)

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.semilogy(ff_losses, label="feed-forward tagger")
ax.semilogy(rnn_losses, label="RNN tagger")
ax.set(xlabel="Adam step", ylabel="cross-entropy (nats per word)", title="training loss")
ax.legend()
ax.grid(alpha=0.3)
tg.viz.show(fig)

# %%
# The feed-forward loss levels off at a floor it cannot pass. On the slot words (city, month and
# day: 3 of the about 8 words of a sentence) the best it can do is a coin flip between arrival
# and departure, :math:`\ln 2` nats each; everything else it learns perfectly. The RNN's loss
# goes on falling towards zero.
slot_fraction = (train.y > 0).sum() / (train.y >= 0).sum()
print(f"feed-forward loss over the last 50 steps {np.mean(ff_losses[-50:]):.3f}; floor "
      f"{slot_fraction:.3f} x ln 2 = {slot_fraction * np.log(2):.3f}")
print(f"RNN loss over the last 50 steps {np.mean(rnn_losses[-50:]):.5f}")

# %%
# The two lecture sentences
# -------------------------


def predict(model, words_and_tags):
    data = encode(words_and_tags)
    with tg.no_grad():
        best = model(tg.tensor(data.x)).numpy().argmax(axis=-1)
    return [[TAGS[k] for k in best[: len(w), j]] for j, (w, _) in enumerate(words_and_tags)]


lecture = [tagged_sentence("arrive", "taipei", "november", "2nd"),
           tagged_sentence("leave", "taipei", "november", "2nd")]
for name, model in (("feed-forward", feedforward), ("RNN", recurrent)):
    for (words, _), tags in zip(lecture, predict(model, lecture)):
        print(f"{name:>12}: {words[4]:6} taipei -> {tags[5]:12} november 2nd -> {tags[7]}")

# %%
# The unrolled RNN
# ----------------
# The RNN layer's graph for the first lecture sentence, one box per time step (word): the same
# weights (yellow, drawn once) are used at every step, and each :math:`h_t` feeds the next
# step. The input projections :math:`W_{ih} e_t + b` of all nine words are one matrix product
# before the loop. The graph that backpropagation walks *is* this unrolled graph, which is the
# subject of the next lesson.
one = encode(lecture[:1])
e = recurrent.embed(tg.tensor(one.x))
h, _ = recurrent.rnn(e)
unrolled = tg.viz.draw(h, level="step", module=recurrent, inputs={e: lecture[0][0]})
tg.viz.show(unrolled)

# %%
# The number to check
# -------------------
# Accuracy on the slot words (every tag but "other") of 500 held-out sentences:


def slot_accuracy(model, data):
    with tg.no_grad():
        best = model(tg.tensor(data.x)).numpy().argmax(axis=-1)
    slot = data.y > 0  # "other" is tag 0, padding is -100
    return float((best[slot] == data.y[slot]).mean())


ff_acc, rnn_acc = slot_accuracy(feedforward, test), slot_accuracy(recurrent, test)
print(f"slot accuracy: feed-forward {ff_acc:.3f}, RNN {rnn_acc:.3f}")
assert ff_acc < 0.6 and rnn_acc > 0.99

# %%
# Summary
# -------
# * A tagger that reads one word at a time gives the same word the same answer: it cannot
#   tell "arrive Taipei" from "leave Taipei" at the word "Taipei".
# * A recurrent network carries a state :math:`h_t` from word to word, computed by the same
#   weights at every step; its output at step :math:`t` depends on every word up to :math:`t`.
# * Unrolled over a sentence, an RNN is a deep network with shared weights: the graph that
#   backpropagation walks.
#
# Exercises
# ---------
# 1. Put the verb after the slots: "taipei on november 2nd i would like to arrive". What slot
#    accuracy do you expect from the RNN tagger, and why? (Lesson 9 answers.)
# 2. Give the feed-forward tagger a window: the embeddings of the word and of the four words
#    before it, concatenated. Can it solve the task? What must it assume about the sentences
#    that the RNN need not?
# 3. Shrink the RNN's hidden size to 2, then to 1. Does it still solve the task? How much
#    memory does the task need?
