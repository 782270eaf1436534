"""`History`: one bounded ring buffer per metric, for sparklines.

Metric names are dotted strings built by the helpers below (``cpu.percent``,
``gpu.0.util_pct``, ``instance.<id>.rss_bytes``, ...). ``None`` readings are not stored,
so a series holds only real numbers (it may be shorter than its neighbours).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from comfy_tui.services.monitor.readings import StatsSample

DEFAULT_HISTORY_POINTS = 600
"""10 minutes at 1 Hz."""

CPU_PERCENT = "cpu.percent"
RAM_PERCENT = "ram.percent"
SWAP_PERCENT = "swap.percent"
DISK_READ_BYTES_PER_S = "disk.read_bytes_per_s"
DISK_WRITE_BYTES_PER_S = "disk.write_bytes_per_s"
NET_RECV_BYTES_PER_S = "net.recv_bytes_per_s"
NET_SENT_BYTES_PER_S = "net.sent_bytes_per_s"

GPU_FIELDS = ("util_pct", "mem_util_pct", "memory_used_bytes", "temperature_c", "power_w")
INSTANCE_FIELDS = ("cpu_percent", "rss_bytes", "vram_bytes")


def gpu_key(index: int, field: str) -> str:
    """Series name of a GPU metric; ``field`` is one of `GPU_FIELDS`."""
    return f"gpu.{index}.{field}"


def instance_key(instance_id: str, field: str) -> str:
    """Series name of an instance metric; ``field`` is one of `INSTANCE_FIELDS`."""
    return f"instance.{instance_id}.{field}"


class History:
    """Named ring buffers of floats, each holding at most ``maxlen`` points."""

    def __init__(self, maxlen: int = DEFAULT_HISTORY_POINTS) -> None:
        if maxlen < 1:
            raise ValueError(f"history length must be at least 1, got {maxlen}")
        self._maxlen = maxlen
        self._series: dict[str, deque[float]] = {}
        self._pushed: dict[str, int] = {}

    @property
    def maxlen(self) -> int:
        """Points kept per series."""
        return self._maxlen

    def push(self, name: str, value: float | None) -> None:
        """Append one point to ``name`` (dropping the oldest when full); ``None`` is skipped."""
        if value is None:
            return
        buffer = self._series.get(name)
        if buffer is None:
            buffer = self._series[name] = deque(maxlen=self._maxlen)
        buffer.append(float(value))
        self._pushed[name] = self._pushed.get(name, 0) + 1

    def pushed(self, name: str) -> int:
        """How many points ``name`` has received in all (kept or dropped); a point's
        absolute index lets a graph bucket points on fixed boundaries."""
        return self._pushed.get(name, 0)

    def series(self, name: str) -> list[float]:
        """The points of ``name``, oldest first; ``[]`` for an unknown name."""
        buffer = self._series.get(name)
        return list(buffer) if buffer is not None else []

    def latest(self, name: str) -> float | None:
        """The newest point of ``name``, or ``None``."""
        buffer = self._series.get(name)
        return buffer[-1] if buffer else None

    def names(self) -> list[str]:
        """Every series name, sorted."""
        return sorted(self._series)

    def remove(self, name: str) -> None:
        """Forget series ``name`` (no error if unknown)."""
        self._series.pop(name, None)
        self._pushed.pop(name, None)

    def discard(self, prefix: str) -> None:
        """Forget every series whose name starts with ``prefix``."""
        for name in [n for n in self._series if n.startswith(prefix)]:
            self.remove(name)

    def clear(self) -> None:
        """Forget everything."""
        self._series.clear()
        self._pushed.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._series

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._series)


def record_sample(history: History, sample: StatsSample, *, prune_instances: bool = True) -> None:
    """Push one tick's numbers into ``history``.

    With ``prune_instances`` (ticks that sampled instances) the series of instances that
    are no longer in the sample are dropped, so history does not grow without bound.
    """
    system = sample.system
    history.push(CPU_PERCENT, system.cpu_percent)
    history.push(RAM_PERCENT, system.memory.percent)
    history.push(SWAP_PERCENT, system.swap.percent if system.swap else None)
    if system.disk_io is not None:
        history.push(DISK_READ_BYTES_PER_S, system.disk_io.read_bytes_per_s)
        history.push(DISK_WRITE_BYTES_PER_S, system.disk_io.write_bytes_per_s)
    if system.net_io is not None:
        history.push(NET_RECV_BYTES_PER_S, system.net_io.recv_bytes_per_s)
        history.push(NET_SENT_BYTES_PER_S, system.net_io.sent_bytes_per_s)
    for gpu in sample.gpus:
        history.push(gpu_key(gpu.index, "util_pct"), gpu.utilization_gpu_pct)
        history.push(gpu_key(gpu.index, "mem_util_pct"), gpu.utilization_memory_pct)
        history.push(gpu_key(gpu.index, "memory_used_bytes"), gpu.memory_used_bytes)
        history.push(gpu_key(gpu.index, "temperature_c"), gpu.temperature_c)
        history.push(gpu_key(gpu.index, "power_w"), gpu.power_draw_w)
    for instance_id, usage in sample.instances.items():
        history.push(instance_key(instance_id, "cpu_percent"), usage.cpu_percent)
        history.push(instance_key(instance_id, "rss_bytes"), usage.rss_bytes)
        history.push(instance_key(instance_id, "vram_bytes"), usage.vram_bytes)
    if prune_instances:
        keep = {instance_key(iid, f) for iid in sample.instances for f in INSTANCE_FIELDS}
        for name in history.names():
            if name.startswith("instance.") and name not in keep:
                history.remove(name)
