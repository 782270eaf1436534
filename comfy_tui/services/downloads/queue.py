"""DownloadQueue: at most `max_downloads` at once, persisted, pausable, resumable, cancellable.

The TUI calls `start()` (restores `metadata/downloads.json`: what was running is queued again),
`add()`, `pause()`, `resume()`, `cancel()`, `remove()`, and reads `updates()`: an async iterator
of `DownloadItem` snapshots (state, bytes, speed, ETA). Each scheduled download runs as a job of
the one runner (`comfy_tui/runner.py: run_job`, key `JobKey(JobKind.DOWNLOAD, item id)`) in a task
of the queue; `on_job` subscribes to those jobs' `JobUpdate`s. The CLI calls `prepare()` and
`run_now()`, which runs one download in the caller's task, outside the scheduler, and yields its
events.

What each end leaves on disk: done → the file in the library (and `on_complete` called);
paused, interrupted, or a resumable failure (network gave up, disk full) → the `.part` for a
resume; cancelled or a hard failure (sha256 mismatch, HTTP 4xx) → nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from dataclasses import replace
from functools import partial
from typing import Any

from comfy_tui.errors import ComfyTuiError, LockBusyError, NetworkError
from comfy_tui.events import Event, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.runner import JobKey, JobKind, JobUpdate, Publish, run_job
from comfy_tui.services.downloads.data import (
    DownloadError,
    DownloadRequest,
    DownloadSpec,
    OnComplete,
    State,
)
from comfy_tui.services.downloads.engine import HttpDownload
from comfy_tui.services.downloads.hub_fast import HubFirst
from comfy_tui.services.downloads.resolve import Resolver
from comfy_tui.services.downloads.store import DownloadItem, delete_item, load_items, save_item
from comfy_tui.services.downloads.wiring import discard_partial, make_engine
from comfy_tui.settings import Settings

log = logging.getLogger(__name__)

_OPEN = frozenset({State.QUEUED, State.ACTIVE, State.PAUSED, State.FAILED})


class DownloadQueue:
    """The download service shared by the TUI and the CLI (`Services.downloads`)."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        on_complete: OnComplete | None,
        resolver: Resolver | None = None,
        engine_options: Mapping[str, Any] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.on_complete = on_complete
        self.max_active = settings.max_downloads
        self._resolver = resolver or Resolver(settings)
        self._engine_options = dict(engine_options or {})
        self._wall_clock = wall_clock
        self._items: dict[str, DownloadItem] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._intent: dict[str, State] = {}
        self._specs: dict[str, DownloadSpec] = {}
        self._subscribers: list[asyncio.Queue[DownloadItem]] = []
        self._job_listeners: list[Publish] = []
        self._loaded = False
        self._started = False

    # --- reading ----------------------------------------------------------------------------
    def items(self) -> list[DownloadItem]:
        return sorted(self._items.values(), key=lambda i: i.added_at)

    def get(self, item_id: str) -> DownloadItem:
        try:
            return self._items[item_id]
        except KeyError:
            raise DownloadError(f"no download with id {item_id!r}") from None

    async def updates(self) -> AsyncGenerator[DownloadItem, None]:
        """Every change to any item, as a snapshot, until the consumer stops."""
        inbox: asyncio.Queue[DownloadItem] = asyncio.Queue()
        self._subscribers.append(inbox)
        try:
            while True:
                yield await inbox.get()
        finally:
            self._subscribers.remove(inbox)

    def on_job(self, publish: Publish) -> Callable[[], None]:
        """Call `publish` with every `JobUpdate` of the scheduled downloads; returns the
        function that unsubscribes."""
        self._job_listeners.append(publish)
        return lambda: self._job_listeners.remove(publish)

    def _publish_job(self, update: JobUpdate) -> None:
        for publish in list(self._job_listeners):
            publish(update)

    # --- lifecycle --------------------------------------------------------------------------
    async def load(self) -> None:
        """Read the persisted queue (once). Nothing starts."""
        if self._loaded:
            return
        for item in await asyncio.to_thread(load_items, self.paths.downloads_queue()):
            self._items.setdefault(item.id, item)
        self._loaded = True

    async def start(self) -> None:
        """Restore the queue and start downloading: what was running when comfy-tui stopped
        is queued again (its part file makes it resume)."""
        await self.load()
        self._started = True
        for item in self.items():
            if item.state is State.ACTIVE and item.id not in self._tasks:
                await self._save(item.with_(state=State.QUEUED))
        self._schedule()

    async def close(self) -> None:
        """Stop every running download; they stay queued and resume on the next start."""
        self._started = False
        for item_id in list(self._tasks):
            await self._stop(item_id, State.QUEUED)

    async def wait_idle(self) -> None:
        """Until nothing is running or waiting (tests and scripts)."""
        while self._tasks or (
            self._started and any(i.state is State.QUEUED for i in self._items.values())
        ):
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            await asyncio.sleep(0)

    # --- changes ----------------------------------------------------------------------------
    async def add(self, request: DownloadRequest) -> DownloadItem:
        """Check and queue a download (ValidationError for bad input, nothing stored then).
        The same download already in the queue is returned (and resumed) instead."""
        spec = await self._resolver.resolve(request)
        await self.load()
        existing = self._find_open(spec)
        if existing is not None:
            if existing.request != request:  # the same file; take the link as given now
                await self._save(existing.with_(request=request))
                existing = self._items[existing.id]
            if existing.state in (State.PAUSED, State.FAILED):
                await self.resume(existing.id)
            return self._items[existing.id]
        item = self._new_item(request, spec)
        self._specs[item.id] = spec
        await self._save(item)
        self._schedule()
        return self._items[item.id]

    async def pause(self, item_id: str) -> DownloadItem:
        item = self.get(item_id)
        if item.id in self._tasks:
            await self._stop(item.id, State.PAUSED)
        elif item.state is State.QUEUED:
            await self._save(item.with_(state=State.PAUSED))
        return self._items[item_id]

    async def resume(self, item_id: str) -> DownloadItem:
        item = self.get(item_id)
        if item.state in (State.PAUSED, State.FAILED):
            await self._save(item.with_(state=State.QUEUED, error=None))
            self._schedule()
        return self._items[item_id]

    async def cancel(self, item_id: str) -> DownloadItem:
        """Stop and forget the bytes: the partial file is deleted."""
        item = self.get(item_id)
        if item.id in self._tasks:
            await self._stop(item.id, State.CANCELLED)
        elif item.state in _OPEN:
            await self._discard(item)
            await self._save(item.with_(state=State.CANCELLED, bytes_done=0, speed=None, eta=None))
        return self._items[item_id]

    async def remove(self, item_id: str) -> None:
        """Drop an item from the list (cancelling it first when it is not done)."""
        item = self.get(item_id)
        if item.state is not State.DONE and item.state is not State.CANCELLED:
            await self.cancel(item_id)
        await asyncio.to_thread(delete_item, self.paths.downloads_queue(), item_id)
        gone = self._items.pop(item_id)
        self._specs.pop(item_id, None)
        for inbox in list(self._subscribers):
            inbox.put_nowait(gone.with_(removed=True))

    # --- the CLI path -----------------------------------------------------------------------
    async def prepare(self, request: DownloadRequest) -> DownloadItem:
        """Check `request` and record it for `run_now` (ValidationError: nothing stored).

        The same download left paused or failed by an earlier run is reused, so it continues
        from its part file.
        """
        spec = await self._resolver.resolve(request)
        await self.load()
        found = self._find_open(spec)
        item = found.with_(request=request) if found else self._new_item(request, spec)
        if item.id in self._tasks:
            raise LockBusyError(f"{item.label} is already downloading")
        self._specs[item.id] = spec
        await self._save(item.with_(state=State.ACTIVE, error=None))
        return self._items[item.id]

    @forwards
    async def run_now(self, item_id: str) -> AsyncGenerator[Step, None]:
        """Run one prepared download in this task, outside the scheduler (no other item
        starts), and yield its events; raise its failure. Interrupted → paused."""
        yield self._execute(item_id, interrupted=State.PAUSED)

    # --- internals --------------------------------------------------------------------------
    def _find_open(self, spec: DownloadSpec) -> DownloadItem | None:
        for item in self.items():
            if item.key == spec.key and item.folder == spec.folder and item.state in _OPEN:
                return item
        return None

    def _new_item(self, request: DownloadRequest, spec: DownloadSpec) -> DownloadItem:
        return DownloadItem(
            id=uuid.uuid4().hex[:12],
            request=request,
            kind=spec.kind,
            key=spec.key,
            folder=spec.folder,
            filename=spec.filename,
            added_at=self._wall_clock(),
        )

    def _schedule(self) -> None:
        if not self._started:
            return
        for item in self.items():
            if len(self._tasks) >= self.max_active:
                return
            if item.state is State.QUEUED and item.id not in self._tasks:
                self._set(item.with_(state=State.ACTIVE, error=None))
                task = asyncio.create_task(self._background(item.id), name=f"download:{item.id}")
                self._tasks[item.id] = task

    async def _background(self, item_id: str) -> None:
        key = JobKey(JobKind.DOWNLOAD, item_id)
        events = self._execute(item_id, interrupted=State.QUEUED)
        try:
            await run_job(key, self._items[item_id].label, events, self._publish_job)
        except asyncio.CancelledError:
            pass
        except ComfyTuiError as exc:
            log.info("download %s failed: %s", item_id, exc)
        except Exception:
            log.exception("download %s crashed", item_id)
        finally:
            self._tasks.pop(item_id, None)
            self._schedule()

    async def _stop(self, item_id: str, then: State) -> None:
        task = self._tasks.get(item_id)
        if task is None:
            return
        self._intent[item_id] = then
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._tasks.pop(item_id, None)
        if self._intent.pop(item_id, None) is not None:
            # Cancelled before its body ran: record the state here.
            item = self._items[item_id]
            if then is State.CANCELLED:
                with contextlib.suppress(ComfyTuiError, OSError):
                    await self._discard(item)
            await self._save(item.with_(state=then, speed=None, eta=None))

    async def _execute(self, item_id: str, *, interrupted: State) -> AsyncGenerator[Event, None]:
        """Run the download of `item_id`, keeping its item up to date; re-raise its failure."""
        item = self._items[item_id]
        spec = self._specs.pop(item_id, None)
        try:
            if spec is None and item.needs_url:
                raise DownloadError(
                    f"the full link of {item.label} (it held a token or signature) was not kept:"
                    " add the download again with the full link"
                )
            if spec is None:
                spec = await self._resolver.resolve(item.request)
            if item.filename and spec.filename is None:
                spec = _with_filename(spec, item.filename)
            engine = self._engine(spec)
            await self._save(item.with_(state=State.ACTIVE, kind=spec.kind, folder=spec.folder))
            async with aclosing(engine.run()) as events:
                async for event in events:
                    if isinstance(event, Progress) and event.bytes_done is not None:
                        self._progress(item_id, engine)
                    if engine.filename != self._items[item_id].filename:
                        await self._save(self._items[item_id].with_(filename=engine.filename))
                    yield event
            done = self._items[item_id].with_(
                state=State.DONE,
                filename=engine.filename,
                bytes_done=engine.bytes_done,
                bytes_total=engine.bytes_done,
                path=str(engine.target) if engine.target else None,
                sha256=engine.meta.sha256 if engine.meta else None,
                commit=engine.commit,
                finished_at=self._wall_clock(),
                speed=None,
                eta=None,
            )
            await self._save(done)
        except (asyncio.CancelledError, KeyboardInterrupt):
            then = self._intent.pop(item_id, interrupted)
            current = self._items[item_id].with_(state=then, speed=None, eta=None)
            if then is State.CANCELLED:
                with contextlib.suppress(ComfyTuiError, OSError):
                    await self._discard(current)
                current = current.with_(bytes_done=0)
            await self._save(current)
            raise
        except ComfyTuiError as exc:
            # Resumable (the network, a full disk, another process on it): paused, part kept.
            # Anything else: failed, and no partial file is left behind.
            resumable = (isinstance(exc, DownloadError) and exc.resumable) or isinstance(
                exc, LockBusyError | NetworkError
            )
            state = State.PAUSED if resumable else State.FAILED
            current = self._items[item_id]
            if not resumable:
                current = current.with_(bytes_done=0)
                with contextlib.suppress(ComfyTuiError, OSError):
                    await self._discard(current)
            await self._save(current.with_(state=state, error=str(exc), speed=None, eta=None))
            raise

    def _engine(self, spec: DownloadSpec) -> HttpDownload | HubFirst:
        root = self.paths.library_models()
        return make_engine(spec, self.settings, root, self.on_complete, self._engine_options)

    def _progress(self, item_id: str, engine: HttpDownload | HubFirst) -> None:
        self._set(
            self._items[item_id].with_(
                bytes_done=engine.bytes_done,
                bytes_total=engine.bytes_total,
                speed=engine.speed,
                eta=engine.eta,
            )
        )

    async def _discard(self, item: DownloadItem) -> None:
        if item.filename and item.folder:
            root = self.paths.library_models()
            await asyncio.to_thread(discard_partial, root, item.folder, item.filename)

    def _set(self, item: DownloadItem) -> None:
        self._items[item.id] = item
        for inbox in list(self._subscribers):
            inbox.put_nowait(item)

    async def _save(self, item: DownloadItem) -> None:
        self._set(item)
        keep = self.settings.download_history_keep
        await asyncio.to_thread(
            partial(save_item, self.paths.downloads_queue(), item, history_keep=keep)
        )


def _with_filename(spec: DownloadSpec, filename: str) -> DownloadSpec:
    return replace(spec, filename=filename)
