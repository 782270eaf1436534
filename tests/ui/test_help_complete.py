"""`?` lists every key: each binding of every screen (and the global ones), and over a dialog
each binding of that dialog. The list is built from the bindings themselves, so these tests
catch a binding without a help row (and keys of the screen that wait under a dialog)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.screen import Screen

from comfy_tui.store.version_records import list_records
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.add_download import AddDownloadScreen
from comfy_tui.ui.dialogs.adopt import AdoptScreen
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.envsnaps import SnapshotsScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.import_path import ImportScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.dialogs.notifications import NotificationsScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.report import ReportScreen
from comfy_tui.ui.dialogs.review import ReviewScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.trash import TrashScreen
from comfy_tui.ui.dialogs.version_details import VersionDetailsScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.keys import GLOBAL_KEYS
from tests.ui.app_factory import SMALL, make_test_app
from tests.ui.versions_lab import add_record
from tests.waiting import until


def described(screen: Screen[Any]) -> set[str]:
    """The descriptions of the screen's own bindings (what help must list)."""
    return {b.description for b in type(screen).BINDINGS if isinstance(b, Binding)}


def listed(app: ComfyTuiApp) -> set[str]:
    return {row.description for row in app.help_rows()}


async def never(*_args: object) -> Any:
    raise AssertionError("not called by these tests")


DIALOGS: dict[str, Callable[[ComfyTuiApp], Screen[Any]]] = {
    "error": lambda app: ErrorScreen("Launch failed", "why"),
    "confirm": lambda app: ConfirmScreen("Remove v0.3.77?"),
    "pick": lambda app: PickScreen("Log of which instance?", [("c1", "c1 :8188")]),
    "text input": lambda app: TextInputScreen("Add a node", "Git URL"),
    "notifications": lambda app: NotificationsScreen([]),
    "workflow needs": lambda app: WorkflowNeedsScreen("flux-dev.json", []),
    "review": lambda app: ReviewScreen("Enable a node", ["+ mss 10.0.0"], "Apply?"),
    "trash": lambda app: TrashScreen(app.services.trash),
    "report": lambda app: ReportScreen("Settings", ["base_port = 8188"]),
    "version details": lambda app: VersionDetailsScreen("v0.3.77", [("Release", "v0.3.77")], []),
    "snapshots": lambda app: SnapshotsScreen("v0.3.77", []),
    "import": lambda app: ImportScreen(),
    "add download": lambda app: AddDownloadScreen(never, never),
    "adopt": lambda app: AdoptScreen(adopt=never, nodes=never, share=lambda _a, _b: None),
    "launch": lambda app: LaunchScreen(
        list_records(app.services.paths),
        default=None,
        gpu_count=0,
        listen="127.0.0.1",
        base_port=8188,
    ),
}


@pytest.mark.parametrize("name", DIALOGS)
async def test_help_over_a_dialog_lists_every_key_of_the_dialog(tmp_path: Path, name: str) -> None:
    add_record(tmp_path, "v0.3.77")
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        dialog = DIALOGS[name](app)
        app.push_screen(dialog)
        await until(pilot, lambda: app.screen is dialog, name)
        over_dialog = listed(app)
        assert "Install" not in over_dialog, "a key of the screen under the dialog waits"
        assert {"Help", "Quit?"} <= over_dialog, "the keys that act over every dialog"
        # F1 opens help also from a text field (there `?` is typed)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is dialog, name)
        # a text field takes the letter keys while it has the focus; without it, every key
        # of the dialog is listed (also one that is off until the dialog has something)
        dialog.set_focus(None)
        await pilot.pause()
        missing = described(dialog) - listed(app)
        assert not missing, (name, missing)


async def test_help_lists_every_key_of_every_screen_and_the_global_ones(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    globals_ = {k.description for k in GLOBAL_KEYS}
    async with app.run_test(size=SMALL) as pilot:
        for mode in ("1", "2", "3", "4", "5", "6"):
            await pilot.press(mode)
            await pilot.pause()
            screen = app.screen
            missing = (described(screen) | globals_) - listed(app)
            assert not missing, (type(screen).__name__, missing)
