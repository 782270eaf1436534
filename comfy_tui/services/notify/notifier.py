"""The notifier: watches instances (and their jobs), downloads and installs, and hands each
notice to the TUI's listeners, the terminal, the webhook and the command.

    notifier = Notifier(settings, paths, jobs, terminal=write)
    notifier.subscribe(callback)      # the TUI: a toast and the notifications list
    await notifier.run()              # until cancelled (`comfy-tui watch`, the App)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from comfy_tui.errors import ComfyTuiError
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads.store import load_items
from comfy_tui.services.jobs.service import JobsService
from comfy_tui.services.jobs.state import JobEvent
from comfy_tui.services.notify.deliver import post_webhook, run_command, terminal_text
from comfy_tui.services.notify.notice import (
    Notice,
    download_notices,
    install_notices,
    instance_notices,
    job_notice,
)
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import InstanceRecord, list_instances
from comfy_tui.store.version_records import list_records

log = logging.getLogger(__name__)

KEEP = 100
"""Notices kept for the TUI's list."""

QUIET_LOOK_S = 5.0
"""Seconds between looks while nothing is under way (no live instance, no download queued or
active): then nothing changes by itself, and what starts elsewhere is seen within this."""

UNDER_WAY = frozenset({"queued", "active"})
"""Download states that finish (or fail) by themselves."""


@dataclass(frozen=True)
class Look:
    """One look at the state the notices are diffed from (read in a thread)."""

    instances: dict[str, InstanceRecord]
    downloads: dict[str, tuple[str, str, str]]  # id -> (state, name, error)
    versions: set[str]

    @property
    def under_way(self) -> bool:
        """Whether something may end by itself: a live instance, a queued or active download."""
        return any(r.live for r in self.instances.values()) or any(
            state in UNDER_WAY for state, _, _ in self.downloads.values()
        )


def look(paths: DataPaths) -> Look:
    instances = {r.id: r for r in list_instances(paths)}
    downloads: dict[str, tuple[str, str, str]] = {}
    with contextlib.suppress(ComfyTuiError, OSError, ValueError):
        for item in load_items(paths.downloads_queue()):
            name = item.filename or item.request.source
            downloads[item.id] = (str(item.state), name, item.error or "")
    versions: set[str] = set()
    with contextlib.suppress(ComfyTuiError, OSError, ValueError):
        versions = {v.tag for v in list_records(paths)}
    return Look(instances, downloads, versions)


class Notifier:
    """Finds notices and delivers them; `recent` keeps the latest for the TUI's list."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        jobs: JobsService,
        *,
        terminal: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.jobs = jobs
        self.terminal = terminal
        self.clock = clock
        self.recent: deque[Notice] = deque(maxlen=KEEP)
        self._listeners: list[Callable[[Notice], None]] = []
        self._previous: Look | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._labels: dict[str, str] = {}
        jobs.subscribe(self._on_job_event)

    def subscribe(self, listener: Callable[[Notice], None]) -> None:
        self._listeners.append(listener)

    # --- finding -------------------------------------------------------------------------
    def _on_job_event(self, event: JobEvent) -> None:
        label = self._labels.get(event.instance, event.instance)
        notice = job_notice(event, label)
        if notice is not None:
            self.publish(notice)

    async def tick(self) -> list[Notice]:
        """Look once: watch the live instances' jobs, and report what changed since the
        previous look (nothing on the first)."""
        now_look = await asyncio.to_thread(look, self.paths)
        live = [r for r in now_look.instances.values() if r.live]
        self._labels = {r.id: f"{r.version} :{r.port}" for r in live}
        self.jobs.watch(live)
        before, self._previous = self._previous, now_look
        if before is None:
            return []
        now = self.clock()
        notices = instance_notices(before.instances, now_look.instances.values(), now)
        notices += download_notices(
            {k: v[0] for k, v in before.downloads.items()},
            [(k, *v) for k, v in now_look.downloads.items()],
            now,
        )
        notices += install_notices(before.versions, sorted(now_look.versions), now)
        for notice in notices:
            self.publish(notice)
        return notices

    def interval(self) -> float:
        """Seconds to the next look: `poll_interval` while something is under way, else at
        least `QUIET_LOOK_S` (an idle box costs a look every few seconds, not every second)."""
        poll = self.settings.poll_interval
        previous = self._previous
        if previous is None or previous.under_way:
            return poll
        return max(poll, QUIET_LOOK_S)

    async def run(self) -> None:
        """Look every `interval()` seconds until cancelled."""
        try:
            while True:
                try:
                    await self.tick()
                except (ComfyTuiError, OSError) as exc:
                    log.warning("notifier: %s", exc)
                await asyncio.sleep(self.interval())
        finally:
            await self.jobs.close()

    # --- delivering ----------------------------------------------------------------------
    def publish(self, notice: Notice) -> None:
        """Hand `notice` to every destination; the slow ones (webhook, command) run as tasks."""
        self.recent.appendleft(notice)
        log.info("notice %s: %s: %s", notice.kind, notice.title, notice.body)
        for listener in list(self._listeners):
            try:
                listener(notice)
            except Exception:
                log.exception("notice listener failed")
        s = self.settings
        if self.terminal is not None and (s.notify_bell or s.notify_desktop):
            self.terminal(terminal_text(notice, bell=s.notify_bell, desktop=s.notify_desktop))
        if s.notify_webhook:
            self._spawn(self._webhook(s.notify_webhook, notice))
        if s.notify_command:
            self._spawn(self._command(s.notify_command, notice))

    async def _webhook(self, url: str, notice: Notice) -> None:
        await post_webhook(url, notice)

    async def _command(self, argv: tuple[str, ...], notice: Notice) -> None:
        await run_command(argv, notice)

    def _spawn(self, work: object) -> None:
        assert asyncio.iscoroutine(work)
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the webhook posts and commands under way (tests, `watch` on exit)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
