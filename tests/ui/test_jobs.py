"""App-owned jobs: events reach subscribers, failures open one error dialog, cancel is clean."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from comfy_tui.errors import InstallError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.ui.dialogs.error import ErrorScreen
from tests.ui.app_factory import SMALL, make_test_app


async def test_job_events_reach_subscribers_and_survive_mode_switches(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    seen: list[JobUpdate] = []
    gate = asyncio.Event()

    async def events() -> AsyncIterator[Event]:
        yield LogLine("cloning", source="git")
        await gate.wait()
        yield Progress("clone", 0.5)
        yield Finished("v1")

    async with app.run_test(size=SMALL) as pilot:
        app.job_updates.subscribe(app.screen, seen.append)
        worker = app.start_job(JobKey(JobKind.INSTALL, "v1"), "install v1", events)
        await pilot.pause()
        await pilot.press("2", "3")  # the job belongs to the App, not to a screen
        gate.set()
        await worker.wait()
        await pilot.pause()
    assert [u.state for u in seen] == ["running", "running", "finished"]
    assert isinstance(seen[0].event, LogLine)
    assert seen[-1].event == Finished("v1")


async def test_a_failing_job_opens_one_error_dialog(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)

    async def events() -> AsyncIterator[Event]:
        yield Progress("clone", 0.1)
        raise InstallError("git clone failed: repository not found")

    seen: list[JobUpdate] = []
    async with app.run_test(size=SMALL) as pilot:
        app.job_updates.subscribe(app.screen, seen.append)
        app.start_job(JobKey(JobKind.INSTALL, "v2"), "install v2", events)
        await pilot.pause()
        await pilot.pause()
        assert [u.state for u in seen] == ["running", "failed"]
        assert isinstance(seen[-1].error, InstallError)
        assert isinstance(app.screen, ErrorScreen)
        assert "repository not found" in str(app.screen.query_one("#error-message").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorScreen)


async def test_cancel_reaches_the_service_finally(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    cleaned = asyncio.Event()
    started = asyncio.Event()

    async def events() -> AsyncIterator[Event]:
        try:
            started.set()
            await asyncio.Event().wait()
            yield Finished()
        finally:
            cleaned.set()

    seen: list[JobUpdate] = []
    key = JobKey(JobKind.LIBRARY_SCAN)
    async with app.run_test(size=SMALL) as pilot:
        app.job_updates.subscribe(app.screen, seen.append)
        app.start_job(key, "scan", events)
        await started.wait()
        assert app.running_jobs() and app.job_running(key)
        app.cancel_job(key)
        await asyncio.wait_for(cleaned.wait(), 5)
        await pilot.pause()
        assert not app.running_jobs() and not app.job_running(key)
        assert [(u.key, u.state) for u in seen] == [(key, "cancelled")]
