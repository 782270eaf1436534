"""How many GPUs this box has (NVML; no NVML or no driver means 0, a normal state), and
which one a new instance gets (`choose_gpu`: the most free memory).

The instances service takes the count from an injectable callable, so tests (and the
monitor service, when it is wired in) can supply their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comfy_tui.core.units import format_bytes

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


@dataclass(frozen=True)
class GpuMemory:
    """One GPU's memory now (bytes); None where NVML could not say."""

    index: int
    free: int | None
    total: int | None


GpuMemoryReader = Callable[[], Sequence[GpuMemory]]


def no_gpu_memory() -> Sequence[GpuMemory]:
    return ()


def choose_gpu(
    count: int, memory: Sequence[GpuMemory], use: Mapping[int, int]
) -> tuple[int | None, str]:
    """The GPU for a new instance and why: the most free memory (NVML), ties broken by the
    fewest of our instances, then the lowest index; without memory readings, the fewest
    instances. `use` is GPU index -> our live instances on it."""
    if count <= 0:
        return None, "no GPU: CPU only"
    free = {m.index: m.free for m in memory if m.free is not None and 0 <= m.index < count}
    if len(free) == count:
        best = min(range(count), key=lambda i: (-free[i], use.get(i, 0), i))
        others = ", ".join(
            f"GPU {i} {format_bytes(free[i], unknown='?')}" for i in range(count) if i != best
        )
        total = next((m.total for m in memory if m.index == best), None)
        most, of = format_bytes(free[best], unknown="?"), format_bytes(total, unknown="?")
        why = f"the most free memory: {most} of {of}"
        if others:
            why += f" (free: {others})"
        if [free[i] for i in range(count)].count(free[best]) > 1:
            why += f"; a tie, so the one with the fewest instances ({use.get(best, 0)})"
        return best, why
    best = min(range(count), key=lambda i: (use.get(i, 0), i))
    return best, f"no memory readings: the one with the fewest instances ({use.get(best, 0)})"


def read_gpu_memory(snapshots: Sequence[Any]) -> list[GpuMemory]:
    """GpuMemory from monitor snapshots (anything with index, memory_used/total_bytes)."""
    found = []
    for snap in snapshots:
        used, total = snap.memory_used_bytes, snap.memory_total_bytes
        free = total - used if used is not None and total is not None else None
        found.append(GpuMemory(int(snap.index), free, total))
    return found
