"""SVG snapshots of the Monitor screen (files under snapshots/ui/test_monitor_snapshots/).

Every box replays recorded or fixed readings through the App's real sampler worker,
tick by tick, so history and header are the same on every run: the real H200 idle and
under load, a box without NVIDIA GPU, two GPUs with one of our instances on GPU 0, and
eight GPUs (the body scrolls at 80x24).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from comfy_tui.services.monitor import Monitor
from tests.fakes import monitor_boxes as boxes
from tests.fakes.monitor_boxes import GatedSleep
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.monitor_helpers import run_ticks

SIZES = {"80x24": SMALL, "120x40": LARGE}

BOXES: dict[str, tuple[Callable[[GatedSleep], Monitor], int]] = {
    "h200-idle": (lambda s: boxes.h200(boxes.IDLE * 40, sleep=s), 40),
    "h200-load": (lambda s: boxes.h200(boxes.LOAD, sleep=s), len(boxes.LOAD)),
    "no-gpu": (lambda s: boxes.no_gpu(sleep=s), 40),
    "two-gpus": (lambda s: boxes.two_gpus(sleep=s), len(boxes.LOAD)),
}
LIVE_TICKS = 3
"""Ticks that go through the App's sampler worker; the ones before are history."""


def _labels() -> dict[str, str]:
    return {boxes.INSTANCE_ID: boxes.INSTANCE_LABEL}


def _snap(snap_compare: Any, box: Callable[[GatedSleep], Monitor], ticks: int, size: Any) -> bool:
    sleep = GatedSleep()
    monitor = box(sleep)
    app = make_test_app(monitor=monitor, instance_labels=_labels)

    async def run_before(pilot: Any) -> None:
        await pilot.press("3")
        await run_ticks(pilot, monitor, sleep, LIVE_TICKS, history=ticks - LIVE_TICKS)

    return bool(snap_compare(app, run_before=run_before, terminal_size=size))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("box", BOXES)
def test_monitor_screen(snap_compare: Any, box: str, size: str) -> None:
    build, ticks = BOXES[box]
    assert _snap(snap_compare, build, ticks, SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_monitor_eight_gpus(snap_compare: Any, size: str) -> None:
    assert _snap(snap_compare, lambda s: boxes.eight_gpus(sleep=s), len(boxes.LOAD), SIZES[size])
