"""A forward HTTP proxy on 127.0.0.1:0 that counts what passes: plain requests and CONNECT tunnels.

Plain requests (``GET http://host:port/path``) are sent on in origin form with
``Connection: close`` (so every request is seen); ``CONNECT host:port`` opens a tunnel and
pipes bytes both ways (TLS passes through untouched). Each request is recorded as
`ProxySeen` (method, target, headers: ``Proxy-Authorization`` included). With `require_auth`
a request without that exact header gets 407.

Use it as ``async with HttpProxy() as proxy:`` inside a test's loop, or in a thread of its own
with ``ThreadedServer(HttpProxy())`` (tests that drive a subprocess).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class ProxySeen:
    method: str
    target: str
    headers: dict[str, str]


class HttpProxy:
    def __init__(self, require_auth: tuple[str, str] | None = None) -> None:
        self.seen: list[ProxySeen] = []
        self.url = ""
        self.port = 0
        self._auth = None
        if require_auth is not None:
            token = base64.b64encode(f"{require_auth[0]}:{require_auth[1]}".encode()).decode()
            self._auth = f"Basic {token}"
        self._server: asyncio.Server | None = None

    def count(self, method: str | None = None) -> int:
        return sum(1 for s in self.seen if method is None or s.method == method)

    async def __aenter__(self) -> HttpProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
        self.seen.append(ProxySeen(method, target, headers))
        if self._auth is not None and headers.get("Proxy-Authorization") != self._auth:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _pipe_both(reader, writer, up_reader, up_writer)
            return
        url = urllib.parse.urlsplit(target)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kept = [
            f"{k}: {v}"
            for k, v in headers.items()
            if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
        ]
        request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
        up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        up_writer.write(request.encode("latin-1"))
        await up_writer.drain()
        await _pipe_both(reader, writer, up_reader, up_writer)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
