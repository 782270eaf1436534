"""`sample_to_json`: one `StatsSample` as plain JSON data for ``comfy-tui stats --json``.

Raw numbers only, units in the key names (``memory_used_bytes``, ``power_draw_w``,
``temperature_c``); a missing reading stays ``null``. ``schema`` is bumped on any
incompatible change.
"""

from __future__ import annotations

import math
from typing import Any

from comfy_tui.services.monitor.readings import (
    GpuInfo,
    GpuReading,
    InstanceUsage,
    MemoryUsage,
    StatsSample,
    SystemReading,
)
from comfy_tui.services.monitor.summary import summarize

SCHEMA_VERSION = 1

JsonDict = dict[str, Any]


def _num(value: float | None) -> float | None:
    """Non-finite floats are not JSON; they become null."""
    if value is None or math.isfinite(value):
        return value
    return None


def _memory(mem: MemoryUsage | None) -> JsonDict | None:
    if mem is None:
        return None
    return {
        "total_bytes": mem.total_bytes,
        "used_bytes": mem.used_bytes,
        "available_bytes": mem.available_bytes,
        "percent": _num(mem.percent),
    }


def system_to_json(system: SystemReading) -> JsonDict:
    """Host readings as JSON data."""
    return {
        "cpu_percent": _num(system.cpu_percent),
        "per_cpu_percent": (
            None if system.per_cpu_percent is None else [_num(v) for v in system.per_cpu_percent]
        ),
        "cpu_count": system.cpu_count,
        "load_avg": None if system.load_avg is None else list(system.load_avg),
        "memory": _memory(system.memory),
        "swap": _memory(system.swap),
        "disks": [
            {
                "mountpoint": d.mountpoint,
                "paths": list(d.paths),
                "total_bytes": d.total_bytes,
                "used_bytes": d.used_bytes,
                "free_bytes": d.free_bytes,
                "percent": _num(d.percent),
            }
            for d in system.disks
        ],
        "disk_io": (
            None
            if system.disk_io is None
            else {
                "read_bytes_per_s": _num(system.disk_io.read_bytes_per_s),
                "write_bytes_per_s": _num(system.disk_io.write_bytes_per_s),
            }
        ),
        "net_io": (
            None
            if system.net_io is None
            else {
                "recv_bytes_per_s": _num(system.net_io.recv_bytes_per_s),
                "sent_bytes_per_s": _num(system.net_io.sent_bytes_per_s),
            }
        ),
    }


def gpu_to_json(gpu: GpuReading) -> JsonDict:
    """One device as JSON data."""
    cc = gpu.compute_capability
    return {
        "index": gpu.index,
        "name": gpu.name,
        "uuid": gpu.uuid,
        "memory_used_bytes": gpu.memory_used_bytes,
        "memory_total_bytes": gpu.memory_total_bytes,
        "utilization_gpu_pct": gpu.utilization_gpu_pct,
        "utilization_memory_pct": gpu.utilization_memory_pct,
        "temperature_c": gpu.temperature_c,
        "power_draw_w": _num(gpu.power_draw_w),
        "power_limit_w": _num(gpu.power_limit_w),
        "clock_sm_mhz": gpu.clock_sm_mhz,
        "clock_mem_mhz": gpu.clock_mem_mhz,
        "pstate": gpu.pstate,
        "fan_speed_pct": gpu.fan_speed_pct,
        "mig_enabled": gpu.mig_enabled,
        "compute_capability": None if cc is None else f"{cc[0]}.{cc[1]}",
        "pcie_tx_kb_per_s": gpu.pcie_tx_kb_per_s,
        "pcie_rx_kb_per_s": gpu.pcie_rx_kb_per_s,
        "processes": (
            None
            if gpu.processes is None
            else [{"pid": p.pid, "used_memory_bytes": p.used_memory_bytes} for p in gpu.processes]
        ),
    }


def gpu_info_to_json(info: GpuInfo) -> JsonDict:
    """Driver and CUDA facts as JSON data."""
    return {
        "available": info.available,
        "reason": info.reason,
        "driver_version": info.driver_version,
        "cuda_driver_version": info.cuda_driver_version_str,
        "cuda_driver_version_raw": info.cuda_driver_version_raw,
        "nvml_version": info.nvml_version,
        "device_count": info.device_count,
    }


def instance_to_json(usage: InstanceUsage) -> JsonDict:
    """One instance's process-tree usage as JSON data."""
    return {
        "root_pid": usage.root_pid,
        "alive": usage.alive,
        "pids": list(usage.pids),
        "cpu_percent": _num(usage.cpu_percent),
        "rss_bytes": usage.rss_bytes,
        "vram_bytes": usage.vram_bytes,
        "gpu_indices": list(usage.gpu_indices),
    }


def sample_to_json(sample: StatsSample) -> JsonDict:
    """The whole sample (plus its summary) as data that ``json.dumps`` accepts as is."""
    summary = summarize(sample)
    return {
        "schema": SCHEMA_VERSION,
        "timestamp_unix_s": sample.timestamp,
        "summary": {
            "gpu_available": summary.gpu_available,
            "gpu_count": summary.gpu_count,
            "gpu_util_avg_pct": _num(summary.gpu_util_avg_pct),
            "vram_used_bytes": summary.vram_used_bytes,
            "vram_total_bytes": summary.vram_total_bytes,
            "cpu_percent": _num(summary.cpu_percent),
            "ram_percent": _num(summary.ram_percent),
        },
        "system": system_to_json(sample.system),
        "gpu_info": gpu_info_to_json(sample.gpu_info),
        "gpus": [gpu_to_json(g) for g in sample.gpus],
        "instances": {iid: instance_to_json(u) for iid, u in sample.instances.items()},
    }
