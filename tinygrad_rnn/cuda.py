"""``tg.cuda``: is a CUDA GPU usable, and the lazily imported CuPy module.

``is_available()`` never raises: without CuPy, without a GPU or without a working driver it
returns ``False``, and ``reason()`` says which. Asking for ``"cuda"`` when it is not usable raises
:class:`CudaUnavailableError` with that reason. The answer is computed once and cached;
``reset()`` forgets it (after installing CuPy in a running notebook, say).

A module that imitates CuPy without a GPU (the test suite has one) declares itself with a
``__stand_in__`` sentence; ``reason()`` then says so, so no report mistakes it for a GPU.
"""
from __future__ import annotations

_status: tuple[object, str] | None = None  # (cupy module or None, reason it is unusable)


class CudaUnavailableError(RuntimeError):
    """``"cuda"`` was asked for but no usable CUDA GPU was found."""


def _probe() -> tuple[object, str]:
    try:
        import cupy
    except Exception as e:  # noqa: BLE001 - ImportError, or a broken install raising anything
        return None, f"CuPy is not installed or failed to import ({e}); install it with pip install .[gpu]"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CUDARuntimeError and friends: no driver or device
        return None, f"CuPy found no CUDA driver or device ({type(e).__name__}: {e})"
    if count < 1:
        return None, "CuPy is installed but no CUDA device is visible"
    try:  # one tiny kernel: catches a missing NVRTC or an unusable driver
        x = cupy.arange(4, dtype=cupy.float32)
        if float((x * 2).sum()) != 12.0:
            return None, "a test kernel on the CUDA device gave a wrong result"
    except Exception as e:  # noqa: BLE001 - a missing NVRTC or broken driver raises many kinds
        return None, f"a test kernel on the CUDA device failed ({type(e).__name__}: {e})"
    return cupy, getattr(cupy, "__stand_in__", "")


def _get_status() -> tuple[object, str]:
    global _status
    if _status is None:
        _status = _probe()
    return _status


def is_available() -> bool:
    """``True`` when CuPy imports and a CUDA device runs a test kernel; never raises."""
    return _get_status()[0] is not None


def reason() -> str:
    """Why CUDA is not usable (empty string when a GPU is; a stand-in's own sentence under one)."""
    return _get_status()[1]


def reset() -> None:
    """Forget the cached answer: the next question imports CuPy and probes the GPU again."""
    global _status
    _status = None


def cupy():
    """The CuPy module, or :class:`CudaUnavailableError` saying why it cannot be used."""
    module, why = _get_status()
    if module is None:
        raise CudaUnavailableError(f"device 'cuda' is not usable: {why}")
    return module
