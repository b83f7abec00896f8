"""``tg.set_num_threads``: one BLAS thread by default, unless the environment chose."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.threads import ENVIRONMENT

REPO = Path(__file__).resolve().parents[1]


def threads_after_import(**env) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    code = "import tinygrad_rnn as tg; print(tg.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env,
                         "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_default_is_one_thread():
    assert threads_after_import() == 1


def test_the_environment_wins():
    assert threads_after_import(OPENBLAS_NUM_THREADS="2") == 2


def test_set_and_get():
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(2)
        assert tg.get_num_threads() == 2
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
    finally:
        tg.set_num_threads(before)


@pytest.mark.parametrize("n, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("2", TypeError)])
def test_bad_counts(n, error):
    with pytest.raises(error, match="set_num_threads"):
        tg.set_num_threads(n)

