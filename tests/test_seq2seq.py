"""Sequence to sequence: the encoder and both decoders against torch twins, the scopes of every
step, the drawing of the attention edges, and greedy and beam-search decoding (beam search
against an exhaustive search over a tiny vocabulary).
"""
import itertools
import re

import numpy as np
import pytest
from torch_twins import assert_gradients_equal

import tinygrad_rnn as tg
from tinygrad_rnn.nn.beam import beam_search
from tinygrad_rnn.nn.seq2seq import DecoderState

torch = pytest.importorskip("torch")
from attention_twins import TorchAdditive  # after importorskip: needs torch

RTOL, ATOL = 1e-8, 1e-12
BOS, EOS = 1, 2
TORCH_LAYERS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
TORCH_CELLS = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}


def close(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def model(cell="gru", layers=1, attention=True, V=7, E=3, H=4, seed=0):
    tg.manual_seed(seed)
    decoder = tg.nn.AttentionDecoder if attention else tg.nn.Seq2SeqDecoder
    return tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(V, E, H, layers, cell=cell, dtype=np.float64),
                         decoder(V, E, H, layers, cell=cell, dtype=np.float64))


class TorchEncoder(torch.nn.Module):
    def __init__(self, V, E, H, layers, cell):
        super().__init__()
        self.embedding = torch.nn.Embedding(V, E, dtype=torch.float64)
        self.rnn = TORCH_LAYERS[cell](E, H, layers, dtype=torch.float64)

    def forward(self, src):
        return self.rnn(self.embedding(src.T))


class TorchDecoder(torch.nn.Module):
    """d2l's Seq2SeqDecoder / Seq2SeqAttentionDecoder, stepping torch cells one step at a time."""

    def __init__(self, V, E, H, layers, cell, attention):
        super().__init__()
        if attention:
            self.attention = TorchAdditive(H, H, H)
        self.embedding = torch.nn.Embedding(V, E, dtype=torch.float64)
        self.rnn = torch.nn.ModuleList([TORCH_CELLS[cell](E + H if k == 0 else H, H,
                                                          dtype=torch.float64)
                                        for k in range(layers)])
        self.dense = torch.nn.Linear(H, V, dtype=torch.float64)

    def forward(self, tgt_in, enc_out, enc_state, valid_len):
        lstm = isinstance(enc_state, tuple)
        h_n = enc_state[0] if lstm else enc_state
        hidden = [(enc_state[0][k], enc_state[1][k]) if lstm else h_n[k]
                  for k in range(len(self.rnn))]
        memory = enc_out.transpose(0, 1)  # (N, S, H)
        S = memory.shape[1]
        keep = (torch.arange(S) < torch.as_tensor(valid_len)[:, None])[:, None, :]
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            x = self.embedding(tgt_in[:, t])
            if hasattr(self, "attention"):
                top = hidden[-1][0] if lstm else hidden[-1]
                context, w = self.attention(top[:, None, :], memory, memory, keep)
                context = context[:, 0]
                weights.append(w[:, 0])
            else:
                context = h_n[-1]
            x = torch.cat([x, context], dim=1)
            for k, cell in enumerate(self.rnn):
                hidden[k] = cell(x, hidden[k])
                x = hidden[k][0] if lstm else hidden[k]
            logits.append(self.dense(x))
        return torch.stack(logits, 1), weights


class TorchSeq2Seq(torch.nn.Module):
    def __init__(self, V, E, H, layers, cell, attention):
        super().__init__()
        self.encoder = TorchEncoder(V, E, H, layers, cell)
        self.decoder = TorchDecoder(V, E, H, layers, cell, attention)

    def forward(self, src, tgt_in, valid_len):
        enc_out, enc_state = self.encoder(src)
        return self.decoder(tgt_in, enc_out, enc_state, valid_len)


@pytest.mark.parametrize("attention", [True, False], ids=["attention", "plain"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_seq2seq_matches_torch(cell, layers, attention):
    rng = np.random.default_rng(layers * 10 + len(cell))
    ours = model(cell, layers, attention)
    theirs = TorchSeq2Seq(7, 3, 4, layers, cell, attention)
    theirs.load_state_dict({n: torch.from_numpy(a) for n, a in ours.state_dict().items()})
    src, tgt_in = rng.integers(0, 7, (3, 5)), rng.integers(0, 7, (3, 4))
    lens = np.array([5, 2, 3])
    logits = ours(src, tgt_in, src_valid_len=lens)
    tlogits, tweights = theirs(torch.from_numpy(src), torch.from_numpy(tgt_in), lens)
    r = rng.standard_normal(logits.shape)
    (logits * tg.tensor(r)).sum().backward()
    (tlogits * torch.from_numpy(r)).sum().backward()
    close(logits, tlogits)
    if attention:
        close(ours.attention_weights, torch.stack(tweights, 1))
        assert not ours.attention_weights.numpy()[1, :, 2:].any()  # beyond the valid length
    else:
        assert ours.attention_weights is None
    assert_gradients_equal(close, ours, theirs)


def test_every_step_recorded_under_its_scope():
    """Encoder steps in the layer's lane, decoder steps under ("decoder", "t<k>"), the attention
    and the cell of each layer of every decoder step inside it."""
    m = model("lstm", layers=2)
    logits = m([[3, 4, 5]], [[BOS, 3]])
    graph = tg.graph.trace(logits.sum())
    keys = set(graph.groups())
    encoder = {("seq2seq", "encoder", "rnn", f"l{k}", f"t{t}") for k in range(2) for t in range(3)}
    decoder = {("seq2seq", "decoder", f"t{t}") for t in range(2)}
    assert keys == encoder | decoder
    attention = {t.scope[:4] for t in graph.nodes if "attention" in t.scope}
    assert attention == {("seq2seq", "decoder", "t0", "attention"),
                         ("seq2seq", "decoder", "t1", "attention")}
    cells = {t.scope[:5] for t in graph.nodes if "lstmcell" in t.scope}
    assert cells == {("seq2seq", "decoder", f"t{t}", f"l{k}", "lstmcell")
                     for t in range(2) for k in range(2)}


def dot_graph(dot):
    """(cluster path of each node, edges) read from DOT text."""
    where, stack, edges = {}, [], []
    for line in dot.splitlines():
        s = line.strip()
        m = re.match(r'subgraph "cluster_([^"]*)" \{', s)
        if m:
            stack.append(m.group(1))
        elif s == "}":
            stack.pop() if stack else None
        elif re.match(r"n\d+ \[", s):
            where[s.split()[0]] = stack[-1] if stack else ""
        elif "->" in s:
            a, _, b = s.split()[:3]
            edges.append((a, b))
    return where, edges


def feeds(where, edges, src, dst):
    """Whether ``dst`` reads what ``src`` hands on through boxes outside every time step."""
    step = re.compile(r".*/t\d+$")
    frontier, seen = [src], {src}
    while frontier:
        a = frontier.pop()
        for x, y in edges:
            if x == a and y not in seen:
                if y == dst:
                    return True
                if not step.match(where[y]):
                    seen.add(y)
                    frontier.append(y)
    return False


@pytest.mark.parametrize("attention", [True, False], ids=["attention", "plain"])
def test_drawing_shows_every_decoder_step_reading_every_encoder_step(attention):
    m = model(attention=attention)
    logits = m([[3, 4, 5]], [[BOS, 3]])
    loss = tg.F.cross_entropy(logits.reshape(2, 7), np.array([3, EOS]))
    where, edges = dot_graph(tg.viz.to_dot(loss, level="cell"))
    enc = [n for n, c in where.items() if re.fullmatch(r"seq2seq/encoder/rnn/l0/t\d", c)]
    dec = [n for n, c in where.items() if re.fullmatch(r"seq2seq/decoder/t\d", c)]
    assert len(enc) == 3 and len(dec) == 2
    read = {(e, d) for e in enc for d in dec if feeds(where, edges, e, d)}
    if attention:
        assert read == {(e, d) for e in enc for d in dec}
    else:  # the plain decoder reads the encoder's last step only
        last = next(n for n in enc if where[n].endswith("/t2"))
        assert read == {(last, d) for d in dec}


def sequence_scores(m, src, lens, candidates):
    """Log-probabilities of each candidate, by teacher forcing (no decoding)."""
    scores = []
    for y in candidates:
        with tg.no_grad():
            logits = m(src, [[BOS] + list(y[:-1])], src_valid_len=lens)
        lp = tg.F.log_softmax(logits, axis=-1).numpy()[0]
        scores.append(sum(lp[t, v] for t, v in enumerate(y)))
    return np.array(scores)


def all_sequences(V, max_len):
    """Every output a decoder can produce: ending at EOS, or max_len tokens long."""
    out = []
    for L in range(1, max_len + 1):
        for y in itertools.product(range(V), repeat=L):
            if EOS not in y[:-1] and (y[-1] == EOS or L == max_len):
                out.append(y)
    return out


class TableDecoder:
    """A decoder whose logits at step t depend on the previous token only, from a random table:
    a search problem where greedy decoding and small beams often miss the best sequence."""

    def __init__(self, table):
        self.table = table

    def run_step(self, t, y_prev, state):
        return tg.tensor(self.table[t, y_prev]), state, None


@pytest.mark.parametrize("length_penalty", [0.0, 0.75])
def test_beam_search_with_a_full_beam_is_exhaustive_search(length_penalty):
    V, max_len = 4, 4
    candidates = all_sequences(V, max_len)
    greedy_missed = 0
    for seed in range(8):
        table = np.random.default_rng(seed).standard_normal((max_len, V, V)) * 1.5
        lp = table - np.log(np.exp(table).sum(axis=-1, keepdims=True))
        scores = [sum(lp[t, ([BOS] + list(y))[t], v] for t, v in enumerate(y)) /
                  len(y) ** length_penalty for y in candidates]
        best = candidates[int(np.argmax(scores))]
        state = DecoderState((tg.zeros(1, 1),), tg.zeros(1, 1))
        found = [beam_search(TableDecoder(table), state, BOS, EOS, max_len, k, length_penalty)
                 for k in (1, V ** max_len)]
        assert tuple(found[1].tokens) == best
        np.testing.assert_allclose(found[1].score, max(scores), rtol=1e-12)
        greedy_missed += tuple(found[0].tokens) != best
    assert greedy_missed >= 2  # the problem is not one that greedy search solves


@pytest.mark.parametrize("seed", range(4))
def test_seq2seq_beam_search_with_a_full_beam_is_exhaustive_search(seed):
    """The same with the model itself (its state reordered between the beams), scored by
    teacher forcing; two sources of different valid lengths."""
    V, max_len = 3, 4
    m = model("lstm" if seed % 2 else "gru", attention=seed < 2, V=V, seed=seed)
    for p in m.parameters():
        p.data *= 2.5  # peakier distributions than at initialisation
    src, lens = [[0, 1, 2, 1], [2, 2, 1, 0]], [4, 3]
    candidates = all_sequences(V, max_len)
    found = m.beam_search(src, BOS, EOS, max_len, beam_size=V ** max_len, src_valid_len=lens)
    for n in range(2):
        scores = sequence_scores(m, [src[n]], lens[n:n + 1], candidates)
        assert tuple(found[n].tokens) == candidates[int(scores.argmax())]
        np.testing.assert_allclose(found[n].score, scores.max(), rtol=1e-10)


def test_greedy_follows_teacher_forcing_and_records_the_weights():
    m = model("lstm", layers=2, V=6, seed=3)
    src, lens = [[3, 4, 5, 0], [5, 4, 0, 0]], [4, 2]
    decoded = m.greedy(src, BOS, EOS, max_len=6, src_valid_len=lens)
    for n, d in enumerate(decoded):
        assert 1 <= len(d.tokens) <= 6 and (d.tokens[-1] == EOS or len(d.tokens) == 6)
        assert EOS not in d.tokens[:-1]
        logits = m([src[n]], [[BOS] + d.tokens[:-1]], src_valid_len=lens[n:n + 1])
        lp = tg.F.log_softmax(logits, axis=-1).numpy()[0]
        assert list(lp.argmax(axis=1)) == d.tokens
        np.testing.assert_allclose(d.score, sum(lp[t, v] for t, v in enumerate(d.tokens)))
        np.testing.assert_allclose(d.weights, m.attention_weights.numpy()[0], rtol=1e-12)
        assert not d.weights[:, lens[n]:].any()
    beams = m.beam_search(src, BOS, EOS, 6, beam_size=1, src_valid_len=lens)
    assert [b.tokens for b in beams] == [d.tokens for d in decoded]


def test_plain_decoder_decodes_without_weights():
    m = model(attention=False, seed=2)
    d = m.greedy([[3, 4]], BOS, EOS, max_len=3)[0]
    b = m.beam_search([[3, 4]], BOS, EOS, max_len=3, beam_size=3)[0]
    assert d.weights is None and b.weights is None and 1 <= len(b.tokens) <= 3


@pytest.mark.parametrize("build,error,words", [
    (lambda: tg.nn.Seq2SeqEncoder(5, 2, 3, cell="transformer"), ValueError, "cell must be"),
    (lambda: tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(5, 2, 3), tg.nn.AttentionDecoder(5, 2, 4))(
        [[1, 2]], [[1]]), ValueError, "size 4"),
    (lambda: tg.nn.Seq2Seq(tg.nn.Seq2SeqEncoder(5, 2, 3, cell="lstm"),
                           tg.nn.Seq2SeqDecoder(5, 2, 3))([[1, 2]], [[1]]), ValueError, "gru"),
    (lambda: tg.nn.Seq2SeqEncoder(5, 2, 3)([[1.0, 2.0]]), ValueError, "integers"),
    (lambda: model().beam_search([[1, 2]], BOS, EOS, max_len=0), ValueError, "max_len"),
])
def test_seq2seq_errors(build, error, words):
    with pytest.raises(error) as info:
        build()
    assert words in str(info.value)


def test_attention_heatmap_labels_source_and_target(tmp_path):
    m = model(seed=1)
    d = m.greedy([[3, 4, 5]], BOS, EOS, max_len=4)[0]
    source, target = ["a", "b", "c"], [f"y{t}" for t in range(len(d.tokens))]
    fig = tg.viz.attention_heatmap(d.weights, source, target)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == source
    assert [t.get_text() for t in ax.get_yticklabels()] == target
    np.testing.assert_allclose(ax.images[0].get_array(), d.weights)
    fig.savefig(tmp_path / "attention.png")
    with pytest.raises(ValueError, match="attention_heatmap"):
        tg.viz.attention_heatmap(d.weights, source[:2], target)


def test_docstring_examples_run():
    import doctest

    from tinygrad_rnn.nn import attention, attention_layers, beam, decoder, multihead, seq2seq
    from tinygrad_rnn.viz import attention as viz_attention

    for module in (attention, attention_layers, multihead, seq2seq, decoder, beam, viz_attention):
        failed, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failed == 0 and (tried > 0 or module is beam), module.__name__
