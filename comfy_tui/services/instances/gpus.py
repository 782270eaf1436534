"""How many GPUs this box has (NVML); no NVML or no driver means 0, a normal state.

The instances service takes the count from an injectable callable, so tests (and the
monitor service, when it is wired in) can supply their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

GpuCount = Callable[[], int]


def nvml_gpu_count() -> int:
    """The NVIDIA GPUs NVML sees; 0 when NVML, the driver or the GPUs are missing."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ImportError...
        log.debug("no NVML: %s", exc)
        return 0
    try:
        return int(pynvml.nvmlDeviceGetCount())
    except Exception as exc:
        log.debug("NVML device count failed: %s", exc)
        return 0
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception as exc:
            log.debug("NVML shutdown failed: %s", exc)
