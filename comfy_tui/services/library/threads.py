"""Blocking file work (hashing, copying, walking) in a worker thread that a cancel can stop.

`ThreadJob` starts `fn(cancel_event)` with `asyncio.to_thread`. The async side polls it with
`wait(interval)` to emit progress, and `stop()` (in a `finally`) sets the event and waits for
the thread to notice, so nothing keeps writing after the job's cleanup has run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Cancelled", "Counter", "ThreadJob", "run_blocking"]

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside the thread when its cancel event is set."""


class Counter:
    """Bytes (or items) done, written by one thread and read by the event loop."""

    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> None:
        self.value += n


class ThreadJob(Generic[T]):
    def __init__(self, fn: Callable[[threading.Event], T]) -> None:
        self.cancel = threading.Event()
        self.future: asyncio.Future[T] = asyncio.ensure_future(asyncio.to_thread(fn, self.cancel))

    async def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True once the thread has finished."""
        await asyncio.wait({self.future}, timeout=timeout)
        return self.future.done()

    async def result(self) -> T:
        return await asyncio.shield(self.future)

    async def stop(self) -> None:
        """Ask the thread to stop and wait until it has (a no-op once it is done)."""
        if not self.future.done():
            self.cancel.set()
            await asyncio.wait({self.future})
        if not self.future.cancelled():
            self.future.exception()  # retrieved, so asyncio does not log it as lost


async def run_blocking(fn: Callable[[threading.Event], T]) -> T:
    """Run `fn` in a thread; a cancel of the caller stops the thread before propagating."""
    job = ThreadJob(fn)
    try:
        return await job.result()
    finally:
        await job.stop()
