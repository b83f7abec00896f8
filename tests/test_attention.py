"""Attention against torch twins: masked_softmax, AdditiveAttention, DotProductAttention and
MultiheadAttention (torch.nn.MultiheadAttention's own state dict loaded into ours, strict).

Every comparison runs in float64 and differentiates a loss that weights every output randomly:
outputs, attention weights and every gradient (parameters, queries, keys, values) must agree to
a relative 1e-8.
"""
import math

import numpy as np
import pytest
from torch_twins import assert_gradients_equal

import tinygrad_rnn as tg

torch = pytest.importorskip("torch")
from attention_twins import TorchAdditive, keep_from_lens, torch_masked_softmax

RTOL, ATOL = 1e-8, 1e-12


def close(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def pair(rng, *shape):
    """The same float64 array as a tinygrad_rnn tensor and a torch tensor, both needing grad."""
    a = rng.standard_normal(shape)
    return tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


# ---- masked_softmax ----------------------------------------------------------------------------
@pytest.mark.parametrize("lens", [[3, 1], [[1, 2, 4], [0, 3, 2]], [0, 4], None],
                         ids=["per-row", "per-query", "an-empty-row", "no-lens"])
@pytest.mark.parametrize("with_mask", [False, True])
def test_masked_softmax_matches_torch(lens, with_mask):
    rng = np.random.default_rng(0)
    s, ts = pair(rng, 2, 3, 4)
    mask = rng.random((2, 1, 4)) > 0.3 if with_mask else None
    w = tg.F.masked_softmax(s, valid_lens=lens, mask=mask)
    keep = torch.ones(2, 3, 4, dtype=torch.bool) if lens is None else keep_from_lens(lens,
                                                                                     (2, 3, 4))
    keep = keep & torch.from_numpy(mask) if with_mask else keep
    tw = torch_masked_softmax(ts, keep)
    r = rng.standard_normal((2, 3, 4))
    (w * tg.tensor(r)).sum().backward()
    (tw * torch.from_numpy(r)).sum().backward()
    close(w, tw)
    close(s.grad, ts.grad)
    assert np.isfinite(s.grad.numpy()).all()


def test_masked_softmax_fully_masked_rows_are_zero_without_nan():
    """No NaN anywhere, even with non-finite or huge scores at the masked positions, and with
    kept scores far below the masked ones (exp of the difference would overflow)."""
    scores = np.array([[[np.inf, np.nan, -np.inf, 1e300]],
                       [[-1000.0, -1000.5, 0.0, np.inf]]])
    s = tg.tensor(scores, requires_grad=True)
    w = tg.F.masked_softmax(s, valid_lens=[0, 2])
    (w * tg.tensor(np.arange(8.0).reshape(2, 1, 4))).sum().backward()
    expected_row = np.exp([0.0, -0.5]) / np.exp([0.0, -0.5]).sum()
    np.testing.assert_allclose(w.numpy()[0, 0], 0.0)
    np.testing.assert_allclose(w.numpy()[1, 0], [*expected_row, 0, 0], rtol=1e-12)
    g = s.grad.numpy()
    assert np.isfinite(g).all() and (g[0] == 0).all() and (g[1, 0, 2:] == 0).all()
    # d/ds_j of sum_k alpha_k r_k = alpha_j (r_j - sum_k alpha_k r_k), r = (4, 5)
    r = np.array([4.0, 5.0])
    np.testing.assert_allclose(g[1, 0, :2], expected_row * (r - expected_row @ r), rtol=1e-12)


def test_masked_softmax_gradcheck():
    rng = np.random.default_rng(3)
    mask = rng.random((3, 5)) > 0.4
    assert tg.gradcheck(lambda s: tg.F.masked_softmax(s, valid_lens=[4, 2, 5], mask=mask),
                        [tg.tensor(rng.standard_normal((3, 5)), requires_grad=True)])


def test_masked_softmax_without_lens_or_mask_is_softmax():
    s = tg.tensor(np.random.default_rng(1).standard_normal((2, 5)))
    np.testing.assert_allclose(tg.F.masked_softmax(s).numpy(), tg.F.softmax(s).numpy())


@pytest.mark.parametrize("kwargs,error,words", [
    ({"valid_lens": [1.0, 2.0]}, ValueError, "integers"),
    ({"valid_lens": [1, 2, 3]}, ValueError, "shape (3,)"),
    ({"valid_lens": [1, 5]}, ValueError, "[0, 4]"),
    ({"valid_lens": [-1, 2]}, ValueError, "[0, 4]"),
    ({"mask": np.ones((2, 3, 4))}, TypeError, "True = keep"),
    ({"mask": np.ones((2, 4), dtype=bool)}, ValueError, "does not broadcast"),
    ({"mask": np.ones((5, 2, 3, 4), dtype=bool)}, ValueError, "does not broadcast"),
])
def test_masked_softmax_errors_name_the_problem(kwargs, error, words):
    with pytest.raises(error, match="masked_softmax") as info:
        tg.F.masked_softmax(tg.zeros(2, 3, 4), **kwargs)
    assert words in str(info.value)


# ---- AdditiveAttention, DotProductAttention -----------------------------------------------------
LENS = [None, [5, 2, 1], [[5, 1], [3, 2], [1, 4]]]


@pytest.mark.parametrize("lens", LENS, ids=["all", "per-row", "per-query"])
def test_additive_attention_matches_torch(lens):
    rng = np.random.default_rng(5)
    (q, tq), (k, tk), (v, tv) = pair(rng, 3, 2, 4), pair(rng, 3, 5, 6), pair(rng, 3, 5, 3)
    ours = tg.nn.AdditiveAttention(4, 6, 7, dtype=np.float64)
    theirs = TorchAdditive(4, 6, 7)
    theirs.load_state_dict({n: torch.from_numpy(a) for n, a in ours.state_dict().items()})
    context, weights = ours(q, k, v, valid_lens=lens)
    keep = torch.ones(3, 2, 5, dtype=torch.bool) if lens is None else keep_from_lens(lens,
                                                                                     (3, 2, 5))
    tcontext, tweights = theirs(tq, tk, tv, keep)
    r1, r2 = rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 2, 5))
    ((context * tg.tensor(r1)).sum() + (weights * tg.tensor(r2)).sum()).backward()
    ((tcontext * torch.from_numpy(r1)).sum() + (tweights * torch.from_numpy(r2)).sum()).backward()
    close(context, tcontext)
    close(weights, tweights)
    assert_gradients_equal(close, ours, theirs, [(q, tq), (k, tk), (v, tv)])


@pytest.mark.parametrize("scaled", [True, False])
@pytest.mark.parametrize("lens", LENS, ids=["all", "per-row", "per-query"])
def test_dot_product_attention_matches_torch(lens, scaled):
    rng = np.random.default_rng(6)
    (q, tq), (k, tk), (v, tv) = pair(rng, 3, 2, 4), pair(rng, 3, 5, 4), pair(rng, 3, 5, 3)
    context, weights = tg.nn.DotProductAttention(scaled=scaled)(q, k, v, valid_lens=lens)
    keep = torch.ones(3, 2, 5, dtype=torch.bool) if lens is None else keep_from_lens(lens,
                                                                                     (3, 2, 5))
    scores = torch.bmm(tq, tk.transpose(1, 2)) / (2.0 if scaled else 1.0)  # sqrt(d) = 2
    tweights = torch_masked_softmax(scores, keep)
    tcontext = torch.bmm(tweights, tv)
    r1, r2 = rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 2, 5))
    ((context * tg.tensor(r1)).sum() + (weights * tg.tensor(r2)).sum()).backward()
    ((tcontext * torch.from_numpy(r1)).sum() + (tweights * torch.from_numpy(r2)).sum()).backward()
    close(context, tcontext)
    close(weights, tweights)
    for a, b in ((q, tq), (k, tk), (v, tv)):
        close(a.grad, b.grad)


def test_attention_dropout_acts_in_training_only():
    tg.manual_seed(0)
    q, k, v = tg.randn(2, 3, 4), tg.randn(2, 6, 4), tg.randn(2, 6, 4)
    for attention in (tg.nn.DotProductAttention(dropout=0.5),
                      tg.nn.AdditiveAttention(4, 4, 8, dropout=0.5)):
        context, weights = attention(q, k, v)
        expected = (weights.numpy() @ v.numpy())
        assert not np.allclose(context.numpy(), expected)  # weights dropped, the rest x2
        attention.eval()
        context, weights = attention(q, k, v)
        np.testing.assert_allclose(context.numpy(), weights.numpy() @ v.numpy(), rtol=1e-5)


def test_attention_shape_errors():
    with pytest.raises(ValueError, match="DotProductAttention: queries and keys need one size"):
        tg.nn.DotProductAttention()(tg.zeros(1, 2, 3), tg.zeros(1, 4, 5), tg.zeros(1, 4, 5))
    with pytest.raises(ValueError, match=r"AdditiveAttention: expected queries \(N, Q, d_q\)"):
        tg.nn.AdditiveAttention(3, 3, 4)(tg.zeros(1, 2, 3), tg.zeros(1, 4, 3), tg.zeros(1, 5, 3))


# ---- MultiheadAttention ------------------------------------------------------------------------
MHA_CONFIGS = [
    {},
    {"bias": False},
    {"batch_first": True},
    {"kdim": 3, "vdim": 5},
    {"kdim": 3, "vdim": 5, "batch_first": True, "bias": False},
    {"num_heads": 1},
]
MASKS = ["none", "key_padding", "attn_2d", "attn_3d", "both", "float"]


def mha_masks(kind, rng, N, h, L, S):
    """(key_padding_mask, attn_mask) as NumPy arrays; every query keeps at least one key
    (torch gives NaN for a query with none, where ours gives zeros)."""
    pad = np.zeros((N, S), dtype=bool)
    pad[0, S - 2:] = True
    causal = np.triu(np.ones((L, S), dtype=bool), k=1 + S - L)
    per_head = rng.random((N * h, L, S)) > 0.6
    per_head[..., 0] = False
    return {"none": (None, None), "key_padding": (pad, None), "attn_2d": (None, causal),
            "attn_3d": (None, per_head), "both": (pad, causal),
            "float": (np.where(pad, -np.inf, 0.0), rng.standard_normal((L, S)))}[kind]


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("masks", MASKS)
@pytest.mark.parametrize("config", MHA_CONFIGS, ids=lambda c: str(c))
def test_multihead_attention_matches_torch(config, masks, average):
    rng = np.random.default_rng(len(str(config)) * 10 + MASKS.index(masks))
    kwargs = dict(config)
    E, h = 4, kwargs.pop("num_heads", 2)
    N, L, S = 2, 3, 5
    theirs = torch.nn.MultiheadAttention(E, h, dtype=torch.float64, **kwargs)
    ours = tg.nn.MultiheadAttention(E, h, dtype=np.float64, **kwargs)
    ours.load_state_dict({n: a.numpy() for n, a in theirs.state_dict().items()}, strict=True)
    first = (lambda n, t: (n, t)) if kwargs.get("batch_first") else (lambda n, t: (t, n))
    (q, tq) = pair(rng, *first(N, L), E)
    (k, tk) = pair(rng, *first(N, S), kwargs.get("kdim", E))
    (v, tv) = pair(rng, *first(N, S), kwargs.get("vdim", E))
    pad, attn = mha_masks(masks, rng, N, h, L, S)
    out, weights = ours(q, k, v, key_padding_mask=pad, attn_mask=attn,
                        average_attn_weights=average)
    tout, tweights = theirs(tq, tk, tv, key_padding_mask=None if pad is None else
                            torch.from_numpy(pad), attn_mask=None if attn is None else
                            torch.from_numpy(attn), average_attn_weights=average)
    r1, r2 = rng.standard_normal(out.shape), rng.standard_normal(weights.shape)
    ((out * tg.tensor(r1)).sum() + (weights * tg.tensor(r2)).sum()).backward()
    ((tout * torch.from_numpy(r1)).sum() + (tweights * torch.from_numpy(r2)).sum()).backward()
    close(out, tout)
    close(weights, tweights)
    assert_gradients_equal(close, ours, theirs, [(q, tq), (k, tk), (v, tv)])


def test_multihead_attention_unbatched_and_without_weights_match_torch():
    rng = np.random.default_rng(9)
    theirs = torch.nn.MultiheadAttention(6, 3, dtype=torch.float64)
    ours = tg.nn.MultiheadAttention(6, 3, dtype=np.float64)
    ours.load_state_dict({n: a.numpy() for n, a in theirs.state_dict().items()})
    (q, tq), (k, tk) = pair(rng, 4, 6), pair(rng, 3, 6)
    pad = np.array([False, False, True])
    out, weights = ours(q, k, k, key_padding_mask=pad)
    tout, tweights = theirs(tq, tk, tk, key_padding_mask=torch.from_numpy(pad))
    close(out, tout)
    close(weights, tweights)
    out, none = ours(q, k, k, need_weights=False)
    assert none is None and out.shape == (4, 6)
    close(out, theirs(tq, tk, tk, need_weights=False)[0])


def test_multihead_attention_initialisation_as_torch():
    tg.manual_seed(0)
    mha = tg.nn.MultiheadAttention(16, 4)
    torch_names = list(torch.nn.MultiheadAttention(16, 4).state_dict())
    assert list(mha.state_dict()) == torch_names
    assert list(tg.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False).state_dict()) == \
        list(torch.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False).state_dict())
    w = mha.in_proj_weight.numpy()
    bound = math.sqrt(6 / (16 + 48))  # Xavier uniform over (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    assert np.abs(mha.out_proj.weight.numpy()).max() <= 1 / math.sqrt(16)


def test_multihead_attention_query_with_no_key_gets_zeros_not_nan():
    tg.manual_seed(1)
    mha = tg.nn.MultiheadAttention(4, 2, batch_first=True)
    x = tg.randn(2, 3, 4, requires_grad=True)
    pad = np.array([[True] * 3, [False, False, True]])  # batch row 0 may attend nowhere
    out, weights = mha(x, x, x, key_padding_mask=pad)
    out.sum().backward()
    assert not weights.numpy()[0].any() and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(out.numpy()[0], np.broadcast_to(mha.out_proj.bias.numpy(),
                                                               (3, 4)))


@pytest.mark.parametrize("call,words", [
    (lambda m: tg.nn.MultiheadAttention(6, 4), "divisible"),
    (lambda m: m(tg.zeros(3, 2, 4), tg.zeros(5, 2, 3), tg.zeros(5, 2, 4)), "features"),
    (lambda m: m(tg.zeros(3, 2, 4), tg.zeros(5, 2, 4), tg.zeros(5, 2, 4),
                 key_padding_mask=np.zeros((5, 2), dtype=bool)), "key_padding_mask must"),
    (lambda m: m(tg.zeros(3, 2, 4), tg.zeros(5, 2, 4), tg.zeros(5, 2, 4),
                 attn_mask=np.zeros((5, 3), dtype=bool)), "attn_mask must"),
])
def test_multihead_attention_errors(call, words):
    with pytest.raises(ValueError, match="MultiheadAttention") as info:
        call(tg.nn.MultiheadAttention(4, 2))
    assert words in str(info.value)
