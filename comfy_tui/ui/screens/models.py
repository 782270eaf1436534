"""Models screen: the shared model library."""

from __future__ import annotations

from textual.app import ComposeResult

from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.widgets.empty_state import EmptyState


class ModelsScreen(ModeScreen):
    """Mode 2."""

    MODE_TITLE = "Models"
    KEYS = (Key("models-scan", "s", "scan", "Scan", "Scan the library folders for models"),)

    def compose_body(self) -> ComposeResult:
        yield EmptyState(
            "The model library is empty — press s to scan it, or run: comfy-tui models import PATH",
            id="models-empty",
        )

    def action_scan(self) -> None:
        self.not_built_yet("The model library")
