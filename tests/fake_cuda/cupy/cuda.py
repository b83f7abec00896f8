"""``cupy.cuda`` of the stand-in: one device, streams and events that do nothing."""
from __future__ import annotations

from types import SimpleNamespace


class Device:
    """CUDA device ``id`` (only device 0 exists)."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise RuntimeError(f"cudaErrorInvalidDevice: the stand-in has one device, not {self.id}")
        self.compute_capability = "90"

    def use(self) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A stream: work on the stand-in is finished when the call returns."""

    def __init__(self, null=False, non_blocking=False, ptr=None):
        self.ptr = 0 if null else 1

    def synchronize(self) -> None:
        pass

    def use(self):
        return self

    def record(self, event=None):
        return event or Event()

    def wait_event(self, event) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Event:
    def __init__(self, *args, **kwargs):
        pass

    def record(self, stream=None) -> None:
        pass

    def synchronize(self) -> None:
        pass


def get_elapsed_time(start, end) -> float:
    return 0.0


class MemoryPool:
    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        pass


Stream.null = Stream(null=True)


def get_current_stream():
    return Stream.null


def get_device_id() -> int:
    return 0


def is_available() -> bool:
    return True


runtime = SimpleNamespace(
    getDeviceCount=lambda: 1,
    getDevice=lambda: 0,
    deviceSynchronize=lambda: None,
    runtimeGetVersion=lambda: 12000,
    driverGetVersion=lambda: 12000,
    getDeviceProperties=lambda device: {"name": b"CuPy stand-in (NumPy on the CPU)",
                                        "totalGlobalMem": 0},
)
