"""The sha256 of a segmented download, fed in file order while the connections run.

Segments arrive out of order; the sha256 needs the bytes in order. `PrefixHash` keeps a
cursor, `fed`: every byte below it has been handed to its thread (one thread, so the jobs run
in the order they were queued). A batch that arrives:

- at the cursor is hashed at once, from the buffers it arrived in, while the writer threads
  write it (`offer` returns the job: the connection waits for it before it hands over its next
  batch, as the writer waits for the write, so the connection in front never outruns the
  sha256: on a fast link (a loopback, a LAN, one connection) no byte is read back);
- ahead of the cursor is kept in memory (up to `keep` bytes in all) until the cursor reaches it;
- ahead of the cursor with no room left is only written: `run` reads it back from the part
  (the page cache, most likely) once the written prefix (`Done.prefix`) passes the cursor.

A connection ahead of the cursor is never held back, so parallel ranges on a capped link keep
their speed; only what it could not keep costs a read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.ranges import Done

READ_BACK_STEP = 64 * 1024 * 1024
"""Bytes read back in one job (the loop hears about new batches between jobs)."""


class PrefixHash:
    def __init__(self, part: PartFile, done: Done, total: int, keep: int) -> None:
        self._part = part
        self._done = done
        self._total = total
        self._keep = keep
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dl-sha256")
        self._kept: dict[int, tuple[int, Sequence[bytes]]] = {}  # start -> (end, chunks)
        self._kept_bytes = 0
        self._wake = asyncio.Event()
        self.fed = 0  # bytes below this offset are queued for the sha256
        self.hashed = 0  # bytes below this offset are in the sha256
        self.read_back = 0  # of those, bytes read back from the part

    def offer(self, start: int, end: int, chunks: Sequence[bytes]) -> asyncio.Future[Any] | None:
        """A batch of ``[start, end)`` that arrived (its write may still run). At the cursor:
        the sha256 job, which the caller waits for; else None (kept or left to `run`)."""
        if start == self.fed:
            job = self._feed(end, self._part.digest_at, start, chunks)
            self._feed_kept()
            return job
        if start > self.fed and self._kept_bytes + (end - start) <= self._keep:
            self._kept[start] = (end, chunks)
            self._kept_bytes += end - start
        return None

    def written(self) -> None:
        """The written ranges grew: `run` may read back what it could not keep."""
        self._wake.set()

    async def run(self) -> None:
        """Read back what was written but neither hashed nor kept, until every byte is in
        the sha256 (the writers call `written` as they go)."""
        while self.hashed < self._total:
            self._feed_kept()
            written = self._done.prefix()
            if written > self.fed:
                ahead = [start for start in self._kept if start > self.fed]
                end = min(written, self.fed + READ_BACK_STEP, *ahead)
                self.read_back += end - self.fed
                await self._feed(end, self._part.hash_range, self.fed, end)
                continue
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    def _feed_kept(self) -> None:
        """Queue the kept batches that start at the cursor (another connection's bytes)."""
        while (found := self._kept.pop(self.fed, None)) is not None:
            end, chunks = found
            self._kept_bytes -= end - self.fed
            self._feed(end, self._part.digest_at, self.fed, chunks)

    def _feed(self, end: int, fn: Callable[..., None], *args: Any) -> asyncio.Future[Any]:
        """Queue `fn(*args)`, which hashes the bytes from the cursor to `end`."""
        job = asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        self.fed = end

        def hashed(future: asyncio.Future[Any]) -> None:
            if not future.cancelled() and future.exception() is None:
                self.hashed = max(self.hashed, end)
                self._wake.set()

        job.add_done_callback(hashed)
        return job
