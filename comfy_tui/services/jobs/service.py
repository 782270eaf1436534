"""JobsService: one watcher per live instance, started only while someone watches.

jobs = JobsService()
jobs.watch(records)            # start watchers for these, stop the others
jobs.state("c3f9a1")           # the latest JobState, or None
unsubscribe = jobs.subscribe(callback)   # every JobEvent of every watched instance
await jobs.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from comfy_tui.services.instances.health import base_url
from comfy_tui.services.jobs.client import InstanceJobs
from comfy_tui.services.jobs.state import JobEvent, JobState
from comfy_tui.store.instance_records import InstanceRecord

log = logging.getLogger(__name__)

Listener = Callable[[JobEvent], None]


class JobsService:
    """Watchers keyed by instance id; events fan out to every subscriber."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, poll_interval: float = 1.0
    ) -> None:
        self.clock = clock
        self.poll_interval = poll_interval
        self._watchers: dict[str, tuple[InstanceJobs, asyncio.Task[None]]] = {}
        self._urls: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._expected: dict[str, list[tuple[str, Any]]] = {}  # for watchers not started yet

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _publish(self, event: JobEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not stop the others
                log.exception("job event listener failed")

    def watch(self, records: Iterable[InstanceRecord]) -> None:
        """Watch exactly these instances (the live ones among them); needs a running loop."""
        wanted = {r.id: r for r in records if r.live and r.state != "stopping"}
        for instance_id in list(self._watchers):
            if instance_id not in wanted:
                self.unwatch(instance_id)
        for instance_id, record in wanted.items():
            self._urls[instance_id] = base_url(record)
            if instance_id in self._watchers:
                continue
            watcher = InstanceJobs(
                instance_id,
                lambda i=instance_id: self._urls[i],  # type: ignore[misc]
                clock=self.clock,
                poll_interval=self.poll_interval,
            )
            for prompt_id, prompt in self._expected.pop(instance_id, []):
                watcher.tracker.expect(prompt_id, prompt)
            task = asyncio.get_running_loop().create_task(watcher.run(self._publish))
            self._watchers[instance_id] = (watcher, task)

    def expect(self, instance_id: str, prompt_id: str, prompt: Any) -> None:
        """`prompt_id` was just queued on `instance_id`: its end is told even if it ran
        before this watcher's `/ws` was up, or before the instance was watched at all
        (`JobTracker.expect`)."""
        entry = self._watchers.get(instance_id)
        if entry is not None:
            entry[0].tracker.expect(prompt_id, prompt)
        else:
            self._expected.setdefault(instance_id, []).append((prompt_id, prompt))

    def unwatch(self, instance_id: str) -> None:
        self._expected.pop(instance_id, None)
        entry = self._watchers.pop(instance_id, None)
        if entry is not None:
            entry[1].cancel()

    def state(self, instance_id: str) -> JobState | None:
        entry = self._watchers.get(instance_id)
        return entry[0].state if entry else None

    async def close(self) -> None:
        tasks = [task for _, task in self._watchers.values()]
        self._watchers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
