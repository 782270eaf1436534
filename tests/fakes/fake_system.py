"""A `SystemSampler` that replays fixed host readings, so monitor screens are deterministic.

`ReplaySystem.from_fixture` takes CPU %, core count, RAM and the root disk from the
``psutil`` block that the H200 recording stored next to each NVML sample; per-core
loads, load average and I/O rates (not recorded) are fixed, made-up numbers in the
same spirit (one core busy while the matmul loop drives the GPU).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from comfy_tui.services.monitor import (
    DiskIoRate,
    DiskUsage,
    MemoryUsage,
    NetIoRate,
    SystemReading,
    SystemSampler,
)
from tests.fakes.fake_nvml import FIXTURE

_WEIGHTS = (2.6, 0.4, 1.1, 0.3, 0.9, 0.2, 1.8, 0.5, 0.7, 0.2, 1.4, 0.3, 0.6, 0.2, 0.8, 0.4)
_BUSY_CORE = 3

MODELS_DISK = DiskUsage(
    mountpoint="/mnt/models",
    paths=("/mnt/models",),
    total_bytes=4 * 1024**4,
    used_bytes=2_954_937_499_648,
    free_bytes=4 * 1024**4 - 2_954_937_499_648,
    percent=67.2,
)


def snapshot_from_psutil(
    block: dict[str, Any], *, busy: bool, disks: Sequence[DiskUsage] = ()
) -> SystemReading:
    """One recorded ``psutil`` block as a `SystemReading` (detail fields filled in)."""
    cpu = float(block["cpu_percent"])
    count = int(block["cpu_count"])
    per_cpu = [min(100.0, round(cpu * _WEIGHTS[i % len(_WEIGHTS)], 1)) for i in range(count)]
    if busy:
        per_cpu[_BUSY_CORE % count] = 96.0
    vm = block["virtual_memory"]
    root = block["disk_root"]
    root_disk = DiskUsage(
        mountpoint="/",
        paths=("/",),
        total_bytes=int(root["total"]),
        used_bytes=int(root["used"]),
        free_bytes=int(root["free"]),
        percent=float(root["percent"]),
    )
    return SystemReading(
        cpu_percent=cpu,
        per_cpu_percent=tuple(per_cpu),
        cpu_count=count,
        load_avg=(1.21, 0.64, 0.38) if busy else (0.41, 0.32, 0.3),
        memory=MemoryUsage(
            total_bytes=int(vm["total"]),
            used_bytes=int(vm["used"]),
            available_bytes=int(vm["available"]),
            percent=float(vm["percent"]),
        ),
        swap=MemoryUsage(total_bytes=0, used_bytes=0, available_bytes=0, percent=0.0),
        disks=(root_disk, *disks),
        disk_io=DiskIoRate(read_bytes_per_s=2_411_724.8, write_bytes_per_s=356_515.8)
        if busy
        else DiskIoRate(read_bytes_per_s=0.0, write_bytes_per_s=40_960.0),
        net_io=NetIoRate(recv_bytes_per_s=18_841.6, sent_bytes_per_s=7_065.6),
    )


class ReplaySystem(SystemSampler):
    """Returns prepared `SystemReading`s in order (the last one repeats)."""

    def __init__(self, frames: Sequence[SystemReading]) -> None:
        super().__init__(())
        if not frames:
            raise ValueError("ReplaySystem needs at least one frame")
        self._frames = tuple(frames)
        self._next = 0
        self.calls = 0

    @classmethod
    def from_fixture(
        cls,
        labels: Sequence[str] = ("idle",),
        *,
        path: Path = FIXTURE,
        disks: Sequence[DiskUsage] = (),
    ) -> ReplaySystem:
        """Frames for the recorded samples ``labels`` (``load_*`` frames have a busy core)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        blocks = {s["label"]: s["psutil"] for s in data["samples"]}
        return cls(
            [
                snapshot_from_psutil(blocks[label], busy=label.startswith("load"), disks=disks)
                for label in labels
            ]
        )

    def sample(self, *, detail: bool = True) -> SystemReading:
        """The next frame; summary mode blanks what `SystemSampler` would not read."""
        self.calls += 1
        frame = self._frames[self._next]
        self._next = min(self._next + 1, len(self._frames) - 1)
        if not detail:
            frame = replace(frame, per_cpu_percent=None, disk_io=None, net_io=None)
        return frame
