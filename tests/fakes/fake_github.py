"""A fake GitHub releases API on 127.0.0.1:0 (aiohttp): pages, ETags, rate limits, failures.

Serves `GET /repos/{owner}/{repo}/releases?per_page=&page=` like GitHub: newest first, a
`Link: <...>; rel="next"` header while pages remain, a weak ETag per page and 304 for a
matching `If-None-Match`. `script` holds faults for the next requests, one per request:
"500", "drop" (the connection is cut mid-body), "primary" (403 + X-RateLimit-Remaining: 0),
"primary429", "retry_after" (429 + Retry-After), "secondary403" (403 + Retry-After),
"forbidden" (plain 403), "hold" (answer after `release_held()`). `requests` records every
request's path, query and headers.

`FakeGitHub` runs in the test's event loop (`async with`); `ThreadedFakeGitHub` runs it in a
thread of its own for sync tests (snapshots), `with`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from yarl import URL

RESET_AT = 1_900_000_000  # the X-RateLimit-Reset every answer carries (epoch seconds)


def release(
    tag: str,
    published: str = "2025-11-20T12:00:00Z",
    *,
    prerelease: bool = False,
    draft: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    """One release object as GitHub sends it (the fields comfy-tui reads, plus some noise)."""
    return {
        "id": abs(hash(tag)) % 10**8,
        "tag_name": tag,
        "name": tag if name is None else name,
        "draft": draft,
        "prerelease": prerelease,
        "published_at": published,
        "created_at": published,
        "html_url": f"https://github.com/comfyanonymous/ComfyUI/releases/tag/{tag}",
        "body": "notes",
        "assets": [],
    }


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeGitHub:
    """The server. Set `releases`, `per_page_cap`, `script`, `redirect` before or between calls."""

    releases: list[dict[str, Any]] = field(default_factory=list)
    per_page_cap: int = 100
    script: list[str] = field(default_factory=list)
    redirect: dict[str, str] = field(default_factory=dict)  # "owner/repo" -> "owner/repo"
    requests: list[Seen] = field(default_factory=list)
    link_origin: str = ""  # set to make the Link header point at another origin
    url: str = ""
    held: asyncio.Event | None = None
    _runner: web.AppRunner | None = None

    def _rate_headers(self, remaining: int = 59) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used": str(60 - remaining),
            "X-RateLimit-Reset": str(RESET_AT),
            "X-RateLimit-Resource": "core",
        }

    async def _releases(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Seen(request.path, dict(request.query), {k: v for k, v in request.headers.items()})
        )
        fault = self.script.pop(0) if self.script else ""
        if fault == "drop":
            return await self._drop(request)
        if fault == "hold":  # answer only once the test calls release_held()
            self.held = asyncio.Event()
            await self.held.wait()
            fault = ""
        if fault:
            return self._fault(request, fault)
        slug = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if slug in self.redirect:
            target = request.url.with_path(f"/repos/{self.redirect[slug]}/releases")
            return web.Response(status=301, headers={"Location": str(target)})
        per_page = min(int(request.query.get("per_page", "30")), self.per_page_cap)
        page = int(request.query.get("page", "1"))
        last = max(1, -(-len(self.releases) // per_page))
        items = self.releases[(page - 1) * per_page : page * per_page]
        body = json.dumps(items).encode()
        etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {"ETag": etag, **self._rate_headers()}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        if page < last:
            base = request.url.with_query({"per_page": str(per_page), "page": str(page + 1)})
            if self.link_origin:
                base = URL(self.link_origin).with_path(base.path).with_query(base.query)
            headers["Link"] = f'<{base}>; rel="next", <{base.with_query(page=last)}>; rel="last"'
        return web.Response(body=body, headers=headers, content_type="application/json")

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        """Headers and a piece of the body, then the connection is cut."""
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'[{"tag_name": ')
        assert request.transport is not None
        request.transport.close()
        return response

    def _fault(self, request: web.Request, fault: str) -> web.StreamResponse:
        message = json.dumps({"message": "API rate limit exceeded for 127.0.0.1."})
        if fault == "500":
            return web.Response(status=500, text='{"message": "boom"}')
        if fault in ("primary", "primary429"):
            status = 403 if fault == "primary" else 429
            return web.Response(status=status, text=message, headers=self._rate_headers(0))
        if fault == "retry_after":
            return web.Response(status=429, text=message, headers={"Retry-After": "30"})
        if fault == "secondary403":
            return web.Response(status=403, text=message, headers={"Retry-After": "7"})
        if fault == "long_retry_after":
            return web.Response(status=429, text=message, headers={"Retry-After": "3600"})
        if fault == "forbidden":
            return web.Response(status=403, text='{"message": "Resource not accessible"}')
        if fault == "not_json":
            return web.Response(status=200, text="<html>", content_type="text/html")
        raise AssertionError(f"unknown fault {fault}")

    def release_held(self) -> None:
        """Let a request held by the "hold" fault go on (call from the server's loop)."""
        if self.held is not None:
            self.held.set()

    async def __aenter__(self) -> FakeGitHub:
        app = web.Application()
        app.router.add_get("/repos/{owner}/{repo}/releases", self._releases)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class ThreadedFakeGitHub:
    """`FakeGitHub` in a thread with its own event loop, for tests that are not async."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.__aenter__(), self._loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.__aexit__(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
