"""`Summary`: the handful of numbers the header strip shows, computed from one sample,
and `summary_line`, the one line of text made from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from comfy_tui.services.monitor.fmt import NA, fmt_bytes_pair, fmt_pct

if TYPE_CHECKING:  # the header imports this module before the first frame; readings later
    from comfy_tui.services.monitor.readings import StatsSample


@dataclass(frozen=True, slots=True)
class Summary:
    """Key numbers of one tick; GPU fields are ``None`` without a GPU or readings."""

    gpu_available: bool
    gpu_count: int
    gpu_util_avg_pct: float | None
    vram_used_bytes: int | None
    vram_total_bytes: int | None
    cpu_percent: float | None
    ram_percent: float
    ram_used_bytes: int
    ram_total_bytes: int

    @property
    def vram_percent(self) -> float | None:
        """VRAM used / total over all GPUs, 0..100."""
        if self.vram_used_bytes is None or not self.vram_total_bytes:
            return None
        return 100.0 * self.vram_used_bytes / self.vram_total_bytes


def summarize(sample: StatsSample) -> Summary:
    """GPU utilisation averaged and VRAM summed over the GPUs that reported them."""
    utils = [g.utilization_gpu_pct for g in sample.gpus if g.utilization_gpu_pct is not None]
    memory = [
        (g.memory_used_bytes, g.memory_total_bytes)
        for g in sample.gpus
        if g.memory_used_bytes is not None and g.memory_total_bytes is not None
    ]
    return Summary(
        gpu_available=sample.gpu_info.available,
        gpu_count=len(sample.gpus),
        gpu_util_avg_pct=sum(utils) / len(utils) if utils else None,
        vram_used_bytes=sum(used for used, _ in memory) if memory else None,
        vram_total_bytes=sum(total for _, total in memory) if memory else None,
        cpu_percent=sample.system.cpu_percent,
        ram_percent=sample.system.memory.percent,
        ram_used_bytes=sample.system.memory.used_bytes,
        ram_total_bytes=sample.system.memory.total_bytes,
    )


def summary_line(summary: Summary) -> str:
    """The header text: ``GPU 12% · VRAM 6.2/140.4 GiB · CPU 3% · RAM 21%``.

    Several GPUs read ``GPU×2 12%`` (utilisation averaged, VRAM summed); a box without a
    usable NVIDIA GPU reads ``no GPU · CPU 3% · RAM 21%``. Missing numbers read "n/a".
    """
    parts: list[str] = []
    if summary.gpu_available and summary.gpu_count:
        label = "GPU" if summary.gpu_count == 1 else f"GPU×{summary.gpu_count}"
        parts.append(f"{label} {fmt_pct(summary.gpu_util_avg_pct)}")
        if summary.vram_used_bytes is not None and summary.vram_total_bytes:
            parts.append(
                f"VRAM {fmt_bytes_pair(summary.vram_used_bytes, summary.vram_total_bytes)}"
            )
        else:
            parts.append(f"VRAM {NA}")
    else:
        parts.append("no GPU")
    parts.append(f"CPU {fmt_pct(summary.cpu_percent)}")
    parts.append(f"RAM {fmt_pct(summary.ram_percent)}")
    return " · ".join(parts)
