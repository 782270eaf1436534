"""The first screen draws before it reads: the installed versions are read once, after the
first frame (`load`), not also by the first `ScreenResume`; and what the first frame does not
show is not imported (nor its stylesheet parsed) before it (counted, never timed)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from comfy_tui.ui.screens.versions import VersionsScreen
from tests.ui.app_factory import SMALL, make_test_app
from tests.waiting import until


async def test_the_versions_are_read_once_after_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_load, real_reload = VersionsScreen.load, VersionsScreen._reload_local

    def load(self: VersionsScreen, *, refresh: bool) -> None:
        calls.append("load")
        real_load(self, refresh=refresh)

    def reload(self: VersionsScreen) -> None:
        calls.append("read")
        real_reload(self)

    monkeypatch.setattr(VersionsScreen, "load", load)
    monkeypatch.setattr(VersionsScreen, "_reload_local", reload)
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: "read" in calls, "the installed versions to be read")
        await pilot.pause()
        assert calls == ["load", "read"]
        await pilot.press("2", "1")  # shown again: read again (it may have changed)
        await until(pilot, lambda: calls.count("read") == 2, "a second read")


FIRST_FRAME = """
import json, os, sys
from pathlib import Path
from comfy_tui.settings import load_settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.factory import make_app
from comfy_tui.ui.screens.versions import VersionsScreen

def first_frame(self, **_):  # the first of the calls made after the first frame
    sheets = sorted(Path(path).name for path, _ in self.app.stylesheet.source if path)
    print(json.dumps({"modules": sorted(sys.modules), "css": sheets}), flush=True)
    os._exit(0)

ComfyTuiApp.start_background = VersionsScreen.load = first_frame
make_app(load_settings(Path(sys.argv[1]), os.environ)).run(headless=True)
"""

LATER = (
    "aiohttp",
    "psutil",
    "sqlite3",
    "pynvml",
    "comfy_tui.services.monitor.readings",
    "comfy_tui.services.notify.notice",
    "comfy_tui.ui.dialogs.help",
    "comfy_tui.ui.dialogs.notifications",
    "comfy_tui.ui.screens.models",
    "comfy_tui.ui.screens.monitor",
    "textual.widgets._text_area",
    "textual.widgets._log",
    "textual.widgets._progress_bar",
    "comfy_tui.ui.dialogs.install",
    "comfy_tui.ui.dialogs.version_details",
    "tomllib",
    "ctypes",
    "rich._emoji_codes",
)
"""What the first screen does not need: imported after the first frame (workers, first use)."""


def test_the_first_frame_imports_only_what_it_shows(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["COMFY_TUI_GITHUB_API"] = "http://127.0.0.1:9"
    result = subprocess.run(
        [sys.executable, "-c", FIRST_FRAME, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    shown = json.loads(result.stdout.splitlines()[-1])
    loaded = set(shown["modules"])
    assert "comfy_tui.ui.screens.versions" in loaded
    assert [name for name in LATER if name in loaded] == []
    assert "versions.tcss" in shown["css"]
    assert "dialogs.tcss" not in shown["css"], "the dialogs' stylesheet is read with a dialog"


async def test_the_garbage_collector_is_on_again_after_the_first_frame(tmp_path: Path) -> None:
    """`cli.main` starts the app with the collector off; the app turns it on after its first
    frame (with the services), so a session never runs without it."""
    gc.disable()
    try:
        app = make_test_app(tmp_path)
        async with app.run_test(size=SMALL) as pilot:
            await until(pilot, gc.isenabled, "the collector to be on")
    finally:
        gc.enable()
