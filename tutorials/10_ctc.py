r"""
Lesson 10 — CTC: when the output is shorter than the input
==========================================================

A speech recogniser reads about a hundred acoustic frames a second and writes a few characters:
the output sequence is much shorter than the input, and no one marks which frames belong to
which character. The lecture's example is 8 frames of someone saying 好棒 ("great"). Tag each
frame with a character, then *trim* the repeats:

    好 好 好 棒 棒 棒 棒 棒  →  好棒

But then 好棒棒 (a sarcastic "oh, how great") can never come out: its two 棒 merge into one.
Connectionist temporal classification (CTC; Graves, Fernández, Gomez & Schmidhuber 2006) adds a
*blank* :math:`\varphi` to the alphabet, "no character here", and reads a frame labelling
:math:`\pi` (a *path*) with the collapsing map :math:`\mathcal{B}`: merge repeats, then drop the
blanks. A blank between two 棒 keeps them apart:

    好 φ φ 棒 棒 φ 棒 φ  →  好棒棒

A network outputs a distribution :math:`y_t` over the alphabet at every frame; taking the frames
as independent given the input, a labelling :math:`\ell` has the probability of every path
that collapses to it,

.. math::

    p(\ell \mid x) = \sum_{\pi \in \mathcal{B}^{-1}(\ell)} \prod_{t=1}^{T} y_t(\pi_t),
    \qquad \mathcal{L}_{\text{CTC}} = -\log p(\ell \mid x).

This lesson counts the paths, computes the sum by brute force and by the forward recursion of
:func:`tinygrad_rnn.nn.functional.ctc_loss`, trains a bidirectional LSTM with CTC on generated
"speech", and decodes its outputs by best path and by prefix beam search.

**The numbers to check:** of the :math:`3^8 = 6561` labellings of 8 frames over
{好, 棒, φ}, 210 collapse to 好棒 and 210 to 好棒棒 (without the blank: 7 and 0); the brute-force
:math:`-\log p(\ell \mid x)` equals ``ctc_loss`` to :math:`10^{-12}` in float64; and a
bidirectional LSTM trained with CTC for 600 steps transcribes 200 held-out utterances with a
label error rate of about 1 % (asserted below 3 %), by either decoder.
"""

# %%
# Counting the paths
# ------------------
# Label the classes as ``ctc_loss`` does: 0 is the blank, 1 is 好 and 2 is 棒. We list all
# :math:`3^8` paths of 8 frames, collapse each, and count how many give each labelling. The
# figures spell 好 as *hao* and 棒 as *bang* (the documentation is built without a Chinese
# font).
import itertools
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg
from tinygrad_rnn.nn.ctc import ctc_beam_search, ctc_greedy_decode

BLANK, HAO, BANG = 0, 1, 2
CHARS = {BLANK: "φ", HAO: "好", BANG: "棒"}
ROMAN = {BLANK: "φ", HAO: "hao", BANG: "bang"}


def collapse(path, blank=BLANK):
    """The CTC map B: merge repeated labels, then drop the blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def spell(labels, chars=CHARS):
    return "".join(chars[k] for k in labels)


paths = list(itertools.product((BLANK, HAO, BANG), repeat=8))
counts = Counter(collapse(p) for p in paths)
no_blank = Counter(collapse(p) for p in paths if BLANK not in p)
print(f"{len(paths)} paths collapse to {len(counts)} labellings "
      f"({len(no_blank)} without the blank)")
for target in ((HAO, BANG), (HAO, BANG, BANG)):
    print(f"{spell(target)}: {counts[target]} paths, {no_blank[target]} without the blank")
print("some paths to 好棒棒:", *[spell(p) for p in paths if collapse(p) == (HAO, BANG, BANG)][::50],
      sep="\n  ")

# %%
# Without the blank, only the 7 ways of cutting 8 frames into a run of 好 and a run of 棒 are
# left for 好棒, and none for 好棒棒. With it, both get 210 paths. Where the blank may go is
# fixed by the extended label sequence :math:`\ell'`, the target with a blank before, between
# and after its labels: for 好棒棒, :math:`\ell' = (\varphi, 好, \varphi, 棒, \varphi, 棒,
# \varphi)`. A path walks down :math:`\ell'` one frame at a time, staying on a position,
# moving to the next, or skipping a blank between two *different* labels.
#
# The sum by brute force, and by ``ctc_loss``
# -------------------------------------------
# Give each frame a random distribution over the three classes and add up the probabilities of
# the 210 paths of each target. ``tg.F.ctc_loss`` takes log-probabilities of shape (T, N, C), as
# ``torch.nn.functional.ctc_loss`` does; in float64 the two agree to the last digits.
rng = np.random.default_rng(0)
logits = rng.standard_normal((8, 3)) * 2
y = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # y[t, k]: frame t, class k
path_prob = {p: np.prod(y[np.arange(8), p]) for p in paths}
brute, ours = {}, {}
for target in ((HAO, BANG), (HAO, BANG, BANG)):
    brute[target] = -np.log(sum(path_prob[p] for p in paths if collapse(p) == target))
    log_probs = tg.tensor(np.log(y)[:, None, :])  # (T=8, N=1, C=3), float64
    ours[target] = tg.F.ctc_loss(log_probs, [target], [8], [len(target)], reduction="sum").item()
    print(f"{spell(target)}: brute force {brute[target]:.15f}, ctc_loss {ours[target]:.15f}, "
          f"difference {abs(brute[target] - ours[target]):.1e}")

# %%
# The forward variables
# ---------------------
# ``ctc_loss`` never lists the paths: their number grows exponentially with the frames. It
# adds them up as it goes (Graves et al. 2006, Sec. 4.1). The *forward variable*
# :math:`\alpha_t(s)` is the total probability of the path prefixes that are at position
# :math:`s` of :math:`\ell'` at frame :math:`t`:
#
# .. math::
#
#     \alpha_1(1) = y_1(\varphi), \quad \alpha_1(2) = y_1(\ell_1), \qquad
#     \alpha_t(s) = y_t(\ell'_s)\,\big(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
#       + [\ell'_s \ne \varphi,\ \ell'_s \ne \ell'_{s-2}]\;\alpha_{t-1}(s-2)\big),
#
# and :math:`p(\ell \mid x) = \alpha_T(|\ell'|) + \alpha_T(|\ell'| - 1)`: a path ends on the
# last label or on the final blank. It is dynamic programming over a trellis of
# :math:`T \times |\ell'|` cells, the same idea as the forward algorithm of a hidden Markov
# model. ``ctc_loss`` runs it in logs (a sum of logs is a ``logsumexp``); here is the plain
# version, for 好棒棒:
target = (HAO, BANG, BANG)
ext = [BLANK]
for k in target:
    ext += [k, BLANK]
S = len(ext)  # 7


def skip_allowed(s):
    return s >= 2 and ext[s] != BLANK and ext[s] != ext[s - 2]


alpha = np.zeros((8, S))
alpha[0, :2] = y[0, ext[:2]]
for t in range(1, 8):
    for s in range(S):
        into = alpha[t - 1, s] + (alpha[t - 1, s - 1] if s >= 1 else 0)
        into += alpha[t - 1, s - 2] if skip_allowed(s) else 0
        alpha[t, s] = y[t, ext[s]] * into
p_forward = alpha[-1, -1] + alpha[-1, -2]
print(f"-log p by the forward variables: {-np.log(p_forward):.15f}")

# the backward variables (the same recursion run from the end) mark the cells that can still
# reach the end: only cells on a complete path are drawn
beta = np.zeros((8, S))
beta[-1, -2:] = y[-1, ext[-2:]]
for t in range(6, -1, -1):
    for s in range(S):
        out = beta[t + 1, s] + (beta[t + 1, s + 1] if s + 1 < S else 0)
        out += beta[t + 1, s + 2] if s + 2 < S and skip_allowed(s + 2) else 0
        beta[t, s] = y[t, ext[s]] * out
on_a_path = (alpha > 0) & (beta > 0)

fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
shade = alpha / alpha.sum(axis=1, keepdims=True)  # alpha of each frame, normalised
for t in range(8):
    for s in range(S):
        if not on_a_path[t, s]:
            continue
        for step in (0, 1, 2):  # the allowed moves to frame t + 1
            s2 = s + step
            if t < 7 and s2 < S and on_a_path[t + 1, s2] and (step < 2 or skip_allowed(s2)):
                ax.annotate("", xy=(t + 1, s2), xytext=(t, s),
                            arrowprops={"arrowstyle": "-|>", "color": "grey", "lw": 0.8,
                                        "shrinkA": 11, "shrinkB": 11})
        ax.scatter(t, s, s=420, c=[shade[t, s]], cmap="Blues", vmin=0, vmax=1, zorder=3,
                   edgecolors="black", linewidths=2.5 if ext[s] != BLANK else 0.8)
ax.set(xticks=range(8), xticklabels=[f"t={t + 1}" for t in range(8)], yticks=range(S),
       yticklabels=[ROMAN[k] for k in ext], xlim=(-0.5, 7.5), ylim=(S - 0.5, -0.5),
       xlabel="frame", ylabel="extended label l'",
       title="forward variables of 'hao bang bang' (shade: alpha_t(s) / sum_s alpha_t(s))")
fig.colorbar(plt.cm.ScalarMappable(cmap="Blues"), ax=ax, label="share of alpha at frame t")
tg.viz.show(fig)

# %%
# As in Graves et al.'s Fig. 3, each circle is a cell of the trellis (thick outline: a label,
# thin: a blank) and each arrow an allowed move. Every path starts in one of the top two cells
# and ends in one of the bottom two; a path must step onto the blank between the two *bang*: no
# arrow skips it. Counting the paths through this trellis with every :math:`y_t(k) = 1` gives
# the 210 of the enumeration.
ones_alpha = np.zeros((8, S))
ones_alpha[0, :2] = 1
for t in range(1, 8):
    for s in range(S):
        ones_alpha[t, s] = ones_alpha[t - 1, s] + (ones_alpha[t - 1, s - 1] if s else 0)
        ones_alpha[t, s] += ones_alpha[t - 1, s - 2] if skip_allowed(s) else 0
n_paths = int(ones_alpha[-1, -1] + ones_alpha[-1, -2])
print(f"paths counted by the forward recursion: {n_paths}")

# %%
# The loss as a graph: backpropagation through the frames
# -------------------------------------------------------
# ``ctc_loss`` is written with primitive ops only, one step of the recursion per frame, each
# under the scope of a time step, like an unrolled RNN. Its gradient with respect to the
# network's outputs is backpropagation through that graph: no hand-written derivative. Here it
# is for 4 frames (one cluster per frame):
small = tg.tensor(np.log(y[:4, None, :]), requires_grad=True)
small_loss = tg.F.ctc_loss(small, [[HAO, BANG]], [4], [2], reduction="sum")
ctc_graph = tg.viz.draw(small_loss)
tg.viz.show(ctc_graph)

# %%
# Generated speech
# ----------------
# Now a task to learn. An "utterance" spells a random word of 2 to 6 symbols from the
# alphabet *a*–*e*. Each symbol sounds for 4 to 9 frames; a frame is a vector of 8 numbers: the
# symbol's fixed random prototype plus Gaussian noise. Silence (a prototype of zeros) may come
# before, between and after the symbols, and always comes between two equal symbols (as a
# speaker pauses between two equal syllables; without it "aa" would sound like a long "a").
# Utterances are padded with silence to the longest of their batch; ``input_lengths`` gives
# each one's true length. The generator also returns which symbol sounds at each frame, the
# *alignment*: CTC never sees it, we use it only to look at what the network learnt.
SYMBOLS = "abcde"
K, D, NOISE = len(SYMBOLS), 8, 0.6
PROTOTYPES = np.random.default_rng(1).standard_normal((K + 1, D))
PROTOTYPES[0] = 0  # row 0: silence; the blank shares its index, but is not the same thing


def utterances(n, seed):
    """``n`` utterances: (T, N, D) frames, (N, S) padded targets, input and target lengths,
    and the (T, N) alignment (the symbol sounding at each frame, 0 for silence)."""
    rng = np.random.default_rng(seed)
    words, sounds = [], []
    for _ in range(n):
        word = rng.integers(1, K + 1, rng.integers(2, 7))
        frames = [0] * rng.integers(0, 3)
        for i, k in enumerate(word):
            if i and (k == word[i - 1] or rng.random() < 0.3):
                frames += [0] * rng.integers(1, 3)
            frames += [k] * rng.integers(4, 10)
        words.append(word)
        sounds.append(frames + [0] * rng.integers(0, 3))
    T = max(map(len, sounds))
    x = NOISE * rng.standard_normal((T, n, D))
    targets = np.zeros((n, max(map(len, words))), dtype=np.int64)
    alignment = np.zeros((T, n), dtype=np.int64)
    for i, (word, frames) in enumerate(zip(words, sounds)):
        alignment[:len(frames), i] = frames
        targets[i, :len(word)] = word
    x += PROTOTYPES[alignment]
    return (x.astype(np.float32), targets, np.array(list(map(len, sounds))),
            np.array(list(map(len, words))), alignment)


def word(labels):
    return "".join(SYMBOLS[k - 1] for k in labels)


def show_utterance(ax, x, alignment, title):
    """The frames as an image, each sounding symbol's letter above its frames."""
    ax.imshow(x.T, aspect="auto", cmap="coolwarm", interpolation="nearest")
    for t, k in enumerate(alignment):
        if k and (t == 0 or alignment[t - 1] != k):
            ax.text(t - 0.4, -0.7, SYMBOLS[k - 1], fontsize=11, va="bottom")
    ax.set(ylabel="feature", ylim=(D - 0.5, -1.9))
    ax.set_title(title, pad=4)


x_show, targets_show, frames_show, lengths_show, alignment_show = utterances(1, seed=123)
fig, ax = plt.subplots(figsize=(8, 2.8), layout="constrained")
show_utterance(ax, x_show[:, 0], alignment_show[:, 0],
               f"an utterance of '{word(targets_show[0, :lengths_show[0]])}' "
               f"({frames_show[0]} frames; letters mark the alignment)")
ax.set_xlabel("frame")
tg.viz.show(fig)

# %%
# A bidirectional LSTM with CTC
# -----------------------------
# The model reads the whole utterance in both directions (``bidirectional=True``: the output
# at frame :math:`t` is the forward LSTM's state after frames :math:`1..t` and the backward
# LSTM's after frames :math:`T..t`), and a linear layer maps each frame to 6 scores: the blank
# and the 5 symbols. ``log_softmax`` makes them the :math:`\log y_t` that ``ctc_loss`` takes.
# Adam at learning rate 0.01 on batches of 32 fresh utterances, the gradient norm clipped at 1.


class Recogniser(tg.nn.Module):
    def __init__(self, features=D, hidden=32, classes=K + 1):
        self.lstm = tg.nn.LSTM(features, hidden, bidirectional=True)
        self.out = tg.nn.Linear(2 * hidden, classes)

    def forward(self, x):  # (T, N, D) -> (T, N, classes) log-probabilities
        h, _ = self.lstm(x)
        return tg.F.log_softmax(self.out(h))


STEPS = 600
tg.manual_seed(0)
model = Recogniser()
optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(STEPS):
    x, targets, input_lengths, target_lengths, _ = utterances(32, seed=step)
    loss = tg.F.ctc_loss(model(tg.tensor(x)), targets, input_lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.semilogy(np.convolve(losses, np.ones(20) / 20, mode="valid"))
ax.set(xlabel="Adam step", ylabel="CTC loss per label (20-step mean)",
       title="bidirectional LSTM, generated speech")
ax.grid(alpha=0.3)
tg.viz.show(fig)

# %%
# Peaks separated by blanks
# -------------------------
# What has it learnt? Below, a held-out utterance and the network's per-frame distributions.
# The blank takes the silences, the boundaries between sounds and the pauses between equal
# symbols; each symbol holds a peak over *some* of the frames of its sound, rarely all of them.
# CTC does not say where inside its sound a label must be, or for how long: every path that
# collapses to the target counts, and the blank, allowed anywhere, is the network's safe guess
# wherever it is unsure. Recognisers trained on real speech go further, to spikes one frame
# wide with blanks everywhere else (Graves et al. 2006, Fig. 1).
x_test, targets_test, frames_test, lengths_test, alignment_test = utterances(200, seed=10_000)
with tg.no_grad():
    log_y = model(tg.tensor(x_test)).numpy()  # (T, 200, 6)

n = 7
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 4.8), sharex=True, layout="constrained")
show_utterance(top, x_test[:frames_test[n], n], alignment_test[:frames_test[n], n],
               f"held-out utterance '{word(targets_test[n, :lengths_test[n]])}'")
posteriors = np.exp(log_y[:frames_test[n], n])
bottom.plot(posteriors[:, 0], color="grey", linestyle=":", label="blank")
for k in range(1, K + 1):
    bottom.plot(posteriors[:, k], label=SYMBOLS[k - 1])
bottom.set(xlabel="frame", ylabel="y_t(k)")
bottom.legend(ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize=8)

inside = np.arange(len(log_y))[:, None] < frames_test  # (T, N): frames before the padding
sounding = (alignment_test > 0)[inside].mean()
blank_wins = (log_y.argmax(axis=2) == 0)[inside].mean()
print(f"frames where a symbol sounds: {sounding:.0%}; "
      f"frames where the blank is the likeliest class: {blank_wins:.0%}")
tg.viz.show(fig)

# %%
# Decoding, and the label error rate
# ----------------------------------
# At test time we want the most probable labelling, :math:`\arg\max_\ell p(\ell \mid x)`.
# *Best-path* decoding, :func:`~tinygrad_rnn.nn.ctc.ctc_greedy_decode`, takes the likeliest
# class at every frame and collapses that path; it finds the most probable *path*, which need
# not give the most probable *labelling*, since a labelling adds up many paths. *Prefix beam
# search*, :func:`~tinygrad_rnn.nn.ctc.ctc_beam_search`, keeps the ``beam_width`` likeliest
# prefixes frame by frame, each with the probability of all its paths (ending in a blank or
# not); with a beam wide enough to keep every prefix it is exact.
#
# A transcription is scored by its edit distance to the target (the fewest insertions,
# deletions and substitutions between them), and the *label error rate* is the total edit
# distance over the total target length.


def edit_distance(a, b):
    """Levenshtein distance, one row of the dynamic-programming table at a time."""
    row = list(range(len(b) + 1))
    for i, u in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, v in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (u != v))
    return row[-1]


truth = [list(t[:k]) for t, k in zip(targets_test, lengths_test)]
decoded = {"best path": ctc_greedy_decode(log_y, frames_test),
           "prefix beam search": ctc_beam_search(log_y, frames_test, beam_width=8)}
error_rate = {}
for name, guesses in decoded.items():
    errors = sum(edit_distance(g, t) for g, t in zip(guesses, truth))
    error_rate[name] = errors / lengths_test.sum()
    print(f"{name:18}: label error rate {error_rate[name]:.3f} ({errors} edits in "
          f"{lengths_test.sum()} labels)")
for g, t in list(zip(decoded["prefix beam search"], truth))[:6]:
    print(f"  target {word(t):7} decoded {word(g):7}")

# %%
# The number to check
# -------------------
print(f"paths: {counts[(HAO, BANG)]} to 好棒, {counts[(HAO, BANG, BANG)]} to 好棒棒, "
      f"{no_blank[(HAO, BANG, BANG)]} to 好棒棒 without the blank")
print(f"largest |brute force - ctc_loss|: "
      f"{max(abs(brute[k] - ours[k]) for k in brute):.1e}")
print("label error rate:", ", ".join(f"{k} {v:.3f}" for k, v in error_rate.items()))
assert counts[(HAO, BANG)] == 210 and counts[(HAO, BANG, BANG)] == 210 and n_paths == 210
assert no_blank[(HAO, BANG)] == 7 and no_blank[(HAO, BANG, BANG)] == 0
assert all(abs(brute[k] - ours[k]) < 1e-12 for k in brute)
assert abs(-np.log(p_forward) - brute[(HAO, BANG, BANG)]) < 1e-12
assert max(error_rate.values()) < 0.03

# %%
# **Summary.** When the output is shorter than the input and unaligned, CTC adds a blank,
# defines a labelling's probability as the sum over every frame path that collapses to it, and
# computes that sum by a forward recursion over the extended labels in :math:`O(T\,|\ell'|)`
# instead of enumerating :math:`C^T` paths. The loss is differentiable end to end, so a
# bidirectional LSTM learns from (utterance, word) pairs alone and ends up emitting spikes
# separated by blanks. Decoding picks the best path (fast, approximate) or searches prefixes
# (sums over paths).
#
# **Exercises.**
#
# 1. Remove the guaranteed silence between equal symbols in ``utterances`` and train again.
#    Which words does the recogniser get wrong now, and why can no model get them right?
# 2. Replace ``tg.nn.LSTM(..., bidirectional=True)`` by a one-directional LSTM. Where do the
#    spikes move, relative to the sounds, and what happens to the label error rate?
# 3. Find per-frame distributions for 3 frames where best-path decoding and prefix beam search
#    disagree, and check with ``collapse`` and enumeration which one is right.
