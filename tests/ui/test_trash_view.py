"""The Trash view: `t` on the Models screen (and the palette, and `?` help) lists what remove
put aside and `r` restores it, as `comfy-tui trash` does; SVG snapshots at both sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.trash import TrashScreen
from comfy_tui.ui.screens.models import ModelsScreen
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.fake_library import populate
from tests.ui.palette import choose
from tests.ui.test_models_screen import names, settle
from tests.ui.trash_lab import fill_trash, pinned_trash

SIZES = {"80x24": SMALL, "120x40": LARGE}


async def open_trash(pilot: Any) -> None:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)


def rows(app: Any) -> list[tuple[str, str]]:
    table = app.screen.query_one("#trash-table", DataTable)
    return [
        (str(table.get_row_at(n)[0]), str(table.get_row_at(n)[1])) for n in range(table.row_count)
    ]


@pytest.mark.parametrize("size", SIZES)
def test_trash_view(snap_compare: Any, data_dir: Path, size: str) -> None:
    fill_trash(data_dir)
    app = make_test_app(data_dir, services=pinned_trash)
    assert snap_compare(app, run_before=open_trash, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_trash_view_empty(snap_compare: Any, data_dir: Path, size: str) -> None:
    app = make_test_app(data_dir, services=pinned_trash)
    assert snap_compare(app, run_before=open_trash, terminal_size=SIZES[size])


async def test_a_deleted_model_is_restored_from_the_trash_view(data_dir: Path) -> None:
    await populate(data_dir)
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        before = names(app)
        record = next(m for m in (await app.services.library.list_models()) if "pixel" in m.name)
        await app.services.library.remove(record)
        app.screen.reload()
        await settle(pilot)
        assert len(names(app)) == len(before) - 1

        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TrashScreen)
        assert rows(app) == [("model", "loras/style/pixel_art_xl.safetensors")]
        await pilot.press("r")
        await settle(pilot)
        assert rows(app) == []
        assert app.screen.query_one("#trash-empty").display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert names(app) == before


async def test_a_version_entry_needs_the_version_and_says_so(data_dir: Path) -> None:
    fill_trash(data_dir)
    app = make_test_app(data_dir, services=pinned_trash)
    async with app.run_test(size=LARGE) as pilot:
        await open_trash(pilot)
        table = app.screen.query_one("#trash-table", DataTable)
        table.move_cursor(row=1)
        await pilot.press("r")
        await settle(pilot)
        assert [k for k, _ in rows(app)] == ["model", "version", "node"]  # not restored
        save_record(
            DataPaths(data_dir),
            VersionRecord("v0.3.76", str(data_dir / "versions" / "v0.3.76"), "/bin/false"),
        )
        await pilot.press("r")
        await settle(pilot)
        assert [k for k, _ in rows(app)] == ["model", "node"]
        assert (data_dir / "versions" / "v0.3.76" / "user" / "default" / "portrait.json").exists()


async def test_trash_is_in_help_and_the_palette(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        help_rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert any(row[0] == "t" and "trash" in " ".join(row).lower() for row in help_rows)
        await pilot.press("escape")
        await settle(pilot)
        await choose(pilot, "show the trash", "Models: Trash")
        await settle(pilot)
        assert isinstance(app.screen, TrashScreen)
