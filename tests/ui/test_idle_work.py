"""What an idle app does: hidden screens keep no timers, and a sample that changes nothing
visible repaints nothing (counted, never timed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widget import Widget

from comfy_tui.ui.stats_feed import StatsSampled
from tests.fakes import monitor_boxes as boxes
from tests.ui.app_factory import LARGE, SMALL, make_test_app

MODES = {"1": "versions", "2": "models", "3": "monitor", "4": "instances", "5": "nodes"}


def running_timers(screen: Screen[Any]) -> list[str]:
    """Timers of the screen and its widgets that still tick: not stopped (no task) and not
    paused (Textual keeps a paused update timer on every screen)."""
    names = []
    for node in [screen, *screen.walk_children(with_self=False)]:
        names += [
            f"{node!r}: {t.name}"
            for t in node._timers
            if t._task is not None and t._active.is_set()
        ]
    return names


@contextmanager
def counting_refreshes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count `Widget.refresh` calls per widget while the block runs."""
    counts: Counter[str] = Counter()
    real = Widget.refresh

    def counted(self: Widget, *args: Any, **kwargs: Any) -> Widget:
        counts[repr(self)] += 1
        return real(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Widget, "refresh", counted)
        yield counts


async def test_hidden_screens_keep_no_timer(tmp_path: Path) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        for key in MODES:  # every screen once, so each is built and has started its timers
            await pilot.press(key)
        await pilot.press("1")
        await pilot.pause()
        hidden = [s for stack in app._screen_stacks.values() for s in stack if s is not app.screen]
        assert len(hidden) == 4
        for screen in hidden:
            assert running_timers(screen) == [], f"{type(screen).__name__} is hidden"
        await pilot.press("4")  # a screen that polls gets its timer back when shown
        assert app.screen.shown_timers  # type: ignore[attr-defined]


async def settle(pilot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the screen finish loading: until one round of messages repaints nothing."""
    for _ in range(100):
        with counting_refreshes(monkeypatch) as refreshes:
            await pilot.pause()
        if not refreshes:
            return
    raise AssertionError(f"the screen never settled: {dict(refreshes)}")


@pytest.mark.parametrize("key", list(MODES), ids=list(MODES.values()))
async def test_an_unchanged_sample_repaints_nothing(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(tmp_path, monitor=boxes.h200(("load_1", "idle")))
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press(key)
        sample = await app.stats.sample_now()
        await settle(pilot, monkeypatch)
        with counting_refreshes(monkeypatch) as refreshes:
            app.post_message(StatsSampled(sample))  # the same readings again
            await pilot.pause()
            await pilot.pause()
        assert app.stats.latest is sample
        assert dict(refreshes) == {}
        with counting_refreshes(monkeypatch) as refreshes:  # the count does see a change
            await app.stats.sample_now()  # load -> idle: the header's numbers change
            await pilot.pause()
            await pilot.pause()
        assert refreshes


async def test_instances_polls_only_while_an_instance_is_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_test_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert screen.shown_timers  # type: ignore[attr-defined]
        refreshes: list[str] = []
        monkeypatch.setattr(screen, "refresh_now", lambda: refreshes.append("refresh"))
        for _ in range(3):
            screen._tick()  # type: ignore[attr-defined]  # what the timer calls
        assert refreshes == [], "no instance: nothing changes by itself"
        live = type("View", (), {"record": type("Record", (), {"live": True})()})()
        screen.views = [live]  # type: ignore[attr-defined]
        screen._tick()  # type: ignore[attr-defined]
        assert refreshes == ["refresh"]
