"""The App's watch on the state it shares with the CLI: another shell's change shows at once.

A worker (group ``state``) follows `services.state_watch.StateWatch` (inotify on Linux, no
work while nothing changes) and publishes the names of the areas that changed ("instances",
"versions", "library", "nodes") on the `changes` Signal. Screens re-read only what changed,
and only while they show (a hidden screen re-reads when it is shown again).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from textual.app import App
from textual.signal import Signal
from textual.worker import Worker, WorkerCancelled, WorkerError, WorkerFailed

from comfy_tui.paths import DataPaths
from comfy_tui.services.state_watch import StateWatch

log = logging.getLogger(__name__)

STATE_GROUP = "state"


class StateFeed:
    """Owns the watch worker for `app`; screens subscribe to `changes`."""

    def __init__(self, app: App[Any], paths: DataPaths, *, poll: float) -> None:
        """``poll`` is the fallback interval where inotify is missing."""
        self._app = app
        self.watch = StateWatch(paths, poll=poll)
        self.changes: Signal[frozenset[str]] = Signal(app, "state-changes")
        self.published = 0
        """How many change sets were published (tests wait on it, not on time)."""
        self._worker: Worker[None] | None = None

    def start(self) -> None:
        self._worker = self._app.run_worker(self._follow, group=STATE_GROUP, exit_on_error=False)

    async def stop(self) -> None:
        """Cancel the watch and wait until its descriptor is closed (the App's unmount)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.cancel()
        with contextlib.suppress(WorkerCancelled, WorkerFailed, WorkerError):
            await worker.wait()

    async def _follow(self) -> None:
        async with contextlib.aclosing(self.watch.changes()) as changes:
            async for areas in changes:
                log.debug("shared state changed: %s", sorted(areas))
                self.published += 1
                self.changes.publish(areas)
