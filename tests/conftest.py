"""Shared fixtures: every test that takes ``device`` runs on "cpu" and on "cuda".

"cuda" is a real GPU when CuPy finds one. Without one, the "cuda" cases run on the CuPy stand-in
in ``tests/fake_cuda`` (NumPy arrays behind CuPy's interface and its rules, every device->host
transfer counted): ``--fake-cuda=auto``, the default. ``--fake-cuda=on`` uses the stand-in even
beside a GPU, ``--fake-cuda=off`` never (the "cuda" cases then skip without a GPU). The
environment variable ``TINYGRAD_RNN_FAKE_CUDA`` (``auto``, ``on``, ``off``) sets the default.
The header of pytest's report says which "cuda" ran.

Hypothesis profiles for the property tests (``tests/test_props_*.py``): ``ci`` (chosen when the
environment has ``CI=true``) runs 300 derandomized examples a test, the whole property suite in
well under a minute on two cores, the same examples at every run; ``dev``
(``HYPOTHESIS_PROFILE=dev``) runs 2,000 random ones (a few minutes); otherwise ``local``:
100 random ones. No profile has a deadline: the first call into torch takes longer than any
sensible one.
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import tinygrad_rnn as tg

settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None,
                          database=None, print_blob=True)
settings.register_profile("dev", max_examples=2000, deadline=None)
settings.register_profile("local", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() in ("1", "true") else "local"))

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
STAND_IN = Path(__file__).parent / "fake_cuda"
collect_ignore = ["fake_cuda"]  # the stand-in is imported as `cupy`, never as a test module


def pytest_addoption(parser):
    parser.addoption("--fake-cuda", choices=("auto", "on", "off"),
                     default=os.environ.get("TINYGRAD_RNN_FAKE_CUDA", "auto"),
                     help="run the 'cuda' cases on the CuPy stand-in of tests/fake_cuda: auto "
                          "(when no GPU is usable; the default), on (always), off (never)")


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: runs on the 'cuda' device (a GPU, or the CuPy "
                                       "stand-in without one)")
    config.addinivalue_line("markers", "stand_in: needs the CuPy stand-in (counts transfers)")
    mode = config.getoption("--fake-cuda")
    if mode == "on" or (mode == "auto" and not tg.cuda.is_available()):
        use_stand_in()


def use_stand_in() -> None:
    """Make ``import cupy`` / ``import cupyx`` find the stand-in, and let ``tg.cuda`` probe it."""
    for name in [m for m in sys.modules if m.partition(".")[0] in ("cupy", "cupyx")]:
        del sys.modules[name]  # a real CuPy imported without a usable GPU
    sys.path.insert(0, str(STAND_IN))
    tg.cuda.reset()
    assert tg.cuda.is_available(), tg.cuda.reason()


def on_stand_in() -> bool:
    return tg.cuda.is_available() and "stand-in" in tg.cuda.reason()


def which_cuda() -> str:
    if not tg.cuda.is_available():
        return f"skipped ({tg.cuda.reason()})"
    return tg.cuda.reason() if on_stand_in() else f"a GPU, CuPy {tg.cuda.cupy().__version__}"


def pytest_report_header(config):
    return f"cuda: {which_cuda()}"


def pytest_terminal_summary(terminalreporter):
    """One line under the results (also with -q, which hides the header): which "cuda" ran."""
    terminalreporter.write_line(f"the 'cuda' cases: {which_cuda()}")


def pytest_collection_modifyitems(config, items):
    cuda, stand_in = tg.cuda.is_available(), on_stand_in()
    skip_cuda = pytest.mark.skip(reason=f"no usable CUDA GPU: {tg.cuda.reason()}")
    skip_stand_in = pytest.mark.skip(reason="counts transfers, which only the CuPy stand-in can")
    for item in items:
        if "cuda" in item.keywords and not cuda:
            item.add_marker(skip_cuda)
        elif "stand_in" in item.keywords and not stand_in:
            item.add_marker(skip_stand_in)


@pytest.fixture
def transfers():
    """The stand-in's counter of device->host transfers, reset (tests marked ``stand_in``)."""
    counter = tg.cuda.cupy().transfers
    counter.reset()
    yield counter
    counter.reset()


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
