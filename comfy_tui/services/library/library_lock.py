"""The library lock: one import, dedupe or removal changes the library's files at a time.

An `flock` on `library/.lock`, taken without blocking the event loop (polled), held by an open
file description, so two jobs of one process exclude each other as two processes do. The kernel
drops it when a process dies, so a killed job never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from comfy_tui.aio import sleep
from comfy_tui.events import LogLine
from comfy_tui.services.flock import try_lock

__all__ = ["LibraryLock", "clear_staging", "clear_staging_when_free"]

POLL_S = 0.1


def clear_staging(staging: Path) -> int:
    """Remove what a killed import left (call with the library lock held)."""
    removed = 0
    for entry in staging.iterdir():
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            removed += 1
    return removed


def clear_staging_when_free(lock_path: Path, staging: Path) -> None:
    """Remove what a killed import left, when no other library job runs (an import in
    progress keeps its staging file). Blocking; a scan does this first."""
    lock = LibraryLock(lock_path)
    if lock.try_acquire():
        try:
            clear_staging(staging)
        finally:
            lock.release()


class LibraryLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is None:
            self._fd = try_lock(self.path)
        return self._fd is not None

    async def acquire(self, job: str) -> AsyncIterator[LogLine]:
        """Wait for the lock; says once that it waits (iterate it: `async for ev in ...`)."""
        told = False
        while not self.try_acquire():
            if not told:
                told = True
                yield LogLine(f"{job}: waiting for another library job to finish", source="lock")
            await sleep(POLL_S)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the description releases the flock
            self._fd = None
