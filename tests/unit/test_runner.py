"""The one job runner: typed keys, the updates every job publishes, closing, failure, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

import pytest

from comfy_tui.errors import InstallError
from comfy_tui.events import Event, Finished, LogLine, Progress, Step, each, forwards
from comfy_tui.runner import NODE_JOBS, JobKey, JobKind, JobUpdate, run_job

KEY = JobKey(JobKind.INSTALL, "v1")


def test_keys_are_typed_values() -> None:
    assert JobKey(JobKind.INSTALL, "v1") == KEY and hash(JobKey(JobKind.INSTALL, "v1")) == hash(KEY)
    assert JobKey(JobKind.INSTALL, "v1") != JobKey(JobKind.DOWNLOAD, "v1")
    assert str(JobKey(JobKind.NODE_ENABLE, "X", version="v1")) == "node-enable:X@v1"
    assert str(JobKey(JobKind.LIBRARY_SCAN)) == "library-scan"
    assert JobKind.ENV_RESTORE in NODE_JOBS and JobKind.INSTALL not in NODE_JOBS


async def test_every_event_is_published_then_the_end() -> None:
    async def events() -> AsyncIterator[Event]:
        yield LogLine("cloning", "git")
        yield Progress("clone", 0.5)
        yield Finished("v1")

    seen: list[JobUpdate] = []
    await run_job(KEY, "install v1", events(), seen.append)
    assert [(u.state, u.event) for u in seen] == [
        ("running", LogLine("cloning", "git")),
        ("running", Progress("clone", 0.5)),
        ("finished", Finished("v1")),
    ]
    assert all(u.key == KEY and u.description == "install v1" for u in seen)


async def test_a_stream_without_finished_still_ends_finished() -> None:
    async def events() -> AsyncIterator[Event]:
        yield Progress("scan", 1.0)

    seen: list[JobUpdate] = []
    await run_job(KEY, "scan", events(), seen.append)
    assert [u.state for u in seen] == ["running", "finished"] and seen[-1].event is None
    assert seen[-1].ended and not seen[0].ended


async def test_a_failure_is_published_with_its_error_and_raised() -> None:
    closed = []

    async def events() -> AsyncIterator[Event]:
        try:
            yield Progress("clone", 0.1)
            raise InstallError("no space")
        finally:
            closed.append(True)

    seen: list[JobUpdate] = []
    with pytest.raises(InstallError, match="no space"):
        await run_job(KEY, "install v1", events(), seen.append)
    assert [u.state for u in seen] == ["running", "failed"]
    assert isinstance(seen[-1].error, InstallError) and closed == [True]


async def test_cancel_publishes_cancelled_and_closes_the_stream_at_once() -> None:
    started, closed = asyncio.Event(), []

    async def events() -> AsyncIterator[Event]:
        try:
            yield Progress("download", 0.1)
            started.set()
            await asyncio.Event().wait()
            yield Finished()
        finally:
            closed.append(True)

    seen: list[JobUpdate] = []
    task = asyncio.create_task(run_job(KEY, "download", events(), seen.append))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [u.state for u in seen] == ["running", "cancelled"] and closed == [True]


async def test_each_closes_the_stream_when_the_handler_fails() -> None:
    closed = []

    async def numbers() -> AsyncIterator[int]:
        try:
            for n in range(10):
                yield n
        finally:
            closed.append(True)

    got: list[int] = []

    def handle(n: int) -> None:
        got.append(n)
        if n == 2:
            raise ValueError("stop")

    with pytest.raises(ValueError):
        await each(numbers(), handle)
    assert got == [0, 1, 2] and closed == [True]


async def _sub(name: str, closed: list[str], fail: bool = False) -> AsyncIterator[Event]:
    try:
        yield LogLine(f"{name} 1")
        if fail:
            raise InstallError(f"{name} failed")
        yield LogLine(f"{name} 2")
    finally:
        closed.append(name)


async def test_forwards_passes_sub_streams_and_events_on_in_order() -> None:
    closed: list[str] = []

    @forwards
    async def job() -> AsyncGenerator[Step, None]:
        yield Progress("a", 0.1)
        yield _sub("a", closed)
        yield _sub("b", closed)
        yield Finished("done")

    seen = [e async for e in job()]
    assert seen == [
        Progress("a", 0.1),
        LogLine("a 1"),
        LogLine("a 2"),
        LogLine("b 1"),
        LogLine("b 2"),
        Finished("done"),
    ]
    assert closed == ["a", "b"]


async def test_forwards_raises_a_sub_failure_at_its_yield_after_closing_it() -> None:
    closed: list[str] = []
    handled: list[str] = []

    @forwards
    async def job() -> AsyncGenerator[Step, None]:
        try:
            yield _sub("a", closed, fail=True)
        except InstallError as exc:
            handled.append(f"{exc} (a closed: {closed == ['a']})")
        yield _sub("b", closed, fail=True)  # not handled: the caller gets it

    seen: list[Event] = []
    with pytest.raises(InstallError, match="b failed"):
        async for event in job():
            seen.append(event)
    assert handled == ["a failed (a closed: True)"]
    assert seen == [LogLine("a 1"), LogLine("b 1")] and closed == ["a", "b"]


async def test_closing_a_forwarding_stream_closes_the_sub_and_the_job_at_once() -> None:
    closed: list[str] = []

    @forwards
    async def job() -> AsyncGenerator[Step, None]:
        try:
            yield _sub("a", closed)
        finally:
            closed.append("job")

    stream = job()
    assert await anext(stream) == LogLine("a 1")
    await stream.aclose()
    assert closed == ["a", "job"]


async def test_cancelling_inside_a_sub_stream_reaches_the_job() -> None:
    closed: list[str] = []
    started = asyncio.Event()

    async def waits() -> AsyncIterator[Event]:
        try:
            started.set()
            await asyncio.Event().wait()
            yield Finished()
        finally:
            closed.append("sub")

    @forwards
    async def job() -> AsyncGenerator[Step, None]:
        try:
            yield waits()
        except asyncio.CancelledError:
            closed.append("job saw the cancel")
            raise

    task = asyncio.create_task(each(job(), lambda _e: None))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == ["sub", "job saw the cancel"]
