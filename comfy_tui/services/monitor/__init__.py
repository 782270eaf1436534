"""Monitoring service: host, GPU and per-instance usage, sampled off the event loop.

Textual-free (no textual/rich imports). The App owns one `Monitor`; screens read its
`StatsSample`s and `History`. Modules, one job each:

- `snapshots`: the frozen value objects (`StatsSample`, `GpuSnapshot`, ...)
- `backend`: the `GpuBackend` protocol; `nvml`: `NvmlBackend`; `replay`: `ReplayBackend`
- `system`: `SystemSampler` (psutil); `processes`: `ProcessTreeSampler`
- `history`: `History` ring buffers; `sampler`: `Monitor`
- `summary`: `Summary` for the header; `jsonform`: `sample_to_json`; `fmt`: text helpers
"""

from __future__ import annotations

from comfy_tui.services.monitor.backend import GpuBackend
from comfy_tui.services.monitor.fmt import NA, fmt_bytes, fmt_or_na, fmt_pct, fmt_rate
from comfy_tui.services.monitor.history import (
    DEFAULT_HISTORY_POINTS,
    History,
    gpu_key,
    instance_key,
    record_sample,
)
from comfy_tui.services.monitor.jsonform import SCHEMA_VERSION, sample_to_json
from comfy_tui.services.monitor.nvml import PCIE_MIN_INTERVAL_S, NvmlBackend
from comfy_tui.services.monitor.processes import ProcessTreeSampler
from comfy_tui.services.monitor.replay import NO_GPU_REASON, ReplayBackend
from comfy_tui.services.monitor.sampler import Monitor
from comfy_tui.services.monitor.snapshots import (
    DiskIoRate,
    DiskUsage,
    GpuInfo,
    GpuProcess,
    GpuSnapshot,
    InstanceUsage,
    MemoryUsage,
    NetIoRate,
    StatsSample,
    SystemSnapshot,
    cuda_version_tuple,
)
from comfy_tui.services.monitor.summary import Summary, summarize, summary_line
from comfy_tui.services.monitor.system import SystemSampler

__all__ = [
    "DEFAULT_HISTORY_POINTS",
    "NA",
    "NO_GPU_REASON",
    "PCIE_MIN_INTERVAL_S",
    "SCHEMA_VERSION",
    "DiskIoRate",
    "DiskUsage",
    "GpuBackend",
    "GpuInfo",
    "GpuProcess",
    "GpuSnapshot",
    "History",
    "InstanceUsage",
    "MemoryUsage",
    "Monitor",
    "NetIoRate",
    "NvmlBackend",
    "ProcessTreeSampler",
    "ReplayBackend",
    "StatsSample",
    "Summary",
    "SystemSampler",
    "SystemSnapshot",
    "cuda_version_tuple",
    "fmt_bytes",
    "fmt_or_na",
    "fmt_pct",
    "fmt_rate",
    "gpu_key",
    "instance_key",
    "record_sample",
    "sample_to_json",
    "summarize",
    "summary_line",
]
