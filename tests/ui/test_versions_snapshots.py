"""SVG snapshots of the Versions screen at 80x24 and 120x40 (under snapshots/ui/).

States: offline with nothing cached, offline with an old cache, a fake GitHub's releases with
installed / default / running markers, two installs in progress (scripted events), and the
details of an installed version. Fixed clock, fake records, no real paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from comfy_tui.events import Progress
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.install_panel import InstallPanel
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.fake_github import FakeGitHub, ThreadedFakeGitHub
from tests.ui.app_factory import LARGE, OFFLINE_GITHUB, SMALL
from tests.ui.versions_lab import (
    RELEASES,
    ScriptedVersions,
    add_record,
    install_events,
    settle,
    versions_app,
    write_cache,
)
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with ThreadedFakeGitHub(FakeGitHub(releases=list(RELEASES))) as fake:
        yield fake


def with_records(data_dir: Path) -> None:
    add_record(data_dir, "v0.3.77", 1_412_000_000, default=True)
    add_record(data_dir, "v0.3.76", 1_398_000_000)
    add_record(data_dir, "v0.8.1", 1_530_000_000)


@pytest.mark.parametrize("size", SIZES)
def test_offline_nothing_cached(snap_compare: Any, data_dir: Path, size: str) -> None:
    app = versions_app(data_dir, OFFLINE_GITHUB)
    assert snap_compare(app, run_before=settle, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_offline_with_an_old_cache(snap_compare: Any, data_dir: Path, size: str) -> None:
    write_cache(data_dir, age_s=3 * 3600 + 120)
    with_records(data_dir)
    app = versions_app(data_dir, OFFLINE_GITHUB)
    assert snap_compare(app, run_before=settle, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_release_list_with_markers(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    with_records(data_dir)
    app = versions_app(data_dir, github.url, running={"v0.3.77": 1, "v0.8.1": 2})
    assert snap_compare(app, run_before=settle, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_installs_in_progress(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    with_records(data_dir)

    async def start_installs(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        versions = pilot.app.services.versions  # type: ignore[attr-defined]
        assert isinstance(screen, VersionsScreen) and isinstance(versions, ScriptedVersions)
        versions.script["v0.45.2"] = install_events("v0.45.2")
        versions.script["v0.33.1"] = [Progress("clone", 0.05, detail="Counting objects: 40%")]
        screen.start_install("v0.45.2")
        screen.start_install("v0.33.1")

        def drawn() -> bool:
            panels = list(screen.query(InstallPanel))
            fractions = {p.tag: p.fraction for p in panels}
            return fractions == {"v0.45.2": 0.62, "v0.33.1": 0.05} and all(p.drawn for p in panels)

        await until(None, drawn, "both install panels drawn")  # the App runs meanwhile
        await pilot.pause()
        await pilot.pause()

    app = versions_app(data_dir, github.url)
    assert snap_compare(app, run_before=start_installs, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_details_of_an_installed_version(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    with_records(data_dir)
    app = versions_app(data_dir, github.url)
    lines = [
        "git: Cloning into 'versions/.staging-v0.3.77-x1y2'...",
        "git: HEAD is now at 0123456 release v0.3.77",
        "uv: Using CPython 3.11.7",
        "uv: Installed 3 packages in 41ms",
        " + torch==2.9.1+cu128",
        "uv: Resolved 61 packages in 890ms",
        "smoke: main.py --quick-test-for-ci --cpu: ok",
    ]
    app.services.paths.install_log("v0.3.77").write_text("\n".join(lines) + "\n")

    async def open_details(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        table = pilot.app.screen.query_one(VersionTable)
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await pilot.press("enter")
        for _ in range(5):
            await pilot.pause()

    assert snap_compare(app, run_before=open_details, terminal_size=SIZES[size])
