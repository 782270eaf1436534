"""Pilot tests of the app shell: modes, help, palette, keymap and quitting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable

from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.keys import GLOBAL_KEYS
from comfy_tui.ui.screens.models import ModelsScreen
from comfy_tui.ui.screens.monitor import MonitorScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.status_strip import StatusStrip
from tests.ui.app_factory import SMALL, make_test_app
from tests.ui.monitor_helpers import until
from tests.ui.palette import choose


async def test_number_keys_switch_modes(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        assert isinstance(app.screen, VersionsScreen)
        await pilot.press("2")
        assert isinstance(app.screen, ModelsScreen)
        await pilot.press("3")
        assert isinstance(app.screen, MonitorScreen)
        assert app.screen.query_one(StatusStrip).title == "Monitor"
        await pilot.press("1")
        assert isinstance(app.screen, VersionsScreen)


async def test_each_screen_shows_an_honest_empty_state(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        texts = []
        for key in ("1", "2", "3"):
            await pilot.press(key)
            texts.append(str(app.screen.query_one(EmptyState).render()))
        assert "Fetching the list of ComfyUI releases" in texts[0]  # GitHub is asked at start
        assert "press s to scan" in texts[1]
        assert "No readings yet" in texts[2] and "press p" in texts[2]


async def test_help_lists_every_key_with_a_help_line(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        keys = {row[0] for row in rows}
        assert {"1", "2", "3", "?", "q", "i"} <= keys
        assert all(row[1] and row[2] for row in rows), rows
        await pilot.press("escape")
        assert isinstance(app.screen, VersionsScreen)


async def test_help_follows_the_screen(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2", "question_mark")
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows[0][0] == "s", "the screen's own keys come first"
        assert "Install" not in [row[1] for row in rows], "no key of the Versions screen"


async def test_palette_offers_every_global_action(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await choose(pilot, "monitor", "Monitor")
        await pilot.pause()
        assert isinstance(app.screen, MonitorScreen)


async def test_palette_offers_every_screens_commands_and_goes_there(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await choose(pilot, "Instances: Launch", "Instances: Launch")
        # no version installed: the Instances screen's own answer to `l`
        await until(pilot, lambda: any("No version is installed" in str(n.message)
                                       for n in app._notifications), "the notice")  # fmt: skip
        assert app.current_mode == "instances"


async def test_palette_commands_for_installed_versions_and_live_instances(
    tmp_path: Path,
) -> None:
    from textual.command import DiscoveryHit

    from comfy_tui.ui.commands import ComfyCommands
    from comfy_tui.ui.dialogs.launch import LaunchScreen
    from tests.ui.instances_lab import fake_app

    app = fake_app(tmp_path)  # v0.3.77 installed; c4a1f0 :8188 and c7b2e9 :8189 run
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: bool(app.services.instances.last_views), "reattach")
        provider = ComfyCommands(app.screen)
        await provider.startup()
        hits = [hit async for hit in provider.discover()]
        titles = [str(h.text) for h in hits if isinstance(h, DiscoveryHit)]
        assert {"Launch v0.3.77", "Stop c7b2e9 :8189", "Log of c4a1f0 :8188"} <= set(titles)
        assert not [t for t in titles if "c2e4b7" in t], "nothing to stop on a crashed one"
        for mode in ("Versions", "Models", "Monitor", "Instances", "Nodes"):
            assert any(t.startswith(f"{mode}: ") for t in titles), mode

        stop = next(c for c in provider.commands if c.title == "Stop c7b2e9 :8189")
        await stop.run()
        await until(pilot, lambda: bool(app.screen.query("#confirm-question")), "the question")
        assert app.current_mode == "instances"
        assert "Stop c7b2e9" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the answer")

        launch = next(c for c in provider.commands if c.title == "Launch v0.3.77")
        await launch.run()
        await until(pilot, lambda: bool(app.screen.query("#launch-version")), "the dialog")
        assert isinstance(app.screen, LaunchScreen) and app.screen.default == "v0.3.77"


async def test_keymap_setting_rebinds_by_id(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, keymap={"mode-models": "f2"})
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, VersionsScreen), "the old key no longer switches"
        await pilot.press("f2")
        assert isinstance(app.screen, ModelsScreen)


async def test_quit_without_jobs_exits_at_once(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_quit_while_a_job_runs_asks_first(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    release = asyncio.Event()

    async def job() -> None:
        await release.wait()

    async with app.run_test(size=SMALL) as pilot:
        app.run_worker(job(), group="job:install:v1", description="install v1")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, VersionsScreen)
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0
    release.set()


def test_every_global_key_has_an_id_and_help() -> None:
    ids = [k.id for k in GLOBAL_KEYS]
    assert len(ids) == len(set(ids))
    assert all(k.help and k.description for k in GLOBAL_KEYS)


async def test_every_screen_gives_every_key_a_help_line(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        for mode in ("1", "2", "3", "4", "5"):
            await pilot.press(mode)
            await pilot.pause()
            rows = app.help_rows()
            assert rows, mode
            assert all(row.key and row.description and row.help for row in rows), (mode, rows)
