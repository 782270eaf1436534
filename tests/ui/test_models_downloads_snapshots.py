"""SVG snapshots of the Models screen's Downloads panel with a fixed queue (under snapshots/ui/).

The queue is frozen mid-download: fixed bytes, speeds and ETAs, nothing runs, no timers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.downloads import DownloadItem, DownloadQueue, DownloadRequest, Kind, State
from comfy_tui.settings import Settings
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.fake_library import populate
from tests.ui.test_models_screen import settle

SIZES = {"80x24": SMALL, "120x40": LARGE}
GIB = 1024**3

ITEMS = (
    DownloadItem(
        "a1", DownloadRequest("https://models.example/flux1-dev-fp8.safetensors"),
        state=State.ACTIVE, kind=Kind.URL, folder="diffusion_models",
        filename="flux1-dev-fp8.safetensors", bytes_done=int(6.2 * GIB),
        bytes_total=int(11.9 * GIB),
        speed=48.3 * 1024**2, eta=121.0, added_at=1.0,
    ),
    DownloadItem(
        "b2", DownloadRequest("org/vae", "split_files/vae/ae.safetensors"), state=State.QUEUED,
        kind=Kind.HF, folder="vae", filename="ae.safetensors", added_at=2.0,
    ),
    DownloadItem(
        "c3", DownloadRequest("https://models.example/pixel_art_xl.safetensors", folder="loras"),
        state=State.PAUSED, kind=Kind.URL, folder="loras", filename="pixel_art_xl.safetensors",
        bytes_done=68 * 1024**2, bytes_total=170 * 1024**2, added_at=3.0,
    ),
    DownloadItem(
        "d4", DownloadRequest("https://models.example/detail.safetensors", folder="loras"),
        state=State.FAILED, kind=Kind.URL, folder="loras", filename="detail.safetensors",
        error="sha256 mismatch for detail.safetensors: expected 3f2a…, got 9b1c…;"
        " the downloaded file was deleted", added_at=4.0,
    ),
    DownloadItem(
        "e5", DownloadRequest("https://models.example/4x_ultrasharp.pth", folder="upscale_models"),
        state=State.DONE, kind=Kind.URL, folder="upscale_models", filename="4x_ultrasharp.pth",
        bytes_done=64 * 1024**2, bytes_total=64 * 1024**2, added_at=5.0,
    ),
)  # fmt: skip


class StillQueue(DownloadQueue):
    """A queue frozen mid-download: `start` shows the fixed items, nothing ever runs."""

    def __init__(self, settings: Settings, paths: DataPaths) -> None:
        super().__init__(settings, paths, on_complete=None)

    async def start(self) -> None:
        for item in ITEMS:
            self._set(item)

    async def close(self) -> None:
        return None


def still(services: Services) -> Services:
    services.downloads = StillQueue(services.settings, services.paths)
    return services


async def open_models(pilot: Any) -> None:
    await pilot.press("2")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_models_downloads_panel(snap_compare: Any, data_dir: Path, size: str) -> None:
    asyncio.run(populate(data_dir))
    app = make_test_app(data_dir, services=still)
    assert snap_compare(app, run_before=open_models, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_models_downloads_failed_detail(snap_compare: Any, data_dir: Path, size: str) -> None:
    asyncio.run(populate(data_dir))

    async def highlight_failed(pilot: Any) -> None:
        await open_models(pilot)
        pilot.app.screen.query_one("#downloads-list").focus()
        await pilot.press("down", "down", "down")
        await settle(pilot)

    app = make_test_app(data_dir, services=still)
    assert snap_compare(app, run_before=highlight_failed, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_models_add_download_dialog(snap_compare: Any, data_dir: Path, size: str) -> None:
    async def open_dialog(pilot: Any) -> None:
        await open_models(pilot)
        await pilot.press("a")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    assert snap_compare(make_test_app(data_dir), run_before=open_dialog, terminal_size=SIZES[size])
