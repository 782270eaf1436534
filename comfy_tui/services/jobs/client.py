"""One instance's job watcher: a websocket on `/ws?clientId=…` (reconnected with backoff when
ComfyUI restarts), `/queue` to name a prompt's nodes (and as the whole source when `/ws` is
unusable), `/history/<id>` to settle how a prompt ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

from comfy_tui.core.units import format_duration
from comfy_tui.services.instances.health import MAX_BODY, base_url
from comfy_tui.services.jobs.state import JobEvent, JobState, JobTracker
from comfy_tui.store.instance_records import InstanceRecord

log = logging.getLogger(__name__)

Sink = Callable[[JobEvent], None]
NET_ERRORS = (aiohttp.ClientError, OSError, TimeoutError, ValueError)
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
REQUEST_TIMEOUT_S = 5.0


def http_session() -> aiohttp.ClientSession:
    """A loopback session: no proxies from the environment, a bounded wait per request."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT_S)
    return aiohttp.ClientSession(timeout=timeout, trust_env=False)


class InstanceJobs:
    """Watches one instance until cancelled; `state` is always the latest picture."""

    def __init__(
        self,
        instance_id: str,
        base_url: Callable[[], str],
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 1.0,
        backoff: tuple[float, float] = (BACKOFF_MIN_S, BACKOFF_MAX_S),
    ) -> None:
        self.instance_id = instance_id
        self.base_url = base_url
        self.clock = clock
        self.poll_interval = poll_interval
        self.backoff = backoff
        self.client_id = uuid.uuid4().hex
        self.tracker = JobTracker(instance_id)
        self.connects = 0

    @property
    def state(self) -> JobState:
        return self.tracker.state

    def _emit(self, sink: Sink, events: list[JobEvent]) -> None:
        for event in events:
            sink(event)

    def _link(self, sink: Sink, connected: bool, source: str, text: str) -> None:
        from dataclasses import replace

        self.tracker.state = replace(self.tracker.state, connected=connected, source=source)
        sink(JobEvent("link", self.instance_id, text, None, {"connected": connected}, self.clock()))

    # --- follow-ups the tracker asks for ----------------------------------------------------
    async def _get(self, session: aiohttp.ClientSession, path: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with session.get(f"{self.base_url()}{path}", timeout=timeout) as resp:
            if resp.status != 200:
                raise ValueError(f"HTTP {resp.status}")
            body = await resp.content.read(MAX_BODY * 16 + 1)
            return json.loads(body)

    async def follow_up(self, session: aiohttp.ClientSession, sink: Sink) -> None:
        """Name unknown prompts (`/queue`) and settle ended ones (`/history/<id>`)."""
        tracker = self.tracker
        if tracker.needs_prompt:
            tracker.needs_prompt.clear()
            with contextlib.suppress(*NET_ERRORS):
                self._emit(
                    sink, tracker.feed_queue(await self._get(session, "/queue"), self.clock())
                )
        for prompt_id in list(tracker.ended):
            entry: Any = None
            if prompt_id != "?":
                with contextlib.suppress(*NET_ERRORS):
                    entry = (await self._get(session, f"/history/{prompt_id}")).get(prompt_id)
            self._emit(sink, tracker.settle(prompt_id, entry, self.clock()))

    # --- the loop ------------------------------------------------------------------------
    async def run(self, sink: Sink) -> None:
        """Watch until cancelled: websocket, or `/queue` polling where `/ws` is refused."""
        delay = self.backoff[0]
        while True:
            try:
                async with http_session() as session:
                    with contextlib.suppress(*NET_ERRORS):
                        queue = await self._get(session, "/queue")
                        self._emit(sink, self.tracker.feed_queue(queue, self.clock()))
                    try:
                        ws = await session.ws_connect(
                            f"{self.base_url()}/ws?clientId={self.client_id}",
                            heartbeat=30.0,
                            max_msg_size=MAX_BODY * 16,
                        )
                    except aiohttp.WSServerHandshakeError as exc:
                        log.info("%s: /ws refused (%s); following /queue", self.instance_id, exc)
                        self._link(sink, True, "queue", "no /ws here: following /queue")
                        self.connects += 1
                        delay = self.backoff[0]
                        await self._poll(session, sink)
                    else:
                        self.connects += 1
                        delay = self.backoff[0]
                        self._link(sink, True, "ws", "connected")
                        async with ws:
                            await self._read(ws, session, sink)
            except NET_ERRORS as exc:
                log.debug("%s: watcher: %s", self.instance_id, exc)
            self._link(
                sink,
                False,
                self.state.source,
                f"disconnected; retrying in {format_duration(delay, precision=1)}",
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    async def _read(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        session: aiohttp.ClientSession,
        sink: Sink,
    ) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue  # previews (binary) and control frames
            try:
                message = json.loads(msg.data)
            except ValueError:
                continue
            self._emit(sink, self.tracker.feed(message, self.clock()))
            await self.follow_up(session, sink)

    async def _poll(self, session: aiohttp.ClientSession, sink: Sink) -> None:
        while True:
            queue = await self._get(session, "/queue")
            self._emit(sink, self.tracker.feed_queue(queue, self.clock()))
            await self.follow_up(session, sink)
            await asyncio.sleep(self.poll_interval)


async def snapshot(instance_id: str, url: str, window_s: float = 0.3) -> JobState:
    """One look (for `ps`): the queue, the last finished prompt, and whatever `/ws` says
    within `window_s` seconds."""
    watcher = InstanceJobs(instance_id, lambda: url)
    tracker = watcher.tracker
    events: list[JobEvent] = []
    async with http_session() as session:
        with contextlib.suppress(*NET_ERRORS):
            tracker.feed_queue(await watcher._get(session, "/queue"), time.time())
        with contextlib.suppress(*NET_ERRORS, AttributeError):
            history = await watcher._get(session, "/history?max_items=1")
            for prompt_id, entry in list(history.items())[-1:]:
                if prompt_id != tracker.state.prompt_id:
                    tracker.settle(str(prompt_id), entry, time.time())
        with contextlib.suppress(*NET_ERRORS):
            async with session.ws_connect(f"{url}/ws?clientId={watcher.client_id}") as ws:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(window_s):
                        await watcher._read(ws, session, events.append)
    return tracker.state


async def snapshots(records: list[InstanceRecord]) -> dict[str, JobState]:
    """`snapshot` of every running instance among `records`, at once."""
    running = [r for r in records if r.state == "running"]
    states = await asyncio.gather(*(snapshot(r.id, base_url(r)) for r in running))
    return dict(zip((r.id for r in running), states, strict=True))
