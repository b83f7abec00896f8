"""Shared fixtures: every test that takes ``device`` runs on "cpu", and on "cuda" with a GPU."""
import numpy as np
import pytest

import tinygrad_rnn as tg

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
