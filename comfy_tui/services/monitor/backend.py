"""The `GpuBackend` protocol: what the monitor needs from a source of GPU readings.

Backends are synchronous and may block (NVML calls are C calls that can take tens of
milliseconds); async callers run them with ``asyncio.to_thread``. Implementations:
`NvmlBackend` (real hardware through nvidia-ml-py) and `ReplayBackend` (recorded or
hand-built readings, for tests, screenshots and machines without a GPU).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from comfy_tui.services.monitor.readings import GpuInfo, GpuReading


@runtime_checkable
class GpuBackend(Protocol):
    """A blocking source of GPU readings. Not for use on the event loop thread."""

    def info(self) -> GpuInfo:
        """Driver/CUDA versions and whether any GPU is usable (initialises lazily)."""
        ...

    def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
        """One batch of readings, one reading per device; ``()`` when there is no GPU.

        With ``processes=False`` the per-device compute process lists are not queried
        and the readings carry ``processes=None``.
        """
        ...

    def cuda_driver_version(self) -> tuple[int, int] | None:
        """(major, minor) of the newest CUDA the driver supports, or ``None``."""
        ...

    def compute_capability(self, index: int) -> tuple[int, int] | None:
        """CUDA compute capability of device ``index``, e.g. (9, 0) for Hopper."""
        ...

    def close(self) -> None:
        """Release the library (idempotent); a later call initialises again."""
        ...
