"""Builds the app the way the CLI does, on a throwaway data dir, for Pilot and snapshot tests.

Nothing reaches the internet: `github_api` points at a loopback port where nothing listens,
and the release service's retry sleep never ends, so the Versions screen stays in its honest
"checking GitHub" state unless a test passes a fake GitHub (`github_api=`) and its own sleep.

The monitor is a deterministic replay (the recorded H200 at idle unless a test passes
another from `tests.fakes.monitor_boxes`) and its sampler is off unless ``sampling``:
tests deliver ticks with `app.stats.sample_now()`, so no live timer changes a snapshot.
"""

from __future__ import annotations

import asyncio
import atexit
import socket
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from comfy_tui.services.container import Services, build_services
from comfy_tui.services.github import GitHubReleases
from comfy_tui.services.monitor import Monitor
from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.factory import make_app
from tests.fakes import monitor_boxes

SMALL = (80, 24)
LARGE = (120, 40)

_CLOSED = socket.socket()  # bound, never listening: connecting is refused at once
_CLOSED.bind(("127.0.0.1", 0))
OFFLINE_GITHUB = f"http://127.0.0.1:{_CLOSED.getsockname()[1]}"
atexit.register(_CLOSED.close)  # no ResourceWarning when a worker exits


async def sleep_forever(seconds: float) -> None:
    await asyncio.Event().wait()


def make_test_app(
    data_dir: Path | None = None,
    keymap: Mapping[str, str] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    services: Callable[[Services], Services] | None = None,
    releases: Callable[[Settings, Services], GitHubReleases] | None = None,
    monitor: Monitor | None = None,
    sampling: bool = False,
    instance_labels: Callable[[], Mapping[str, str]] | None = None,
) -> ComfyTuiApp:
    """`settings` overrides Settings fields; `releases` builds the release service (default:
    offline, retry sleep forever); `services` may replace any other service."""
    root = data_dir or Path(tempfile.mkdtemp(prefix="comfy-tui-test-"))
    values: dict[str, Any] = {"github_api": OFFLINE_GITHUB, **(settings or {})}
    built_settings = Settings(data_dir=root, keymap=MappingProxyType(dict(keymap or {})), **values)
    built = build_services(built_settings)
    if releases is None:
        release_service = GitHubReleases(built_settings, built.paths, sleep=sleep_forever)
    else:
        release_service = releases(built_settings, built)
    built.releases = release_service
    built.monitor = monitor if monitor is not None else monitor_boxes.h200()
    if instance_labels is not None:
        built.instance_labels = instance_labels
    if services is not None:
        built = services(built)
    return make_app(built_settings, services=built, sampling=sampling)
