"""The one place an app is built: the CLI and the tests share it."""

from __future__ import annotations

from comfy_tui.services.container import Services, build_services
from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp

THEME = "textual-dark"


def make_app(
    settings: Settings, *, services: Services | None = None, sampling: bool = True
) -> ComfyTuiApp:
    """Build the app from settings (or from prepared services, as tests do). Theme pinned.

    ``sampling=False`` keeps the monitor sampler off (tests feed samples themselves)."""
    app = ComfyTuiApp(services or build_services(settings), sampling=sampling)
    app.theme = THEME
    return app
