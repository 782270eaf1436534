"""The Instances screen driven by Pilot: a real launch, the log view, stop; plus the dialog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import save_instance
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.screens.instance_log import InstanceLogScreen
from comfy_tui.ui.screens.instances import InstancesScreen
from comfy_tui.ui.widgets.log_pane import LogPane
from tests.fakes.instance_lab import stop_everything
from tests.ui.app_factory import LARGE
from tests.ui.instances_lab import fake_app, real_app, record
from tests.waiting import until


def table_states(app: ComfyTuiApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[4]) for i in range(table.row_count)]


@pytest.fixture
async def data_dir_cleaned(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "data"
    yield root
    await stop_everything(root)


async def test_launch_watch_log_and_stop(data_dir_cleaned: Path) -> None:
    app = real_app(data_dir_cleaned)
    # an instance that ended earlier: the cursor is on it until the launch selects the new one
    save_instance(
        DataPaths(data_dir_cleaned),
        record("c0", 8100, state="exited", pid=None, started_at=1000.0, ended_at=2000.0),
    )
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        assert isinstance(app.screen, InstancesScreen)
        await until(pilot, lambda: table_states(app) == ["exited"])
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        app.screen.query_one("#launch-extra", Input).value = "--lowvram"
        await pilot.click("#launch-go")
        await until(pilot, lambda: isinstance(app.screen, InstancesScreen))
        await until(pilot, lambda: table_states(app) == ["running", "exited"])
        screen = app.screen
        assert isinstance(screen, InstancesScreen)
        selected = screen.selected()
        assert selected is not None and selected.id != "c0", "the launch selects what it started"
        await until(  # the job's last event may land a moment after the table's poll
            pilot,
            lambda: (
                "ready at http://127.0.0.1:"
                in str(app.screen.query_one("#instances-status").render())
            ),
        )
        detail = str(app.screen.query_one("#instances-detail").render())
        assert "ssh -L" in detail and "me@gpubox" in detail

        await pilot.press("o")
        assert isinstance(app.screen, InstanceLogScreen)
        pane = app.screen.query_one(LogPane)
        await until(pilot, lambda: any("To see the GUI" in line for line in pane.lines))
        await pilot.press("escape")
        assert isinstance(app.screen, InstancesScreen)

        first_pid = app.services.instances.last_views[-1].record.pid
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")

        def restarted() -> bool:
            view = app.services.instances.last_views[-1]
            return view.state == "running" and view.record.pid != first_pid

        await until(pilot, restarted)
        assert app.services.instances.last_views[-1].record.restarts == 1

        message = await app.instances_left_message()
        assert message is not None and message.startswith("1 ComfyUI instance keeps running")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: table_states(app) == ["exited", "exited"])
        assert await app.services.instances.running_versions() == {}


async def test_launch_dialog_checks_flags_and_ports(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4", "l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        dialog = app.screen
        dialog.query_one("#launch-extra", Input).value = "--bogus"
        await pilot.pause()
        await pilot.click("#launch-go")
        assert isinstance(app.screen, LaunchScreen)
        assert "has no flag `--bogus`" in str(dialog.query_one("#launch-error").render())
        dialog.query_one("#launch-extra", Input).value = ""
        dialog.query_one("#launch-port", Input).value = "99999"
        dialog.query_one("#launch-port", Input).focus()
        await pilot.press("enter")  # enter in any field launches
        assert "invalid port" in str(dialog.query_one("#launch-error").render())
        dialog.query_one("#launch-listen", Input).value = "0.0.0.0"
        await pilot.pause()
        assert "all interfaces" in str(dialog.query_one("#launch-exposed").render())
        await pilot.press("escape")
        assert isinstance(app.screen, InstancesScreen)


async def test_log_view_search_and_follow(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: len(table_states(app)) == 4)
        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, InstanceLogScreen)
        pane = screen.query_one(LogPane)
        await until(pilot, lambda: pane.line_count == 64)
        await pilot.press("slash", *"node_4", "enter")
        matches = pane.matches()
        assert len(matches) == 11 and not pane.follow
        assert pane.current in matches
        first = matches.index(pane.current) + 1
        assert f"match {first} of 11 for 'node_4'" in screen.status_text
        await pilot.press("n")
        assert f"match {first % 11 + 1} of 11" in screen.status_text
        await pilot.press("N")
        assert f"match {first} of 11" in screen.status_text
        await pilot.press("G")
        assert pane.follow and "following" in screen.status_text
        with Path(screen.record.log_path).open("a") as f:
            f.write("a new line\n")
        await until(pilot, lambda: pane.lines[-1] == "a new line")


async def test_a_log_of_100k_lines_keeps_the_last_10k(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: len(table_states(app)) == 4)
        log = Path(app.services.instances.last_views[0].record.log_path)
        await pilot.press("o")
        pane = app.screen.query_one(LogPane)
        await until(pilot, lambda: pane.line_count == 64)
        with log.open("a") as f:
            f.writelines(f"burst line {i}\n" for i in range(100_000))
        await until(pilot, lambda: pane.lines[-1] == "burst line 99999")
        assert pane.line_count == 10_000 and pane.lines[0] == "burst line 90000"
        await pilot.press("w")  # one row per line: the width follows the widest line
        pane.add_lines(["w" * 300])
        await pilot.pause()
        assert pane.virtual_size.width == 300, "the width follows the widest line"


async def test_log_wraps_long_lines_and_home_end_go_to_top_and_bottom(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: len(table_states(app)) == 4)
        await pilot.press("o")
        screen = app.screen
        assert isinstance(screen, InstanceLogScreen)
        pane = screen.query_one(LogPane)
        await until(pilot, lambda: pane.line_count == 64)
        assert pane.wrap and "following · wrapped" in screen.status_text
        width = pane.scrollable_content_region.width
        traceback_line = "File " + "x" * (3 * width)  # 3 rows and a bit
        pane.add_lines([traceback_line, "last"])
        await pilot.pause()
        assert pane.virtual_size.width == width, "nothing to scroll sideways"
        assert pane.virtual_size.height >= 64 + 4 + 1
        assert pane.is_vertical_scroll_end, "following: the newest row shows"
        shown = [pane.render_line(y).text for y in range(pane.size.height)]
        assert shown[-1].rstrip() == "last"
        assert "".join(row.rstrip() for row in shown[-5:-1]) == traceback_line

        await pilot.press("home")
        assert pane.scroll_y == 0 and not pane.follow
        assert "paused (f follows)" in screen.status_text
        await pilot.press("end")
        await pilot.pause()
        assert pane.follow and pane.is_vertical_scroll_end
        assert "following" in screen.status_text

        await pilot.press("w")
        await pilot.pause()
        assert not pane.wrap and "not wrapped (w wraps)" in screen.status_text
        assert pane.virtual_size.width == len(traceback_line)
        assert pane.virtual_size.height == pane.line_count
        await pilot.press("w")
        await pilot.pause()
        assert pane.wrap and pane.virtual_size.width == width

        await pilot.press("slash", *"File x", "enter")  # a match in the wrapped line shows
        assert pane.current == pane.line_count - 2
        assert pane.scroll_y <= pane.row_of(pane.current) < pane.scroll_y + pane.size.height


async def test_stop_asks_first_and_keep_changes_nothing(tmp_path: Path) -> None:
    app = fake_app(tmp_path / "data")
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: len(table_states(app)) == 4)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, InstancesScreen)
        assert not app.running_jobs()
        await pilot.press("down", "down", "down", "x")  # the crashed one
        await pilot.pause()
        assert isinstance(app.screen, InstancesScreen)
        assert any("not running" in str(n.message) for n in app._notifications)


def test_the_detail_panel_masks_handed_secrets() -> None:
    from comfy_tui.services.instances.views import InstanceView
    from comfy_tui.store.instance_records import InstanceRecord
    from comfy_tui.ui.screens.instances_rows import detail_text

    record = InstanceRecord(
        id="c1",
        version="v1",
        port=8188,
        listen="127.0.0.1",
        gpu=None,
        argv=(),
        cwd="/",
        log_path="/l",
        started_at=0.0,
        user_env={"HF_TOKEN": "hf_secret", "COMFY_LOGLEVEL": "debug"},
    )
    text = detail_text(InstanceView(record, "http://127.0.0.1:8188", "ssh -L ...")).plain
    assert "Env     COMFY_LOGLEVEL=debug HF_TOKEN=***" in text and "hf_secret" not in text
