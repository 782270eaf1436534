"""Everything the CLI writes: results on stdout (text or one JSON document), the rest on stderr.

A reader that goes away (`comfy-tui versions --json | head -c1`) never turns into a traceback
or `Errno 32`: the stream it closed is pointed at /dev/null and the command goes on to its
end (a launch still finishes its readiness wait), with its usual exit status. Commands that
would print forever (`logs -f`, `stats --watch`, `jobs --follow`) ask `stdout_closed()` and end.

Jobs (installs, downloads, node operations, hashing) run through the one runner
(`comfy_tui/runner.py`) with `drive_job` / `run_cli_job`, which render their updates on stderr
here and nowhere else; a blocking job (`models scan`, no event loop) is rendered by the same
printer through `drive_steps`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # imported where a job runs: printing a table needs none, nor asyncio
    from comfy_tui.events import Event
    from comfy_tui.runner import JobKey, JobUpdate

_closed: set[str] = set()


def _write(stream: TextIO, name: str, text: str) -> None:
    if name in _closed:
        return
    try:
        stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        _closed.add(name)
        _silence(stream)
    except ValueError:  # the stream object itself was closed
        _closed.add(name)


def _silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so what is buffered (and the interpreter's
    flush at exit) goes nowhere instead of failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def silence_output() -> None:
    """Both streams to /dev/null (their reader is gone); nothing more is written."""
    _closed.update(("stdout", "stderr"))
    _silence(sys.stdout)
    _silence(sys.stderr)


def stdout_closed() -> bool:
    """True once the reader of stdout went away."""
    return "stdout" in _closed


def out(text: str = "") -> None:
    """A line of the human-readable result."""
    _write(sys.stdout, "stdout", text)


def out_json(document: Any) -> None:
    """The single JSON document a `--json` run prints."""
    import json  # here: only --json output needs it

    _write(sys.stdout, "stdout", json.dumps(document, indent=2, sort_keys=True, default=str))


def out_json_line(document: Any) -> None:
    """One JSON object on one line (a `--follow`/`--watch` stream of them)."""
    import json

    _write(sys.stdout, "stdout", json.dumps(document, sort_keys=True, default=str))


def err(text: str) -> None:
    """A message for the user that is not the result (errors, progress)."""
    _write(sys.stderr, "stderr", text)


def show_event(event: Event) -> None:
    """Render one service event on stderr."""
    from comfy_tui.events import Finished, LogLine, Progress

    if isinstance(event, Progress):
        pct = f"{event.fraction * 100:5.1f}%"
        detail = f" {event.detail}" if event.detail else ""
        err(f"[{pct}] {event.step}{detail}")
    elif isinstance(event, LogLine):
        err(f"  {event.source + ': ' if event.source else ''}{event.text}")
    elif isinstance(event, Finished):
        err(f"done{': ' + event.detail if event.detail else ''}")


class ProgressPrinter:
    """Shows a job's events on stderr: every LogLine, Progress only when a step starts, the
    whole moved `step` (5 %) or reached the end (none with ``progress=False``: `--json`), and
    the job's end (``done: ...``; the result itself goes to stdout)."""

    def __init__(self, step: float = 0.05, *, progress: bool = True) -> None:
        self.step_size = step
        self.progress = progress
        self.step = ""
        self.shown = -1.0

    def __call__(self, event: Event) -> None:
        from comfy_tui.events import Progress

        if isinstance(event, Progress):
            if not self.progress:
                return
            end = event.fraction >= 1.0 > self.shown
            if event.step == self.step and event.fraction < self.shown + self.step_size and not end:
                return
            self.step, self.shown = event.step, event.fraction
        show_event(event)


async def drive_job(
    key: JobKey, description: str, events: AsyncIterator[Event], *, progress: bool = True
) -> str:
    """Run one job in this command through the one runner, its events on stderr; return its
    `Finished` detail ("" without one) and raise its failure."""
    from comfy_tui.events import Finished
    from comfy_tui.runner import run_job

    printer = ProgressPrinter(progress=progress)
    detail = ""

    def show(update: JobUpdate) -> None:
        nonlocal detail
        if update.event is not None:
            printer(update.event)
        if isinstance(update.event, Finished):
            detail = update.event.detail

    await run_job(key, description, events, show)
    return detail


def run_cli_job(
    key: JobKey, description: str, events: AsyncIterator[Event], *, progress: bool = True
) -> str:
    """`drive_job` in a fresh event loop (a command with nothing else to await)."""
    import asyncio

    return asyncio.run(drive_job(key, description, events, progress=progress))


def drive_steps(events: Iterable[Event], *, progress: bool = True) -> str:
    """Run a blocking job (a generator of events, `models scan`) in this thread, its events on
    stderr as `drive_job` shows them; return its `Finished` detail ("" without one)."""
    from comfy_tui.events import Finished

    printer = ProgressPrinter(progress=progress)
    detail = ""
    for event in events:
        printer(event)
        if isinstance(event, Finished):
            detail = event.detail
    return detail
