"""Monitor screen: every GPU, CPU, memory, disks, I/O and the instances, live.

The screen draws what the App's one sampler (`app.stats`) delivers; it samples nothing
itself. While it shows, the sampler takes the expensive readings too (per-core CPU, I/O
rates, GPU processes, instance trees); when another screen shows, it stops them.
Left alone (no key, no mouse) for a while, it is drawn every `UNTOUCHED_DRAW_S` and says so;
cards scrolled out of view are not drawn (scrolling draws the newest sample).
The layout follows the width: one GPU column and two host columns at 80 columns, two
GPU columns from 110, four host columns from 160; the body scrolls when it is taller
than the terminal (8 GPUs at 80x24).
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget

from comfy_tui.services.monitor import StatsSample
from comfy_tui.services.monitor.text import gpu_status, interval_text, pid_names
from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.stats_feed import UNTOUCHED_DRAW_S
from comfy_tui.ui.widgets.card import Card, Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.gpu_card import GpuCard
from comfy_tui.ui.widgets.instances_card import InstancesCard
from comfy_tui.ui.widgets.system_cards import CpuCard, DiskCard, IoCard, MemoryCard

WIDE = 110
"""From this width GPU cards sit two to a row."""
XWIDE = 160
"""From this width the host cards sit four to a row."""


class MonitorScreen(ModeScreen):
    """Mode 3."""

    MODE_TITLE = "Monitor"
    KEYS = (
        Key("monitor-pause", "p", "toggle_pause", "Pause", "Pause or resume sampling"),
        Key(
            "monitor-faster", "plus", "faster", "Faster", "Sample more often (down to 0.5 s)", False
        ),
        Key("monitor-slower", "minus", "slower", "Slower", "Sample less often (up to 30 s)", False),
    )

    def __init__(self) -> None:
        super().__init__()
        self._redraw_pending = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="monitor-body"):
            yield Line(id="monitor-status")
            yield EmptyState(self._empty_text(), id="monitor-empty")
            with Card("GPU", id="gpu-none"):
                yield Line(id="gpu-none-reason")
            yield Grid(id="gpu-grid")
            with Grid(id="system-grid"):
                yield CpuCard()
                yield MemoryCard()
                yield DiskCard()
                yield IoCard()
            yield InstancesCard()

    def on_mount(self) -> None:
        self._set_visible(False)
        self.watch(self.query_one("#monitor-body"), "scroll_y", self._scrolled, init=False)
        self.comfy_app.stats.updates.subscribe(self, self._on_sample)
        self.comfy_app.stats.state_changed.subscribe(self, self._on_state)

    # --- showing and hiding --------------------------------------------------------------
    def on_screen_resume(self) -> None:
        stats = self.comfy_app.stats
        stats.show_detail(True)
        self._draw_status()
        if stats.latest is not None:
            self.call_later(self._draw, stats.latest)

    def on_screen_suspend(self) -> None:
        self.comfy_app.stats.show_detail(False)

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        gpus = len(self.query_one("#gpu-grid").children)
        self.set_class(width >= WIDE and gpus >= 2, "-gpu-two")
        self.set_class(width >= XWIDE, "-xwide")
        self.set_class(width >= WIDE, "-wide")

    def _set_visible(self, has_sample: bool) -> None:
        """The empty state until the first sample; the GPU area and the instances card
        are shown by `_draw_gpus` and `InstancesCard.show` (no flip-flop per tick)."""
        self.query_one("#monitor-empty").display = not has_sample
        self.query_one("#system-grid").display = has_sample
        if not has_sample:
            for selector in ("#gpu-grid", "#gpu-none"):
                self.query_one(selector).display = False
            self.query_one(InstancesCard).display = False

    # --- drawing -------------------------------------------------------------------------
    def _empty_text(self) -> str:
        stats = self.comfy_app.stats
        if stats.error:
            return f"Monitoring stopped: {stats.error} — press p to start it again"
        if not stats.running:
            return "No readings yet — sampling is paused; press p to start it"
        return "No readings yet — the first sample is on its way"

    def _draw_status(self) -> None:
        stats = self.comfy_app.stats
        latest = stats.latest
        parts = []
        if latest is not None:
            has_gpus = latest.gpu_info.available and bool(latest.gpus)
            parts.append(gpu_status(latest.gpu_info, len(latest.gpus)) if has_gpus else "no GPU")
        parts.append(interval_text(stats.interval))
        if stats.pacing:
            parts.append(f"left alone: drawn every {UNTOUCHED_DRAW_S:g} s (any key: live)")
        if stats.error:
            parts.append(f"stopped: {stats.error}")
        elif not stats.running:
            parts.append("paused (p resumes)")
        self.query_one("#monitor-status", Line).show(" · ".join(parts))
        if latest is None:
            self.query_one("#monitor-empty", EmptyState).update(self._empty_text())

    def _on_state(self, running: bool) -> None:
        if self.is_current:
            self._draw_status()

    async def _on_sample(self, sample: StatsSample) -> None:
        if self.is_current:
            await self._draw(sample)

    async def _draw(self, sample: StatsSample) -> None:
        app = self.comfy_app
        history = app.stats.monitor.history
        labels = dict(app.services.instance_labels())
        self._set_visible(True)
        self._draw_status()
        await self._draw_gpus(sample)
        names = pid_names(sample, labels)
        for card in self.query(GpuCard):
            gpu = next((g for g in sample.gpus if g.index == card.index), None)
            if gpu is not None and self._in_view(card):
                card.show(gpu, history, names)
        system = sample.system
        if self._in_view(cpu := self.query_one(CpuCard)):
            cpu.show(system, history)
        if self._in_view(memory := self.query_one(MemoryCard)):
            memory.show(system, history)
        if self._in_view(disks := self.query_one(DiskCard)):
            disks.show(system.disks)
        if self._in_view(io := self.query_one(IoCard)):
            io.show(system, history)
        self.query_one(InstancesCard).show(sample.instances, labels)  # shows or hides itself

    def _in_view(self, card: Widget) -> bool:
        """Whether a card is (partly) inside the scrolled body, or not laid out yet: a card
        scrolled out of view is not drawn (every draw costs CPU and bytes); scrolling draws
        the newest sample again."""
        region = card.region
        return not region or region.overlaps(self.query_one("#monitor-body").region)

    def _scrolled(self) -> None:
        if not self._redraw_pending:  # one draw for a whole scroll (an animation is many steps)
            self._redraw_pending = True
            self.call_after_refresh(self._redraw)

    async def _redraw(self) -> None:
        self._redraw_pending = False
        latest = self.comfy_app.stats.latest
        if self.is_current and latest is not None:
            await self._draw(latest)

    async def _draw_gpus(self, sample: StatsSample) -> None:
        """Make one card per GPU (again only when the set of GPUs changes)."""
        grid = self.query_one("#gpu-grid", Grid)
        none = self.query_one("#gpu-none", Card)
        has_gpus = sample.gpu_info.available and bool(sample.gpus)
        none.display = not has_gpus
        grid.display = has_gpus
        if not has_gpus:
            reason = gpu_status(sample.gpu_info, 0)
            none.query_one("#gpu-none-reason", Line).show(
                f"{reason}\nCPU, memory and disks are still monitored."
            )
        indices = tuple(g.index for g in sample.gpus) if has_gpus else ()
        if tuple(c.index for c in grid.query(GpuCard)) != indices:
            await grid.remove_children()
            await grid.mount_all(GpuCard(i) for i in indices)
            self._layout(self.size.width)

    # --- keys ----------------------------------------------------------------------------
    async def action_toggle_pause(self) -> None:
        stats = self.comfy_app.stats
        if stats.running:
            await stats.stop()
        else:
            stats.start()

    async def action_faster(self) -> None:
        await self._set_interval(+1)

    async def action_slower(self) -> None:
        await self._set_interval(-1)

    async def _set_interval(self, direction: int) -> None:
        stats = self.comfy_app.stats
        seconds = stats.next_interval(-direction)
        if seconds != stats.interval:
            await stats.set_interval(seconds)
        self._draw_status()
