"""Waiting in tests on a condition, never on the clock: the one helper for Pilot-driven UI
tests, async service tests and threads/processes.

Each wait polls its condition and ends as soon as it holds. The deadline is a last resort that
only a hung test meets (a loaded machine is slow, not wrong), so callers do not pick short ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

LAST_RESORT_S = 120.0
"""Only a hung test ever meets this."""

STEP_S = 0.02
"""How long one poll sleeps (the App first handles the messages it has queued)."""

_BUSY = (WorkerState.PENDING, WorkerState.RUNNING)


async def until(
    pilot: Any,
    check: Callable[[], object],
    what: str = "the condition",
    *,
    timeout: float = LAST_RESORT_S,
) -> None:
    """Until ``check()`` holds. With a Textual ``pilot`` (``None`` outside the UI) the App
    handles its queued messages between polls and once more at the end."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        if pilot is None:
            await asyncio.sleep(STEP_S)
        else:
            await pilot.pause(STEP_S)
    if pilot is not None:
        await pilot.pause()


def wait_until(
    check: Callable[[], object], what: str = "the condition", *, timeout: float = LAST_RESORT_S
) -> None:
    """`until` for threads and plain (non-async) tests."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(STEP_S)


async def settle(pilot: Any, waits_for: Callable[[Worker[Any]], bool], rounds: int = 3) -> None:
    """Wait for the App's busy workers that ``waits_for`` picks (a screen's loaders), then let
    the screens render; ``rounds`` times, for the work that finishing work starts."""
    for _ in range(rounds):
        for worker in [w for w in pilot.app.workers if w.state in _BUSY and waits_for(w)]:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()
