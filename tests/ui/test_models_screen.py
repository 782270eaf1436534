"""Pilot tests of the Models screen: load, search, folders, jobs, import, delete, duplicates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.duplicates import DuplicatesScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.import_path import ImportScreen
from comfy_tui.ui.screens.models import ModelsScreen
from comfy_tui.ui.screens.models_rows import column_widths
from comfy_tui.ui.state_feed import STATE_GROUP
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.model_detail import ModelDetail
from comfy_tui.ui.widgets.model_table import ModelTable
from tests import waiting
from tests.fakes import models as fm
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.fake_library import populate, write_files
from tests.waiting import until

_FOREVER = ("versions:releases", "downloads", STATE_GROUP)


async def settle(pilot: Any, rounds: int = 4) -> None:
    """Let jobs, the reloads they trigger, and the screen updates all finish.

    Not the Versions screen's release fetch (offline in tests, it waits forever by design),
    nor the download queue's feed or the state watch (they run as long as the app).
    """
    await waiting.settle(pilot, lambda w: w.group not in _FOREVER, rounds)


def names(app: Any) -> list[str]:
    table = app.screen.query_one("#models-table", ModelTable)
    return [row[0] for row in table.rows]


def detail(app: Any) -> str:
    return str(app.screen.query_one(ModelDetail).render())


async def test_empty_library_then_scan_with_s(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert app.screen.query_one(EmptyState).display
        assert not app.screen.query_one("#models-table").display
        write_files(data_dir)
        await pilot.press("s")
        await settle(pilot)
        assert not app.screen.query_one(EmptyState).display
        assert len(names(app)) == 6
        assert "scan the library: finished" in str(app.screen.query_one("#models-job").render())
        assert app.focused is app.screen.query_one("#models-table")


async def test_search_as_you_type_and_folders(data_dir: Path) -> None:
    await populate(data_dir)
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert len(names(app)) == 6
        await pilot.press("slash", *"pix")
        await settle(pilot)
        assert isinstance(app.focused, Input)
        assert names(app) == ["style/pixel_art_xl"]
        await pilot.press("escape")
        assert app.focused is app.screen.query_one("#models-table")
        app.screen.query_one("#models-search", Input).value = ""
        await settle(pilot)
        await pilot.click("#models-folders", offset=(2, 3))  # the second option: checkpoints
        await settle(pilot)
        assert names(app) == ["dreamshaper_8", "legacy_v1.ckpt", "sd_xl_base_1.0"]


async def test_details_show_header_hash_pickle_and_versions(data_dir: Path) -> None:
    await populate(data_dir)
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        text = detail(app)
        assert "checkpoints/dreamshaper_8.safetensors" in text
        assert "SD1.5 checkpoint" in text and "not computed yet" in text
        assert "seen by: v0.3.76, v0.3.77" in text
        await pilot.press("down")
        assert "pickle — can run code when loaded" in detail(app)
        await pilot.press("down")
        assert "sha256 " in detail(app) and "SDXL checkpoint" in detail(app)
        await pilot.press("up", "up", "h")
        await settle(pilot)
        assert "not computed" not in detail(app)
        assert str(data_dir) not in detail(app), "no absolute paths on screen"


async def test_delete_asks_then_moves_to_the_trash(data_dir: Path) -> None:
    library = await populate(data_dir)
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert len(names(app)) == 6
        await pilot.press("d")
        await pilot.press("y")
        await settle(pilot)
        assert "dreamshaper_8" not in names(app)
    assert [e.relpath for e in await library.trash()] == ["checkpoints/dreamshaper_8.safetensors"]


async def test_import_dialog_runs_an_import_job(data_dir: Path) -> None:
    # typed from the (per-test) home: each key waits for the app to go idle (a tmp path is 90)
    fm.write_safetensors(Path.home() / "dl" / "new_style.safetensors", fm.flux_lora())
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        await pilot.press(*"~/dl/new_style.safetensors", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert names(app) == ["new_style"]
        assert "Flux lora" in detail(app)
    assert (DataPaths(data_dir).library_models() / "loras" / "new_style.safetensors").is_file()


async def test_a_folder_import_reports_what_it_skipped(data_dir: Path) -> None:
    folder = Path.home() / "dl"
    fm.write_safetensors(folder / "a_odd.safetensors", fm.keys(["what"]))
    fm.write_safetensors(folder / "b_style.safetensors", fm.flux_lora())
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2", "i", *"~/dl", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert names(app) == ["b_style"]
        status = str(app.screen.query_one("#models-job").render())
        assert "1 imported" in status and "1 skipped (first: a_odd.safetensors" in status


async def test_a_failed_import_shows_the_reason(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2", "i", *"~/nope.safetensors", "enter", "enter")
        await settle(pilot)
        assert "no such file" in str(app.screen.query_one("#error-message").render())


async def test_duplicates_view_and_apply(data_dir: Path, tmp_path: Path) -> None:
    library = await populate(data_dir)
    version = tmp_path / "v1"
    save_record(DataPaths(data_dir), VersionRecord("v1", str(version), "/bin/false"))
    copy = fm.write_safetensors(
        version / "models" / "loras" / "pixel.safetensors",
        fm.sdxl_lora(),
        {"ss_base_model_version": "sdxl_base_v1-0", "ss_network_dim": "32"},
    )
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, DuplicatesScreen)
        assert "reclaimable" in str(app.screen.query_one("#duplicates-summary").render())
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    (kept,) = [m for m in await library.list_models() if m.name == "pixel_art_xl.safetensors"]
    assert os.stat(copy).st_ino == os.stat(kept.path).st_ino


async def test_a_scan_survives_a_screen_switch(data_dir: Path) -> None:
    write_files(data_dir)
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2", "s", "1")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert len(names(app)) == 6


async def test_help_lists_the_models_keys(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert keys[:7] == ["s", "/", "i", "h", "H", "d", "D"]


def test_column_widths_fit_the_terminal() -> None:
    for width in (58, 98, 180):
        columns = column_widths(width)
        used = sum(w for _, w in columns.values()) + 2 * (len(columns) - 1) + 4
        assert used <= width, (width, columns)
    assert "folder" not in column_widths(58)
    assert "folder" in column_widths(98)


async def test_import_can_move_and_keeps_a_bad_how(data_dir: Path) -> None:
    """`models import --move` from the dialog's How field; a bad value keeps the dialog."""
    source = fm.write_safetensors(Path.home() / "dl" / "moved.safetensors", fm.flux_lora())
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("i", *"~/dl/moved.safetensors", "tab", "tab", *"fling", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportScreen), "a bad How keeps the dialog and the path"
        assert dialog.query_one("#import-path", Input).value == "~/dl/moved.safetensors"
        dialog.query_one("#import-mode", Input).value = "move"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert names(app) == ["moved"]
    assert not source.exists(), "moved, not copied"
    assert (DataPaths(data_dir).library_models() / "loras" / "moved.safetensors").is_file()


async def test_a_pattern_imports_several_files_at_once(data_dir: Path) -> None:
    """`models import PATH PATH…` from the dialog: a pattern names several files; one that
    matches nothing fails the job with the reason and imports nothing."""
    fm.write_safetensors(Path.home() / "dl" / "one_style.safetensors", fm.flux_lora())
    fm.write_safetensors(Path.home() / "dl" / "two_style.safetensors", fm.sd15_lora())
    fm.write_safetensors(Path.home() / "dl" / "other" / "not_me.safetensors", fm.flux_lora())
    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#import-path", Input).value = "~/dl/*_style.safetensors"
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert sorted(names(app)) == ["one_style", "two_style"]
        await pilot.press("i")
        app.screen.query_one("#import-path", Input).value = "~/dl/*.ckpt"
        await pilot.press("enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen), "the reason")
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.report.message == "nothing matches ~/dl/*.ckpt"
    loras = DataPaths(data_dir).library_models() / "loras"
    assert sorted(p.name for p in loras.iterdir()) == [
        "one_style.safetensors",
        "two_style.safetensors",
    ]
