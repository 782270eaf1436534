"""The notifier looks every `poll_interval` while something is under way (a live instance, a
queued or active download) and every `QUIET_LOOK_S` on an idle box."""

from __future__ import annotations

from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.jobs.service import JobsService
from comfy_tui.services.notify.notifier import QUIET_LOOK_S, Look, Notifier
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import InstanceRecord, save_instance


def record(state: str) -> InstanceRecord:
    return InstanceRecord("c1", "v1", 8188, "127.0.0.1", 0, (), "/", "/l", 0.0, state=state)  # type: ignore[arg-type]


def test_an_idle_box_is_looked_at_every_few_seconds() -> None:
    assert not Look({}, {}, {"v1"}).under_way
    assert not Look({"c1": record("exited")}, {"d": ("done", "a", "")}, set()).under_way
    assert Look({"c1": record("running")}, {}, set()).under_way
    assert Look({}, {"d": ("queued", "a", "")}, set()).under_way
    assert Look({}, {"d": ("active", "a", "")}, set()).under_way


async def test_the_interval_follows_the_last_look(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, poll_interval=1.0)
    paths = DataPaths(tmp_path)
    notifier = Notifier(settings, paths, JobsService())
    try:
        assert notifier.interval() == 1.0  # before the first look
        await notifier.tick()
        assert notifier.interval() == QUIET_LOOK_S
        save_instance(paths, record("running"))
        await notifier.tick()
        assert notifier.interval() == 1.0
    finally:
        await notifier.jobs.close()
