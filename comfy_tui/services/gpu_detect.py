"""What the installer needs to know about the NVIDIA driver: its version and its CUDA version.

Deliberately tiny and isolated: one synchronous function (call it through `asyncio.to_thread`)
that returns None when there is no NVML (no NVIDIA driver, no GPU, no library). The installer
takes it as an injectable callable, so tests and a later full NVML monitor can stand in for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverInfo:
    """The NVIDIA driver as NVML reports it."""

    driver_version: str  # "550.54.15"
    cuda_version: tuple[int, int] | None  # the newest CUDA the driver supports, e.g. (12, 4)
    gpu_count: int = 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def detect_driver() -> DriverInfo | None:
    """Ask NVML for the driver and CUDA versions; None when NVML or a GPU is missing."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        log.info("no NVML: %s", exc)
        return None
    try:
        count = int(pynvml.nvmlDeviceGetCount())
        if count == 0:
            return None
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda: tuple[int, int] | None
        try:
            raw = int(pynvml.nvmlSystemGetCudaDriverVersion())  # 12040 -> 12.4
            cuda = (raw // 1000, (raw % 1000) // 10)
        except Exception as exc:
            log.info("NVML has no CUDA driver version: %s", exc)
            cuda = None
        return DriverInfo(driver_version=driver, cuda_version=cuda, gpu_count=count)
    except Exception as exc:
        log.info("NVML query failed: %s", exc)
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception as exc:
            log.debug("nvmlShutdown failed: %s", exc)
