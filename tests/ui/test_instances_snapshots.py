"""SVG snapshots of the Instances screen, its launch dialog, its stop question (with the
`--keep-wanted` option) and its log view (fixed fake data: pids, ports, uptimes and the clock
never change), at 80x24 and 120x40."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.widgets.log_pane import LogPane
from tests.ui.app_factory import LARGE, SMALL
from tests.ui.instances_lab import fake_app
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}


async def show_instances(pilot: Any) -> None:
    await pilot.press("4")
    await until(pilot, lambda: pilot.app.screen.query_one(DataTable).row_count == 4)


@pytest.mark.parametrize("size", SIZES)
def test_instances_screen(snap_compare: Any, size: str) -> None:
    app = fake_app(Path(tempfile.mkdtemp()) / "data")
    assert snap_compare(app, run_before=show_instances, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_instances_exposed_row_selected(snap_compare: Any, size: str) -> None:
    async def select(pilot: Any) -> None:
        await show_instances(pilot)
        await pilot.press("down")
        await pilot.pause()

    app = fake_app(Path(tempfile.mkdtemp()) / "data")
    assert snap_compare(app, run_before=select, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_launch_dialog(snap_compare: Any, size: str) -> None:
    async def open_dialog(pilot: Any) -> None:
        await show_instances(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen))

    app = fake_app(Path(tempfile.mkdtemp()) / "data")
    assert snap_compare(app, run_before=open_dialog, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_stop_question_offers_keep_wanted(snap_compare: Any, size: str) -> None:
    async def ask(pilot: Any) -> None:
        await show_instances(pilot)
        await pilot.press("x")  # the first row is wanted: the question offers --keep-wanted
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))

    app = fake_app(Path(tempfile.mkdtemp()) / "data")
    assert snap_compare(app, run_before=ask, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_log_view(snap_compare: Any, size: str) -> None:
    async def open_log(pilot: Any) -> None:
        await show_instances(pilot)
        await pilot.press("o")
        await until(pilot, lambda: pilot.app.screen.query_one(LogPane).line_count == 64)

    app = fake_app(Path(tempfile.mkdtemp()) / "data")
    assert snap_compare(app, run_before=open_log, terminal_size=SIZES[size])
