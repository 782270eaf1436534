"""A package index on 127.0.0.1 (aiohttp) that gives each wheel's size, as PyPI does.

Serves the PEP 691 JSON simple API from a folder of wheels: `/simple/<name>/` lists each file
with its `size`, sha256 and `core-metadata` (PEP 658/714), and `/files/<wheel>.metadata` is the
wheel's METADATA, so a resolver never needs the wheel itself. `/files/<wheel>` serves the
wheel too; `requests` records every path asked for (a test checks that no wheel was fetched).
Run it with `async with` in the test's loop, or `ThreadedIndex` (a thread) for sync tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import zipfile
from pathlib import Path

from aiohttp import web

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        return whl.read(name)


class SizedIndex:
    """The index of the wheels in `folder`; `url` is its `/simple` root once started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def wheels(self, name: str) -> list[Path]:
        return sorted(
            w for w in self.folder.glob("*.whl") if _normal(w.name.split("-", 1)[0]) == name
        )

    async def _project(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        name = _normal(request.match_info["name"])
        files = [
            {
                "filename": w.name,
                "url": f"/files/{w.name}",
                "hashes": {"sha256": hashlib.sha256(w.read_bytes()).hexdigest()},
                "size": w.stat().st_size,
                "core-metadata": {"sha256": hashlib.sha256(_metadata(w)).hexdigest()},
            }
            for w in self.wheels(name)
        ]
        if not files:
            raise web.HTTPNotFound()
        body = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        return web.json_response(body, content_type=JSON_TYPE)

    async def _file(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        filename = request.match_info["file"]
        if filename.endswith(".metadata"):
            wheel = self.folder / filename.removesuffix(".metadata")
            if wheel.is_file():
                return web.Response(body=_metadata(wheel))
        elif (self.folder / filename).is_file() and "/" not in filename:
            return web.Response(body=(self.folder / filename).read_bytes())
        raise web.HTTPNotFound()

    def wheel_downloads(self) -> list[str]:
        return [p for p in self.requests if p.endswith(".whl")]

    async def __aenter__(self) -> SizedIndex:
        app = web.Application()
        app.router.add_get("/simple/{name}/", self._project)
        app.router.add_get("/files/{file}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/simple"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class ThreadedIndex:
    """`SizedIndex` in a thread with its own event loop, for tests that run the CLI."""

    def __init__(self, index: SizedIndex) -> None:
        self.index = index
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> SizedIndex:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.index.__aenter__(), self._loop).result(10)
        return self.index

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.index.__aexit__(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
