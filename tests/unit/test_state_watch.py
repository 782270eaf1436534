"""`StateWatch` wakes on the shared state's changes (inotify, or stat polling) and on nothing
else: a reader of the model index, a lock file or an atomic write's temp file never count."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import build_services
from comfy_tui.services.state_stamps import changed_areas, spots, stamps
from comfy_tui.services.state_watch import StateWatch
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import set_default
from tests.waiting import until

WAIT_S = 60.0  # only a hung test meets this


def test_stamps_change_only_where_the_state_changed(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    watch = spots(paths)
    before = stamps(watch)
    assert changed_areas(before, stamps(watch)) == frozenset()
    set_default(paths, "v1")
    assert changed_areas(before, stamps(watch)) == {"versions"}
    mid = stamps(watch)
    (paths.instances_dir() / "c1.json").write_text("{}")
    (paths.node_records_dir() / ".x.json.0123.tmp").write_text("{}")
    (paths.metadata_dir() / "github_cache.json").write_text("{}")
    assert changed_areas(mid, stamps(watch)) == {"instances"}


async def watching(watch: StateWatch) -> None:
    """Until the watch is set up (a change after this is seen)."""
    await until(None, lambda: watch.mode != "", "the watch")


async def next_change(changes: AsyncIterator[frozenset[str]]) -> frozenset[str]:
    return await asyncio.wait_for(anext(changes), WAIT_S)


@pytest.mark.parametrize("mode", ["inotify", "poll"])
async def test_changes_are_reported_by_area(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = DataPaths(tmp_path)
    if mode == "poll":
        from comfy_tui.services import state_watch

        def no_inotify(*args: object) -> None:
            raise OSError("no inotify in this test")

        monkeypatch.setattr(state_watch._Inotify, "__init__", no_inotify)
    db = paths.library_db()
    with sqlite3.connect(db) as con:
        con.execute("create table t (x)")
    con.close()
    watch = StateWatch(paths, poll=0.01)
    changes = watch.changes()
    first = asyncio.ensure_future(next_change(changes))
    await watching(watch)
    assert watch.mode == mode
    # a reader of the index, a lock file and a temp file change nothing
    reader = sqlite3.connect(db)
    assert reader.execute("select count(*) from t").fetchone() == (0,)
    reader.close()
    (paths.metadata_dir() / "locks").mkdir(exist_ok=True)
    (paths.instances_dir() / "c1.lock").write_text("")
    set_default(paths, "v1")
    assert await first == {"versions"}
    with sqlite3.connect(db) as con:
        con.execute("insert into t values (1)")
    con.close()
    assert "library" in await next_change(changes)
    (paths.node_records_dir() / "n.json").write_text("{}")
    assert await next_change(changes) == {"nodes"}
    await changes.aclose()
    assert watch.descriptor is None


def is_inotify(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify"
    except OSError:
        return False


async def test_cancelling_the_watcher_closes_its_descriptor(tmp_path: Path) -> None:
    """The App cancels the watch task on exit: the reader and the descriptor go with it."""
    watch = StateWatch(DataPaths(tmp_path), poll=3600)
    task = asyncio.ensure_future(next_change(watch.changes()))
    await watching(watch)
    fd = watch.descriptor
    assert fd is not None and is_inotify(fd)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watch.descriptor is None
    assert not is_inotify(fd)


async def test_the_library_service_reading_the_index_is_no_change(tmp_path: Path) -> None:
    """The Models screen re-reads the index on a "library" change: its own reads must not be
    one (or it would read forever). A node record written after the reads is the marker:
    inotify reports in order, so everything the reads caused came before it."""
    settings = Settings(data_dir=tmp_path)
    services = build_services(settings)
    paths = services.paths
    await services.library.folders()  # the index exists (created, migrated) before watching
    watch = StateWatch(paths, poll=0.01)
    changes = watch.changes()
    first = asyncio.ensure_future(next_change(changes))
    await watching(watch)
    for _ in range(3):
        await services.library.folders()
        await services.library.list_models()
    (paths.node_records_dir() / "marker.json").write_text("{}")
    seen = [await first]
    while "nodes" not in seen[-1]:
        seen.append(await next_change(changes))
    assert all("library" not in areas for areas in seen), seen
    await changes.aclose()
