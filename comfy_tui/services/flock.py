"""Inter-process locks for async jobs: `fcntl.flock` on a lock file, one open file per holder.

Unlike `store.jsonfile.file_lock` (reentrant per thread, which is right for short metadata
writes), each `AsyncFileLock` opens the file anew, so two jobs in the same event loop exclude
each other exactly as two processes do; waiting polls with `asyncio.sleep`, never blocking the
loop. The descriptor is close-on-exec: a child never inherits the lock, and a killed holder
releases it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from comfy_tui.aio import sleep
from comfy_tui.errors import LockBusyError

__all__ = ["AsyncFileLock", "try_lock"]

_POLL_MIN_S = 0.01
_POLL_MAX_S = 0.2


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def try_lock(path: Path, *, shared: bool = False) -> int | None:
    """Take the lock without waiting: the open descriptor (close it to release), or None.

    `shared` takes it shared: any number of shared holders, but never beside an exclusive one.
    """
    fd = _open(path)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class AsyncFileLock:
    """``async with AsyncFileLock(path, timeout=0, busy="..."):`` — exclusive, inter-process.

    `timeout` None waits forever, 0 tries once, a positive number waits that long; then
    `LockBusyError(busy)` is raised. `shared=True` takes it shared (readers beside readers).
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout: float | None = None,
        busy: str = "",
        shared: bool = False,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.shared = shared
        self.busy = busy or f"{path} is locked by another job"
        self._fd: int | None = None

    async def acquire(self) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        delay = _POLL_MIN_S
        while True:
            fd = try_lock(
                self.path, shared=self.shared
            )  # non-blocking: never leaks a lock on cancel
            if fd is not None:
                self._fd = fd
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise LockBusyError(self.busy)
            await sleep(delay)
            delay = min(delay * 2, _POLL_MAX_S)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    async def __aenter__(self) -> AsyncFileLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
