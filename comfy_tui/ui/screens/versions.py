"""Versions screen: installed ComfyUI versions, installs and the default version."""

from __future__ import annotations

from textual.app import ComposeResult

from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.widgets.empty_state import EmptyState


class VersionsScreen(ModeScreen):
    """Mode 1."""

    MODE_TITLE = "Versions"
    KEYS = (Key("versions-install", "i", "install", "Install", "Install a ComfyUI release"),)

    def compose_body(self) -> ComposeResult:
        yield EmptyState("No versions installed yet — press i to install one", id="versions-empty")

    def action_install(self) -> None:
        self.not_built_yet("Installing versions")
