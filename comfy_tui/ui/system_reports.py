"""Palette commands for the CLI's whole-program commands: "Settings" (`comfy-tui config`) and
"Autostart: status / enable / disable" (`comfy-tui autostart …`), each shown in a
`ReportScreen` with the lines the CLI prints. systemctl runs in a thread (never on the loop).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from comfy_tui import aio
from comfy_tui.errors import ComfyTuiError

if TYPE_CHECKING:
    from comfy_tui.ui.app import ComfyTuiApp

AUTOSTART_ACTIONS = ("status", "enable", "disable")


async def show_settings(app: ComfyTuiApp) -> None:
    from comfy_tui.services.config_report import config_lines
    from comfy_tui.ui.dialogs.report import ReportScreen

    services = app.services
    lines = config_lines(services.settings, services.paths)
    await app.push_screen(ReportScreen("Settings (tokens masked)", lines))


def _autostart_lines(action: str, data_dir: str) -> list[str]:
    from pathlib import Path

    from comfy_tui.services import autostart

    env = dict(os.environ)
    if action == "enable":
        return autostart.enable(env, Path(data_dir))[1]
    if action == "disable":
        return autostart.disable(env)
    return [autostart.status_line(autostart.status(env))]


async def show_autostart(app: ComfyTuiApp, action: str) -> None:
    from comfy_tui.ui.dialogs.report import ReportScreen

    if action not in AUTOSTART_ACTIONS:
        raise ValueError(action)
    root = str(app.services.paths.root.resolve())
    try:
        lines = await aio.to_thread(_autostart_lines, action, root)
    except (ComfyTuiError, OSError) as exc:
        app.push_screen(app.error_screen(f"Autostart {action} failed", exc))
        return
    await app.push_screen(ReportScreen(f"Autostart: {action}", lines))
