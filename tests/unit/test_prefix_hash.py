"""`PrefixHash`: batches at the cursor hashed from memory, batches ahead kept or read back."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.prefix_hash import PrefixHash
from comfy_tui.services.downloads.ranges import Done

DATA = os.urandom(100_000)


async def test_in_order_ahead_kept_and_read_back(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "m.bin")
    part.open()
    part.allocate(len(DATA))
    done = Done()
    sha = PrefixHash(part, done, len(DATA), keep=20_000)
    hashing = asyncio.create_task(sha.run())

    def arrive(start: int, end: int) -> asyncio.Future[object] | None:
        chunks = [DATA[start : start + 5000], DATA[start + 5000 : end]]
        job = sha.offer(start, end, chunks)
        part.write_at(start, chunks)
        done.add(start, end)
        sha.written()
        return job

    try:
        assert arrive(60_000, 80_000) is None  # ahead: kept (20,000 bytes fill the room)
        assert arrive(30_000, 60_000) is None  # ahead, no room: only written
        first = arrive(0, 30_000)  # at the cursor: hashed now, the caller waits for it
        assert first is not None
        await first
        assert arrive(80_000, 100_000) is None  # ahead of the cursor, the room still taken
        await asyncio.wait_for(hashing, 10)
        assert part.hexdigest() == hashlib.sha256(DATA).hexdigest()
        assert sha.read_back == 50_000  # only the two batches that found no room
        assert sha.hashed == sha.fed == len(DATA)
    finally:
        hashing.cancel()
        sha.close()
        part.close()


async def test_a_resumed_part_is_read_back_from_the_start(tmp_path: Path) -> None:
    target = tmp_path / "m.bin"
    Path(f"{target}.part").write_bytes(DATA[:40_000] + bytes(60_000))
    part = PartFile(target)
    part.open()
    done = Done([(0, 40_000)])
    sha = PrefixHash(part, done, len(DATA), keep=0)
    hashing = asyncio.create_task(sha.run())
    try:
        job = sha.offer(40_000, len(DATA), [DATA[40_000:]])  # not at the cursor (0)
        assert job is None
        part.write_at(40_000, [DATA[40_000:]])
        done.add(40_000, len(DATA))
        sha.written()
        await asyncio.wait_for(hashing, 10)
        assert part.hexdigest() == hashlib.sha256(DATA).hexdigest()
        assert sha.read_back == len(DATA)
    finally:
        sha.close()
        part.close()
