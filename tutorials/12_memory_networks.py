r"""
Lesson 12 — Memory networks: reading comprehension
==================================================

Read a short story and answer a question about it:

    Brian is a frog. Lily is a lion. Brian is yellow. Lily is gray. Greg is a frog.
    *What color is Greg?* — yellow.

No sentence says Greg's colour. The answer needs three facts in a chain: Greg is a frog; Brian
is a frog too; Brian is yellow. This is task 16, *basic induction*, of the bAbI tasks (Weston
et al. 2015), and the example that closes the lecture: an *end-to-end memory network*
(Sukhbaatar, Szlam, Weston & Fergus 2015) stores each sentence of the story as a memory and
reads them with attention, once per *hop*; each hop's reading is added to what it is looking
for, so that the next hop can look for something else. The lecture's table shows where the
network's attention falls: on "Greg is a frog" at hop 1, "Brian is a frog" at hop 2 and
"Brian is yellow" at hop 3.

This lesson builds the three-hop network from ``tg.nn.Embedding``, ``tg.F.softmax`` and
matrix products, trains it on generated stories, and regenerates the lecture's table.

**The numbers to check:** on 1,000 held-out stories the network answers every question
(accuracy 1.0, asserted at least 0.98), and at hop 3 it puts more than 0.9 of its attention on
the sentence that gives the answer's colour.
"""

# %%
# Generated stories
# -----------------
# Each story names three people: the one asked about, one more of the same species, whose
# colour is stated, and one of another species. Species get colours at random in every story
# (frogs are yellow in one story and gray in the next), so the answer cannot be learnt from
# the words alone: it must be read from the story. A story is 5 sentences of at most 4 words,
# lower-cased into word ids; the sentence about the asked-about person comes at a random place.
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg

NAMES = ["lily", "bernhard", "greg", "julius", "brian", "emily", "mary", "sandra"]
ANIMALS = ["frog", "lion", "swan", "rhino"]
COLORS = ["green", "white", "yellow", "gray"]
WORDS = ["<pad>", "is", "a", "what", "color"] + NAMES + ANIMALS + COLORS
ID = {w: i for i, w in enumerate(WORDS)}
V = len(WORDS)  # 21 words
J, MEMORIES = 4, 5  # words per sentence, sentences per story
ROLES = ["asked: X is a A", "same species: Y is a A", "its colour: Y is C",
         "other: Z is a B", "other: Z is D"]


def story(rng):
    """One story: its sentences, question, answer, and where each role's sentence is."""
    asked, same, other = rng.choice(len(NAMES), 3, replace=False)
    colour_of = rng.permutation(len(COLORS))  # species -> colour, new in every story
    a, b = rng.choice(len(ANIMALS), 2, replace=False)
    pairs = [[f"{NAMES[same]} is a {ANIMALS[a]}", f"{NAMES[same]} is {COLORS[colour_of[a]]}"],
             [f"{NAMES[other]} is a {ANIMALS[b]}", f"{NAMES[other]} is {COLORS[colour_of[b]]}"]]
    first = rng.integers(2)
    sentences = pairs[first] + pairs[1 - first]
    at = rng.integers(len(sentences) + 1)
    sentences.insert(at, f"{NAMES[asked]} is a {ANIMALS[a]}")
    role = [sentences.index(s) for s in [sentences[at]] + pairs[0] + pairs[1]]
    return sentences, f"what color is {NAMES[asked]}", COLORS[colour_of[a]], role


def words(sentence):
    ids = [ID[w] for w in sentence.split()]
    return ids + [0] * (J - len(ids))


def stories(n, seed):
    """``n`` stories: (N, 5, 4) sentence ids, (N, 4) questions, (N,) answers, (N, 5) roles."""
    rng = np.random.default_rng(seed)
    told = [story(rng) for _ in range(n)]
    x = np.array([[words(s) for s in t[0]] for t in told])
    q = np.array([words(t[1]) for t in told])
    answer = np.array([ID[t[2]] for t in told])
    return x, q, answer, np.array([t[3] for t in told]), told


def written(sentence):
    """A sentence as printed: names and the first word capitalised."""
    out = " ".join(w.capitalize() if w in NAMES else w for w in sentence.split())
    return out[0].upper() + out[1:]


test = stories(1000, seed=2)
sentences, question, answer, roles = test[4][0]
for i, s in enumerate(sentences):
    print(f"{i + 1}. {written(s)}.")
print(f"{written(question)}?  Answer: {answer}")

# %%
# The network
# -----------
# Each sentence :math:`x_i = (x_{i1}, \dots, x_{iJ})` is written into memory twice, as a *key*
# :math:`m_i` to be compared with the question and a *value* :math:`c_i` to be read out: each
# word is embedded, the word vectors are weighted by their position :math:`j` (the *position
# encoding* :math:`l_{kj} = (1 - j/J) - (k/d)(1 - 2j/J)`, so that "greg is a frog" and "frog
# is a greg" differ), summed, and a learnt vector for the sentence's age is added (*temporal
# encoding*: :math:`T(i)`, :math:`i = 1` for the most recent sentence):
#
# .. math::
#
#     m_i = \sum_j l_j \odot A\,x_{ij} + T_A(i), \qquad
#     c_i = \sum_j l_j \odot C\,x_{ij} + T_C(i), \qquad
#     u^1 = \sum_j l_j \odot B\,q_j.
#
# A hop compares the question state :math:`u^k` with every key, reads the values with those
# weights, and adds what it read:
#
# .. math::
#
#     p^k_i = \operatorname{softmax}_i\big((u^k)^{\top} m^k_i\big), \qquad
#     o^k = \sum_i p^k_i\, c^k_i, \qquad u^{k+1} = u^k + o^k,
#
# and after three hops the answer's scores are :math:`W u^4`. With *adjacent* weight tying, as
# in the paper, one hop's value embedding is the next hop's key embedding
# (:math:`A^{k+1} = C^k`), the question uses the first key embedding (:math:`B = A^1`) and the
# answer the last value embedding (:math:`W^{\top} = C^3`): 4 word embeddings and 4 temporal
# ones for 3 hops. Each embedding has :math:`d = 40` numbers.
D = 40
j, k = np.arange(1, J + 1)[:, None], np.arange(1, D + 1)[None, :]
POSITION = ((1 - j / J) - (k / D) * (1 - 2 * j / J)).astype(np.float32)  # (J, d)


class MemN2N(tg.nn.Module):
    def __init__(self, vocab=V, dim=D, memories=MEMORIES, hops=3):
        self.hops, self.dim = hops, dim
        self.word = [tg.nn.Embedding(vocab, dim) for _ in range(hops + 1)]  # A^1 = B, .., C^3 = W^T
        self.time = [tg.nn.Embedding(memories, dim) for _ in range(hops + 1)]
        for n, (e, t) in enumerate(zip(self.word, self.time)):
            e.weight.data *= 0.1  # N(0, 0.1^2), as in the paper
            e.weight.data[ID["<pad>"]] = 0
            t.weight.data *= 0.1
            setattr(self, f"word{n}", e)  # registered as parameters
            setattr(self, f"time{n}", t)
        self.position = tg.tensor(POSITION)
        self.age = tg.tensor(np.arange(memories)[::-1].copy())  # the last sentence has age 0

    def memory(self, n, x):
        """Sentences (N, M, J) as memories (N, M, d) of embedding n."""
        return (self.word[n](x) * self.position).sum(axis=-2) + self.time[n](self.age)

    def forward(self, x, q, linear=False):
        x = tg.tensor(x)
        u = (self.word[0](tg.tensor(q)) * self.position).sum(axis=-2)  # (N, d)
        attention = []
        for n in range(self.hops):
            m, c = self.memory(n, x), self.memory(n + 1, x)
            scores = (m @ u.reshape(len(q), self.dim, 1)).reshape(len(q), -1)  # (N, M)
            p = scores if linear else tg.F.softmax(scores)
            u = u + (p.reshape(len(q), 1, -1) @ c).reshape(len(q), self.dim)
            attention.append(p)
        return u @ self.word[-1].weight.T, attention


# %%
# Training
# --------
# Trained end to end, with only the answer as a signal, a memory network easily settles for a
# local minimum that stops short of the chain of facts: it learns to answer one of the colours
# in the story, right half of the time. The paper has two remedies: *linear start* (the first
# epochs run without the softmax of the hops, a model linear up to the answer's softmax and
# easier to fit; here the first 10 of 20 epochs) and several runs from random starts, keeping
# the best. Even so, some starts get
# stuck: 3 of the 7 we tried with :math:`d = 40`, and most with the paper's :math:`d = 20`. So
# we train from up to four random starts and keep the first whose accuracy on 500 validation
# stories reaches 0.99.
#
# Adam at learning rate 0.005, batches of 32, 20 epochs over 5,000 stories, the gradient norm
# clipped at 40 as in the paper.
train = stories(5000, seed=0)
valid = stories(500, seed=1)


def accuracy(model, data):
    with tg.no_grad():
        scores, _ = model(data[0], data[1])
    return float((scores.numpy().argmax(axis=1) == data[2]).mean())


def fit(seed, epochs=20, linear_epochs=10, batch=32):
    tg.manual_seed(seed)
    model = MemN2N()
    optimizer = tg.optim.Adam(model.parameters(), lr=0.005)
    order, losses = np.random.default_rng(seed), []
    for epoch in range(epochs):
        for idx in np.array_split(order.permutation(len(train[0])), len(train[0]) // batch):
            scores, _ = model(train[0][idx], train[1][idx], linear=epoch < linear_epochs)
            loss = tg.F.cross_entropy(scores, tg.tensor(train[2][idx]))
            optimizer.zero_grad()
            loss.backward()
            tg.nn.utils.clip_grad_norm_(model.parameters(), 40.0)
            optimizer.step()
            losses.append(loss.item())
    return model, np.array(losses)


runs = []
for seed in range(4):
    model, losses = fit(seed)
    runs.append((accuracy(model, valid), seed, model, losses))
    print(f"start {seed}: validation accuracy {runs[-1][0]:.3f}")
    if runs[-1][0] >= 0.99:
        break
valid_accuracy, seed, model, losses = max(runs, key=lambda run: run[0])
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.semilogy(np.convolve(losses, np.ones(50) / 50, mode="valid"))
ax.axvline(10 * len(losses) / 20, color="grey", linestyle=":", label="softmax switched on")
ax.set(xlabel="Adam step", ylabel="cross-entropy (50-step mean)",
       title=f"memory network, 3 hops (start {seed})")
ax.legend()
ax.grid(alpha=0.3)
tg.viz.show(fig)

# %%
# Where it looks
# --------------
# The lecture's table, regenerated for the first held-out story: the attention
# :math:`p^k_i` of each hop on each sentence.
test_accuracy = accuracy(model, test)
with tg.no_grad():
    scores, attention = model(test[0], test[1])
attention = np.stack([p.numpy() for p in attention], axis=1)  # (N, hops, M)
prediction = WORDS[int(scores.numpy()[0].argmax())]
support = set(roles[:3])
print(f"{'story':24}{'support':>9}{'hop 1':>8}{'hop 2':>8}{'hop 3':>8}")
for i, s in enumerate(sentences):
    print(f"{written(s) + '.':24}{'yes' if i in support else '':>9}"
          + "".join(f"{attention[0, h, i]:8.2f}" for h in range(3)))
print(f"{written(question)}?  Answer: {answer}  Prediction: {prediction}")

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.imshow(attention[0].T, cmap="Blues", vmin=0, vmax=1, aspect="auto")
for i in range(MEMORIES):
    for h in range(3):
        ax.text(h, i, f"{attention[0, h, i]:.2f}", ha="center", va="center",
                color="white" if attention[0, h, i] > 0.5 else "black")
ax.set(xticks=range(3), xticklabels=["hop 1", "hop 2", "hop 3"], yticks=range(MEMORIES),
       yticklabels=[written(s) + (" (support)" if i in support else "")
                    for i, s in enumerate(sentences)],
       title=f"{written(question)}?  prediction: {prediction}")
tg.viz.show(fig)

# %%
# Over all 1,000 held-out stories, the mean attention of each hop on the sentence of each role
# (X is asked about, Y shares its species A, Z does not):
rows = np.arange(len(test[0]))
by_role = np.array([[attention[rows, h, test[3][:, r]].mean() for r in range(len(ROLES))]
                    for h in range(3)])  # (hops, roles)
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.imshow(by_role.T, cmap="Blues", vmin=0, vmax=1, aspect="auto")
for r in range(len(ROLES)):
    for h in range(3):
        ax.text(h, r, f"{by_role[h, r]:.2f}", ha="center", va="center",
                color="white" if by_role[h, r] > 0.5 else "black")
ax.set(xticks=range(3), xticklabels=["hop 1", "hop 2", "hop 3"], yticks=range(len(ROLES)),
       yticklabels=ROLES, title="mean attention over 1,000 held-out stories")
tg.viz.show(fig)

# %%
# Hop 3 reads the colour sentence of the other person of the same species, nearly always
# alone: the sentence the answer is read from. The first two hops are much less sharp than in
# the paper's example, and differ from one training run to the next. What hop 3 needs from
# them is, in :math:`u^3`, enough of the asked-about species and of who shares it to pick that
# sentence, and many weightings of the first two hops carry enough; once every answer is right,
# training no longer asks for a sharper one. Only the last reading is pinned down by the task.
#
# The number to check
# -------------------
print(f"test accuracy {test_accuracy:.3f} (validation {valid_accuracy:.3f}, start {seed})")
print(f"mean attention of hop 3 on the answer's sentence: {by_role[2, 2]:.3f}; "
      f"of hops 2 and 3 on the three supporting sentences: "
      f"{by_role[1, :3].sum():.3f}, {by_role[2, :3].sum():.3f}")
assert test_accuracy >= 0.98
assert by_role[2, 2] > 0.9 and attention[0, 2, roles[2]] > 0.9

# %%
# **Summary.** A memory network answers by reading: it stores each sentence as an embedding
# (with its word positions and its age), attends over them with the question, adds what it
# read to the question and attends again, three times for a chain of three facts; the last
# hop's attention shows which sentence the answer was read from. Its weakness is training: end to end, with
# only the answer as a signal, the chain is found from some random starts and not from others,
# which is why the paper needed linear start and repeated runs.
#
# **Exercises.**
#
# 1. Look at the attention table of start 0, which got stuck. Then set ``D = 20``: how many of
#    seeds 0 to 9 find the chain? Does ``linear_epochs=0`` help or hurt?
# 2. Replace the position encoding by a plain bag of words (``POSITION`` all ones). Which
#    sentences can the network no longer tell apart, and does it matter for this task?
# 3. Train with ``hops=2``. Can two hops answer the induction questions? Explain with the
#    chain of facts.
