"""One layer called from several threads at once gives every thread the serial results.

Threads share a layer's parameters and its :class:`~tinygrad_rnn.fused.ArrayPool` (the arrays
its fused steps use again); the recording state (grad mode, scope, backward-pass number) is
per thread. Threads normally switch every 5 ms, so a race shows up in a few rounds only when they
switch every microsecond (``sys.setswitchinterval``), as here.
"""
import sys
import threading

import numpy as np
import pytest

import tinygrad_rnn as tg

THREADS, ROUNDS = 6, 60


@pytest.fixture
def fast_switching():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def in_threads(fn, args: list) -> list:
    """``[fn(*a) for a in args]``, each call in its own thread, all started together."""
    results, errors = [None] * len(args), []
    barrier = threading.Barrier(len(args))

    def work(i):
        try:
            barrier.wait()
            results[i] = fn(*args[i])
        except Exception as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(args))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def forward_backward(layer, x: np.ndarray) -> tuple:
    """The output of ``layer`` and the gradient of ``sum(output²)`` with respect to ``x``."""
    x = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    out, _ = layer(x)
    (out * out).sum().backward()
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_one_fused_layer_in_six_threads_gives_the_serial_results(kind, fast_switching):
    tg.manual_seed(0)
    layer = getattr(tg.nn, kind)(3, 5, dtype=np.float64)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((7, 2, 3)) for _ in range(THREADS)]
    serial = [forward_backward(layer, x) for x in xs]
    summed = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    for _ in range(ROUNDS):
        layer.zero_grad()
        results = in_threads(forward_backward, [(layer, x) for x in xs])
        for (out, dx), (out_1, dx_1) in zip(results, serial):
            np.testing.assert_allclose(out, out_1, rtol=0, atol=1e-12)
            np.testing.assert_allclose(dx, dx_1, rtol=0, atol=1e-12)
        for name, p in layer.named_parameters():  # every thread's gradient, added up
            np.testing.assert_allclose(p.grad.numpy(), summed[name], rtol=0, atol=1e-12,
                                       err_msg=name)


def test_gradients_from_threads_add_up_in_grad(fast_switching):
    w = tg.zeros(3, dtype=tg.float64, requires_grad=True)

    def backward_passes(n: int) -> None:
        for _ in range(n):
            (w * 1.0).sum().backward()
    in_threads(backward_passes, [(100,)] * THREADS)
    np.testing.assert_array_equal(w.grad.numpy(), [THREADS * 100.0] * 3)
