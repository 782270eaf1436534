"""Blocking file work (hashing, copying, walking) in a worker thread that a cancel can stop.

`ThreadJob` starts `fn(cancel_event)` with `asyncio.to_thread`. The async side polls it with
`wait(interval)` to emit progress, and `stop()` (in a `finally`) sets the event and waits for
the thread to notice, so nothing keeps writing after the job's cleanup has run.
`iterate_in_thread` runs a blocking generator (the scan) in one such thread and hands what it
yields to the event loop, in order.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

from comfy_tui.services.library.cancel import Cancelled

__all__ = ["Cancelled", "Counter", "ThreadJob", "iterate_in_thread", "run_blocking"]

T = TypeVar("T")


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


_END = object()


async def iterate_in_thread(produce: Callable[[threading.Event], Iterator[T]]) -> AsyncIterator[T]:
    """Run the generator `produce(cancel_event)` to its end in one worker thread, yielding
    its items here as they come; what it raises is raised here. Closing this iterator early
    (or cancelling its reader) sets the event and waits for the thread to stop."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[object] = asyncio.Queue()

    def run(cancel: threading.Event) -> None:
        try:
            for item in produce(cancel):
                loop.call_soon_threadsafe(items.put_nowait, item)
        finally:
            loop.call_soon_threadsafe(items.put_nowait, _END)

    job = ThreadJob(run)
    try:
        while (item := await items.get()) is not _END:
            yield item  # type: ignore[misc]  # what `produce` yielded: a T
        await job.result()
    finally:
        await job.stop()
