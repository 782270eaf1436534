"""Long jobs (installs, downloads, scans) run as App-owned workers and reach screens by a Signal.

A service exposes a job as an async iterator of events; `JobRunner.start` runs it in a worker
on the App (so it survives screen switches), posts each event as a coalescing message, and
publishes a `JobUpdate` on `app.job_updates` that any screen can subscribe to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from textual.message import Message
from textual.worker import Worker

from comfy_tui.events import Event, Finished, Progress

JobState = Literal["running", "finished", "failed", "cancelled"]

JOB_GROUP_PREFIX = "job:"
"""Workers whose group starts with this are user jobs: quitting asks first while they run."""


@dataclass(frozen=True)
class JobUpdate:
    """What screens receive: which job, what happened, and its state after that."""

    key: str
    description: str
    event: Event | None
    state: JobState


class JobEventPosted(Message):
    """One service event of one job, on its way from the worker to the App."""

    def __init__(self, key: str, description: str, event: Event) -> None:
        super().__init__()
        self.key = key
        self.description = description
        self.event = event

    def can_replace(self, message: Message) -> bool:
        """A newer Progress of the same job makes a queued one obsolete (a burst collapses)."""
        return (
            isinstance(message, JobEventPosted)
            and message.key == self.key
            and isinstance(message.event, Progress)
            and isinstance(self.event, Progress)
        )


def job_group(key: str) -> str:
    return f"{JOB_GROUP_PREFIX}{key}"


def state_after(event: Event) -> JobState:
    if isinstance(event, Finished):
        return "finished"
    return "running"


async def pump(
    key: str,
    description: str,
    events: Callable[[], AsyncIterator[Event]],
    post: Callable[[Message], bool],
) -> None:
    """The worker body: iterate the service's events and post each one.

    After each post the loop gets a turn: a service that yields a burst without awaiting (a
    child's output read in big chunks) would otherwise queue thousands of messages that the
    App then handles in one go, stalling the loop for as long."""
    async for event in events():
        post(JobEventPosted(key, description, event))
        await asyncio.sleep(0)


def is_job(worker: Worker[object]) -> bool:
    return worker.group.startswith(JOB_GROUP_PREFIX)
