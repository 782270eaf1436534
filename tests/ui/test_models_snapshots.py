"""SVG snapshots of the Models screen with a fixed fake library (under snapshots/ui/).

Nothing on screen depends on the machine: paths inside the library only, no times, fixed data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.fakes import models as fm
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.fake_library import populate
from tests.ui.test_models_screen import settle

SIZES = {"80x24": SMALL, "120x40": LARGE}


async def open_models(pilot: Any) -> None:
    await pilot.press("2")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_models_library(snap_compare: Any, data_dir: Path, size: str) -> None:
    asyncio.run(populate(data_dir))
    app = make_test_app(data_dir)
    assert snap_compare(app, run_before=open_models, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_models_search_and_details(snap_compare: Any, data_dir: Path, size: str) -> None:
    asyncio.run(populate(data_dir))

    async def search(pilot: Any) -> None:
        await open_models(pilot)
        await pilot.press("slash", *"xl")
        pilot.app.screen.query_one("#models-search", Input).cursor_blink = False
        await settle(pilot)

    assert snap_compare(make_test_app(data_dir), run_before=search, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_models_duplicates_view(
    snap_compare: Any, data_dir: Path, tmp_path: Path, size: str
) -> None:
    asyncio.run(populate(data_dir))
    version = tmp_path / "v0.3.77"
    save_record(DataPaths(data_dir), VersionRecord("v0.3.77", str(version), "/bin/false"))
    fm.write_safetensors(
        version / "models" / "loras" / "pixel.safetensors",
        fm.sdxl_lora(),
        {"ss_base_model_version": "sdxl_base_v1-0", "ss_network_dim": "32"},
    )

    async def duplicates(pilot: Any) -> None:
        await open_models(pilot)
        await pilot.press("D")
        await settle(pilot)

    assert snap_compare(make_test_app(data_dir), run_before=duplicates, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_models_import_dialog(snap_compare: Any, data_dir: Path, size: str) -> None:
    async def open_dialog(pilot: Any) -> None:
        await open_models(pilot)
        await pilot.press("i")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    assert snap_compare(make_test_app(data_dir), run_before=open_dialog, terminal_size=SIZES[size])
