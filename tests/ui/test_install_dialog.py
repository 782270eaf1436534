"""The install dialog (`i` on Versions): detected build, remembered answers, snapshots."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from comfy_tui.paths import DataPaths
from comfy_tui.services.gpu_detect import DriverInfo
from comfy_tui.store.install_choices import InstallChoices, load_choices, save_choices
from comfy_tui.ui.dialogs.install import InstallScreen
from tests.fakes.fake_github import FakeGitHub, ThreadedFakeGitHub
from tests.ui.app_factory import LARGE, SMALL
from tests.ui.versions_lab import RELEASES, ScriptedVersions, settle, versions_app
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}
DRIVER = DriverInfo("580.65.06", (13, 0), 1)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with ThreadedFakeGitHub(FakeGitHub(releases=list(RELEASES))) as fake:
        yield fake


async def open_dialog(pilot: Pilot[Any]) -> InstallScreen:
    await settle(pilot)
    pilot.app.services.versions.detect_gpu = lambda: DRIVER  # type: ignore[attr-defined]
    await pilot.press("i")
    await until(pilot, lambda: isinstance(pilot.app.screen, InstallScreen), "the install dialog")
    assert isinstance(pilot.app.screen, InstallScreen)
    return pilot.app.screen


async def test_the_dialog_remembers_what_was_confirmed(data_dir: Path, github: FakeGitHub) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=LARGE) as pilot:
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#install-torch", Select).value == "auto"
        detected = str(dialog.query_one("#install-detected").render())
        assert "driver 580.65.06" in detected and "cu130" in detected
        assert dialog.query_one("#install-python", Input).value == app.services.settings.python
        dialog.query_one("#install-torch", Select).value = "cu128"
        dialog.query_one("#install-index", Input).value = "sources"
        dialog.query_one("#install-python", Input).value = sys.executable
        dialog.query_one("#install-force", Checkbox).value = True  # install --force
        await pilot.click("#install-go")
        await pilot.pause()
        versions = app.services.versions
        assert isinstance(versions, ScriptedVersions)
        assert versions.asked == ("v0.45.2", "cu128", "sources", sys.executable)
        assert versions.forced
    remembered = load_choices(DataPaths(data_dir))
    assert remembered == InstallChoices("cu128", sys.executable, "sources")

    again = versions_app(data_dir, github.url)
    async with again.run_test(size=LARGE) as pilot:
        await pilot.press("down")
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#install-torch", Select).value == "cu128"
        assert dialog.query_one("#install-index", Input).value == "sources"
        dialog.query_one("#install-index", Input).value = "http://example.com/whl"
        await pilot.click("#install-go")
        await pilot.pause()
        error = str(dialog.query_one("#install-error").render())
        assert "URL" in error and isinstance(again.screen, InstallScreen)  # refused, still open
        await pilot.press("escape")
        assert not isinstance(again.screen, InstallScreen)


@pytest.mark.parametrize("size", SIZES)
def test_dialog_snapshot(snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str) -> None:
    save_choices(DataPaths(data_dir), InstallChoices("auto", "/opt/python3.12/bin/python3", ""))
    app = versions_app(data_dir, github.url)

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_dialog(pilot)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZES[size])
