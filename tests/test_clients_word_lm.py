"""pytorch/examples ``word_language_model`` as it is written: ``RNNModel`` (LSTM, GRU, RNN_TANH,
RNN_RELU; tied weights; dropout), ``batchify``, ``get_batch``, ``repackage_hidden``, the
training step (``clip_grad_norm_`` and a manual SGD step) and ``evaluate``, run with torch and
with tinygrad_rnn under torch's names from the same weights: the losses agree to float32
precision and every state-dict name matches.

The one line written differently, the manual step ``p.data.add_(p.grad, alpha=-lr)``, is
taken from ``clients.DIFFERENCES``; so is the checkpoint (``torch.save(model, f)`` pickles the
model; tinygrad_rnn saves its state dict).
"""
import math

import numpy as np
import pytest
from clients import OURS, TORCH, assert_same_losses, copy_weights, differs, train_beside

NTOKEN, NINP, NHID, NLAYERS, BPTT, BATCH, LR = 11, 6, 6, 2, 4, 3, 2.0
CORPUS = np.tile(np.random.default_rng(2).permutation(NTOKEN), 4)  # a cycle: learnable


def example(ns):
    """model.py and main.py's functions, over the namespace ``ns`` (torch's or ours)."""
    torch, nn, F = ns.torch, ns.nn, ns.F

    class RNNModel(nn.Module):
        """Container module with an encoder, a recurrent module, and a decoder."""

        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5,
                     tie_weights=False):
            super().__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ["LSTM", "GRU"]:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity,
                                  dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:  # Press & Wolf; Inan et al.
                if nhid != ninp:
                    raise ValueError("When using the tied flag, nhid must be equal to emsize")
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == "LSTM":
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            return weight.new_zeros(self.nlayers, bsz, self.nhid)

    device = torch.device("cpu")

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz  # drop what does not fill a column
        data = data.narrow(0, 0, nbatch * bsz)
        data = data.view(bsz, -1).t().contiguous()  # (steps, bsz)
        return data.to(device)

    def repackage_hidden(h):
        """Wraps hidden states in new Tensors, to detach them from their history."""
        if isinstance(h, torch.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def get_batch(source, i):
        seq_len = min(BPTT, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].view(-1)
        return data, target

    def train_epoch(model, train_data, lr, clip=0.25):
        model.train()
        criterion = nn.NLLLoss()
        losses = []
        hidden = model.init_hidden(BATCH)
        for _batch, i in enumerate(range(0, train_data.size(0) - 1, BPTT)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            differs(torch, "manual sgd step")(torch, model, lr)
            losses.append(loss.item())
        return losses

    def evaluate(model, data_source, eval_batch_size):
        model.eval()
        criterion = nn.NLLLoss()
        total_loss = 0.0
        hidden = model.init_hidden(eval_batch_size)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, BPTT):
                data, targets = get_batch(data_source, i)
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    return locals()


def word_lm(ns, rnn_type="LSTM", tied=False, dropout=0.0):
    """main.py: one step is one epoch of the training loop (several bptt windows)."""
    e = example(ns)
    model = e["RNNModel"](rnn_type, NTOKEN, NINP, NHID, NLAYERS, dropout, tied).to(e["device"])
    train_data = e["batchify"](ns.torch.tensor(CORPUS), BATCH)

    def step():
        return e["train_epoch"](model, train_data, lr=LR)  # the loss of every bptt window

    return model, step


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_word_language_model_trains_as_in_torch(rnn_type, tied):
    theirs, ours = train_beside(word_lm, steps=2, rnn_type=rnn_type, tied=tied)
    assert_same_losses(theirs, ours)
    assert np.mean(theirs[-1]) < np.mean(theirs[0])


def build_both(**kw):
    TORCH.torch.manual_seed(0)
    (theirs, _), (ours, _) = word_lm(TORCH, **kw), word_lm(OURS, **kw)
    copy_weights(theirs, ours)
    return theirs, ours


def test_tied_weights_are_one_parameter_under_two_names():
    theirs, ours = build_both(tied=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.decoder.weight is ours.encoder.weight


def test_dropout_model_evaluates_as_in_torch_and_trains():
    """With dropout 0.5 the masks differ between the two libraries, so the models are compared
    in ``eval()`` (no dropout); in ``train()`` ours drops half, anew at every call, and trains."""
    theirs, ours = build_both(rnn_type="GRU", dropout=0.5)
    results = []
    for ns, model in [(TORCH, theirs), (OURS, ours)]:
        e = example(ns)
        data = e["batchify"](ns.torch.tensor(CORPUS), 2)
        results.append(e["evaluate"](model, data, 2))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
    assert math.isclose(results[0], math.log(NTOKEN), rel_tol=0.05)  # untrained: uniform
    e = example(OURS)
    ours.train()
    x = OURS.torch.ones(1000)
    dropped = ours.drop(x).numpy()
    assert (dropped != ours.drop(x).numpy()).any()  # a new mask at every call
    assert set(np.unique(dropped)) == {0.0, 2.0} and 0.4 < (dropped == 0).mean() < 0.6
    before = ours.decoder.weight.numpy().copy()
    train_data = e["batchify"](OURS.torch.tensor(CORPUS), BATCH)
    losses = e["train_epoch"](ours, train_data, lr=LR)
    assert np.isfinite(losses).all() and (ours.decoder.weight.numpy() != before).any()


def test_checkpoint_round_trip(tmp_path):
    """main.py saves ``torch.save(model, f)`` (a pickle); here the state dict goes to
    ``.npz`` and comes back into a model built the same way, equal to the torch model."""
    import tinygrad_rnn as tg

    theirs, ours = build_both(rnn_type="LSTM")
    tg.save(ours.state_dict(), tmp_path / "model.npz")
    (again, _) = word_lm(OURS, rnn_type="LSTM")
    again.load_state_dict(tg.load(tmp_path / "model.npz"))
    again.rnn.flatten_parameters()  # main.py calls it after loading; nothing to do here
    for (name, a), (_, b) in zip(theirs.state_dict().items(), again.state_dict().items()):
        np.testing.assert_array_equal(b, tg.utils.from_torch(a), err_msg=name)
