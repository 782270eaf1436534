"""Monitoring service: host, GPU and per-instance usage, sampled off the event loop.

Textual-free (no textual/rich imports). The App owns one `Monitor`; screens read its
`StatsSample`s and `History`. Modules, one job each:

- `readings`: the frozen value objects (`StatsSample`, `GpuReading`, ...)
- `backend`: the `GpuBackend` protocol; `nvml`: `NvmlBackend`; `replay`: `ReplayBackend`
- `system`: `SystemSampler` (psutil); `processes`: `ProcessTreeSampler`
- `history`: `History` ring buffers; `sampler`: `Monitor`
- `summary`: `Summary` for the header; `jsonform`: `sample_to_json`; `fmt`: text helpers

Names are imported on first use (PEP 562), so reading one submodule (`summary`, for the
header) does not load psutil or NVML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comfy_tui.lazy import lazy_exports

if TYPE_CHECKING:
    from comfy_tui.services.monitor.backend import GpuBackend
    from comfy_tui.services.monitor.fmt import (
        NA,
        fmt_bytes,
        fmt_bytes_pair,
        fmt_or_na,
        fmt_pct,
        fmt_rate,
    )
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
    from comfy_tui.services.monitor.readings import (
        DiskIoRate,
        DiskUsage,
        GpuInfo,
        GpuProcess,
        GpuReading,
        InstanceUsage,
        MemoryUsage,
        NetIoRate,
        StatsSample,
        SystemReading,
        cuda_version_tuple,
    )
    from comfy_tui.services.monitor.replay import NO_GPU_REASON, ReplayBackend
    from comfy_tui.services.monitor.sampler import Monitor
    from comfy_tui.services.monitor.summary import Summary, summarize, summary_line
    from comfy_tui.services.monitor.system import SystemSampler

_WHERE = {
    "GpuBackend": "comfy_tui.services.monitor.backend",
    "NA": "comfy_tui.services.monitor.fmt",
    "fmt_bytes": "comfy_tui.services.monitor.fmt",
    "fmt_bytes_pair": "comfy_tui.services.monitor.fmt",
    "fmt_or_na": "comfy_tui.services.monitor.fmt",
    "fmt_pct": "comfy_tui.services.monitor.fmt",
    "fmt_rate": "comfy_tui.services.monitor.fmt",
    "DEFAULT_HISTORY_POINTS": "comfy_tui.services.monitor.history",
    "History": "comfy_tui.services.monitor.history",
    "gpu_key": "comfy_tui.services.monitor.history",
    "instance_key": "comfy_tui.services.monitor.history",
    "record_sample": "comfy_tui.services.monitor.history",
    "SCHEMA_VERSION": "comfy_tui.services.monitor.jsonform",
    "sample_to_json": "comfy_tui.services.monitor.jsonform",
    "PCIE_MIN_INTERVAL_S": "comfy_tui.services.monitor.nvml",
    "NvmlBackend": "comfy_tui.services.monitor.nvml",
    "ProcessTreeSampler": "comfy_tui.services.monitor.processes",
    "NO_GPU_REASON": "comfy_tui.services.monitor.replay",
    "ReplayBackend": "comfy_tui.services.monitor.replay",
    "Monitor": "comfy_tui.services.monitor.sampler",
    "DiskIoRate": "comfy_tui.services.monitor.readings",
    "DiskUsage": "comfy_tui.services.monitor.readings",
    "GpuInfo": "comfy_tui.services.monitor.readings",
    "GpuProcess": "comfy_tui.services.monitor.readings",
    "GpuReading": "comfy_tui.services.monitor.readings",
    "InstanceUsage": "comfy_tui.services.monitor.readings",
    "MemoryUsage": "comfy_tui.services.monitor.readings",
    "NetIoRate": "comfy_tui.services.monitor.readings",
    "StatsSample": "comfy_tui.services.monitor.readings",
    "SystemReading": "comfy_tui.services.monitor.readings",
    "cuda_version_tuple": "comfy_tui.services.monitor.readings",
    "Summary": "comfy_tui.services.monitor.summary",
    "summarize": "comfy_tui.services.monitor.summary",
    "summary_line": "comfy_tui.services.monitor.summary",
    "SystemSampler": "comfy_tui.services.monitor.system",
}


__getattr__ = lazy_exports(__name__, _WHERE)


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
    "GpuReading",
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
    "SystemReading",
    "SystemSampler",
    "cuda_version_tuple",
    "fmt_bytes",
    "fmt_bytes_pair",
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
