"""The App's download queue feed: starts `DownloadQueue`, turns its updates into screen updates.

The queue publishes a snapshot for every progress step of every download (many per second).
The feed worker (group ``downloads``, not a ``job:`` group) answers each with one coalescing
`DownloadsChanged` message carrying the whole list, so a burst collapses into the latest state
before the App handles it; the App keeps that list in `DownloadsFeed.items` and publishes it on
the `updates` Signal the Models screen subscribes to. Each download also runs as a job of the
one runner; the feed forwards those `JobUpdate`s to the App as every other job's
(`ui/jobs.py: JobUpdatePosted`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.message import Message
from textual.signal import Signal

from comfy_tui.events import each
from comfy_tui.ui.jobs import JobUpdatePosted

if TYPE_CHECKING:
    from comfy_tui.services.downloads import DownloadItem, DownloadQueue

log = logging.getLogger(__name__)

FEED_GROUP = "downloads"
"""Worker group of the feed (deliberately not a ``job:`` group)."""

RUNNING = frozenset({"active", "queued"})
"""States (`State` values) that count as running when quitting: they stop (and resume on the
next start)."""


class DownloadsChanged(Message):
    """The queue's state on its way from the feed worker to the App."""

    def __init__(self, items: tuple[DownloadItem, ...]) -> None:
        super().__init__()
        self.items = items

    def can_replace(self, message: Message) -> bool:
        """Each message carries the whole list: a newer one makes a queued one obsolete."""
        return isinstance(message, DownloadsChanged)


class DownloadsFeed:
    """Owns the queue's feed worker for `app`; screens read `items` and subscribe to `updates`."""

    def __init__(self, app: App[Any], queue: Callable[[], DownloadQueue]) -> None:
        """``queue`` is asked for the queue on first use (after the first frame: building it
        loads aiohttp)."""
        self._app = app
        self._queue_of = queue
        self._queue: DownloadQueue | None = None
        self.items: tuple[DownloadItem, ...] = ()
        self.updates: Signal[tuple[DownloadItem, ...]] = Signal(app, "downloads")

    @property
    def queue(self) -> DownloadQueue:
        if self._queue is None:
            self._queue = self._queue_of()
        return self._queue

    def start(self) -> None:
        """Start the queue (restoring `downloads.json`) and feed its changes to the screens."""
        self._app.run_worker(self._pump(), group=FEED_GROUP, exit_on_error=False)

    async def _pump(self) -> None:
        queue = self.queue
        unsubscribe = queue.on_job(lambda update: self._app.post_message(JobUpdatePosted(update)))
        try:
            await queue.start()
            self._app.post_message(DownloadsChanged(tuple(queue.items())))
            await each(
                queue.updates(),
                lambda _changed: self._app.post_message(DownloadsChanged(tuple(queue.items()))),
            )
        finally:
            unsubscribe()

    def receive(self, items: tuple[DownloadItem, ...]) -> None:
        self.items = items
        self.updates.publish(items)

    def running(self) -> list[DownloadItem]:
        """Downloads that run now or wait for a slot."""
        if self._queue is None:
            return []
        return [i for i in self._queue.items() if i.state.value in RUNNING]

    async def stop(self) -> None:
        """Stop every running download; their part files make them resume on the next start."""
        self._app.workers.cancel_group(self._app, FEED_GROUP)
        if self._queue is None:
            return
        try:
            await self._queue.close()
        except Exception:
            log.exception("closing the download queue failed")
