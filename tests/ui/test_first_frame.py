"""The first screen draws before it reads: the installed versions are read once, after the
first frame (`load`), not also by the first `ScreenResume` (counted, never timed)."""

from __future__ import annotations

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
