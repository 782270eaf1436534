"""Driving the App's real sampler worker tick by tick (a `GatedSleep` holds each next tick)."""

from __future__ import annotations

import asyncio
from typing import Any

from comfy_tui.services.monitor import Monitor
from comfy_tui.services.monitor.history import CPU_PERCENT
from tests.fakes.monitor_boxes import GatedSleep
from tests.waiting import LAST_RESORT_S, until


def ticks_taken(monitor: Monitor) -> int:
    """How many ticks the monitor has recorded (every replayed tick has a CPU reading)."""
    return len(monitor.history.series(CPU_PERCENT))


async def settle(pilot: Any, monitor: Monitor, sleep: GatedSleep, ticks: int) -> None:
    """Wait until ``ticks`` ticks were taken, the sampler waits for the next one, and the
    App has handled the newest sample (screens included)."""
    app = pilot.app
    await asyncio.wait_for(
        sleep.until(lambda: ticks_taken(monitor) == ticks and sleep.waiting == 1),
        LAST_RESORT_S,
    )
    # The tick's message is posted before the sampler sleeps: now the App handles it.
    await until(pilot, lambda: app.stats.latest is monitor.latest, "the App to take the sample")
    await pilot.pause()
    await pilot.pause()


async def run_ticks(
    pilot: Any, monitor: Monitor, sleep: GatedSleep, ticks: int, *, history: int = 0
) -> None:
    """Take ``history`` samples straight from the monitor (the past, for the graphs), then
    start the App's sampler and let it take ``ticks`` more through the real worker."""
    for _ in range(history):
        await monitor.sample_once()
    pilot.app.stats.start()
    await settle(pilot, monitor, sleep, history + 1)
    for taken in range(history + 2, history + ticks + 1):
        sleep.release()
        await settle(pilot, monitor, sleep, taken)
