"""d2l.ai's sequence-to-sequence chapters as the book writes them (``Seq2SeqEncoder``,
``Seq2SeqDecoder``, ``EncoderDecoder``, ``sequence_mask``, ``MaskedSoftmaxCELoss``, the GRU
initialiser that reads ``_flat_weights_names`` and ``_parameters``, ``grad_clipping``;
``masked_softmax``, ``AdditiveAttention``, ``Seq2SeqAttentionDecoder``), run with torch and
with tinygrad_rnn under torch's names and trained side by side from the same weights.

The one line written differently, d2l's ``_sequence_mask`` (``X[~mask] = value`` into a
non-leaf of the graph), is taken from ``clients.DIFFERENCES``.
"""
import numpy as np
import pytest
from clients import assert_same_losses, d2l_clip_gradients, differs, train_beside

SRC_VOCAB, TGT_VOCAB, EMBED, HIDDEN, LAYERS = 9, 8, 5, 6, 2
BATCH, SRC_LEN, TGT_LEN, BOS = 4, 5, 6, 1
rng = np.random.default_rng(1)
SRC = rng.integers(2, SRC_VOCAB, size=(BATCH, SRC_LEN))
TGT = rng.integers(2, TGT_VOCAB, size=(BATCH, TGT_LEN))
SRC_VALID = np.array([5, 3, 4, 1])
TGT_VALID = np.array([6, 2, 4, 3])
PADDED_TGT = np.where(np.arange(TGT_LEN) < TGT_VALID[:, None], TGT, 0)  # <pad> is 0


def book(ns):
    """The chapters' classes and functions, over the namespace ``ns`` (torch's or ours)."""
    torch, nn, F = ns.torch, ns.nn, ns.F

    def sequence_mask(X, valid_len, value=0):
        return differs(torch, "mask a non-leaf")(torch, X, valid_len, value)

    class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
        # pred: (batch, steps, vocab); label: (batch, steps); valid_len: (batch,)
        def forward(self, pred, label, valid_len):
            weights = torch.ones_like(label)
            weights = sequence_mask(weights, valid_len)
            self.reduction = "none"
            unweighted_loss = super().forward(pred.permute(0, 2, 1), label)
            weighted_loss = (unweighted_loss * weights).mean(dim=1)
            return weighted_loss

    def xavier_init_weights(m):
        if type(m) is nn.Linear:
            nn.init.xavier_uniform_(m.weight)
        if type(m) is nn.GRU:
            for param in m._flat_weights_names:
                if "weight" in param:
                    nn.init.xavier_uniform_(m._parameters[param])

    def grad_clipping(net, theta):
        return d2l_clip_gradients(torch, theta, net)

    class Seq2SeqEncoder(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)

        def forward(self, X, *args):
            X = self.embedding(X)          # (batch, steps, embed)
            X = X.permute(1, 0, 2)         # time first, as the RNN wants
            output, state = self.rnn(X)
            return output, state

    class Seq2SeqDecoder(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, *args):
            return enc_outputs[1]

        def forward(self, X, state):
            X = self.embedding(X).permute(1, 0, 2)
            context = state[-1].repeat(X.shape[0], 1, 1)  # the encoder's last top state
            X_and_context = torch.cat((X, context), 2)
            output, state = self.rnn(X_and_context, state)
            output = self.dense(output).permute(1, 0, 2)
            return output, state

    class EncoderDecoder(nn.Module):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def forward(self, enc_X, dec_X, *args):
            enc_outputs = self.encoder(enc_X, *args)
            dec_state = self.decoder.init_state(enc_outputs, *args)
            return self.decoder(dec_X, dec_state)

    def masked_softmax(X, valid_lens):
        if valid_lens is None:
            return nn.functional.softmax(X, dim=-1)
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)

    class AdditiveAttention(nn.Module):
        def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
            super().__init__(**kwargs)
            self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
            self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
            self.w_v = nn.Linear(num_hiddens, 1, bias=False)
            self.dropout = nn.Dropout(dropout)

        def forward(self, queries, keys, values, valid_lens):
            queries, keys = self.W_q(queries), self.W_k(keys)
            # (batch, queries, 1, h) + (batch, 1, keys, h): every query with every key
            features = queries.unsqueeze(2) + keys.unsqueeze(1)
            features = torch.tanh(features)
            scores = self.w_v(features).squeeze(-1)
            self.attention_weights = masked_softmax(scores, valid_lens)
            return torch.bmm(self.dropout(self.attention_weights), values)

    class Seq2SeqAttentionDecoder(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.attention = AdditiveAttention(num_hiddens, num_hiddens, num_hiddens, dropout)
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def init_state(self, enc_outputs, enc_valid_lens, *args):
            outputs, hidden_state = enc_outputs
            return (outputs.permute(1, 0, 2), hidden_state, enc_valid_lens)

        def forward(self, X, state):
            enc_outputs, hidden_state, enc_valid_lens = state
            X = self.embedding(X).permute(1, 0, 2)
            outputs, self._attention_weights = [], []
            for x in X:
                query = torch.unsqueeze(hidden_state[-1], dim=1)  # (batch, 1, hiddens)
                context = self.attention(query, enc_outputs, enc_outputs, enc_valid_lens)
                x = torch.cat((context, torch.unsqueeze(x, dim=1)), dim=-1)
                out, hidden_state = self.rnn(x.permute(1, 0, 2), hidden_state)
                outputs.append(out)
                self._attention_weights.append(self.attention.attention_weights)
            outputs = self.dense(torch.cat(outputs, dim=0))
            return outputs.permute(1, 0, 2), [enc_outputs, hidden_state, enc_valid_lens]

    # ---- the same chapter in d2l 1.0: time first via X.t(), lazy heads, Seq2Seq.loss ----
    class GRU(nn.Module):  # d2l.GRU: the layer inside a module of its own
        def __init__(self, num_inputs, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.num_hiddens = num_hiddens
            self.rnn = nn.GRU(num_inputs, num_hiddens, num_layers, dropout=dropout)

        def forward(self, inputs, H=None):
            return self.rnn(inputs, H)

    class Seq2SeqEncoder10(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = GRU(embed_size, num_hiddens, num_layers, dropout)
            self.apply(xavier_init_weights)

        def forward(self, X, *args):
            embs = self.embedding(X.t().type(torch.int64))  # (steps, batch, embed)
            outputs, state = self.rnn(embs)
            return outputs, state

    class Seq2SeqDecoder10(nn.Module):
        def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.rnn = GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
            self.dense = nn.LazyLinear(vocab_size)
            self.apply(xavier_init_weights)

        def init_state(self, enc_all_outputs, *args):
            return enc_all_outputs

        def forward(self, X, state):
            embs = self.embedding(X.t().type(torch.int32))
            enc_output, hidden_state = state
            context = enc_output[-1]  # the top layer's output at the last step
            context = context.repeat(embs.shape[0], 1, 1)
            embs_and_context = torch.cat((embs, context), -1)
            outputs, hidden_state = self.rnn(embs_and_context, hidden_state)
            outputs = self.dense(outputs).swapaxes(0, 1)
            return outputs, [enc_output, hidden_state]

    class Seq2Seq(EncoderDecoder):
        def __init__(self, encoder, decoder, tgt_pad, lr):
            super().__init__(encoder, decoder)
            self.tgt_pad, self.lr = tgt_pad, lr

        def loss(self, Y_hat, Y):  # d2l.Classifier.loss(averaged=False), then the mask
            l = F.cross_entropy(Y_hat.reshape((-1, Y_hat.shape[-1])), Y.reshape((-1,)),
                                reduction="none")
            mask = (Y.reshape(-1) != self.tgt_pad).type(torch.float32)
            return (l * mask).sum() / mask.sum()

    return locals()


def train_seq2seq_d2l10(ns):
    """d2l 1.0's ``Trainer.fit_epoch`` on ``Seq2Seq``: backward, clipping and the step run
    under ``torch.no_grad()``, as the book's trainer writes them."""
    torch = ns.torch
    d = book(ns)
    net = d["Seq2Seq"](d["Seq2SeqEncoder10"](SRC_VOCAB, EMBED, HIDDEN, LAYERS),
                       d["Seq2SeqDecoder10"](TGT_VOCAB, EMBED, HIDDEN, LAYERS), tgt_pad=0,
                       lr=0.01)
    src, tgt = torch.tensor(SRC), torch.tensor(PADDED_TGT)
    bos = torch.tensor([[BOS]] * BATCH)
    batch = (src, torch.cat([bos, tgt[:, :-1]], 1), torch.tensor(SRC_VALID), tgt)
    optim = None

    def warm():
        net(*batch[:-1])

    def step():
        nonlocal optim
        optim = optim or torch.optim.Adam(net.parameters(), lr=net.lr)
        loss = net.loss(net(*batch[:-1])[0], batch[-1])
        optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            d["grad_clipping"](net, 1)
            optim.step()
        return loss.item()

    return net, step, warm


def train_seq2seq(ns, attention=False):
    """d2l's ``train_seq2seq``: Adam, teacher forcing after ``<bos>``, masked loss, clipping."""
    torch = ns.torch
    d = book(ns)
    decoder = d["Seq2SeqAttentionDecoder"] if attention else d["Seq2SeqDecoder"]
    net = d["EncoderDecoder"](d["Seq2SeqEncoder"](SRC_VOCAB, EMBED, HIDDEN, LAYERS),
                              decoder(TGT_VOCAB, EMBED, HIDDEN, LAYERS))
    net.apply(d["xavier_init_weights"])
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss = d["MaskedSoftmaxCELoss"]()
    net.train()
    X, Y = torch.tensor(SRC), torch.tensor(TGT)
    X_valid_len, Y_valid_len = torch.tensor(SRC_VALID), torch.tensor(TGT_VALID)

    def step():
        optimizer.zero_grad()
        bos = torch.tensor([BOS] * Y.shape[0]).reshape(-1, 1)
        dec_input = torch.cat([bos, Y[:, :-1]], 1)  # teacher forcing
        Y_hat, _ = net(X, dec_input, X_valid_len)
        l = loss(Y_hat, Y, Y_valid_len)
        l.sum().backward()
        d["grad_clipping"](net, 1)
        optimizer.step()
        return l.sum().item()

    return net, step


def test_d2l_1_seq2seq_trains_as_in_torch():
    theirs, ours = train_beside(train_seq2seq_d2l10, steps=4)
    assert_same_losses(theirs, ours)
    assert theirs[-1] < theirs[0]


@pytest.mark.parametrize("attention", [False, True], ids=["seq2seq", "bahdanau"])
def test_seq2seq_trains_as_in_torch(attention):
    theirs, ours = train_beside(train_seq2seq, steps=4, attention=attention)
    assert_same_losses(theirs, ours)
    assert theirs[-1] < theirs[0]


def test_book_masks_and_attention_weights_as_in_torch():
    """``masked_softmax`` (with d2l's example shapes) and the attention weights it gives."""
    from clients import OURS, TORCH

    X = rng.random((2, 2, 4)).astype(np.float32)
    results = {}
    for name, ns in {"torch": TORCH, "ours": OURS}.items():
        d = book(ns)
        lens = ns.torch.tensor([2, 3])
        rows = ns.torch.tensor([[1, 3], [2, 4]])
        results[name] = [d["masked_softmax"](ns.torch.tensor(X), lens),
                         d["masked_softmax"](ns.torch.tensor(X), rows),
                         d["sequence_mask"](ns.torch.ones(2, 3), ns.torch.tensor([1, 2]))]
    for theirs, ours in zip(results["torch"], results["ours"]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert (results["ours"][0].numpy()[0, :, 2:] == 0).all()  # masked keys get no weight
