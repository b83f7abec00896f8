"""Torch twins of the attention pieces, shared by the attention and sequence-to-sequence tests."""
import math

import torch


def torch_masked_softmax(scores, keep):
    """Softmax over the kept positions; rows with none kept give zeros (and zero gradient).

    Written the usual torch way (fill with -inf, softmax); a row with nothing kept would be
    NaN there, so it is computed over all positions and multiplied by 0.
    """
    any_kept = keep.any(-1, keepdim=True)
    w = torch.softmax(scores.masked_fill(~(keep | ~any_kept), -math.inf), dim=-1)
    return w * any_kept


def keep_from_lens(lens, shape):
    """The bool mask of the first ``lens`` positions along the last axis of ``shape``."""
    lens = torch.as_tensor(lens)
    lens = lens.reshape(lens.shape + (1,) * (len(shape) - lens.ndim))
    return torch.arange(shape[-1]) < lens


class TorchAdditive(torch.nn.Module):
    """d2l's AdditiveAttention, with explicit sizes; ``keep`` (N, Q, K) bool, True = keep."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.W_q = torch.nn.Linear(query_size, hidden_size, bias=False, dtype=torch.float64)
        self.W_k = torch.nn.Linear(key_size, hidden_size, bias=False, dtype=torch.float64)
        self.w_v = torch.nn.Linear(hidden_size, 1, bias=False, dtype=torch.float64)

    def forward(self, queries, keys, values, keep):
        features = torch.tanh(self.W_q(queries).unsqueeze(2) + self.W_k(keys).unsqueeze(1))
        weights = torch_masked_softmax(self.w_v(features).squeeze(-1), keep)
        return torch.bmm(weights, values), weights
