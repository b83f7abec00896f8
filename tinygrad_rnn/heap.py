"""Keep the memory a training step frees for the next step: ``tg.release_memory()`` gives it back.

Every op allocates the array it returns, and a training step frees nearly all of them at its
end. glibc's ``malloc`` (Linux) hands large free blocks back to the operating system: the free
top of its heap above a trim threshold, and every block above an mmap threshold as it is freed.
The next step then asks for the same megabytes again, and the kernel maps and zero-fills them
page by page. Measured on a shared 2-core machine, one BLAS thread, the peers' workload with a
tanh RNN of hidden 256 (batch 32 × 64 steps): 95,000 tokens/s with glibc's defaults,
116,000-120,000 with the thresholds below, the hand-written NumPy BPTT (which allocates nothing
per step) 114,000-121,000 either way.

So at import, on glibc, the package raises the trim threshold to :data:`TRIM_THRESHOLD` and the
mmap threshold to :data:`MMAP_THRESHOLD` (glibc's largest), as the environment variables
``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_`` would; if you set any variable of
:data:`ENVIRONMENT`, yours stand and nothing is changed. The process then keeps up to
:data:`TRIM_THRESHOLD` bytes of free memory in its heap: its resident size stays near the peak
of its steps, and that peak grows a little (the large LSTM benchmark's from 1.21x to 1.25x the
NumPy BPTT's, measured when the setting was added). :func:`release_memory` gives the free memory back at once, for
example after training in a long-lived notebook kernel. Elsewhere (macOS, Windows, musl) both
do nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

#: Environment variables that mean "the user has tuned malloc": the thresholds are left alone.
ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
               "MALLOC_MMAP_MAX_")
TRIM_THRESHOLD = 256 * 2**20  # free memory the heap may keep at its top, in bytes
MMAP_THRESHOLD = 32 * 2**20   # blocks at least this large are mapped one by one (glibc's maximum)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def glibc():
    """The C library if it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    try:  # glibc's name first: find_library may start a subprocess (ldconfig)
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
        except (OSError, TypeError):  # TypeError: no C library found (None)
            return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def use_default() -> bool:
    """Raise glibc's thresholds unless the environment tuned malloc; whether they were set."""
    libc = glibc()
    if libc is None or any(os.environ.get(name) for name in ENVIRONMENT):
        return False
    return bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and \
        bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_memory() -> bool:
    """Give the heap's free memory back to the operating system now (glibc's ``malloc_trim``).

    Returns whether any was given back (always False where the C library is not glibc).
    """
    libc = glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
