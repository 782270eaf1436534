"""Plain-text pieces shared by the Monitor screen and ``comfy-tui stats`` (pure functions).

Every missing reading renders as "n/a"; nothing here guesses a number.
"""

from __future__ import annotations

from collections.abc import Mapping

from comfy_tui.core.units import format_duration
from comfy_tui.services.monitor import (
    NA,
    GpuInfo,
    GpuProcess,
    GpuReading,
    InstanceUsage,
    StatsSample,
    fmt_bytes,
    fmt_or_na,
    fmt_pct,
)

BLOCKS = "▁▂▃▄▅▆▇█"
MAX_PROCESS_LINES = 4
"""GPU processes listed per card; the rest are counted."""


def fraction(part: float | None, whole: float | None) -> float | None:
    """``part / whole`` clamped to 0..1, or ``None`` when unknown."""
    if part is None or not whole:
        return None
    return max(0.0, min(1.0, part / whole))


def gpu_title(gpu: GpuReading) -> str:
    """``GPU 0 · NVIDIA H200 · P0`` (``MIG`` appended when MIG mode is on)."""
    parts = [f"GPU {gpu.index}", gpu.name or "unknown GPU"]
    if gpu.pstate is not None:
        parts.append(f"P{gpu.pstate}")
    if gpu.mig_enabled:
        parts.append("MIG")
    return " · ".join(parts)


def gpu_details(gpu: GpuReading) -> str:
    """``38°C · 125/700 W · SM 525 · mem 3201 MHz · fan n/a``."""
    power = f"{fmt_or_na(gpu.power_draw_w, '{:.0f}')}/{fmt_or_na(gpu.power_limit_w, '{:.0f}')} W"
    return " · ".join(
        (
            fmt_or_na(gpu.temperature_c, "{}°C"),
            power,
            f"SM {fmt_or_na(gpu.clock_sm_mhz)}",
            f"mem {fmt_or_na(gpu.clock_mem_mhz, '{} MHz')}",
            f"fan {fmt_or_na(gpu.fan_speed_pct, '{}%')}",
        )
    )


def pid_names(sample: StatsSample, labels: Mapping[str, str]) -> dict[int, str]:
    """pid -> instance name for every process of every instance tree in ``sample``."""
    names: dict[int, str] = {}
    for instance_id, usage in sample.instances.items():
        for pid in usage.pids:
            names[pid] = labels.get(instance_id, instance_id)
    return names


def process_line(proc: GpuProcess, names: Mapping[int, str]) -> str:
    """``pid 418  6.1 GiB  v0.3.77 :8188`` (the name only when the process is ours)."""
    memory = fmt_bytes(proc.used_memory_bytes)
    name = names.get(proc.pid)
    return f"pid {proc.pid:<7} {memory:>10}" + (f"  {name}" if name else "")


def process_lines(gpu: GpuReading, names: Mapping[int, str]) -> str:
    """The card's process list: one line each (at most `MAX_PROCESS_LINES`), ours first."""
    if gpu.processes is None:
        return "processes: …"
    if not gpu.processes:
        return "no compute processes"
    ordered = sorted(gpu.processes, key=lambda p: (p.pid not in names, -(p.used_memory_bytes or 0)))
    lines = [process_line(p, names) for p in ordered[:MAX_PROCESS_LINES]]
    if len(ordered) > MAX_PROCESS_LINES:
        lines.append(f"+{len(ordered) - MAX_PROCESS_LINES} more")
    return "\n".join(lines)


def gpu_status(info: GpuInfo, count: int) -> str:
    """``1 GPU · driver 580.159.04 · CUDA 13.0``, or the reason there is none."""
    if not info.available or count == 0:
        reason = info.reason or "no NVIDIA GPU"
        return reason[:1].upper() + reason[1:]
    parts = [f"{count} GPU" + ("s" if count != 1 else "")]
    if info.driver_version:
        parts.append(f"driver {info.driver_version}")
    if info.cuda_driver_version_str:
        parts.append(f"CUDA {info.cuda_driver_version_str}")
    return " · ".join(parts)


def interval_text(seconds: float) -> str:
    """``every 1 s``, ``every 0.5 s``."""
    return f"every {format_duration(seconds, precision=1)}"


def core_level(percent: float) -> int:
    """0..7: which of `BLOCKS` draws one core's load."""
    return max(0, min(len(BLOCKS) - 1, int(percent / 100 * len(BLOCKS))))


def load_text(load: tuple[float, float, float] | None, cores: int) -> str:
    """``load 0.41 0.32 0.30 · 16 cores``."""
    load_part = NA if load is None else " ".join(f"{v:.2f}" for v in load)
    return f"load {load_part} · {cores} cores"


def instance_line(
    instance_id: str, usage: InstanceUsage, labels: Mapping[str, str], width: int = 18
) -> str:
    """``v0.3.77 :8188   CPU 12%  RSS 3.2 GiB  VRAM 6.1 GiB  GPU 0`` or ``... exited``."""
    name = labels.get(instance_id, instance_id)
    name = name if len(name) <= width else name[: width - 1] + "…"
    if not usage.alive:
        return f"{name:<{width}} exited"
    gpus = ",".join(str(i) for i in usage.gpu_indices) or "-"
    return (
        f"{name:<{width}} CPU {fmt_pct(usage.cpu_percent):>4}  RSS {fmt_bytes(usage.rss_bytes):>9}"
        f"  VRAM {fmt_bytes(usage.vram_bytes):>9}  GPU {gpus}"
    )


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with a trailing ellipsis."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
