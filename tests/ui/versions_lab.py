"""Shared setup for the Versions screen tests: fake releases, records, a scripted install.

The release list comes from the real `GitHubReleases` talking to a fake GitHub on loopback
(or to a closed port, for the offline states), with a fixed clock and an instant retry sleep.
Installs use a `ScriptedVersions`: the real VersionsService, except that `install` plays a
scripted event stream (the real installer is covered by the install tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.github import GitHubReleases
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import VersionRecord, save_record, set_default
from comfy_tui.ui.app import ComfyTuiApp
from tests import waiting
from tests.fakes.fake_github import release
from tests.fakes.guards import fake_guard
from tests.ui.app_factory import make_test_app

T0 = 1_800_000_000.0  # the fixed "now" of every Versions screen test

RELEASES = [
    release("v0.3.75", "2025-11-07T10:00:00Z"),
    release("v0.3.76", "2025-11-14T10:00:00Z"),
    release("v0.3.77", "2025-11-21T10:00:00Z"),
    release("v0.4.0-rc1", "2025-11-28T10:00:00Z", prerelease=True),
    release("v0.4.0", "2025-12-05T10:00:00Z"),
    release("v0.8.1", "2026-01-16T10:00:00Z"),
    release("v0.33.1", "2026-08-07T10:00:00Z"),
    release("v0.45.2", "2026-11-12T10:00:00Z"),
]


async def no_sleep(seconds: float) -> None:
    return None


def add_record(
    data_dir: Path, tag: str, size: int = 1_400_000_000, *, default: bool = False
) -> None:
    """A version record with fixed, fake values (nothing real on screen)."""
    paths = DataPaths(data_dir)
    record = VersionRecord(
        tag=tag,
        path=f"/srv/comfy-tui/versions/{tag}",
        python=f"/srv/comfy-tui/versions/{tag}/.venv/bin/python",
        commit="0123456789abcdef0123",
        comfyui_version=tag.removeprefix("v"),
        python_version="3.11.7",
        torch_version="2.9.1+cu128",
        torch_backend="cu128",
        installer="uv",
        installed_at=T0 - 86400,
        size_bytes=size,
        step_seconds={"clone": 1.2, "venv": 0.4, "torch": 6.1, "requirements": 3.3, "smoke": 8.0},
        flags=("--cpu", "--listen", "--port"),
    )
    save_record(paths, record)
    if default:
        set_default(paths, tag)


def write_cache(data_dir: Path, age_s: float, tags: list[dict[str, Any]] | None = None) -> None:
    """A release cache fetched `age_s` before T0 (written like the service writes it)."""
    from comfy_tui.services.release_list import from_github_item

    items = [r for r in map(from_github_item, tags or RELEASES) if r]
    doc = {
        "schema_version": 1,
        "api": "",  # filled by the caller's settings
        "repo": "comfyanonymous/ComfyUI",
        "fetched_at": T0 - age_s,
        "etag": None,
        "releases": [r.to_json() for r in items],
    }
    path = data_dir / "metadata" / "github_cache.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


class ScriptedVersions(VersionsService):
    """The real service with a scripted `install`: `script[tag]` events, then wait on `gate`."""

    def __init__(self, settings: Settings, paths: DataPaths, guard: VersionGuard) -> None:
        super().__init__(settings, paths, guard=guard)
        self.script: dict[str, list[Event | Exception]] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.cleaned: set[str] = set()
        self.asked: tuple[str, str, str | None, str | None] | None = None
        self.forced = False

    def install(
        self,
        tag: str,
        torch: str = "auto",
        *,
        torch_index: str | None = None,
        python: str | None = None,
        force: bool = False,
    ) -> AsyncIterator[Event]:
        self.asked = (tag, torch, torch_index, python)
        self.forced = force
        return self._play(tag)

    async def _play(self, tag: str) -> AsyncIterator[Event]:
        try:
            for event in self.script.get(tag, []):
                if isinstance(event, Exception):
                    raise event
                yield event
            gate = self.gates.setdefault(tag, asyncio.Event())
            await gate.wait()
            yield Finished(tag)
        finally:
            self.cleaned.add(tag)


def install_events(tag: str) -> list[Event]:
    return [
        Progress("clone", 0.08, detail="Receiving objects: 100% (412/412)"),
        LogLine(f"Cloning into 'versions/.staging-{tag}'...", source="git"),
        LogLine("HEAD is now at 0123456 release", source="git"),
        Progress("venv", 0.15),
        LogLine("Using CPython 3.11.7", source="uv"),
        Progress("torch", 0.46, detail="torch 2.9.1+cu128"),
        LogLine("Resolved 24 packages in 310ms", source="uv"),
        LogLine("Installed 24 packages in 2.1s", source="uv"),
        Progress("requirements", 0.62, detail="installing requirements.txt"),
        LogLine("Resolved 61 packages in 890ms", source="uv"),
    ]


def versions_app(
    data_dir: Path,
    github_api: str,
    *,
    running: Mapping[str, int] | None = None,
    clock_now: float = T0,
) -> ComfyTuiApp:
    """The app on `data_dir`, its releases from `github_api`, its installs scripted.
    `running` (tag -> count) fakes live instances; without it the real guard looks."""

    def releases(settings: Settings, services: Services) -> GitHubReleases:
        return GitHubReleases(settings, services.paths, clock=lambda: clock_now, sleep=no_sleep)

    def services(built: Services) -> Services:
        if running is not None:
            built.guard = fake_guard(built.paths, dict(running))
        built.versions = ScriptedVersions(built.settings, built.paths, built.guard)
        return built

    cache = data_dir / "metadata" / "github_cache.json"
    if cache.exists():  # point a prepared cache at this API
        doc = json.loads(cache.read_text())
        doc["api"] = github_api
        cache.write_text(json.dumps(doc))
    return make_test_app(
        data_dir, settings={"github_api": github_api}, services=services, releases=releases
    )


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until the Versions screen's loading workers are done, then let the screen render."""
    await waiting.settle(pilot, lambda w: w.group.startswith("versions:"))


async def confirm_install(pilot: Pilot[Any]) -> None:
    """Answer the install dialog `i` opens with what it shows (enter on Install)."""
    from comfy_tui.ui.dialogs.install import InstallScreen

    for attempt in range(200):
        await pilot.pause()
        if isinstance(pilot.app.screen, InstallScreen):
            break
        if attempt >= 2 and len(pilot.app._notifications):
            return  # no dialog: `i` was refused (already installed or installing)
    else:
        return
    await pilot.press("enter")
    await pilot.pause()
