"""The table of gradient-check cases: one or more per primitive op of ``tg.ops``.

Each case names the op it checks, how to make its float64 inputs (from a NumPy generator), and
the function of tensors to check. ``test_ops_gradcheck.py`` runs every case through
``tg.gradcheck`` on every device and fails when a primitive has no case.
"""
from dataclasses import dataclass, field

import numpy as np

import tinygrad_rnn as tg


@dataclass
class Case:
    op: str                    # the primitive this case checks (class name in tg.ops)
    name: str                  # what is special about it
    fn: object                 # function of tensors
    inputs: object             # function rng -> list of float64 arrays (all get requires_grad)
    kw: dict = field(default_factory=dict)  # extra gradcheck arguments (eps, atol)
    needs_cuda: bool = False

    @property
    def id(self):
        return f"{self.op}-{self.name}"


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def positive(*shapes):
    return lambda rng: [rng.uniform(0.5, 2.0, s) for s in shapes]


def away_from_zero(*shapes):
    return lambda rng: [rng.choice([-1, 1], s) * rng.uniform(0.3, 2.0, s) for s in shapes]


def folded(step, output, sequence, reverse=False, **settings):
    """A whole sequence of fused ``step`` ops under ``output`` with ``fold=True``, as a layer's
    loop builds it, the output summed over time times the last state (a second use of it, as
    h_n): every step's gradient then holds its row of the output's gradient, added by the step
    that reads it."""
    def fn(zx, h, w, *b):
        T = zx.shape[0]
        seq, states, state = sequence(T, reverse=reverse), [None] * T, h
        for t in range(T - 1, -1, -1) if reverse else range(T):
            states[t] = state = step.apply(zx, state, w, *b, t=t, seq=seq, **settings)
        return output.apply(*states, seq=seq, fold=True).sum(axis=0) * state
    return fn


IDX = np.array([0, 2, 0, 0, 3])  # repeated indices: the gradient must scatter-add

CASES = [
    # binary, with broadcasting
    Case("Add", "broadcast", lambda a, b: a + b, normal((3, 4), (4,))),
    Case("Add", "broadcast-both", lambda a, b: a + b, normal((2, 1, 3), (4, 1))),
    Case("Sub", "broadcast", lambda a, b: a - b, normal((3, 1), (1, 4))),
    Case("Mul", "broadcast", lambda a, b: a * b, normal((2, 3, 4), (3, 1))),
    Case("Mul", "same-tensor", lambda a: a * a, normal((5,))),
    Case("Div", "broadcast", lambda a, b: a / b, lambda rng: [rng.standard_normal((3, 4)),
                                                               away_from_zero((4,))(rng)[0]]),
    Case("Pow", "tensor-exponent", lambda a, b: a ** b, lambda rng: [positive((3, 4))(rng)[0],
                                                                      rng.standard_normal((4,))]),
    Case("Maximum", "broadcast", lambda a, b: tg.maximum(a, b), normal((3, 4), (4,))),
    Case("Minimum", "broadcast", lambda a, b: a.min(b), normal((3, 4), (4,))),
    Case("Where", "broadcast", lambda a, b: tg.where(a.detach() > 0, a, b), normal((3, 4), (1, 4))),
    # a tensor and a Python number
    Case("AddScalar", "add", lambda a: a + 2.5, normal((3, 4))),
    Case("AddScalar", "sub", lambda a: a - 2.5, normal((3, 4))),
    Case("RSubScalar", "rsub", lambda a: 2.5 - a, normal((3, 4))),
    Case("MulScalar", "mul", lambda a: a * 1.5, normal((3, 4))),
    Case("MulScalar", "rmul", lambda a: -1.5 * a, normal((3, 4))),
    Case("DivScalar", "div", lambda a: a / 1.5, normal((3, 4))),
    Case("RDivScalar", "rdiv", lambda a: 1.5 / a, away_from_zero((3, 4))),
    Case("PowScalar", "square", lambda a: a ** 2, normal((3, 4))),
    Case("PowScalar", "cube", lambda a: a ** 3, normal((3, 4))),
    Case("PowScalar", "sqrt", lambda a: a ** 0.5, positive((3, 4))),
    Case("RPowScalar", "rpow", lambda a: 2.0 ** a, normal((3, 4))),
    # matrix products, NumPy's matmul rules
    Case("MatMul", "2d", lambda a, b: a @ b, normal((3, 4), (4, 5))),
    Case("MatMul", "batched", lambda a, b: a @ b, normal((2, 3, 4), (2, 4, 5))),
    Case("MatMul", "batch-broadcast", lambda a, b: a @ b, normal((2, 1, 3, 4), (5, 4, 2))),
    Case("MatMul", "vector-matrix", lambda a, b: a @ b, normal((4,), (4, 5))),
    Case("MatMul", "matrix-vector", lambda a, b: a @ b, normal((2, 3, 4), (4,))),
    Case("MatMul", "vector-vector", lambda a, b: a @ b, normal((4,), (4,))),
    # one input
    Case("Neg", "neg", lambda a: -a, normal((3, 4))),
    Case("Exp", "exp", lambda a: a.exp(), normal((3, 4))),
    Case("Log", "log", lambda a: a.log(), positive((3, 4))),
    Case("Tanh", "tanh", lambda a: a.tanh(), normal((3, 4))),
    Case("Sigmoid", "sigmoid", lambda a: a.sigmoid(), lambda rng: [4 * rng.standard_normal((3, 4))]),
    Case("Relu", "relu", lambda a: a.relu(), away_from_zero((3, 4))),
    Case("Abs", "abs", lambda a: a.abs(), away_from_zero((3, 4))),
    Case("Sqrt", "sqrt", lambda a: a.sqrt(), positive((3, 4))),
    Case("Clip", "both", lambda a: a.clip(-0.5, 0.5),
         lambda rng: [rng.choice([-0.3, -0.1, 0.2, 0.4, 0.8, -0.9, 1.5], (3, 4))
                      + 0.01 * rng.standard_normal((3, 4))]),
    Case("Clip", "lo-only", lambda a: a.clip(lo=0.1), lambda rng: [rng.choice([-1.0, 1.0], (6,))]),
    Case("Cast", "float32-roundtrip", lambda a: a.astype(np.float32).astype(np.float64) * 3,
         normal((3, 4)), kw={"eps": 1e-2, "atol": 1e-4}),
    Case("ToDevice", "cuda-and-back", lambda a: (a.to("cuda") * 2).to("cpu"), normal((3, 4)),
         needs_cuda=True),
    # reductions
    Case("Sum", "all", lambda a: a.sum(), normal((3, 4))),
    Case("Cumsum", "axis", lambda a: a.cumsum(1), normal((3, 4, 2))),
    Case("Sum", "axis", lambda a: a.sum(axis=1), normal((3, 4, 2))),
    Case("Sum", "axes-keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), normal((3, 4, 2))),
    Case("Mean", "all", lambda a: a.mean(), normal((3, 4))),
    Case("Mean", "negative-axis", lambda a: a.mean(axis=-1), normal((3, 4, 2))),
    Case("Mean", "keepdims", lambda a: a.mean(axis=(0, 1), keepdims=True), normal((3, 4, 2))),
    Case("Max", "all", lambda a: a.max(), normal((3, 4))),
    Case("Max", "axis", lambda a: a.max(axis=1), normal((3, 4, 2))),
    Case("Max", "keepdims", lambda a: a.max(axis=0, keepdims=True), normal((3, 4))),
    Case("Min", "all", lambda a: a.min(), normal((3, 4))),
    Case("Min", "axes-keepdims", lambda a: a.min(axis=(0, 2), keepdims=True), normal((3, 4, 2))),
    # movement
    Case("Reshape", "reshape", lambda a: a.reshape(4, -1) * tg.arange(3.0, device=a.device),
         normal((2, 6))),
    Case("Transpose", "permute", lambda a: a.transpose(2, 0, 1), normal((2, 3, 4))),
    Case("Transpose", "T", lambda a: a.T @ a, normal((3, 2))),
    Case("Index", "basic", lambda a: a[1:3, ::2], normal((4, 5))),
    Case("Index", "negative-step-newaxis", lambda a: a[::-1, None, 2], normal((4, 5))),
    Case("Index", "ellipsis-int", lambda a: a[..., 1], normal((2, 3, 4))),
    Case("Index", "repeated-int-array", lambda a: a[IDX], normal((4, 3))),
    Case("Index", "two-int-arrays", lambda a: a[IDX, IDX[::-1] % 3], normal((4, 3))),
    Case("Index", "int-array-and-slice", lambda a: a[1:, IDX[:3]], normal((3, 4))),
    Case("Index", "boolean-mask", lambda a: a[a.detach() > 0], normal((3, 4))),
    Case("Index", "chunk", lambda a: a.chunk(3, axis=1)[1] * a.chunk(3, axis=1)[2], normal((2, 6))),
    Case("Index", "split", lambda a: a.split([1, 3], axis=0)[1], normal((4, 2))),
    Case("Concat", "axis1", lambda a, b, c: tg.concat([a, b, c], axis=1), normal((2, 1), (2, 3), (2, 2))),
    Case("Concat", "negative-axis", lambda a, b: tg.concat([a, b], axis=-1), normal((2, 3, 1), (2, 3, 2))),
    Case("LSTMStep", "fused-step", lambda zx, hc, w, b: tg.fused.LSTMStep.apply(zx, hc, w, b, t=1),
         normal((3, 2, 8), (2, 2, 2), (2, 8), (8,))),
    Case("LSTMStep", "no-bias", lambda zx, hc, w: tg.fused.LSTMStep.apply(zx, hc, w, t=2),
         normal((3, 2, 8), (2, 2, 2), (2, 8))),
    Case("GRUStep", "fused-step", lambda zx, h, w, b: tg.fused.GRUStep.apply(zx, h, w, b, t=1),
         normal((3, 2, 6), (2, 2), (2, 6), (6,))),
    Case("GRUStep", "no-bias", lambda zx, h, w: tg.fused.GRUStep.apply(zx, h, w, t=0),
         normal((3, 2, 6), (2, 2), (2, 6))),
    Case("RNNStep", "tanh", lambda zx, h, w, b: tg.fused.RNNStep.apply(zx, h, w, b, t=1),
         normal((3, 2, 4), (2, 4), (4, 4), (4,))),
    Case("RNNStep", "relu-no-bias",
         lambda zx, h, w: tg.fused.RNNStep.apply(zx, h, w, t=2, nonlinearity="relu"),
         normal((3, 2, 4), (2, 4), (4, 4))),
    Case("LSTMOutput", "stack-h", lambda a, b, c: tg.fused.LSTMOutput.apply(a, b, c),
         normal((2, 2, 3), (2, 2, 3), (2, 2, 3))),
    Case("LSTMOutput", "folded-sequence",
         folded(tg.fused.LSTMStep, tg.fused.LSTMOutput, tg.fused.LSTMSequence),
         normal((4, 2, 12), (2, 2, 3), (3, 12), (12,))),
    Case("LSTMOutput", "folded-reverse",
         folded(tg.fused.LSTMStep, tg.fused.LSTMOutput, tg.fused.LSTMSequence, reverse=True),
         normal((3, 2, 8), (2, 2, 2), (2, 8))),
    Case("SequenceOutput", "stack-h", lambda a, b, c: tg.fused.SequenceOutput.apply(a, b, c),
         normal((2, 3), (2, 3), (2, 3))),
    Case("SequenceOutput", "folded-rnn",
         folded(tg.fused.RNNStep, tg.fused.SequenceOutput, tg.fused.RNNSequence),
         normal((4, 2, 3), (2, 3), (3, 3), (3,))),
    Case("SequenceOutput", "folded-rnn-reverse-relu",
         folded(tg.fused.RNNStep, tg.fused.SequenceOutput, tg.fused.RNNSequence, reverse=True,
                nonlinearity="relu"),
         away_from_zero((4, 2, 3), (2, 3), (3, 3))),
    Case("SequenceOutput", "folded-gru",
         folded(tg.fused.GRUStep, tg.fused.SequenceOutput, tg.fused.GRUSequence),
         normal((4, 2, 9), (2, 3), (3, 9), (9,))),
    Case("SequenceOutput", "folded-gru-reverse",
         folded(tg.fused.GRUStep, tg.fused.SequenceOutput, tg.fused.GRUSequence, reverse=True),
         normal((3, 2, 6), (2, 2), (2, 6))),
    Case("CrossEntropy", "rows", lambda x: tg.fused.CrossEntropy.apply(x, target=np.array([2, 0, 2, 1])),
         normal((4, 3))),
    Case("CrossEntropy", "ignored-rows",
         lambda x: tg.fused.CrossEntropy.apply(x, target=np.array([1, -1, 0]), ignore_index=-1),
         normal((3, 4))),
    Case("CrossEntropy", "mean-of-kept-rows",
         lambda x: tg.fused.CrossEntropy.apply(x, target=np.array([1, -1, 0, 3]), ignore_index=-1,
                                               reduction="mean"),
         normal((4, 4))),
    Case("CrossEntropy", "sum", lambda x: tg.fused.CrossEntropy.apply(x, target=np.array([2, 0]),
                                                                      reduction="sum"),
         normal((2, 3))),
    Case("LogSoftmax", "rows", lambda x: tg.fused.LogSoftmax.apply(x, axis=1) * tg.arange(4.0, device=x.device),
         normal((3, 4))),
    Case("LogSoftmax", "axis0-3d", lambda x: tg.fused.LogSoftmax.apply(x, axis=0) * x,
         normal((3, 2, 4))),
    Case("MatMul", "rows-times-matrix", lambda a, b: a @ b, normal((3, 2, 4), (4, 5))),
    Case("Stack", "axis0", lambda a, b: tg.stack([a, b]), normal((2, 3), (2, 3))),
    Case("Stack", "last-axis", lambda a, b, c: tg.stack([a, b, c], axis=-1), normal((2, 3), (2, 3), (2, 3))),
]
