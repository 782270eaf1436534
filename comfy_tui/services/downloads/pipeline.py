"""From network chunks to the part file: batched, written and hashed in two worker threads.

`PartThreads` owns the two single-thread executors of one download: ``io`` does every file
operation of the part in order (open, rehash, write, rename, close); ``sha`` feeds the
sha256 at the same time as ``io`` writes the same batch. `ChunkSink` keeps one batch in the
threads and collects what arrives meanwhile; that becomes the next batch as soon as the
threads are free (at least `WRITE_MIN` bytes, or whatever arrived within a second; the loop
waits only when `BATCH_MAX` bytes are waiting).

Why batches grow with the wait: a thread that made a system call (the write, the hash of a
large buffer) needs the GIL back to go on, and an event loop receiving at line speed gives it
up only every few milliseconds. Each batch costs each thread a few such turns whatever its
size, so the slower the hand-over, the more each batch carries: one ``pwritev`` and one
``update`` for all of it.

A batch, once handed over, is never cancelled (awaited through `asyncio.shield`), so the part
never gets a gap; a cancelled download queues its last chunks behind it before the close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from comfy_tui.services.downloads.partfile import PartFile

T = TypeVar("T")

WRITE_MIN = 1024 * 1024
"""A batch is handed over once this much arrived (or `FLUSH_INTERVAL` passed)."""
BATCH_MAX = 32 * 1024 * 1024
"""While the threads are busy, at most this much is collected before the loop waits."""
FLUSH_INTERVAL = 1.0
"""On a slow link bytes still reach the part at least this often (a kill loses little)."""


class PartThreads:
    def __init__(self) -> None:
        self.io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="download")
        self.sha = ThreadPoolExecutor(max_workers=1, thread_name_prefix="download-sha256")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on the io thread, after everything queued before it."""
        return await asyncio.get_running_loop().run_in_executor(self.io, fn, *args)

    def store(self, part: PartFile, chunks: list[bytes], at: int) -> asyncio.Future[Any]:
        """Write `chunks` from offset `at` on (io thread) and hash them (sha thread) at the
        same time. A write queued behind a failed one fails too (`PartFile.write`)."""
        loop = asyncio.get_running_loop()
        wrote = loop.run_in_executor(self.io, part.write, chunks, at)
        hashed = loop.run_in_executor(self.sha, part.digest, chunks)
        return asyncio.gather(wrote, hashed)

    async def close(self, part: PartFile | None) -> None:
        """Close the part after any write still queued, then stop both threads."""
        if part is not None:
            closing = asyncio.get_running_loop().run_in_executor(self.io, part.close)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(closing)
        self.io.shutdown(wait=False)
        self.sha.shutdown(wait=False)


class ChunkSink:
    """Collects the body's chunks and hands them to `PartThreads` in batches.

    `add` and `finish` raise the OSError of a failed write (ENOSPC); what was written stays.
    """

    def __init__(self, threads: PartThreads, part: PartFile, clock: Callable[[], float]) -> None:
        self._threads = threads
        self._part = part
        self._clock = clock
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._at = part.size  # where the next batch goes
        self._flushed = clock()
        self._pending: asyncio.Future[Any] | None = None

    async def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._pending is not None:
            if not self._pending.done() and self._buffered < BATCH_MAX:
                return  # the threads are busy: this batch grows meanwhile
            await self._wait()
        now = self._clock()
        if self._buffered >= WRITE_MIN or now - self._flushed >= FLUSH_INTERVAL:
            self._pending = self._threads.store(self._part, self._chunks, self._at)
            self._at += self._buffered
            self._chunks, self._buffered, self._flushed = [], 0, now

    async def finish(self) -> None:
        """Everything received is written and hashed (also after a broken connection)."""
        await self._wait()
        if self._chunks:
            chunks, self._chunks, self._buffered = self._chunks, [], 0
            await asyncio.shield(self._threads.store(self._part, chunks, self._at))

    def abandon(self) -> None:
        """Cancelled: queue the unwritten chunks behind the batch in flight (not hashed:
        a resume re-hashes the part)."""
        if self._chunks:
            chunks, self._chunks = self._chunks, []
            with contextlib.suppress(RuntimeError):  # the threads are already shut down
                self._threads.io.submit(self._part.write, chunks, self._at)

    async def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await asyncio.shield(pending)
