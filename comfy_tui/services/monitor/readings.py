"""Frozen value objects that the monitoring service produces, one set per tick.

Every reading that can fail or be unsupported is ``X | None``; ``None`` means "not
available" (the UI renders it as "n/a") and never "zero". Units are part of the field
names wherever a bare number would be ambiguous.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple


class GpuProcess(NamedTuple):
    """One compute process on a GPU, as NVML lists it (pid in the box's pid namespace)."""

    pid: int
    used_memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One device at one moment. Any field NVML could not give is ``None``."""

    index: int
    name: str | None = None
    uuid: str | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    utilization_gpu_pct: int | None = None
    utilization_memory_pct: int | None = None
    temperature_c: int | None = None
    power_draw_w: float | None = None
    power_limit_w: float | None = None
    clock_sm_mhz: int | None = None
    clock_mem_mhz: int | None = None
    pstate: int | None = None
    """Performance state, 0 (P0, fastest) to 15; ``None`` when unknown."""
    fan_speed_pct: int | None = None
    """``None`` on passively cooled data-centre cards (NVML says Not Supported)."""
    processes: tuple[GpuProcess, ...] | None = None
    """Compute processes; ``None`` when not sampled (summary mode) or the query failed."""
    mig_enabled: bool | None = None
    compute_capability: tuple[int, int] | None = None
    pcie_tx_kb_per_s: int | None = None
    """Only when PCIe polling is switched on (it costs ~21 ms per call); may be 10 s old."""
    pcie_rx_kb_per_s: int | None = None

    @property
    def memory_used_fraction(self) -> float | None:
        """Used / total VRAM in 0..1, or ``None`` when either is unknown or total is 0."""
        if self.memory_used_bytes is None or not self.memory_total_bytes:
            return None
        return self.memory_used_bytes / self.memory_total_bytes


def cuda_version_tuple(raw: int | None) -> tuple[int, int] | None:
    """NVML's CUDA driver version integer to (major, minor): 13000 -> (13, 0), 12040 -> (12, 4)."""
    if raw is None or raw <= 0:
        return None
    return raw // 1000, (raw % 1000) // 10


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """System-level GPU facts: is NVML there at all, and which driver/CUDA it offers."""

    available: bool
    reason: str | None = None
    """One line for the user when ``available`` is false, e.g. "no NVIDIA GPU (...)"."""
    driver_version: str | None = None
    cuda_driver_version_raw: int | None = None
    """As NVML reports it, e.g. 13000 for CUDA 13.0."""
    nvml_version: str | None = None
    device_count: int = 0

    @property
    def cuda_driver_version(self) -> tuple[int, int] | None:
        """(major, minor) of the newest CUDA the driver supports, e.g. (13, 0)."""
        return cuda_version_tuple(self.cuda_driver_version_raw)

    @property
    def cuda_driver_version_str(self) -> str | None:
        """e.g. "13.0"; ``None`` when unknown."""
        version = self.cuda_driver_version
        return None if version is None else f"{version[0]}.{version[1]}"


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """RAM or swap: sizes in bytes, ``percent`` in 0..100."""

    total_bytes: int
    used_bytes: int
    available_bytes: int
    percent: float


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """One filesystem, reached from one or more of the paths the sampler was given."""

    mountpoint: str
    paths: tuple[str, ...]
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


@dataclass(frozen=True, slots=True)
class DiskIoRate:
    """Whole-machine block-device throughput between two ticks."""

    read_bytes_per_s: float
    write_bytes_per_s: float


@dataclass(frozen=True, slots=True)
class NetIoRate:
    """Whole-machine network throughput between two ticks (all interfaces)."""

    recv_bytes_per_s: float
    sent_bytes_per_s: float


@dataclass(frozen=True, slots=True)
class SystemReading:
    """Host CPU, memory, disks and I/O at one moment.

    Rates and CPU percentages are computed from counter deltas between two ticks, so
    they are ``None`` on the first tick (and on the first tick after detail was off).
    """

    cpu_percent: float | None
    """All cores together, 0..100."""
    per_cpu_percent: tuple[float, ...] | None
    """One 0..100 value per logical core; ``None`` in summary mode."""
    cpu_count: int
    load_avg: tuple[float, float, float] | None
    memory: MemoryUsage
    swap: MemoryUsage | None
    disks: tuple[DiskUsage, ...]
    disk_io: DiskIoRate | None
    net_io: NetIoRate | None


@dataclass(frozen=True, slots=True)
class InstanceUsage:
    """What one ComfyUI instance's process tree (root pid + descendants) uses."""

    instance_id: str
    root_pid: int
    alive: bool
    pids: tuple[int, ...] = ()
    cpu_percent: float | None = None
    """Summed over the tree, top-style: 100 means one full core. ``None`` on the first tick."""
    rss_bytes: int | None = None
    """Summed RSS; pages shared between processes of the tree are counted once per process."""
    vram_bytes: int | None = None
    """Summed over all GPUs; ``None`` when no GPU process list was available."""
    gpu_indices: tuple[int, ...] = ()
    """GPUs on which any process of the tree holds memory."""


def _empty_instances() -> Mapping[str, InstanceUsage]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StatsSample:
    """Everything one tick produced. ``timestamp`` is wall-clock seconds since the epoch."""

    timestamp: float
    system: SystemReading
    gpus: tuple[GpuReading, ...]
    gpu_info: GpuInfo
    instances: Mapping[str, InstanceUsage] = field(default_factory=_empty_instances)
    """Read-only mapping instance id -> usage; empty in summary mode."""

    def __post_init__(self) -> None:
        if not isinstance(self.instances, MappingProxyType):
            object.__setattr__(self, "instances", MappingProxyType(dict(self.instances)))
