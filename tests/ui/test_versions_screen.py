"""Pilot tests of the Versions screen: list, markers, filter, refresh, installs, remove, default."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input, Log, ProgressBar

from comfy_tui.errors import InstallError
from comfy_tui.events import Progress
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.version_details import VersionDetailsScreen
from comfy_tui.ui.screens.models import ModelsScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.install_panel import InstallPanel
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.fake_github import FakeGitHub, release
from tests.ui.app_factory import LARGE, OFFLINE_GITHUB, SMALL
from tests.ui.versions_lab import (
    RELEASES,
    ScriptedVersions,
    add_record,
    confirm_install,
    install_events,
    settle,
    versions_app,
    write_cache,
)
from tests.waiting import until


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(releases=list(RELEASES)) as fake:
        yield fake


def screen_of(app: object) -> VersionsScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, VersionsScreen)
    return screen


def tags(screen: VersionsScreen) -> list[str]:
    return list(screen.query_one(VersionTable).rows_by_tag)


def status(screen: VersionsScreen) -> str:
    return str(screen.query_one("#versions-status").render())


async def select(pilot: object, screen: VersionsScreen, tag: str) -> None:
    table = screen.query_one(VersionTable)
    table.move_cursor(row=table.get_row_index(tag))
    await pilot.pause()  # type: ignore[attr-defined]


async def test_releases_and_installed_versions_newest_first_with_markers(
    data_dir: Path, github: FakeGitHub
) -> None:
    add_record(data_dir, "v0.3.77", default=True)
    add_record(data_dir, "v0.3.76")
    add_record(data_dir, "v0.2.0-local")  # installed, not a release: still listed
    app = versions_app(data_dir, github.url, running={"v0.3.77": 2})
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert tags(screen) == [
            "v0.45.2", "v0.33.1", "v0.8.1", "v0.4.0", "v0.3.77", "v0.3.76", "v0.3.75",
            "v0.2.0-local",
        ]  # fmt: skip
        rows = screen.query_one(VersionTable).rows_by_tag
        assert rows["v0.3.77"].status == "default · running 2" and rows["v0.3.77"].marker == "▶"
        assert rows["v0.3.76"].status == "installed" and rows["v0.3.76"].size == "1.3 GiB"
        assert rows["v0.45.2"].status == "" and rows["v0.45.2"].released == "2026-11-12"
        assert "from GitHub just now · 3 installed · 1 prereleases hidden (p)" in status(screen)
        await pilot.press("p")
        assert "v0.4.0-rc1" in tags(screen)
        assert screen.query_one(VersionTable).rows_by_tag["v0.4.0-rc1"].status == "pre"


async def test_the_start_refresh_never_blocks_the_app(data_dir: Path, github: FakeGitHub) -> None:
    github.script = ["hold"]
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: github.held is not None, "the held release fetch")
        screen = screen_of(app)
        assert screen.checking
        assert "Fetching the list of ComfyUI releases" in str(screen.query_one(EmptyState).render())
        await pilot.press("2")  # GitHub has not answered yet; the app still works
        assert isinstance(app.screen, ModelsScreen)
        await pilot.press("1")
        github.release_held()
        await settle(pilot)
        assert tags(screen)[0] == "v0.45.2" and not screen.checking


async def test_offline_states_are_honest(data_dir: Path) -> None:
    app = versions_app(data_dir, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        empty = str(screen.query_one(EmptyState).render())
        assert "No releases known yet — press r to fetch the list" in empty
        assert status(screen) == "GitHub unreachable and no releases are cached"
        assert screen.query_one("#versions-status").has_class("-warning")

    write_cache(data_dir, age_s=3 * 3600)
    app = versions_app(data_dir, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert status(screen) == "GitHub unreachable — showing releases cached 3 h ago"
        assert tags(screen)[0] == "v0.45.2"


async def test_refresh_asks_github_again(data_dir: Path, github: FakeGitHub) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        github.releases.append(release("v0.46.0", "2026-11-19T10:00:00Z"))
        await pilot.press("r")
        await settle(pilot)
        assert tags(screen_of(app))[0] == "v0.46.0"
        assert len(github.requests) == 2


async def test_filter_narrows_the_list_and_escape_clears_it(
    data_dir: Path, github: FakeGitHub
) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        await pilot.press("slash", "0", ".", "3", ".")
        assert screen.query_one(Input).has_focus
        assert tags(screen) == ["v0.3.77", "v0.3.76", "v0.3.75"]
        await pilot.press("7", "7", "enter")
        assert tags(screen) == ["v0.3.77"]
        assert screen.query_one(VersionTable).has_focus
        await pilot.press("escape")
        assert len(tags(screen)) == 7 and not screen.query_one(Input).display
        await pilot.press("slash", "x", "y")
        assert "Nothing matches “xy”" in str(screen.query_one(EmptyState).render())


async def test_install_shows_a_panel_per_install_and_finishes(
    data_dir: Path, github: FakeGitHub
) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        versions = app.services.versions
        assert isinstance(versions, ScriptedVersions)
        versions.script["v0.4.0"] = install_events("v0.4.0")
        versions.script["v0.45.2"] = [Progress("clone", 0.25)]
        await select(pilot, screen, "v0.4.0")
        await pilot.press("i")
        await confirm_install(pilot)
        await select(pilot, screen, "v0.45.2")
        await pilot.press("i")
        await confirm_install(pilot)
        await pilot.pause()
        panels = list(screen.query(InstallPanel))
        assert [p.tag for p in panels] == ["v0.4.0", "v0.45.2"]
        assert panels[0].query_one(ProgressBar).progress == pytest.approx(62)
        assert "Resolved 61 packages" in "\n".join(panels[0].query_one(Log).lines)
        rows = screen.query_one(VersionTable).rows_by_tag
        assert rows["v0.4.0"].status == "installing 62%"
        await pilot.press("2", "1")  # the installs belong to the App, not to the screen
        assert len(list(screen.query(InstallPanel))) == 2
        add_record(data_dir, "v0.4.0")  # what the real installer writes last
        versions.gates.setdefault("v0.4.0", asyncio.Event()).set()
        await pilot.pause()
        await settle(pilot)
        assert [p.tag for p in screen.query(InstallPanel)] == ["v0.45.2"]
        assert screen.query_one(VersionTable).rows_by_tag["v0.4.0"].status == "installed"
        assert any("v0.4.0 is installed" in str(n.message) for n in app._notifications)


async def test_cancel_stops_the_install_and_removes_its_panel(
    data_dir: Path, github: FakeGitHub
) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        versions = app.services.versions
        assert isinstance(versions, ScriptedVersions)
        await pilot.press("i")
        await confirm_install(pilot)  # the first row: v0.45.2
        await pilot.pause()
        assert [p.tag for p in screen.query(InstallPanel)] == ["v0.45.2"]
        await pilot.press("c")
        await until(pilot, lambda: "v0.45.2" in versions.cleaned, "the cancelled install cleaned")
        assert "v0.45.2" in versions.cleaned
        assert not list(screen.query(InstallPanel))
        assert not app.running_jobs()


async def test_a_failed_event_is_reported_and_the_panel_goes(
    data_dir: Path, github: FakeGitHub
) -> None:
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        versions = app.services.versions
        assert isinstance(versions, ScriptedVersions)
        versions.script["v0.45.2"] = [Progress("clone", 0.1), InstallError("git clone failed")]
        await pilot.press("i")
        await confirm_install(pilot)
        await pilot.pause()
        await pilot.pause()
        assert not list(screen.query(InstallPanel))
        assert isinstance(app.screen, ErrorScreen)
        assert "git clone failed" in app.screen.report.text()


async def test_installed_versions_cannot_be_installed_again(
    data_dir: Path, github: FakeGitHub
) -> None:
    add_record(data_dir, "v0.45.2")
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await confirm_install(pilot)
        assert any("already installed" in str(n.message) for n in app._notifications), [
            (n.message) for n in app._notifications
        ]
        assert not app.running_jobs()


async def test_remove_asks_then_removes(data_dir: Path, github: FakeGitHub) -> None:
    add_record(data_dir, "v0.3.77")
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        await select(pilot, screen, "v0.3.77")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert screen.query_one(VersionTable).rows_by_tag["v0.3.77"].installed
        await pilot.press("d", "y")
        await pilot.pause()
        await settle(pilot)
        assert not screen.query_one(VersionTable).rows_by_tag["v0.3.77"].installed
        assert not (data_dir / "metadata" / "versions" / "v0.3.77.json").exists()
        await pilot.press("d")  # not installed any more: nothing to confirm
        assert not isinstance(app.screen, ConfirmScreen)


async def test_s_sets_and_clears_the_default(data_dir: Path, github: FakeGitHub) -> None:
    add_record(data_dir, "v0.3.77")
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        await select(pilot, screen, "v0.3.77")
        await pilot.press("s")
        await pilot.pause()
        await settle(pilot)
        assert screen.query_one(VersionTable).rows_by_tag["v0.3.77"].default
        assert await app.services.versions.get_default() == "v0.3.77"
        await pilot.press("s")
        await pilot.pause()
        await settle(pilot)
        assert await app.services.versions.get_default() is None


async def test_enter_shows_the_record_and_the_install_log(
    data_dir: Path, github: FakeGitHub
) -> None:
    add_record(data_dir, "v0.3.77", default=True)
    app = versions_app(data_dir, github.url)
    log_file = app.services.paths.install_log("v0.3.77")
    log_file.write_text("".join(f"uv: line {i}\n" for i in range(300)))
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        await select(pilot, screen, "v0.3.77")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        details = app.screen
        assert isinstance(details, VersionDetailsScreen)
        fields = dict(details.lines)
        assert "torch 2.9.1+cu128 (cu128)" in fields["Versions"]
        assert "default" in fields["Installed"]
        lines = details.query_one(Log).lines
        assert len(lines) == 200 and lines[-1] == "uv: line 299"
        await pilot.press("escape")
        assert isinstance(app.screen, VersionsScreen)
