"""Several connections at once: the file fetched in byte ranges, written where they belong.

`Segmented` runs up to `connections` workers. Each takes the lowest range still missing
(pieces of `piece` bytes, `ranges.pieces`), asks for it (``Range: bytes=a-b`` + ``If-Range``),
and writes what arrives with ``pwritev`` at its offset in the part file (a pool of writer
threads; one batch in flight per worker, what arrives meanwhile is the next batch, as in
`pipeline.ChunkSink`, so the event loop only moves buffers). With a
`ramp_window`, `ranges.Ramp` decides how many: the first worker asks for each gap whole (one
stream), and a worker added later, or one that ran out of pieces, takes the upper half of
what the busiest running piece has not read yet (`_split`), so no connection is left alone
with a long tail. The first worker does not ask at all: it reads on from the engine's
first answer (the whole file), so a link one connection fills costs one request, as one stream
would. Written ranges go into
`Done`, which the sidecar records about once a second and on every stop: a kill loses at most
the last second, a resume asks only for the gaps.

The sha256 runs beside the transfer in its own thread, in file order (`prefix_hash`): a batch
that continues what was hashed is hashed from its buffers while it is written, and its
connection waits for both before it hands over the next one (so the connection in front never
outruns the sha256 and nothing is left to hash at the end); a batch further on is kept in
memory (up to `KEEP_MAX` bytes in all) until the hash reaches it, or else read back from the
part (the page cache) once the bytes before it are written. Pieces are handed out lowest first,
so little is far ahead.

A dropped connection or a 5xx/429 puts the rest of its piece back at the front of the queue and
that worker retries after the backoff (`RetryPolicy`, counted per worker, reset by progress).
A server that stops honouring ranges, or a file that changed (200 instead of 206, another
validator, another length), raises `RangesLost`: the engine starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp

from comfy_tui.services.downloads.data import DownloadError
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.pipeline import BATCH_MAX, FLUSH_INTERVAL, WRITE_MIN
from comfy_tui.services.downloads.prefix_hash import PrefixHash
from comfy_tui.services.downloads.protocol import (
    NETWORK_ERRORS,
    Retry,
    Validator,
    host_of,
    leftover,
    open_following,
    parse_content_range,
)
from comfy_tui.services.downloads.ranges import Done, Ramp, pieces
from comfy_tui.services.downloads.retry import RetryPolicy, parse_retry_after
from comfy_tui.services.net import Network

SAVE_INTERVAL = 1.0
"""Seconds between sidecar updates while the transfer runs."""
SPLIT_MARGIN = 16 * 1024 * 1024
"""A running piece is split only this far beyond the byte its connection reads now."""
KEEP_MAX = 64 * 1024 * 1024
"""Bytes of batches ahead of the sha256 kept in memory until it reaches them."""


class RangesLost(Exception):
    """The server no longer serves this file in ranges (it changed, or ignores Range)."""


@dataclass(eq=False)
class _Piece:
    start: int  # the first byte not yet written
    end: int
    reading: int = 0  # where the next byte its connection receives goes


@dataclass(frozen=True)
class Target:
    """What every range request asks: the (final) URL, its headers, and what must match."""

    url: str
    headers: Mapping[str, str]
    validator: Validator
    total: int
    token: str | None
    allow_local: bool


class Segmented:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        network: Network,
        part: PartFile,
        target: Target,
        done: Done,
        connections: int,
        piece: int,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
        save: Callable[[Done], Awaitable[None]],
        error_for_status: Callable[[int, Mapping[str, str]], Exception],
        clock: Callable[[], float] = time.monotonic,
        ramp_window: float = 0.0,
        first: aiohttp.ClientResponse | None = None,
    ) -> None:
        self._session = session
        self._network = network
        self._part = part
        self._target = target
        self.done = done
        self._connections = connections
        self._retry = retry
        self._sleep = sleep
        self._save = save
        self._error_for_status = error_for_status
        self._clock = clock
        self._ramp_window = ramp_window
        self._piece = piece
        # Ramping up, the first connection asks for each gap whole (like one stream); each
        # connection added later takes half of what a running one has not read yet (`_split`).
        cut = piece if ramp_window <= 0 else target.total
        self._queue: deque[_Piece] = deque(
            _Piece(a, b, a) for a, b in pieces(done.gaps(target.total), cut)
        )
        self._running: list[_Piece] = []
        self._writers = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="dl-write")
        self.hash = PrefixHash(part, done, target.total, KEEP_MAX)
        self._retire = 0  # workers to stop after their current piece (`Ramp`)
        # The engine's first answer (HTTP 200, the whole file): the first piece streams from
        # it instead of asking again, so a fast link never pays for a second request.
        self._first = first if ramp_window > 0 and done.total == 0 else None

    # --- the whole transfer ----------------------------------------------------------------
    async def run(self, tick: float) -> AsyncGenerator[int, None]:
        """Yield the bytes on disk about every `tick` seconds; return once every byte is
        written and hashed. Raises the first worker's failure (the others are stopped).
        Connections are added as `Ramp` says (all at once with a `ramp_window` of 0)."""
        ramping = self._ramp_window > 0  # the queue then holds whole gaps, split later
        limit = max(1, self._connections if ramping else min(self._connections, len(self._queue)))
        ramp = Ramp(limit, self._ramp_window, self._clock(), self.done.total)
        workers = [
            asyncio.create_task(self._worker(), name=f"segment-{n}") for n in range(ramp.workers)
        ]
        hashing = asyncio.create_task(self.hash.run(), name="segment-sha256")
        saved = self._clock()
        try:
            pending = set(workers)
            while pending:
                finished, pending = await asyncio.wait(
                    pending, timeout=tick, return_when=asyncio.FIRST_EXCEPTION
                )
                for task in finished:
                    task.result()  # re-raise a worker's failure
                change = ramp.step(self._clock(), self.done.total)
                if change > 0:
                    self._split()
                if change > 0 and self._queue:
                    more = asyncio.create_task(self._worker(), name=f"segment-{len(workers)}")
                    workers.append(more)
                    pending.add(more)
                elif change < 0:
                    self._let_go()
                if self._clock() - saved >= SAVE_INTERVAL:
                    saved = self._clock()
                    await self._save(self.done)
                yield self.done.total
            await hashing
        finally:
            if self._first is not None:  # never started streaming: the connection goes
                self._first.close()
                self._first = None
            for task in (*workers, hashing):
                task.cancel()
            await asyncio.gather(*workers, hashing, return_exceptions=True)
            self._writers.shutdown(wait=False)
            self.hash.close()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._save(self.done))

    def _split(self) -> None:
        """Queue the upper half of what the running piece with the most left has not read
        yet (in pieces of `piece` bytes); that piece now ends where the half begins. Called
        when a connection is added and when one runs out of pieces, so no connection is left
        alone with a long tail."""
        left = [p for p in self._running if p.end - p.reading > 2 * SPLIT_MARGIN]
        if not left:
            return
        widest = max(left, key=lambda p: p.end - p.reading)
        middle = widest.reading + SPLIT_MARGIN + (widest.end - widest.reading - SPLIT_MARGIN) // 2
        upper = pieces([(middle, widest.end)], self._piece)
        widest.end = middle
        self._queue.extend(_Piece(a, b, a) for a, b in upper)

    def _let_go(self) -> None:
        """One connection fewer: the newest stops at the byte it reads now (what it has not
        read goes back to the queue, for the ones that stay) and its worker ends."""
        self._retire += 1
        if len(self._running) > 1:
            newest = self._running[-1]
            if newest.end > newest.reading:
                self._queue.extend(_Piece(a, b, a) for a, b in pieces(
                    [(newest.reading, newest.end)], self._piece))  # fmt: skip
                newest.end = newest.reading

    # --- one connection --------------------------------------------------------------------
    async def _worker(self) -> None:
        failures = 0
        while True:
            if self._retire and failures == 0:
                self._retire -= 1
                return
            if not self._queue:
                self._split()  # nothing left to take: share what another one still reads
            if not self._queue:
                return
            piece = self._queue.popleft()
            before = piece.start
            self._running.append(piece)
            try:
                piece.reading = piece.start
                first, self._first = self._first, None
                if first is not None and piece.start == 0:
                    async with first:  # closed as soon as its piece is written
                        await self._stream(first, piece)
                    if piece.start < piece.end:
                        raise Retry("the connection closed before the end of its range")
                else:
                    await self._fetch(piece)
            except Retry as retry:
                if piece.start < piece.end:
                    self._queue.appendleft(piece)
                failures = 1 if piece.start > before else failures + 1
                if failures > self._retry.max_retries:
                    raise DownloadError(
                        f"{retry.reason}; gave up after {failures} tries; the partial file"
                        " is kept: run it again to resume",
                        resumable=True,
                    ) from None
                delay = retry.retry_after
                if delay is None:
                    delay = self._retry.delay(failures)
                await self._sleep(min(delay, self._retry.max_retry_after))
            except BaseException:
                if piece.start < piece.end:
                    self._queue.appendleft(piece)
                raise
            else:
                failures = 0
            finally:
                self._running.remove(piece)

    async def _fetch(self, piece: _Piece) -> None:
        target = self._target
        headers = dict(target.headers)
        headers["Range"] = f"bytes={piece.start}-{piece.end - 1}"
        headers["If-Range"] = target.validator.if_range() or ""
        response, _url = await open_following(
            self._session,
            target.url,
            headers,
            token=target.token,
            allow_local=target.allow_local,
            network=self._network,
        )
        async with response:
            status = response.status
            if status == 429 or status >= 500:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                raise Retry(f"HTTP {status} from {host_of(target.url)}", wait)
            if status in (200, 416):
                raise RangesLost(f"the server answered HTTP {status} to a range request")
            if status != 206:
                raise self._error_for_status(status, response.headers)
            span = parse_content_range(response.headers.get("Content-Range"))
            if span is None or span[0] != piece.start or span[2] not in (None, target.total):
                raise RangesLost("the server sent another range than the one asked for")
            fresh = Validator.from_headers(response.headers)
            if (fresh.etag or fresh.last_modified) and not target.validator.same(fresh):
                raise RangesLost("the file changed on the server")
            await self._stream(response, piece)
        if piece.start < piece.end:
            raise Retry("the connection closed before the end of its range")

    async def _stream(self, response: aiohttp.ClientResponse, piece: _Piece) -> None:
        loop = asyncio.get_running_loop()
        chunks: list[bytes] = []
        buffered = 0
        at = piece.start  # where the next received byte goes
        flushed = self._clock()
        pending: asyncio.Future[Any] | None = None

        async def settle() -> None:
            nonlocal pending
            if pending is not None:
                done, pending = pending, None
                await asyncio.shield(done)

        def submit() -> None:
            nonlocal chunks, buffered, pending
            start, batch = at - buffered, chunks
            chunks, buffered = [], 0
            alone = len(self._running) == 1  # then the writeback starts now, as for one stream
            end = start + sum(len(c) for c in batch)
            hashing = self.hash.offer(start, end, batch)
            future = loop.run_in_executor(self._writers, self._part.write_at, start, batch, alone)

            def record(f: asyncio.Future[Any]) -> None:
                if not f.cancelled() and f.exception() is None:
                    self.done.add(start, end)
                    piece.start = max(piece.start, end)
                    self.hash.written()

            future.add_done_callback(record)
            pending = future if hashing is None else asyncio.gather(future, hashing)

        try:
            async for chunk in response.content.iter_any():
                room = piece.end - at
                if len(chunk) > room:
                    chunk = chunk[:room]
                chunks.append(chunk)
                buffered += len(chunk)
                at += len(chunk)
                piece.reading = at
                if pending is not None and not pending.done() and buffered < BATCH_MAX:
                    pass  # the writer is busy: the next batch grows meanwhile
                elif buffered >= WRITE_MIN or self._clock() - flushed >= FLUSH_INTERVAL:
                    await settle()
                    submit()
                    flushed = self._clock()
                if at >= piece.end:
                    break
        except NETWORK_ERRORS as exc:
            rest = leftover(response.content)[: piece.end - at]
            if rest:
                chunks.append(rest)
                buffered += len(rest)
                at += len(rest)
            await settle()
            if chunks:
                submit()
            await settle()
            raise Retry(f"connection lost ({type(exc).__name__})") from None
        except BaseException:
            if chunks:  # cancelled: keep what arrived (its range is recorded once written)
                await settle()
                submit()
            await settle()
            raise
        await settle()
        if chunks:
            submit()
        await settle()
