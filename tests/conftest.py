"""Shared fixtures: every test that takes ``device`` runs on "cpu", and on "cuda" with a GPU.

Hypothesis profiles for the property tests (``tests/test_props_*.py``): ``ci`` (chosen when the
environment has ``CI=true``) runs 300 derandomized examples a test, the whole property suite in
well under a minute on two cores, the same examples at every run; ``dev``
(``HYPOTHESIS_PROFILE=dev``) runs 2,000 random ones (a few minutes); otherwise ``local``:
100 random ones. No profile has a deadline: the first call into torch takes longer than any
sensible one.
"""
import os

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


def pytest_collection_modifyitems(config, items):
    if tg.cuda.is_available():
        return
    skip = pytest.mark.skip(reason=f"no usable CUDA GPU: {tg.cuda.reason()}")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a usable CUDA GPU (CuPy)")


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
