"""The host cards of the Monitor screen: CPU, memory, disks, and disk/network throughput."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from comfy_tui.services.monitor import (
    NA,
    DiskUsage,
    History,
    SystemReading,
    fmt_bytes,
    fmt_pct,
    fmt_rate,
)
from comfy_tui.services.monitor.fmt import fmt_bytes_pair
from comfy_tui.services.monitor.history import (
    CPU_PERCENT,
    DISK_READ_BYTES_PER_S,
    DISK_WRITE_BYTES_PER_S,
    NET_RECV_BYTES_PER_S,
    NET_SENT_BYTES_PER_S,
    RAM_PERCENT,
)
from comfy_tui.services.monitor.text import (
    BLOCKS,
    core_level,
    fraction,
    load_text,
    shorten,
)
from comfy_tui.ui.widgets.card import Card, Line
from comfy_tui.ui.widgets.meter import Meter
from comfy_tui.ui.widgets.trend import Trend

_MIB = 1024.0**2


class CoreStrip(Widget):
    """One block character per logical core, its height the core's load; wraps."""

    DEFAULT_CSS = """
    CoreStrip { height: auto; width: 1fr; }
    """

    PREFIX = "cores "
    levels: reactive[tuple[int, ...] | None] = reactive[tuple[int, ...] | None](None)

    def show(self, per_cpu: tuple[float, ...] | None) -> None:
        levels = None if per_cpu is None else tuple(core_level(p) for p in per_cpu)
        relayout = (levels is None) != (self.levels is None) or (
            levels is not None and self.levels is not None and len(levels) != len(self.levels)
        )
        self.levels = levels
        if relayout:  # the height may change only when the number of cores shown does
            self.refresh(layout=True)

    def _per_line(self, width: int) -> int:
        return max(1, width - len(self.PREFIX))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        count = len(self.levels) if self.levels else 1
        return max(1, -(-count // self._per_line(width)))

    def render(self) -> Content:
        if self.levels is None:
            return Content.styled(f"{self.PREFIX}{NA} (next tick)", "$text-muted")
        per_line = self._per_line(self.size.width)
        lines = []
        for start in range(0, len(self.levels), per_line):
            chunk = "".join(BLOCKS[level] for level in self.levels[start : start + per_line])
            prefix = self.PREFIX if start == 0 else " " * len(self.PREFIX)
            lines.append(Content.assemble((prefix, "$text-muted"), (chunk, "$accent")))
        return Content("\n").join(lines)


class CpuCard(Card):
    """Total CPU with its trend, every core, and the load average."""

    def __init__(self) -> None:
        super().__init__("CPU", id="cpu-card")
        self._total = Meter("total", value_width=4)
        self._trend = Trend(top=100.0, classes="cpu-trend")
        self._cores = CoreStrip()
        self._load = Line(classes="cpu-load")

    def compose(self) -> ComposeResult:
        yield self._total
        yield self._trend
        yield self._cores
        yield self._load

    def show(self, system: SystemReading, history: History) -> None:
        self._total.show(fraction(system.cpu_percent, 100), fmt_pct(system.cpu_percent))
        self._trend.show(history, CPU_PERCENT)
        self._cores.show(system.per_cpu_percent)
        self._load.show(load_text(system.load_avg, system.cpu_count))


class MemoryCard(Card):
    """RAM and swap, with the RAM trend."""

    def __init__(self) -> None:
        super().__init__("Memory", id="memory-card")
        self._ram = Meter("RAM", value_width=14, warn=True)
        self._swap = Meter("swap", value_width=14, warn=True)
        self._available = Line(classes="ram-available")
        self._trend = Trend(top=100.0, classes="ram-trend")

    def compose(self) -> ComposeResult:
        yield self._ram
        yield self._swap
        yield self._trend
        yield self._available

    def show(self, system: SystemReading, history: History) -> None:
        mem = system.memory
        self._ram.show(mem.percent / 100, fmt_bytes_pair(mem.used_bytes, mem.total_bytes))
        swap = system.swap
        if swap is None or swap.total_bytes == 0:
            self._swap.show(None, "none")
        else:
            self._swap.show(swap.percent / 100, fmt_bytes_pair(swap.used_bytes, swap.total_bytes))
        self._trend.show(history, RAM_PERCENT)
        self._available.show(f"available {fmt_bytes(mem.available_bytes)}")


class DiskCard(Card):
    """Space on each filesystem that holds the data dir or a model-library root."""

    def __init__(self) -> None:
        super().__init__("Disk space", id="disk-card")
        self._mounts: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Line(f"disks: {NA}", classes="disk-none")

    def show(self, disks: tuple[DiskUsage, ...]) -> None:
        mounts = tuple(d.mountpoint for d in disks)
        if mounts != self._mounts:
            self._mounts = mounts
            self.remove_children(Meter)
            self.query_one(".disk-none", Line).display = not disks
            self.mount_all(
                Meter(shorten(m, 8), label_width=8, value_width=14, warn=True) for m in mounts
            )
        for meter, disk in zip(self.query(Meter), disks, strict=False):
            meter.show(disk.percent / 100, fmt_bytes_pair(disk.used_bytes, disk.total_bytes))


class _RateRow(Horizontal):
    """``read  1.2 MiB/s ▁▂▅▃`` — a labelled throughput and its trend."""

    DEFAULT_CSS = """
    _RateRow { height: auto; }
    _RateRow > Line { width: 19; margin-right: 1; }
    """

    def __init__(self, label: str, key: str, min_top: float) -> None:
        super().__init__(classes="card-row")
        self.label, self.key = label, key
        self._text = Line(f"{label} {NA}")
        self._trend = Trend(top=None, min_top=min_top)

    def compose(self) -> ComposeResult:
        yield self._text
        yield self._trend

    def show(self, value: float | None, history: History) -> None:
        self._text.show(f"{self.label:<5} {fmt_rate(value):>13}")
        self._trend.show(history, self.key)


class IoCard(Card):
    """Block-device and network throughput of the whole machine, with trends."""

    def __init__(self) -> None:
        super().__init__("Disk and network I/O", id="io-card")
        self._rows = (
            _RateRow("read", DISK_READ_BYTES_PER_S, _MIB),
            _RateRow("write", DISK_WRITE_BYTES_PER_S, _MIB),
            _RateRow("net ↓", NET_RECV_BYTES_PER_S, _MIB / 16),
            _RateRow("net ↑", NET_SENT_BYTES_PER_S, _MIB / 16),
        )

    def compose(self) -> ComposeResult:
        yield from self._rows

    def show(self, system: SystemReading, history: History) -> None:
        disk, net = system.disk_io, system.net_io
        values = (
            None if disk is None else disk.read_bytes_per_s,
            None if disk is None else disk.write_bytes_per_s,
            None if net is None else net.recv_bytes_per_s,
            None if net is None else net.sent_bytes_per_s,
        )
        for row, value in zip(self._rows, values, strict=True):
            row.show(value, history)
