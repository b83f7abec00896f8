"""How many threads NumPy's BLAS uses for matrix products: ``tg.set_num_threads(n)``.

A recurrent network multiplies small matrices many times; splitting each product over several
threads costs more in waking and joining them than it saves, and on a machine busy with other
work it is far worse. Measured on a shared 2-core machine (a character LSTM training step,
batch 32 × 64 characters): hidden 128 took 0.07-0.08 s with one BLAS thread and 0.91 s with
two; hidden 512, batch 64, 1.3 s against 8.6-17 s. So the package uses **one BLAS thread by
default**, set when it is imported, unless you chose a number yourself with one of the
environment variables in :data:`ENVIRONMENT` (then yours stands). ``tg.set_num_threads(n)``
changes it at any time, for example for a large vocabulary projection on an idle many-core
machine; ``python -m tinygrad_rnn --threads N`` does the same for a command.

threadpoolctl (a small library kept by the scikit-learn team) does the work: it finds the BLAS
library NumPy loaded (OpenBLAS, MKL or BLIS) and sets its thread count through the library's
own call, which an environment variable can no longer do once NumPy is imported.
"""
from __future__ import annotations

import os

#: Environment variables that mean "the user has chosen the BLAS threads": the default is then
#: left alone.
ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS")
#: The BLAS threads the package sets at import when none of :data:`ENVIRONMENT` is set.
DEFAULT = 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in NumPy's BLAS (matrix products) from now on.

    Raises:
        TypeError: ``n`` is not an integer.
        ValueError: ``n`` is below 1.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads(): n must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads(): n must be at least 1, got {n}")
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n, user_api="blas")  # applies at once and stays


def get_num_threads() -> int:
    """The threads NumPy's BLAS uses now (the largest, if several BLAS libraries are loaded)."""
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return max(counts, default=1)


def use_default() -> bool:
    """Set :data:`DEFAULT` threads unless the environment chose; whether it was set."""
    if any(os.environ.get(name) for name in ENVIRONMENT):
        return False
    set_num_threads(DEFAULT)
    return True
