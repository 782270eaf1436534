"""`SystemSampler`: host CPU, load, RAM/swap, disk space and I/O rates from psutil.

CPU percentages and throughputs come from counter deltas between two `sample()` calls
(computed here rather than by ``psutil.cpu_percent``, whose state is per calling thread
and shared with every other caller), so they are ``None`` on the first tick. Blocking
but cheap (reads /proc); async callers run it in a thread.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psutil

from comfy_tui.services.monitor.readings import (
    DiskIoRate,
    DiskUsage,
    MemoryUsage,
    NetIoRate,
    SystemReading,
)

_CpuTimes = tuple[float, float]
"""(busy seconds, total seconds) of one CPU or all of them."""


def _busy_total(times: Any) -> _CpuTimes:
    total = float(sum(times))
    if sys.platform.startswith("linux"):
        # guest time is already included in user/nice on Linux
        total -= float(getattr(times, "guest", 0.0)) + float(getattr(times, "guest_nice", 0.0))
    idle = float(times.idle) + float(getattr(times, "iowait", 0.0))
    return total - idle, total


def _percent(prev: _CpuTimes | None, now: _CpuTimes) -> float | None:
    if prev is None:
        return None
    busy, total = now[0] - prev[0], now[1] - prev[1]
    if total <= 0:
        return None
    return round(min(100.0, max(0.0, 100.0 * busy / total)), 1)


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (a model root may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or "/")


def _mountpoint(path: Path) -> Path:
    current = path
    while not os.path.ismount(current) and current.parent != current:
        current = current.parent
    return current


DISKS_EVERY_S = 15.0
"""Disk space changes slowly and costs a stat and a statvfs per path: read it this often."""


class SystemSampler:
    """Host-wide readings. ``disk_paths`` are the data dir and model-library roots; their
    space is read at most every `DISKS_EVERY_S` seconds (the last reading is repeated)."""

    def __init__(
        self,
        disk_paths: Iterable[str | os.PathLike[str]] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._paths: tuple[Path, ...] = ()
        self._mounts: dict[tuple[Path, int], Path] = {}
        self.set_disk_paths(disk_paths)
        self._cpu_count = psutil.cpu_count(logical=True) or 1
        self._prev_cpu: _CpuTimes | None = None
        self._last_cpu: float | None = None
        self._last_per_cpu: tuple[float, ...] | None = None
        self._prev_per_cpu: list[_CpuTimes] | None = None
        self._prev_disk: tuple[float, int, int] | None = None
        self._prev_net: tuple[float, int, int] | None = None
        self._disks_at: float | None = None
        self._last_disks: tuple[DiskUsage, ...] = ()

    def set_disk_paths(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Replace the paths whose filesystems are reported (deduplicated by device)."""
        self._paths = tuple(Path(os.path.abspath(p)) for p in paths)
        self._disks_at = None

    def sample(self, *, detail: bool = True) -> SystemReading:
        """One reading. ``detail=False`` skips per-core CPU and disk/network rates."""
        now = self._clock()
        cpu_now = _busy_total(psutil.cpu_times())
        advanced = self._prev_cpu is None or cpu_now[1] > self._prev_cpu[1]
        if advanced:
            # CPU times tick in 10 ms steps: two calls closer than that keep the baseline
            # and repeat the last value rather than report nothing.
            self._last_cpu = _percent(self._prev_cpu, cpu_now)
            self._prev_cpu = cpu_now
        cpu_percent = self._last_cpu

        per_cpu: tuple[float, ...] | None = None
        disk_io: DiskIoRate | None = None
        net_io: NetIoRate | None = None
        if detail:
            per_cpu = self._per_cpu() if advanced else self._last_per_cpu
            self._last_per_cpu = per_cpu
            disk_io = self._disk_io(now)
            net_io = self._net_io(now)
        else:
            self._prev_per_cpu = self._prev_disk = self._prev_net = None
            self._last_per_cpu = None

        return SystemReading(
            cpu_percent=cpu_percent,
            per_cpu_percent=per_cpu,
            cpu_count=self._cpu_count,
            load_avg=self._load_avg(),
            memory=self._memory(),
            swap=self._swap(),
            disks=self._disks_now(now),
            disk_io=disk_io,
            net_io=net_io,
        )

    def _per_cpu(self) -> tuple[float, ...] | None:
        now = [_busy_total(t) for t in psutil.cpu_times(percpu=True)]
        prev, self._prev_per_cpu = self._prev_per_cpu, now
        if prev is None or len(prev) != len(now):
            return None
        values = [_percent(p, n) for p, n in zip(prev, now, strict=True)]
        return tuple(0.0 if v is None else v for v in values)

    @staticmethod
    def _load_avg() -> tuple[float, float, float] | None:
        try:
            one, five, fifteen = psutil.getloadavg()
        except (OSError, AttributeError):
            return None
        return round(one, 2), round(five, 2), round(fifteen, 2)

    @staticmethod
    def _memory() -> MemoryUsage:
        vm = psutil.virtual_memory()
        return MemoryUsage(
            total_bytes=int(vm.total),
            used_bytes=int(vm.used),
            available_bytes=int(vm.available),
            percent=float(vm.percent),
        )

    @staticmethod
    def _swap() -> MemoryUsage | None:
        try:
            sw = psutil.swap_memory()
        except (OSError, RuntimeError):
            return None
        return MemoryUsage(
            total_bytes=int(sw.total),
            used_bytes=int(sw.used),
            available_bytes=int(sw.free),
            percent=float(sw.percent),
        )

    def _disks_now(self, now: float) -> tuple[DiskUsage, ...]:
        if self._disks_at is None or now - self._disks_at >= DISKS_EVERY_S or now < self._disks_at:
            self._last_disks = self._disks()
            self._disks_at = now
        return self._last_disks

    def _disks(self) -> tuple[DiskUsage, ...]:
        by_dev: dict[int, tuple[Path, list[str]]] = {}
        for path in self._paths:
            try:
                existing = _existing(path)
                dev = existing.stat().st_dev
            except OSError:
                continue
            if dev in by_dev:
                by_dev[dev][1].append(str(path))
                continue
            mount = self._mounts.get((existing, dev))
            if mount is None:
                mount = self._mounts[(existing, dev)] = _mountpoint(existing)
            by_dev[dev] = (existing, [str(path)])
        result: list[DiskUsage] = []
        for dev, (existing, paths) in by_dev.items():
            try:
                usage = psutil.disk_usage(str(existing))
            except OSError:
                continue
            result.append(
                DiskUsage(
                    mountpoint=str(self._mounts[(existing, dev)]),
                    paths=tuple(paths),
                    total_bytes=int(usage.total),
                    used_bytes=int(usage.used),
                    free_bytes=int(usage.free),
                    percent=float(usage.percent),
                )
            )
        return tuple(result)

    def _disk_io(self, now: float) -> DiskIoRate | None:
        try:
            counters = psutil.disk_io_counters()
        except (OSError, RuntimeError):
            counters = None
        if counters is None:
            self._prev_disk = None
            return None
        current = (now, int(counters.read_bytes), int(counters.write_bytes))
        prev, self._prev_disk = self._prev_disk, current
        rates = _rates(prev, current)
        return None if rates is None else DiskIoRate(*rates)

    def _net_io(self, now: float) -> NetIoRate | None:
        try:
            counters = psutil.net_io_counters()
        except (OSError, RuntimeError):
            counters = None
        if counters is None:
            self._prev_net = None
            return None
        current = (now, int(counters.bytes_recv), int(counters.bytes_sent))
        prev, self._prev_net = self._prev_net, current
        rates = _rates(prev, current)
        return None if rates is None else NetIoRate(*rates)


def _rates(
    prev: tuple[float, int, int] | None, now: tuple[float, int, int]
) -> tuple[float, float] | None:
    """Bytes/s of two counters between two ticks; ``None`` without a usable previous tick."""
    if prev is None:
        return None
    dt = now[0] - prev[0]
    first, second = now[1] - prev[1], now[2] - prev[2]
    if dt <= 0 or first < 0 or second < 0:
        return None
    return first / dt, second / dt
