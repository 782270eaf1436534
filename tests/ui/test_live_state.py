"""The TUI sees what another shell did: a CLI subprocess (or another process's write) changes
the shared state while the app runs, and the screen shows it without being left, without a
poll (the poll interval is an hour here). Every wait ends on a condition; the subprocess has
a timeout of its own."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import save_instance
from comfy_tui.ui.screens.instances import InstancesScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.state_feed import STATE_GROUP
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.ui.app_factory import LARGE, make_test_app
from tests.ui.instances_lab import record
from tests.ui.versions_lab import add_record
from tests.waiting import until

HOUR = {"poll_interval": 3600.0}
CLI_TIMEOUT_S = 60.0


async def cli(data_dir: Path, *args: str) -> None:
    """Run `comfy-tui ARGS` as its own process (this checkout's code) and wait for it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()


def status_of(app: Any, tag: str) -> str:
    screen = app.screen
    assert isinstance(screen, VersionsScreen)
    rows = screen.query_one(VersionTable).rows_by_tag
    return rows[tag].status if tag in rows else ""


async def test_a_default_set_in_another_shell_shows_without_leaving_the_screen(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    add_record(data_dir, "v0.3.77", default=True)
    add_record(data_dir, "v0.3.76")
    app = make_test_app(data_dir, settings=HOUR)
    async with app.run_test(size=LARGE) as pilot:
        await until(pilot, lambda: status_of(app, "v0.3.77").startswith("default"), "rows")
        await until(pilot, lambda: app.state.watch.mode != "", "the watch started")
        published = app.state.published
        await cli(data_dir, "default", "v0.3.76")
        await until(pilot, lambda: status_of(app, "v0.3.76").startswith("default"), "the change")
        assert not status_of(app, "v0.3.77").startswith("default")
        assert app.state.published > published  # seen by the watch, not by a screen switch
        assert isinstance(app.screen, VersionsScreen)


async def test_a_version_removed_elsewhere_leaves_the_list(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    add_record(data_dir, "v0.3.77")
    add_record(data_dir, "v0.3.76")
    app = make_test_app(data_dir, settings=HOUR)
    async with app.run_test(size=LARGE) as pilot:
        await until(pilot, lambda: status_of(app, "v0.3.76") != "", "rows")
        await until(pilot, lambda: app.state.watch.mode != "", "the watch started")
        DataPaths(data_dir).version_record("v0.3.76").unlink()
        await until(pilot, lambda: status_of(app, "v0.3.76") == "", "the removal")


def instance_ids(app: Any) -> list[str]:
    screen = app.screen
    if not isinstance(screen, InstancesScreen):
        return []
    table: DataTable[Any] = screen.query_one(DataTable)
    return [str(k.value) for k in table.rows]


async def test_an_instance_recorded_by_another_process_appears(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    paths = DataPaths(data_dir)
    save_instance(paths, record("c1", 8188, state="exited", pid=None, reason="stopped"))
    app = make_test_app(data_dir, settings=HOUR)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: instance_ids(app) == ["c1"], "the first instance")
        await until(pilot, lambda: app.state.watch.mode != "", "the watch started")
        published = app.state.published
        # another process writes a run record (as `comfy-tui launch` does)
        await asyncio.to_thread(
            save_instance, paths, record("c2", 8189, state="exited", pid=None, reason="crashed")
        )
        await until(pilot, lambda: "c2" in instance_ids(app), "the new instance")
        assert app.state.published > published
    # leaving the app closes the watch (no worker, no descriptor left behind)
    assert app.state.watch.descriptor is None
    assert not [w for w in app.workers if w.group == STATE_GROUP and not w.is_finished]
