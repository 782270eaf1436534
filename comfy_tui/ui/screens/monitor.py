"""Monitor screen: CPU, RAM, disk and every GPU."""

from __future__ import annotations

from textual.app import ComposeResult

from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.widgets.empty_state import EmptyState


class MonitorScreen(ModeScreen):
    """Mode 3."""

    MODE_TITLE = "Monitor"

    def compose_body(self) -> ComposeResult:
        yield EmptyState("No readings yet — the monitor is not sampling", id="monitor-empty")
