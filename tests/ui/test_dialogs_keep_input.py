"""Dialogs own the keyboard and keep what was typed (issue 16), at 80x24:

- a focused field takes every printable key, also the letters that are the dialog's or the
  screen's keys (`d`, `x`, `q`, `1`, `?`): typing into an Input must work, and the screen
  behind never acts while a dialog is open;
- launch options are checked when enter is pressed, in the same event (no network, no
  wait): a bad listen address or an unknown flag shows its message, the dialog stays open
  with every field as typed;
- restart keeps its port, and when that port is taken the run record and the status line
  say which port it got instead.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label

from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.screens.instances import InstancesScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.instance_lab import stop_everything
from tests.ui.app_factory import OFFLINE_GITHUB, SMALL
from tests.ui.instances_lab import fake_app, real_app
from tests.ui.versions_lab import add_record, versions_app
from tests.waiting import until


async def test_a_focused_field_takes_every_key_and_the_screen_behind_never_acts(
    tmp_path: Path,
) -> None:
    add_record(tmp_path, "v0.3.77")
    app = versions_app(tmp_path, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "Versions")
        table = app.screen.query_one(VersionTable)
        await until(pilot, lambda: "v0.3.77" in table.rows_by_tag, "the version")
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await pilot.pause()
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, TextInputScreen), "the ref dialog")
        dialog = app.screen
        # Versions' d (remove), s (default), i, r; the global 1-6, q, N, ?: all typed
        typed = "dsir2q6N?x"
        await pilot.press(*typed)
        await pilot.pause()
        assert app.screen is dialog, "no key reached the screen behind or the App"
        assert dialog.query_one(Input).value == typed
        assert app.current_mode == "versions"
        row = table.rows_by_tag["v0.3.77"]
        assert row.installed and not row.default, "neither removed (d) nor made default (s)"
        await pilot.press("escape")  # the dialog's own key still closes it
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "closed")
    assert app.return_code is None or app.return_code == 0


async def open_launch(pilot: object, app: object) -> LaunchScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("4")
    await until(pilot, lambda: isinstance(pilot.app.screen, InstancesScreen), "Instances")
    await pilot.press("l")
    await until(pilot, lambda: isinstance(pilot.app.screen, LaunchScreen), "the dialog")
    screen = pilot.app.screen
    assert isinstance(screen, LaunchScreen)
    return screen


def error_text(dialog: LaunchScreen) -> str:
    label = dialog.query_one("#launch-error", Label)
    return str(label.render()) if label.display else ""


async def test_bad_listen_address_and_unknown_flag_are_said_at_once(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_launch(pilot, app)
        listen = dialog.query_one("#launch-listen", Input)
        listen.value = "10.0.0.300"
        listen.focus()
        await pilot.press("enter")  # handled in this key's event: no wait, no job
        assert app.screen is dialog
        assert "invalid listen address '10.0.0.300'" in error_text(dialog)
        await pilot.pause()  # laid out: the message is under the field, before the next one
        error = dialog.query_one("#launch-error", Label)
        extra = dialog.query_one("#launch-extra", Input)
        assert listen.region.bottom <= error.region.y < extra.region.y, error.region
        assert not app.running_jobs()
        assert listen.value == "10.0.0.300", "nothing typed is lost"

        listen.value = "127.0.0.1"
        extra.focus()
        await pilot.press(*"lowvram", "enter")
        assert app.screen is dialog
        assert error_text(dialog) == "v0.3.77 has no flag `lowvram`; did you mean `--lowvram`?"
        await pilot.pause()
        env = dialog.query_one("#launch-env", Input)
        assert extra.region.bottom <= error.region.y < env.region.y, "now under the flags"
        assert extra.value == "lowvram"


@pytest.fixture
async def data_dir_cleaned(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "data"
    yield root
    await stop_everything(root)


def status(app: object) -> str:
    from comfy_tui.ui.app import ComfyTuiApp

    assert isinstance(app, ComfyTuiApp)
    return str(app.screen.query_one("#instances-status").render())


async def test_restart_keeps_its_port_and_says_which_when_it_is_taken(
    data_dir_cleaned: Path,
) -> None:
    app = real_app(data_dir_cleaned)
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_launch(pilot, app)
        dialog.query_one("#launch-port", Input).focus()
        await pilot.press("enter")
        screen = app.screen
        await until(pilot, lambda: isinstance(app.screen, InstancesScreen), "back")
        assert isinstance(screen, InstancesScreen)
        await until(pilot, lambda: any(v.state == "running" for v in screen.views), "running")
        first = screen.views[0].record

        await pilot.press("R", "y")  # live: asked first
        await until(
            pilot,
            lambda: (
                screen.views[0].record.pid not in (None, first.pid)
                and screen.views[0].state == "running"
            ),
            "restarted",
        )
        assert screen.views[0].record.port == first.port, "restart keeps its port"

        # stopped, and another program takes its port: restart runs it elsewhere and says so
        await app.services.instances.stop(first.id)
        await until(pilot, lambda: screen.views[0].state == "exited", "stopped")
        with socket.socket() as taker:
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
            taker.bind(("127.0.0.1", first.port))
            taker.listen()
            await pilot.press("R")  # exited: nothing to lose, no question
            await until(pilot, lambda: screen.views[0].state == "running", "running again")
            moved = screen.views[0].record
            assert moved.port != first.port and moved.id == first.id
            said = f"port {first.port} is taken now: {first.id} runs on port {moved.port}"
            assert any(said == str(n.message) for n in app._notifications)
            table = app.screen.query_one(DataTable)
            assert str(table.get_row_at(0)[2]).endswith(str(moved.port)), table.get_row_at(0)


async def test_under_a_dialog_the_footer_lists_the_dialogs_keys(tmp_path: Path) -> None:
    from textual.widgets._footer import FooterKey

    from comfy_tui.ui.dialogs.error import ErrorScreen
    from comfy_tui.ui.widgets.footer import ComfyFooter, PinnedKeys
    from tests.ui.app_factory import make_test_app

    app = make_test_app(tmp_path / "data")

    def footer_keys() -> set[str]:
        footer = app.screen_stack[0].query_one(ComfyFooter)
        return {k.key for k in footer.query(FooterKey) if k.parent is footer}

    def pinned() -> set[str]:
        return {k.key for k in app.screen_stack[0].query_one(PinnedKeys).query(FooterKey)}

    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: "i" in footer_keys(), "the Versions keys")
        app.push_screen(ErrorScreen("Launch failed", "why"))
        await until(pilot, lambda: footer_keys() == {"escape", "c"}, "the dialog's keys")
        assert "question_mark" in pinned(), "? acts over a dialog and stays pinned"
        await pilot.press("escape")
        await until(pilot, lambda: "i" in footer_keys(), "the screen's keys again")
        assert {"q", "question_mark"} <= pinned()
