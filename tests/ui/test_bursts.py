"""A burst of job events (an install printing thousands of lines) leaves the event loop free and
is drawn in a few batches, not one repaint per line (counted, never timed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Log

from comfy_tui.events import Event, LogLine, Progress
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.ui.jobs import pump
from comfy_tui.ui.widgets.install_panel import LOG_LINES, InstallPanel
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.ui.app_factory import LARGE, make_test_app
from tests.waiting import until

LINES = 600


async def burst(gate: asyncio.Event) -> AsyncIterator[Event]:
    """What a chatty child looks like: many lines without a pause, then a quiet wait."""
    yield Progress("packages", 0.5)
    for i in range(LINES):
        yield LogLine(f"line {i}", "uv")
    await gate.wait()


async def test_pump_gives_the_loop_a_turn_between_events() -> None:
    posted: list[Message] = []
    turns = 0
    done = False

    async def other_task() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    async def events() -> AsyncIterator[Event]:
        for i in range(LINES):
            yield LogLine(f"line {i}")

    other = asyncio.create_task(other_task())
    await pump(
        JobKey(JobKind.INSTALL, "v1"), "install v1", events, lambda m: posted.append(m) or True
    )
    done = True
    await other
    assert len(posted) == LINES + 1  # each line, then the job's end
    assert turns >= LINES - 1


async def test_a_burst_of_log_lines_is_drawn_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    real_write = Log.write_lines

    def counted_write(self: Log, lines: Any, *args: Any, **kwargs: Any) -> Log:
        writes.append(len(list(lines)))
        return real_write(self, lines, *args, **kwargs)

    cells: list[str] = []
    real_cell = VersionTable.update_cell

    def counted_cell(self: VersionTable, *args: Any, **kwargs: Any) -> None:
        cells.append(str(args[:2]))
        real_cell(self, *args, **kwargs)

    monkeypatch.setattr(Log, "write_lines", counted_write)
    monkeypatch.setattr(VersionTable, "update_cell", counted_cell)
    app = make_test_app(tmp_path)
    gate = asyncio.Event()
    async with app.run_test(size=LARGE) as pilot:
        await pilot.pause()
        app.start_job(JobKey(JobKind.INSTALL, "vbench"), "install vbench", lambda: burst(gate))
        panel = await wait_for_panel(pilot)
        log = panel.query_one(Log)
        last = f"uv: line {LINES - 1}"
        await until(pilot, lambda: panel.drawn and log.lines[-1:] == [last], "the last line")
        # the panel keeps the newest LOG_LINES (lines that arrive before it is drawn may be
        # folded away under load, never the newest ones)
        assert log.lines == [f"uv: line {i}" for i in range(LINES - LOG_LINES, LINES)]
        assert sum(writes) <= LINES
        assert len(writes) < LINES // 2  # batched: not one write per line
        assert cells == []  # "installing 50%" never changed: the table row is not redrawn
        gate.set()
        await pilot.pause()


async def wait_for_panel(pilot: Any) -> InstallPanel:
    for _ in range(200):
        panels = list(pilot.app.screen.query(InstallPanel))
        if panels and panels[0].is_mounted:
            return panels[0]
        await pilot.pause()
    raise AssertionError("no install panel")


async def test_a_big_log_batch_is_fed_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.app import App, ComposeResult

    from comfy_tui.ui.widgets.log_pane import FEED_CHUNK, LogPane

    slices: list[int] = []
    real_add = LogPane.add_lines

    def counted_add(self: LogPane, lines: Any) -> None:
        slices.append(len(lines))
        real_add(self, lines)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield LogPane(max_lines=5 * FEED_CHUNK)

    monkeypatch.setattr(LogPane, "add_lines", counted_add)
    async with Host().run_test() as pilot:
        pane = pilot.app.query_one(LogPane)
        await pane.feed([f"line {i}" for i in range(12 * FEED_CHUNK)])
        await pilot.pause()
        assert slices == [FEED_CHUNK] * 5  # only what can still be shown, in slices
        assert pane.received == 12 * FEED_CHUNK
        assert pane.line_count == 5 * FEED_CHUNK
        assert pane.lines[-1] == f"line {12 * FEED_CHUNK - 1}"
