"""The one job model: a typed `JobKey`, the `JobUpdate`s a job publishes, and `run_job`.

A job is a service's async event stream (`events.py`) under a key. `run_job` is the one runner
body for every front end: it drives the stream, always closes it, and publishes one `JobUpdate`
per event and one at the end (finished, failed with the error, or cancelled). Where it runs:

- the TUI: in an App worker; `ui/jobs.py` turns the updates into messages (one place);
- the download queue: in its asyncio tasks (`services/downloads/queue.py`), one per download;
- the CLI: in the command itself; `cli/output.py: drive_job` renders them on stderr (one place).

Failures are not events: a service raises a `ComfyTuiError`; `run_job` publishes it as the
failed update and raises it again for whoever awaits the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from comfy_tui.events import Event, Finished, each


class JobKind(StrEnum):
    """What a job does. Screens pick the jobs they show by kind (see the groups below)."""

    INSTALL = "install"
    UPDATE = "update"
    UPGRADE = "upgrade"
    SWITCH = "switch"
    ROLLBACK = "rollback"
    DOWNLOAD = "download"
    NODE_ADD = "node-add"
    NODE_UPDATE = "node-update"
    NODE_ENABLE = "node-enable"
    NODE_SHARE = "node-share"
    ENV_RESTORE = "env-restore"
    LAUNCH = "launch"
    STOP = "stop"
    RESTART = "restart"
    LIBRARY_SCAN = "library-scan"
    LIBRARY_IMPORT = "library-import"
    LIBRARY_HASH = "library-hash"
    LIBRARY_DUPLICATES = "library-duplicates"
    LIBRARY_DEDUPE = "library-dedupe"
    FLEET = "fleet"


NODE_JOBS = frozenset(
    {
        JobKind.NODE_ADD,
        JobKind.NODE_UPDATE,
        JobKind.NODE_ENABLE,
        JobKind.NODE_SHARE,
        JobKind.ENV_RESTORE,
    }
)
INSTANCE_JOBS = frozenset({JobKind.LAUNCH, JobKind.STOP, JobKind.RESTART})
LIBRARY_JOBS = frozenset(
    {
        JobKind.LIBRARY_SCAN,
        JobKind.LIBRARY_IMPORT,
        JobKind.LIBRARY_HASH,
        JobKind.LIBRARY_DUPLICATES,
        JobKind.LIBRARY_DEDUPE,
    }
)


@dataclass(frozen=True, slots=True)
class JobKey:
    """Which job: its kind, what it acts on (a tag, a node, a download or instance id; empty
    for the library's one-at-a-time jobs), and the version a node job acts in."""

    kind: JobKind
    id: str = ""
    version: str = ""

    def __str__(self) -> str:
        text = f"{self.kind}:{self.id}" if self.id else str(self.kind)
        return f"{text}@{self.version}" if self.version else text


JobStatus = Literal["running", "finished", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """What a job publishes: one per event (``running``; ``finished`` with its `Finished`),
    then, if no `Finished` came, one ``finished`` without an event; or ``failed`` (with the
    error) or ``cancelled``."""

    key: JobKey
    description: str
    event: Event | None
    state: JobStatus
    error: BaseException | None = None

    @property
    def ended(self) -> bool:
        return self.state != "running"


Publish = Callable[[JobUpdate], object]


async def run_job(
    key: JobKey, description: str, events: AsyncIterator[Event], publish: Publish
) -> None:
    """Drive `events` to its end, publishing every step; raise what it raised."""
    finished = False

    def step(event: Event) -> None:
        nonlocal finished
        finished = isinstance(event, Finished)
        publish(JobUpdate(key, description, event, "finished" if finished else "running"))

    try:
        await each(events, step)
    except asyncio.CancelledError:
        publish(JobUpdate(key, description, None, "cancelled"))
        raise
    except Exception as exc:
        publish(JobUpdate(key, description, None, "failed", exc))
        raise
    if not finished:
        publish(JobUpdate(key, description, None, "finished"))
