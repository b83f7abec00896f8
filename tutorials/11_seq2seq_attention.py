r"""
Lesson 11 — Sequence to sequence, and attention
===============================================

Lesson 9 drew the last shape an RNN maps: many to many *without* alignment, an input of one
length and an output of another (machine translation, "machine learning" → "機器學習"). The
lectures' recipe (Sutskever et al. 2014; Cho et al. 2014) is two RNNs. An **encoder** reads
the whole source; a **decoder** starts from the encoder's last state and writes the target one
token at a time, each token fed back as the next step's input,

.. math::

    h_s = \mathrm{RNN}_{enc}(x_s, h_{s-1}), \qquad
    s_t = \mathrm{RNN}_{dec}([\,y_{t-1};\ c\,], s_{t-1}), \qquad
    p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o s_t + b_o),

with the context :math:`c = h_S` the same at every step. Two questions the lectures raise
shape this lesson. *When does the decoder stop?* The lecture's example is a thread of replies
that each add one character ("超", "人", "正", "大", ...) and would go on forever, until
someone posts "===斷===", "cut": the decoder needs such a **stop symbol** in its vocabulary
and stops when it writes it. And *can one vector hold a whole sentence?* Bahdanau, Cho and
Bengio (2015) showed that it cannot, as sentences grow, and let the decoder read all the
encoder's states at every step, weighted by where it needs to look: **attention**,

.. math::

    e_{ts} = w_v^\top \tanh(W_q s_{t-1} + W_k h_s), \qquad
    \alpha_{ts} = \frac{\exp e_{ts}}{\sum_{s'} \exp e_{ts'}}, \qquad
    c_t = \sum_s \alpha_{ts} h_s .

Our translation task is a toy whose answer we know: write a string of digits backwards
("3 1 4 1 5" → "5 1 4 1 3 <eos>"). It is hard for a plain encoder–decoder exactly as
translation is: the first digit to write is the last one read, and the last to write was read
first.

**The numbers to check:** trained the same way on strings of 3 to 12 digits, the plain
encoder–decoder gets under 15 % of the 11- and 12-digit strings exactly right, the attention
decoder over 65 %. The attention weights of every step sum to 1 to :math:`10^{-12}` (in
float64) and point one position off the anti-diagonal. Greedy decoding gets a string exactly
right exactly when teacher forcing predicts every one of its tokens right. Without a stop
symbol the decoder writes until its length limit; with one it stops after the last digit. Beam
search finds outputs at least as likely as greedy decoding's on every held-out string.
"""

# %%
# The task
# --------
# The vocabulary has 13 tokens: padding (unused here: all strings in a batch have the same
# length), the begin symbol ``<bos>``, the end symbol ``<eos>`` and the ten digits. The target
# is the reversed source with ``<eos>`` appended; the decoder's input is the target shifted right
# by one, starting with ``<bos>`` (at step :math:`t` the decoder reads :math:`y_{t-1}` and must
# predict :math:`y_t`). Arrays are batch first, (N, S) and (N, T), as in d2l's chapter on
# sequence to sequence.
import re

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_rnn as tg

PAD, BOS, EOS = 0, 1, 2
VOCAB = 13  # token 3 + d is the digit d
NAMES = ["<pad>", "<bos>", "<eos>"] + [str(d) for d in range(10)]


def batch(rng, size, length, eos=True):
    """``(src, tgt_in, tgt_out)``: random digit strings and their reversal, ended by ``<eos>``
    (or not), and the decoder's input: the target shifted right by ``<bos>``."""
    src = rng.integers(3, VOCAB, (size, length))
    tgt_out = src[:, ::-1]
    if eos:
        tgt_out = np.concatenate([tgt_out, np.full((size, 1), EOS)], axis=1)
    tgt_in = np.concatenate([np.full((size, 1), BOS), tgt_out[:, :-1]], axis=1)
    return src, tgt_in, tgt_out


def text(tokens):
    return " ".join(NAMES[t] for t in tokens)


src, tgt_in, tgt_out = batch(np.random.default_rng(0), 2, 5)
for s, i, o in zip(src, tgt_in, tgt_out):
    print(f"source {text(s):12}  decoder input {text(i):20}  target {text(o)}")

# %%
# The encoder–decoder, unrolled
# -----------------------------
# ``tg.nn.Seq2SeqEncoder`` embeds the source and runs a ``GRU`` over it; a decoder steps a
# ``GRUCell`` once per target token. ``tg.nn.Seq2SeqDecoder`` joins the fixed context
# :math:`c = h_S` to every input; ``tg.nn.AttentionDecoder`` computes :math:`c_t` afresh at every
# step with ``tg.nn.AdditiveAttention``, its query the decoder's previous state
# :math:`s_{t-1}`, its keys and values all the encoder's outputs. ``tg.nn.Seq2Seq`` joins an
# encoder and a decoder. Calling it, ``model(src, tgt_in)``, is **teacher forcing**: every
# decoder step reads the *true* previous token, from ``tgt_in``, not the one the decoder itself
# would have written. All steps are then known before the decoder runs, and the loss is the
# cross-entropy of every step, as in the language models of lessons 5 and 6.
#
# Two tiny instances (3 source digits, 2 target steps, H = 3), drawn at cell level: the
# encoder's steps :math:`t = 0, 1, 2`, then the decoder's :math:`t = 0, 1`, one box each (the
# decoder's box holds the embedding lookup, the attention and the GRU cell of its step). First
# the plain decoder: only the encoder's last state reaches it (the node ``[0]``, :math:`h_S`
# taken from the final state ``h_n``), as its first state and as the context of every step.
TINY_SRC, TINY_TGT_IN = [[10, 4, 7]], [[BOS, 7]]  # "7 1 4" -> "4 1", two steps


def tiny_graph(decoder):
    tg.manual_seed(0)
    tiny = tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(VOCAB, 2, 3), decoder(VOCAB, 2, 3))
    logits = tiny(TINY_SRC, TINY_TGT_IN)
    loss = tg.F.cross_entropy(logits.reshape(-1, VOCAB), np.array([7, 4]))
    return tg.viz.draw(loss, level="cell", module=tiny)


plain_graph = tiny_graph(tg.nn.Seq2SeqDecoder)
tg.viz.show(plain_graph)

# %%
# With attention, the encoder's three states are stacked into one (N, S, H) = (1, 3, 3)
# tensor, the node ``transpose(1, 0, 2)``, and an arrow goes from it into *every* decoder step:
# those are the attention's edges, each step reading all of :math:`h_0, h_1, h_2`. The
# attention's own work is counted in the step boxes: compare their numbers of ops.
attention_graph = tiny_graph(tg.nn.AttentionDecoder)
tg.viz.show(attention_graph)
step_ops = {name: [int(n) for n in re.findall(r"decoder\\n(\d+) ops", g.source)]
            for name, g in (("plain", plain_graph), ("attention", attention_graph))}
print("ops in each decoder step:", step_ops)

# %%
# Training, with and without attention
# ------------------------------------
# Both models see the same batches: 32 strings of one length drawn from 3 to 12, for 1500 Adam
# steps, gradients clipped to norm 1. The embedding has 16 features and the GRUs 32.
STEPS, MIN_LEN, MAX_LEN = 1500, 3, 12
LENGTHS = range(MIN_LEN, MAX_LEN + 1)


def build(decoder, embed=16, hidden=32):
    tg.manual_seed(0)
    return tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(VOCAB, embed, hidden), decoder(VOCAB, embed, hidden))


def train(model, steps=STEPS, max_len=MAX_LEN, eos=True):
    rng = np.random.default_rng(0)
    optimizer = tg.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(steps):
        src, tgt_in, tgt_out = batch(rng, 32, int(rng.integers(MIN_LEN, max_len + 1)), eos)
        loss = tg.F.cross_entropy(model(src, tgt_in).reshape(-1, VOCAB), tgt_out.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        tg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return model.eval()


def held_out(length, size=200):
    """Fresh strings of ``length`` digits (a generator the training never used)."""
    return batch(np.random.default_rng(10_000 + length), size, length)


def exact_match(model, length):
    src, _, tgt_out = held_out(length)
    decoded = model.greedy(src, BOS, EOS, max_len=length + 3)
    return float(np.mean([d.tokens == list(t) for d, t in zip(decoded, tgt_out)]))


models = {"no attention": train(build(tg.nn.Seq2SeqDecoder)),
          "attention": train(build(tg.nn.AttentionDecoder))}
accuracy = {name: np.array([exact_match(m, n) for n in LENGTHS]) for name, m in models.items()}
print("exact match (greedy) by source length:")
print(f"{'length':>12}" + "".join(f"{n:6d}" for n in LENGTHS))
for name, row in accuracy.items():
    print(f"{name:>12}" + "".join(f"{a:6.2f}" for a in row))

fig_length, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for name, row in accuracy.items():
    ax.plot(list(LENGTHS), row, marker="o", label=name)
ax.set(xlabel="source length (digits)", ylabel="exact match, 200 held-out strings",
       ylim=(-0.03, 1.03), title="reversal: accuracy against length")
ax.legend()
tg.viz.show(fig_length)

# %%
# This is the shape of Bahdanau et al.'s Figure 2 (translation quality against sentence
# length): the encoder–decoder is right on short strings and fails as they grow, because 32
# numbers, :math:`h_S`, must hold every digit, in order, until the decoder writes it. With
# attention the decoder looks the digit up when it needs it, and the curve stays up. (At 3
# digits there are only 1000 strings, all of them seen in training; from 7 digits on, almost
# none of the held-out strings were.)
#
# Where the decoder looks
# -----------------------
# ``greedy`` keeps the attention weights :math:`\alpha_{ts}` of every step it writes; drawn
# with ``tg.viz.attention_heatmap``, a row per output token and a column per source digit. To
# check that each row is a probability distribution to the last bit, we decode in float64:
# ``model.to(dtype=tg.float64)`` converts the trained parameters.
attention_model = models["attention"].to(dtype=tg.float64)
example = np.array([[3 + d for d in (3, 1, 4, 1, 5, 9, 2, 6)]])
decoded = attention_model.greedy(example, BOS, EOS, max_len=12)[0]
weights = decoded.weights  # (T, S)
print("decoded:", text(decoded.tokens))
row_error = np.abs(weights.sum(axis=1) - 1).max()
print(f"largest |sum of a row - 1|: {row_error:.1e}")
heatmap = tg.viz.attention_heatmap(weights, [NAMES[s] for s in example[0]],
                                   [NAMES[t] for t in decoded.tokens])
tg.viz.show(heatmap)

# %%
# Nearly a permutation matrix along the anti-diagonal, with one shift. The first digit written,
# "6", is read from the last source position; but from then on, the step writing
# :math:`y_t` looks at the source of :math:`y_{t-1}`, the digit it has just written, one column
# to the right of the digit it writes; the step writing ``<eos>`` looks at the first digit,
# the last one written. The query is the decoder's *previous* state :math:`s_{t-1}`, which
# knows what was written last, not yet what comes next. And the forward encoder's state
# :math:`h_s` has read the digits before :math:`s` too, so the state of the digit just written
# also holds the digit to its left: the one to write now.
S = example.shape[1]
looks_at = weights.argmax(axis=1)
expected = [S - 1] + [S - t for t in range(1, len(decoded.tokens))]  # the digit read, t >= 1
print("column of the largest weight per step:", looks_at.tolist())
print("column of the digit the step reads:   ", expected)

# %%
# The lectures' other attention models read not a sentence but an image: a caption generator
# (Xu et al. 2015, "Show, attend and tell") or a network answering a question about a picture
# (Xu and Saenko 2015, visual question answering) attends over the features of image regions,
# its query the decoder's state or the question. The arithmetic is the same; the heatmap is
# then laid over the picture, and shows where the network looked for each word.

# %%
# Teacher forcing and free running
# --------------------------------
# Training feeds the true previous token; decoding (free running) feeds the model's own.
# On a held-out set that the plain model mostly fails, 9-digit strings, compare what each mode
# measures. The teacher-forced loss and per-token accuracy look good, because one wrong token
# does not spoil the next step's input. Free running, the first wrong digit is fed back, and
# the tokens after it are read from a state the training never showed the model: its
# per-token accuracy, position by position, is lower. Yet the exact matches agree: greedy
# decoding gets a string right exactly when, teacher-forced, every step's likeliest token is the
# right one (up to the rounding of exact ties), since then the two runs feed the same inputs.
plain = models["no attention"]
src, tgt_in, tgt_out = held_out(9)
with tg.no_grad():
    logits = plain(src, tgt_in)
    forced_loss = tg.F.cross_entropy(logits.reshape(-1, VOCAB), tgt_out.reshape(-1)).item()
forced = logits.numpy().argmax(axis=-1) == tgt_out
free_tokens = np.full(tgt_out.shape, -1)
for n, d in enumerate(plain.greedy(src, BOS, EOS, max_len=tgt_out.shape[1])):
    free_tokens[n, :len(d.tokens)] = d.tokens
free = free_tokens == tgt_out
modes = {"teacher forcing": (forced.mean(), forced.all(axis=1).mean()),
         "free running": (free.mean(), free.all(axis=1).mean())}
print(f"9 digits, no attention: teacher-forced cross-entropy {forced_loss:.3f}")
for mode, (token, exact) in modes.items():
    print(f"{mode:16} token accuracy {token:.3f}  exact match {exact:.3f}")

# %%
# The stop symbol
# ---------------
# A third model, with attention, is trained on the same task without ``<eos>``: every target is
# just the reversed string. (Fewer steps on strings of at most 8 digits: it only has to show
# what it does at the end.) Decoded greedily with a limit of 12 tokens, it reverses the string
# and then keeps writing digits: nothing it learned says a string is over, and it stops only at
# the limit. The model with ``<eos>`` writes the reversal and then the stop symbol, and
# decoding ends there.
no_stop = train(build(tg.nn.AttentionDecoder), steps=500, max_len=8, eos=False)
date = np.array([[3 + d for d in (2, 0, 2, 6)]])
runs = {"without <eos>": no_stop.greedy(date, BOS, EOS, max_len=12)[0].tokens,
        "with <eos>": attention_model.greedy(date, BOS, EOS, max_len=12)[0].tokens}
print("source:", text(date[0]))
for name, tokens in runs.items():
    print(f"{name:14} ({len(tokens):2d} tokens): {text(tokens)}")

# %%
# Beam search
# -----------
# Greedy decoding takes the likeliest token at every step; the likeliest *sequence* may start
# with a less likely token. Beam search keeps the ``beam_size`` likeliest prefixes at every step
# and returns the likeliest finished one. ``Seq2Seq.beam_search`` reports its log-probability
# :math:`\sum_t \log p(y_t \mid y_{<t}, x)` as ``score``, as ``greedy`` does. On 40 held-out
# 10-digit strings, with the plain model, which is unsure at that length. In float64 again:
# in float32 the same sequence scores differently in the sixth digit when it is computed in a
# batch of 40 rows (greedy) or of 4 (the beam), enough to hide a tie.
plain = plain.to(dtype=tg.float64)
src, _, tgt_out = held_out(10, size=40)
greedy_out = plain.greedy(src, BOS, EOS, max_len=13)
beam_out = plain.beam_search(src, BOS, EOS, max_len=13, beam_size=4)
greedy_lp = np.array([d.score for d in greedy_out])
beam_lp = np.array([d.score for d in beam_out])
beam_gain = beam_lp - greedy_lp
print(f"mean log-probability: greedy {greedy_lp.mean():.3f}, beam of 4 {beam_lp.mean():.3f}; "
      f"beam better on {np.sum(beam_gain > 1e-9)} of {len(src)}")
for name, out in (("greedy", greedy_out), ("beam", beam_out)):
    right = np.mean([d.tokens == list(t) for d, t in zip(out, tgt_out)])
    print(f"{name:6} exact match {right:.3f}")

# %%
# A beam of 4 is not guaranteed to beat greedy decoding (the greedy prefix can drop out of the
# beam, and every prefix kept may end worse), but it keeps the greedy path whenever that path
# stays among the 4 best, and in practice it rarely loses. A likelier output is not always a
# right one: the model's probabilities, not the search, limit its accuracy.
#
# The number to check
# -------------------
longest = accuracy["attention"][-2:] - accuracy["no attention"][-2:]
print(f"11 and 12 digits: no attention {accuracy['no attention'][-2:]}, "
      f"attention {accuracy['attention'][-2:]}")
assert np.all(accuracy["no attention"][-2:] < 0.15) and np.all(accuracy["attention"][-2:] > 0.65)
assert np.all(longest > 0.5)
assert accuracy["no attention"][0] > 0.95  # the plain model is right on short strings
assert len(step_ops["plain"]) == len(step_ops["attention"]) == 2  # two decoder steps
assert min(step_ops["attention"]) > max(step_ops["plain"])
assert row_error < 1e-12
assert decoded.tokens == list(example[0, ::-1]) + [EOS]
assert looks_at.tolist() == expected
assert modes["teacher forcing"][0] > modes["free running"][0]
assert abs(modes["teacher forcing"][1] - modes["free running"][1]) <= 0.01
assert len(runs["without <eos>"]) == 12 and EOS not in runs["without <eos>"]
assert runs["with <eos>"] == list(date[0, ::-1]) + [EOS]
assert np.all(beam_gain >= -1e-9)
assert np.sum(beam_gain > 1e-9) > 0  # and it does find likelier outputs

# %%
# Summary
# -------
# * An encoder–decoder maps a sequence to a sequence of another length: the encoder's last
#   state starts the decoder, which writes one token at a time, each fed back as its next
#   input, until it writes the stop symbol.
# * Without a stop symbol the decoder cannot know when to stop; with one, stopping is just
#   another prediction.
# * Training uses teacher forcing (the true previous token); decoding runs free (its own). The
#   teacher-forced per-token numbers flatter the model; exact match is the same in both.
# * One fixed vector cannot hold a long source: accuracy falls with length. Attention
#   recomputes the context at every step as a weighted average of all the encoder's states,
#   and the weights, a distribution over the source, show where the decoder looked.
# * Beam search looks for a likelier output than greedy decoding; likelier is not always right.
#
# Exercises
# ---------
# 1. Replace the GRUs by LSTMs (``cell="lstm"`` in the encoder and the decoder). Does the
#    plain model hold longer strings? Train both on 3 to 12 digits and test on 14: what does
#    the attention decoder do past the lengths it was trained on?
# 2. Make the encoder read the source backwards (Sutskever et al.'s trick) for the plain
#    model. Why does reversal then become easy, and what task would be hard again?
# 3. Change the attention to ``tg.nn.DotProductAttention`` (Luong's) in a copy of
#    ``AttentionDecoder.context``, or give the decoder's query the *new* state: does the
#    heatmap lose its one-step shift?
