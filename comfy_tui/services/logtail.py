"""Follow a growing log file: incremental reads only, bounded work per read, and no surprise
when the file is truncated or rotated (renamed away and created anew, or copied to `.1` and
truncated: the lines written after the last read are then read from the copy).

`LogTail.read_new` is blocking and cheap (it reads only what was appended, at most
`max_bytes` per call); async callers use `poll`/`follow`, which run it in a thread. Lines are
decoded as UTF-8 (bad bytes replaced), and a line with carriage returns (a progress bar)
keeps only its last segment, as a terminal would show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

MAX_LINE_CHARS = 4000
READ_BYTES = 4 * 1024 * 1024


def clean_line(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1]
    return text[:MAX_LINE_CHARS]


def last_lines(path: Path, count: int, block: int = 64 * 1024) -> tuple[list[str], int]:
    """The last `count` complete lines of `path` and the byte offset after them.

    Reads backwards from the end one block at a time, so a huge log costs only its tail.
    """
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return [], 0
    with f:
        end = f.seek(0, os.SEEK_END)
        data = b""
        pos = end
        while pos > 0 and data.count(b"\n") <= count:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    complete_end = data.rfind(b"\n") + 1  # a trailing partial line is left for the follower
    body = data[:complete_end]
    lines = body.split(b"\n")[:-1] if body else []
    if pos > 0 and lines:
        lines = lines[1:]  # the first one may be cut
    return [clean_line(x) for x in lines[-count:]] if count > 0 else [], pos + complete_end


class LogTail:
    """Reads the lines appended to `path` since the last read.

    `start` is the byte offset to begin at; None means the current end of the file. A file
    that does not exist yet is read from its beginning once it appears.
    """

    def __init__(self, path: Path, start: int | None = None, max_bytes: int = READ_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._initial = start
        self._file: BinaryIO | None = None
        self._inode: int | None = None
        self._offset = 0
        self._partial = b""
        self.resets = 0  # how many times truncation or rotation made us start over

    @property
    def offset(self) -> int:
        return self._offset

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self, offset: int | None) -> bool:
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return False
        st = os.fstat(f.fileno())
        self._file, self._inode = f, st.st_ino
        self._offset = st.st_size if offset is None else min(offset, st.st_size)
        self._partial = b""
        return True

    def _read_chunk(self) -> bytes:
        assert self._file is not None
        self._file.seek(self._offset)
        data = self._file.read(self.max_bytes)
        self._offset += len(data)
        return data

    def _split(self, data: bytes, *, final: bool = False) -> list[str]:
        buf = self._partial + data
        cut = len(buf) if final else buf.rfind(b"\n") + 1
        self._partial = buf[cut:]
        if not cut:
            return []
        body = buf[:cut]
        if body.endswith(b"\n"):
            body = body[:-1]
        return [clean_line(x) for x in body.split(b"\n")]

    def read_new(self) -> list[str]:
        """Complete lines appended since the last call (a partial last line waits)."""
        if self._file is None and not self._open(self._initial):
            self._initial = 0  # it appears later: read it whole
            return []
        try:
            st: os.stat_result | None = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if st is not None and st.st_ino != self._inode:  # rotated: drain the old, then switch
            data = self._read_chunk()
            if len(data) == self.max_bytes:
                return self._split(data)
            lines = self._split(data, final=True)
            self.close()
            self.resets += 1
            if self._open(0):
                lines += self._split(self._read_chunk())
            return lines
        if st is not None and st.st_size < self._offset:  # truncated: start over
            missed = self._from_copy()
            self.resets += 1
            self._offset = 0
            self._partial = b""
            return missed + self._split(self._read_chunk())
        return self._split(self._read_chunk())

    def _from_copy(self) -> list[str]:
        """After a copy-truncate rotation: what was written after our last read, from the
        copy (`<log>.1`), when it is that copy (at least as long as what we had read)."""
        copy = self.path.with_name(self.path.name + ".1")
        try:
            with copy.open("rb") as f:
                if os.fstat(f.fileno()).st_size < self._offset:
                    return []
                f.seek(self._offset)
                return self._split(f.read(self.max_bytes), final=True)
        except FileNotFoundError:
            return []

    async def poll(self) -> list[str]:
        return await asyncio.to_thread(self.read_new)

    async def follow(self, interval: float = 0.1) -> AsyncIterator[list[str]]:
        """Batches of new lines, forever; a burst comes as a few big batches, not many small."""
        try:
            while True:
                lines = await self.poll()
                if lines:
                    yield lines
                    if len(lines) > 1000:
                        continue  # more is probably waiting: read again at once
                await asyncio.sleep(interval)
        finally:
            with contextlib.suppress(OSError):
                self.close()
