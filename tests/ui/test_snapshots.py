"""SVG snapshots of every screen at 80x24 and 120x40 (files under snapshots/ui/test_snapshots/)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.app_factory import LARGE, SMALL, make_test_app

SIZES = {"80x24": SMALL, "120x40": LARGE}
LOADS = frozenset({"versions:local", "models:load", "nodes:load", "instances:refresh"})
"""The worker groups that fill a screen from disk when it is first shown."""


async def until_loaded(pilot: Any) -> None:
    """Wait (on Textual's own queue draining, not the clock) until no screen is still loading."""
    from textual.worker import WorkerState

    def loading() -> bool:
        busy = (WorkerState.PENDING, WorkerState.RUNNING)
        return any(w.group in LOADS and w.state in busy for w in pilot.app.workers)

    for _ in range(2000):  # a last resort only: each round waits for the queue to drain
        await pilot.pause()
        if not loading():
            await pilot.pause()
            return
    raise AssertionError("the screen kept loading")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "key", ["1", "2", "3", "4", "5"], ids=["versions", "models", "monitor", "instances", "nodes"]
)
def test_mode_screens(snap_compare: Any, key: str, size: str) -> None:
    async def settled(pilot: Any) -> None:
        await pilot.press(key)
        await until_loaded(pilot)

    assert snap_compare(make_test_app(), run_before=settled, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Any, size: str) -> None:
    assert snap_compare(make_test_app(), press=["question_mark"], terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_quit_confirmation(snap_compare: Any, size: str) -> None:
    import asyncio

    async def start_job(pilot: Any) -> None:
        pilot.app.run_worker(asyncio.Event().wait(), group="job:x", description="install v0.3.77")
        await pilot.pause()

    assert snap_compare(
        make_test_app(), press=["q"], run_before=start_job, terminal_size=SIZES[size]
    )
