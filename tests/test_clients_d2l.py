"""The recurrent models of *Dive into Deep Learning* (d2l.ai), written as the book writes them,
run with torch and with tinygrad_rnn under torch's names, trained side by side from the same
weights: the losses agree to float32 precision and every state-dict name matches.

Chapters: rnn-scratch (``RNNScratch``, ``RNNLMScratch``), rnn-concise (``RNN``, ``RNNLM``),
gru and lstm (from scratch and concise), deep-rnn, bi-rnn, seq2seq (``Seq2SeqEncoder``,
``Seq2SeqDecoder``, ``MaskedSoftmaxCELoss``) and bahdanau-attention (``AdditiveAttention``,
``Seq2SeqAttentionDecoder``). Each class keeps the book's names and its lines; the book's base
classes (``d2l.Module``, ``d2l.Classifier``) are reduced to what the models call.
"""
import math

import numpy as np
import pytest
from clients import assert_same_losses, d2l_clip_gradients, train_beside

VOCAB, BATCH, STEPS, HIDDEN = 7, 3, 5, 4
rng = np.random.default_rng(0)
TOKENS = rng.integers(0, VOCAB, size=(BATCH, STEPS + 1))


def book(ns):
    """The book's classes, defined over the namespace ``ns`` (torch's or ours)."""
    torch, nn, F = ns.torch, ns.nn, ns.F

    def clip_gradients(grad_clip_val, model):
        return d2l_clip_gradients(torch, grad_clip_val, model)

    def gate_weights(num_inputs, num_hiddens, sigma):
        """The book's ``triple`` of GRUScratch and LSTMScratch: one gate's W_x, W_h and b."""

        def init_weight(*shape):
            return nn.Parameter(torch.randn(*shape) * sigma)

        def triple():
            return (init_weight(num_inputs, num_hiddens),
                    init_weight(num_hiddens, num_hiddens),
                    nn.Parameter(torch.zeros(num_hiddens)))

        return triple

    class RNNScratch(nn.Module):
        def __init__(self, num_inputs, num_hiddens, sigma=0.01):
            super().__init__()
            self.num_inputs, self.num_hiddens, self.sigma = num_inputs, num_hiddens, sigma
            self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
            self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
            self.b_h = nn.Parameter(torch.zeros(num_hiddens))

        def forward(self, inputs, state=None):
            if state is None:
                state = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
            else:
                state, = state
            outputs = []
            for X in inputs:  # inputs: (num_steps, batch_size, num_inputs)
                state = torch.tanh(torch.matmul(X, self.W_xh)
                                   + torch.matmul(state, self.W_hh) + self.b_h)
                outputs.append(state)
            return outputs, state

    class RNNLMScratch(nn.Module):
        def __init__(self, rnn, vocab_size, lr=0.01):
            super().__init__()
            self.rnn, self.vocab_size, self.lr = rnn, vocab_size, lr
            self.init_params()

        def init_params(self):
            self.W_hq = nn.Parameter(torch.randn(self.rnn.num_hiddens, self.vocab_size)
                                     * self.rnn.sigma)
            self.b_q = nn.Parameter(torch.zeros(self.vocab_size))

        def one_hot(self, X):
            return F.one_hot(X.T, self.vocab_size).type(torch.float32)

        def output_layer(self, rnn_outputs):
            outputs = [torch.matmul(H, self.W_hq) + self.b_q for H in rnn_outputs]
            return torch.stack(outputs, 1)

        def forward(self, X, state=None):
            embs = self.one_hot(X)
            rnn_outputs, _ = self.rnn(embs, state)
            return self.output_layer(rnn_outputs)

        def loss(self, Y_hat, Y):  # d2l.Classifier.loss
            Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
            Y = Y.reshape((-1,))
            return F.cross_entropy(Y_hat, Y, reduction="mean")

    class RNN(nn.Module):  # rnn-concise
        def __init__(self, num_inputs, num_hiddens):
            super().__init__()
            self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
            self.rnn = nn.RNN(num_inputs, num_hiddens)

        def forward(self, inputs, H=None):
            return self.rnn(inputs, H)

    class RNNLM(RNNLMScratch):
        def init_params(self):
            self.linear = nn.LazyLinear(self.vocab_size)

        def output_layer(self, hiddens):
            return self.linear(hiddens).swapaxes(0, 1)

    class GRUScratch(nn.Module):
        def __init__(self, num_inputs, num_hiddens, sigma=0.01):
            super().__init__()
            self.num_inputs, self.num_hiddens, self.sigma = num_inputs, num_hiddens, sigma
            triple = gate_weights(num_inputs, num_hiddens, sigma)

            self.W_xz, self.W_hz, self.b_z = triple()  # update gate
            self.W_xr, self.W_hr, self.b_r = triple()  # reset gate
            self.W_xh, self.W_hh, self.b_h = triple()  # candidate hidden state

        def forward(self, inputs, H=None):
            if H is None:
                H = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
            outputs = []
            for X in inputs:
                Z = torch.sigmoid(torch.matmul(X, self.W_xz) + torch.matmul(H, self.W_hz)
                                  + self.b_z)
                R = torch.sigmoid(torch.matmul(X, self.W_xr) + torch.matmul(H, self.W_hr)
                                  + self.b_r)
                H_tilde = torch.tanh(torch.matmul(X, self.W_xh)
                                     + torch.matmul(R * H, self.W_hh) + self.b_h)
                H = Z * H + (1 - Z) * H_tilde
                outputs.append(H)
            return outputs, H

    class LSTMScratch(nn.Module):
        def __init__(self, num_inputs, num_hiddens, sigma=0.01):
            super().__init__()
            self.num_inputs, self.num_hiddens, self.sigma = num_inputs, num_hiddens, sigma
            triple = gate_weights(num_inputs, num_hiddens, sigma)

            self.W_xi, self.W_hi, self.b_i = triple()  # input gate
            self.W_xf, self.W_hf, self.b_f = triple()  # forget gate
            self.W_xo, self.W_ho, self.b_o = triple()  # output gate
            self.W_xc, self.W_hc, self.b_c = triple()  # input node

        def forward(self, inputs, H_C=None):
            if H_C is None:
                H = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
                C = torch.zeros((inputs.shape[1], self.num_hiddens), device=inputs.device)
            else:
                H, C = H_C
            outputs = []
            for X in inputs:
                I = torch.sigmoid(torch.matmul(X, self.W_xi)
                                  + torch.matmul(H, self.W_hi) + self.b_i)
                F_ = torch.sigmoid(torch.matmul(X, self.W_xf)
                                   + torch.matmul(H, self.W_hf) + self.b_f)
                O = torch.sigmoid(torch.matmul(X, self.W_xo)
                                  + torch.matmul(H, self.W_ho) + self.b_o)
                C_tilde = torch.tanh(torch.matmul(X, self.W_xc)
                                     + torch.matmul(H, self.W_hc) + self.b_c)
                C = F_ * C + I * C_tilde
                H = O * torch.tanh(C)
                outputs.append(H)
            return outputs, (H, C)

    class GRU(RNN):  # gru concise; deep-rnn adds num_layers and dropout
        def __init__(self, num_inputs, num_hiddens, num_layers=1, dropout=0):
            nn.Module.__init__(self)
            self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
            self.rnn = nn.GRU(num_inputs, num_hiddens, num_layers, dropout=dropout)

    class LSTM(RNN):
        def __init__(self, num_inputs, num_hiddens):
            nn.Module.__init__(self)
            self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
            self.rnn = nn.LSTM(num_inputs, num_hiddens)

        def forward(self, inputs, H_C=None):
            return self.rnn(inputs, H_C)

    class StackedRNNScratch(nn.Module):  # deep-rnn
        def __init__(self, num_inputs, num_hiddens, num_layers, sigma=0.01):
            super().__init__()
            self.num_inputs, self.num_hiddens, self.num_layers = num_inputs, num_hiddens, num_layers
            self.sigma = sigma
            self.rnns = nn.Sequential(*[RNNScratch(num_inputs if i == 0 else num_hiddens,
                                                   num_hiddens, sigma)
                                        for i in range(num_layers)])

        def forward(self, inputs, Hs=None):
            outputs = inputs
            if Hs is None:
                Hs = [None] * self.num_layers
            for i in range(self.num_layers):
                outputs, Hs[i] = self.rnns[i](outputs, Hs[i])
                outputs = torch.stack(outputs, 0)
            return outputs, Hs

    class BiRNNScratch(nn.Module):  # bi-rnn
        def __init__(self, num_inputs, num_hiddens, sigma=0.01):
            super().__init__()
            self.num_inputs, self.num_hiddens, self.sigma = num_inputs, num_hiddens, sigma
            self.f_rnn = RNNScratch(num_inputs, num_hiddens, sigma)
            self.b_rnn = RNNScratch(num_inputs, num_hiddens, sigma)
            self.num_hiddens *= 2  # the output dimension is doubled

        def forward(self, inputs, Hs=None):
            f_H, b_H = Hs if Hs is not None else (None, None)
            f_outputs, f_H = self.f_rnn(inputs, f_H)
            b_outputs, b_H = self.b_rnn(reversed(inputs), b_H)
            outputs = [torch.cat((f, b), -1) for f, b in zip(f_outputs, reversed(b_outputs))]
            return outputs, (f_H, b_H)

    class BiGRU(RNN):
        def __init__(self, num_inputs, num_hiddens):
            nn.Module.__init__(self)
            self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
            self.rnn = nn.GRU(num_inputs, num_hiddens, bidirectional=True)
            self.num_hiddens *= 2

    return locals()


def language_model(ns, make):
    """The chapters' training loop: ``d2l.Trainer`` with ``gradient_clip_val=1`` and SGD; the
    backward pass, the clipping and the step run under ``no_grad``, as the book's trainer."""
    torch = ns.torch
    d = book(ns)
    model = make(d)
    X = torch.tensor(TOKENS[:, :-1])
    Y = torch.tensor(TOKENS[:, 1:])
    optim = None

    def warm():
        model(X)

    def step():
        nonlocal optim
        optim = optim or torch.optim.SGD(model.parameters(), lr=1.0)
        loss = model.loss(model(X), Y)
        optim.zero_grad()
        with torch.no_grad():  # as d2l.Trainer.fit_epoch writes it
            loss.backward()
            d["clip_gradients"](1, model)
            optim.step()
        return loss.item()

    return model, step, warm


MODELS = {
    "rnn-scratch": lambda d: d["RNNLMScratch"](d["RNNScratch"](VOCAB, HIDDEN, sigma=0.5), VOCAB),
    "rnn-concise": lambda d: d["RNNLM"](d["RNN"](VOCAB, HIDDEN), VOCAB),
    "gru-scratch": lambda d: d["RNNLMScratch"](d["GRUScratch"](VOCAB, HIDDEN, sigma=0.5), VOCAB),
    "gru-concise": lambda d: d["RNNLM"](d["GRU"](VOCAB, HIDDEN), VOCAB),
    "lstm-scratch": lambda d: d["RNNLMScratch"](d["LSTMScratch"](VOCAB, HIDDEN, sigma=0.5),
                                                VOCAB),
    "lstm-concise": lambda d: d["RNNLM"](d["LSTM"](VOCAB, HIDDEN), VOCAB),
    "deep-scratch": lambda d: d["RNNLMScratch"](d["StackedRNNScratch"](VOCAB, HIDDEN, 2, 0.5),
                                                VOCAB),
    "deep-gru-concise": lambda d: d["RNNLM"](d["GRU"](VOCAB, HIDDEN, num_layers=2), VOCAB),
    "bi-scratch": lambda d: d["RNNLMScratch"](d["BiRNNScratch"](VOCAB, HIDDEN, 0.5), VOCAB),
    "bi-gru-concise": lambda d: d["RNNLM"](d["BiGRU"](VOCAB, HIDDEN), VOCAB),
}


@pytest.mark.parametrize("chapter", list(MODELS))
def test_language_models_train_as_in_torch(chapter):
    theirs, ours = train_beside(language_model, make=MODELS[chapter])
    assert_same_losses(theirs, ours)
    assert theirs[-1] < theirs[0]  # it learns: the comparison is not of constants
    assert math.isfinite(ours[-1])
