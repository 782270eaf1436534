"""A download server on 127.0.0.1:0 that misbehaves on purpose, for the download engine's tests.

Each served path is a `Route`: the bytes (or several versions of them, one per request), and
the faults to play: fail with given statuses first (500, 429 + Retry-After), drop the
connection after N bytes, ignore Range, ignore If-Range, redirect, send a hostile
Content-Disposition, throttle. Every request is recorded (method, path, headers).

Use `async with DownloadServer() as srv` inside a test's event loop, or `ThreadedServer(srv)`
to run it in a thread (for tests that drive a `comfy-tui` subprocess).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Route:
    """What one path serves. `versions[i]` is served from request i on (the last one stays)."""

    versions: list[bytes] = field(default_factory=list)
    etags: list[str] | None = None
    last_modified: str | None = None
    fail_first: list[int] = field(default_factory=list)
    retry_after: str | None = None
    drop_after: list[int] = field(default_factory=list)
    """Byte counts: the n-th GET of the body is cut after drop_after[n] bytes of this answer."""
    ignore_range: bool = False
    ignore_if_range: bool = False
    content_disposition: str | None = None
    redirect_to: str | None = None
    redirect_status: int = 302
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rate: int | None = None
    """Bytes per second (throttled in 64 KiB steps)."""
    send_length: bool = True
    gets: int = 0

    def data(self) -> bytes:
        index = min(self.gets, len(self.versions) - 1)
        return self.versions[index]

    def etag(self) -> str | None:
        if self.etags is None:
            return '"' + hashlib.sha256(self.data()).hexdigest()[:16] + '"'
        index = min(self.gets, len(self.etags) - 1)
        return self.etags[index] or None


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    query: str = ""


class DownloadServer:
    """`ssl_context` serves https (a test certificate, see `tests/fakes/tls.py`)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.active = 0
        self.most_active = 0
        """Bodies being sent right now, and the most at once (parallel downloads)."""
        self.base = ""
        self._runner: web.AppRunner | None = None

    def add(self, path: str, data: bytes | None = None, **options: Any) -> str:
        route = Route(versions=[data] if data is not None else [], **options)
        self.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def seen(self, path: str, method: str = "GET") -> list[Seen]:
        return [r for r in self.requests if r.path == path and r.method == method]

    async def __aenter__(self) -> DownloadServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        scheme = "https" if self.ssl_context is not None else "http"
        self.base = f"{scheme}://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Seen(request.method, request.path, dict(request.headers), request.query_string)
        )
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such file")
        if route.fail_first:
            status = route.fail_first.pop(0)
            headers = {"Retry-After": route.retry_after} if route.retry_after else {}
            return web.Response(status=status, headers=headers, text="try later")
        if route.redirect_to is not None:
            return web.Response(
                status=route.redirect_status, headers={"Location": route.redirect_to}
            )
        if route.status is not None:
            return web.Response(status=route.status, headers=route.headers, text="no")
        try:
            return await self._serve(request, route)
        finally:
            if request.method == "GET":
                route.gets += 1

    async def _serve(self, request: web.Request, route: Route) -> web.StreamResponse:
        data = route.data()
        headers = dict(route.headers)
        etag = route.etag()
        if etag:
            headers["ETag"] = etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.content_disposition:
            headers["Content-Disposition"] = route.content_disposition
        if not route.ignore_range:
            headers["Accept-Ranges"] = "bytes"
        start = 0
        wanted = request.headers.get("Range", "")
        if_range = request.headers.get("If-Range")
        validator_ok = (
            route.ignore_if_range
            or if_range is None
            or if_range
            in (
                etag,
                route.last_modified,
            )
        )
        end = len(data)
        ranged = wanted.startswith("bytes=") and not route.ignore_range and validator_ok
        if ranged:
            first, _, last = wanted[6:].partition("-")
            start = int(first or 0)
            end = min(len(data), int(last) + 1) if last.strip() else len(data)
        if start >= len(data) and start > 0:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return web.Response(status=416, headers=headers)
        body = data[start:end]
        status = 206 if ranged else 200
        if ranged:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        response = web.StreamResponse(status=status, headers=headers)
        if route.send_length:
            response.content_length = len(body)
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        cut = route.drop_after.pop(0) if route.drop_after else None
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await _send(request, response, body if cut is None else body[:cut], route.rate)
        finally:
            self.active -= 1
        if cut is not None:
            await asyncio.sleep(0.05)  # let the client read what was sent before the cut
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write_eof()
        return response


async def _send(
    request: web.Request, response: web.StreamResponse, body: bytes, rate: int | None
) -> None:
    step = 64 * 1024 if rate else 1024 * 1024
    view = memoryview(body)
    for at in range(0, len(body), step):
        await response.write(view[at : at + step])
        if rate:
            await asyncio.sleep(step / rate)


class ThreadedServer:
    """Runs an async-context server (DownloadServer, FakeHub) in a thread with its own loop."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.server:
            self._ready.set()
            await self._stop.wait()

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the server's loop (to change routes while it serves)."""
        self._loop.call_soon_threadsafe(fn)

    def __enter__(self) -> Any:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake server did not start")
        return self.server

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()
