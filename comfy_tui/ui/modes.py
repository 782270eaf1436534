"""The App's modes: which screen each one shows, the first one built before the first frame, the
others imported (with their stylesheets) when first shown, or preloaded after the first frame.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from comfy_tui.paths import styles_dir
from comfy_tui.ui.screens.versions import VersionsScreen

STYLESHEETS = ("app.tcss", "versions.tcss")
"""What the first screen needs: Textual parses every loaded stylesheet before the first frame.
A later screen's own stylesheets (`LATER_STYLESHEETS`) load when it is first shown, and the
dialogs' with the first of them (`ui/dialogs: DIALOG_CSS`, `VERSION_DIALOG_CSS`)."""

LATER_SCREENS = {
    "models": "comfy_tui.ui.screens.models:ModelsScreen",
    "monitor": "comfy_tui.ui.screens.monitor:MonitorScreen",
    "instances": "comfy_tui.ui.screens.instances:InstancesScreen",
    "nodes": "comfy_tui.ui.screens.nodes:NodesScreen",
    "fleet": "comfy_tui.ui.screens.fleet:FleetScreen",
}
"""Screens imported when first shown (or preloaded after the first frame), not at start:
their services pull in aiohttp, SQLite and psutil, which the first screen does not need."""

LATER_STYLESHEETS = {
    "models": ("models.tcss",),
    "monitor": ("monitor.tcss",),
    "instances": ("instances.tcss",),
    "nodes": ("nodes.tcss",),
    "fleet": ("fleet.tcss", "instances.tcss", "models.tcss"),  # launch, add-download dialogs
}
"""Stylesheets Textual loads when the mode's screen is first shown (its dialogs' rules too)."""


def later_screen(mode: str, target: str) -> Callable[[], Screen[Any]]:
    """The maker of `mode`'s screen: imports `target` (`module:Class`) when first called."""
    module, name = target.split(":")

    def make() -> Screen[Any]:
        screen_class: Callable[[], Screen[Any]] = getattr(importlib.import_module(module), name)
        screen = screen_class()
        screen.css_path = [styles_dir() / sheet for sheet in LATER_STYLESHEETS[mode]]
        return screen

    return make


def first_screen() -> Screen[Any]:
    """The first screen, marked as styled by the stylesheet as it stands when it is mounted.

    Textual parses every stylesheet to mount the first screen and then, as the screen has never
    seen a CSS refresh, drops that work and parses them all again (`refresh_css`) with the same
    variables (the theme is pinned before the app runs) and sources; the parse cache it would
    reuse for the screen's widgets is dropped with it. Marking the screen as up to date with
    the app's CSS counter (Textual's own) skips that second parse: a third of the CSS work
    before the first frame. A later theme change refreshes it as usual."""
    screen = VersionsScreen()
    screen._css_update_count = screen.app._css_update_count
    return screen


def preload_screens() -> None:
    """Import every later screen's module (the App does it in a thread after the first frame)."""
    for target in LATER_SCREENS.values():
        importlib.import_module(target.split(":")[0])


MODE_SCREENS: dict[str, str | Callable[[], Screen[Any]]] = {
    "versions": first_screen,
    **{mode: later_screen(mode, target) for mode, target in LATER_SCREENS.items()},
}
"""The App's `MODES`: each mode's screen maker."""
