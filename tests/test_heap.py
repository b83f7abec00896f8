"""tinygrad_rnn.heap: freed step memory stays in the heap (glibc); release_memory gives it back."""
import os
import subprocess
import sys

import pytest

from tinygrad_rnn import heap

pytestmark = pytest.mark.skipif(heap.glibc() is None, reason="needs glibc's malloc (Linux)")

# Frees 64 MiB of 1 MiB arrays (each above glibc's initial 128 KiB mmap threshold) and prints
# the resident set, in KiB, while they are held, after they are freed, and after release_memory.
CHILD = """
import numpy as np, tinygrad_rnn as tg
def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
arrays = [np.ones(2**18, np.float32) for _ in range(64)]
held = rss()
del arrays
freed = rss()
tg.release_memory()
print(held, freed, rss())
"""


def child(env_extra: dict) -> tuple:
    env = {k: v for k, v in os.environ.items() if k not in heap.ENVIRONMENT}
    out = subprocess.run([sys.executable, "-c", CHILD], env={**env, **env_extra},
                         capture_output=True, text=True, check=True).stdout
    return tuple(int(v) for v in out.split())


def test_freed_arrays_stay_in_the_heap_until_release_memory():
    held, freed, released = child({})
    assert freed > held - 8 * 1024, (held, freed)          # the 64 MiB are kept for reuse
    assert released < held - 48 * 1024, (held, released)   # and given back on request


def test_a_malloc_setting_in_the_environment_is_left_alone():
    held, freed, _ = child({"MALLOC_TRIM_THRESHOLD_": str(128 * 1024)})
    assert freed < held - 48 * 1024, (held, freed)  # glibc's behaviour: unmapped at once
    env = {"MALLOC_MMAP_THRESHOLD_": "131072"}
    code = "import tinygrad_rnn.heap as h; print(h.use_default())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
