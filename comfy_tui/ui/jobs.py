"""How jobs reach screens: the one place where `JobUpdate`s (comfy_tui/runner.py) become messages.

`ComfyTuiApp.start_job` runs `run_job` in an App worker (group ``job:<key>``, so it survives
screen switches and quitting asks first); the download queue runs it in its own tasks and the
downloads feed forwards its updates here too. Every update is posted as a `JobUpdatePosted`
message (a newer Progress of the same job replaces a queued one), and the App publishes it on
the `app.job_updates` Signal that screens subscribe to, filtering by `JobKey.kind`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from textual.message import Message
from textual.worker import Worker

from comfy_tui.events import Event, Progress
from comfy_tui.runner import JobKey, JobUpdate, run_job

JOB_GROUP_PREFIX = "job:"
"""Workers whose group starts with this are user jobs: quitting asks first while they run."""


class JobUpdatePosted(Message):
    """One update of one job, on its way from where it runs to the App."""

    def __init__(self, update: JobUpdate) -> None:
        super().__init__()
        self.update = update

    def can_replace(self, message: Message) -> bool:
        """A newer Progress of the same job makes a queued one obsolete (a burst collapses)."""
        return (
            isinstance(message, JobUpdatePosted)
            and message.update.key == self.update.key
            and isinstance(message.update.event, Progress)
            and isinstance(self.update.event, Progress)
        )


def job_group(key: JobKey) -> str:
    return f"{JOB_GROUP_PREFIX}{key}"


def is_job(worker: Worker[object]) -> bool:
    return worker.group.startswith(JOB_GROUP_PREFIX)


async def pump(
    key: JobKey,
    description: str,
    events: Callable[[], AsyncIterator[Event]],
    post: Callable[[Message], bool],
) -> None:
    """The worker body: run the job, each update posted. A failure was published (the App
    shows it); it does not fail the worker a second time."""
    with contextlib.suppress(Exception):
        await run_job(key, description, _paced(events()), lambda u: post(JobUpdatePosted(u)))


async def _paced(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """`events`, the loop getting a turn after each one is posted: a service that yields a
    burst without awaiting (a child's output read in big chunks) would otherwise queue
    thousands of messages that the App then handles in one go, stalling the loop as long."""
    close = getattr(events, "aclose", None)
    try:
        async for event in events:
            yield event
            await asyncio.sleep(0)
    finally:
        if close is not None:
            await close()
