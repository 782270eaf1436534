"""`GpuCard`: one GPU on the Monitor screen — utilisation and VRAM bars with their trends,
temperature, power, clocks, fan, and the compute processes (named by instance where
they are ours)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Horizontal

from comfy_tui.services.monitor import GpuReading, History, fmt_pct, gpu_key
from comfy_tui.services.monitor.fmt import fmt_bytes_pair
from comfy_tui.services.monitor.text import (
    fraction,
    gpu_details,
    gpu_title,
    process_lines,
)
from comfy_tui.ui.widgets.card import Card, Line
from comfy_tui.ui.widgets.meter import Meter
from comfy_tui.ui.widgets.trend import Trend


class GpuCard(Card):
    """The card of GPU ``index``; `show` fills it from one reading and the history."""

    def __init__(self, index: int) -> None:
        super().__init__(f"GPU {index}", id=f"gpu-{index}", classes="gpu-card")
        self.index = index
        self._util = Meter("util", value_width=13, classes="gpu-util")
        self._util_trend = Trend(top=100.0, classes="gpu-util-trend")
        self._vram = Meter("vram", value_width=13, warn=True, classes="gpu-vram")
        self._vram_trend = Trend(top=None, classes="gpu-vram-trend")
        self._details = Line(classes="gpu-details")
        self._procs = Line(classes="gpu-procs")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="card-row"):
            yield self._util
            yield self._util_trend
        with Horizontal(classes="card-row"):
            yield self._vram
            yield self._vram_trend
        yield self._details
        yield self._procs

    def show(self, gpu: GpuReading, history: History, names: Mapping[int, str]) -> None:
        """Fill the card from this tick's reading; ``names`` maps our pids to instances."""
        self.retitle(gpu_title(gpu))
        util = gpu.utilization_gpu_pct
        self._util.show(fraction(util, 100), fmt_pct(util))
        self._util_trend.show(history, gpu_key(self.index, "util_pct"))
        self._vram.show(
            gpu.memory_used_fraction, fmt_bytes_pair(gpu.memory_used_bytes, gpu.memory_total_bytes)
        )
        total = gpu.memory_total_bytes
        self._vram_trend.show(
            history, gpu_key(self.index, "memory_used_bytes"), top=float(total) if total else None
        )
        self._details.show(gpu_details(gpu))
        self._procs.show(process_lines(gpu, names))
