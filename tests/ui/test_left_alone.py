"""A terminal left alone is drawn less often: samples are still taken and kept, but handed to
the screens every `UNTOUCHED_DRAW_S` only, the Monitor says so, and a key draws at once
(counted on a fake clock, never timed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comfy_tui.services.monitor.history import CPU_PERCENT
from comfy_tui.ui.stats_feed import UNTOUCHED_AFTER_S, UNTOUCHED_DRAW_S
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.status_strip import StatusStrip
from tests.fakes import monitor_boxes as boxes
from tests.ui.app_factory import SMALL, make_test_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def tick(pilot: Any, clock: Clock, seconds: float = 1.0) -> None:
    """One sample, ``seconds`` after the last, handled by the App and the screens."""
    clock.now += seconds
    await pilot.app.stats.sample_now()
    await pilot.pause()
    await pilot.pause()


def status(app: Any) -> str:
    return str(app.screen.query_one("#monitor-status", Line).text)


async def test_left_alone_the_app_draws_every_few_seconds_and_a_key_draws_at_once(
    tmp_path: Path,
) -> None:
    labels = ("idle", "load_1") * 40
    app = make_test_app(tmp_path, monitor=boxes.h200(labels))
    clock = Clock()
    async with app.run_test(size=SMALL) as pilot:
        feed = app.stats
        feed.clock = clock
        feed.untouched_after = UNTOUCHED_AFTER_S
        await pilot.press("3")  # touched now (on the fake clock)
        await tick(pilot, clock)
        assert feed.published == feed.received and not feed.pacing
        assert "left alone" not in status(app)

        while clock.now < 1000.0 + UNTOUCHED_AFTER_S - 1:  # watched: every tick is drawn
            await tick(pilot, clock)
        assert feed.published == feed.received and not feed.pacing

        await tick(pilot, clock)  # left alone: this tick is drawn, and says so
        assert feed.pacing and feed.published == feed.received
        assert f"left alone: drawn every {UNTOUCHED_DRAW_S:g} s" in status(app)
        drawn, shown = feed.published, app.screen.query_one(StatusStrip).summary

        for _ in range(int(UNTOUCHED_DRAW_S) - 1):  # kept, not drawn
            await tick(pilot, clock)
        assert feed.published == drawn and feed.latest is not None
        assert feed.received == drawn + int(UNTOUCHED_DRAW_S) - 1
        assert app.screen.query_one(StatusStrip).summary == shown, "the header waits too"
        assert app.stats.monitor.history.pushed(CPU_PERCENT) == feed.received, "all kept"

        await tick(pilot, clock)  # UNTOUCHED_DRAW_S after the last draw
        assert feed.published == drawn + 1

        await tick(pilot, clock)  # held again ...
        assert feed.published == drawn + 1
        await pilot.press("minus")  # ... until a key: the newest sample is drawn at once
        await pilot.pause()
        assert feed.published == drawn + 2 and not feed.pacing
        assert "left alone" not in status(app)
        assert app.screen.query_one(StatusStrip).summary == feed.summary
        await tick(pilot, clock)
        assert feed.published == drawn + 3


async def test_headless_apps_draw_every_tick(tmp_path: Path) -> None:
    app = make_test_app(tmp_path, monitor=boxes.h200(("idle",)))
    async with app.run_test(size=SMALL):
        assert app.stats.untouched_after is None
        assert not app.stats.untouched
