"""Pilot tests of the daily-use basics: quit always visible at 80x24, ctrl+c asks, dialogs own
the keys while open, input survives a bad value, errors are shown in full and can be saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label, Static
from textual.widgets._footer import FooterKey

from comfy_tui.errors import NetworkError, SettingsError
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.screens.nodes import NodesScreen
from comfy_tui.ui.widgets.footer import PinnedKeys
from tests.ui.app_factory import SMALL, make_test_app


@pytest.mark.parametrize("mode", ["1", "2", "3", "4", "5"])
async def test_quit_and_help_are_visible_at_80x24_on_every_screen(mode: str) -> None:
    app = make_test_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press(mode)
        await pilot.pause()
        pinned = app.screen.query_one(PinnedKeys)
        keys = {k.key: k for k in pinned.query(FooterKey)}
        assert {"q", "question_mark"} <= set(keys)
        for key in keys.values():
            assert key.region.right <= SMALL[0] and key.region.width > 0


async def test_ctrl_c_asks_and_a_second_ctrl_c_quits() -> None:
    app = make_test_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Label).render())
        assert "Instances keep running" in question and "ctrl+c again quits" in question
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+c")
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_while_a_dialog_is_open_the_global_keys_wait() -> None:
    app = make_test_app()
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(ErrorScreen("Something failed", "why"))
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen) and app.current_mode == "versions"
        await pilot.press("question_mark")  # `?` lists the dialog's own keys
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert str(app.screen.query_one("#help-title").render()) == "Keys — Error dialog"
        table = app.screen.query_one(DataTable)
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert keys[:4] == ["esc", "⏎", "q", "c"], "the dialog's own keys first"
        assert not {"1", "2"} & set(keys), "keys that wait under a dialog are not listed"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        assert app.current_mode == "models"


async def test_add_node_keeps_a_bad_url_and_says_why_under_the_field() -> None:
    app = make_test_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, NodesScreen)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TextInputScreen)
        await pilot.press(*"ftp:/x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextInputScreen)  # still open
        assert app.screen.query_one(Input).value == "ftp:/x"  # nothing lost
        error = app.screen.query_one("#input-error", Label)
        assert error.display and str(error.render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, NodesScreen)


async def test_an_error_shows_its_cause_and_fix_and_c_saves_it(tmp_path: Path) -> None:
    app = make_test_app(tmp_path / "data")
    try:
        try:
            raise ConnectionRefusedError("connect to 127.0.0.1:9 refused")
        except ConnectionRefusedError as inner:
            raise NetworkError("GitHub could not be reached") from inner
    except NetworkError as exc:
        error = exc
    async with app.run_test(size=SMALL) as pilot:
        app.push_screen(app.error_screen("Refreshing releases failed", error))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ErrorScreen)
        texts = [str(s.render()) for s in screen.query(Static)]
        assert any("GitHub could not be reached" in t for t in texts)
        assert any("caused by: ConnectionRefusedError: connect to 127.0.0.1:9" in t for t in texts)
        assert any(t.startswith("fix: ") and "proxy" in t for t in texts)
        await pilot.press("c")
        await pilot.pause()
        assert (
            screen.saved_to is not None and screen.saved_to.parent == app.services.paths.logs_dir()
        )
        saved = screen.saved_to.read_text()
        assert "caused by: ConnectionRefusedError" in saved and "fix: " in saved
        assert f"cat {screen.saved_to}" in str(screen.query_one("#error-hint", Label).render())


def test_settings_errors_point_at_the_settings_file() -> None:
    from comfy_tui.core.error_report import ErrorReport

    report = ErrorReport.from_exception("Start", SettingsError("bad port 70000"))
    assert "settings.toml" in report.hint and report.causes == ()
    assert "bad port 70000" in report.text()
