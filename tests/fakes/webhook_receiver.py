"""A loopback webhook receiver: records every JSON POST; can fail the first N with HTTP 500."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


class WebhookReceiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts = 0
        self.received: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _hook(self, request: web.Request) -> web.Response:
        self.attempts += 1
        self.queries.append(request.query_string)
        if self.attempts <= self.fail_first:
            return web.Response(status=500)
        self.received.append(await request.json())
        self.arrived.set()
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self.url

    async def wait_for(self, kind: str, timeout: float = 30.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for doc in self.received:
                    if doc["kind"] == kind:
                        return doc
                self.arrived.clear()
                await self.arrived.wait()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
