"""sha256 of large files: streamed in big chunks in a worker thread, cancellable, with progress.

`hashlib` and `readinto` release the GIL on large buffers, so hashing in a thread leaves the
event loop free. One reusable buffer avoids an allocation per chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import TypeVar

from comfy_tui.events import Progress
from comfy_tui.services.library.threads import Cancelled, Counter, ThreadJob, run_blocking

__all__ = [
    "CHUNK_BYTES",
    "hash_file",
    "hash_with_progress",
    "sha256_file",
    "sha256_stream",
    "track",
]

T = TypeVar("T")

CHUNK_BYTES = 8 * 1024 * 1024
PROGRESS_INTERVAL_S = 0.1


def sha256_stream(
    path: Path,
    *,
    progress: Counter | None = None,
    cancel: threading.Event | None = None,
    chunk: int = CHUNK_BYTES,
    sink: int | None = None,
) -> str:
    """Hash `path`; with `sink` (a writable fd) also write every byte there (one read, two uses)."""
    digest = hashlib.sha256()
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        with contextlib.suppress(OSError, AttributeError):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled(str(path))
            n = f.readinto(buffer)
            if not n:
                break
            part = view[:n]
            digest.update(part)
            if sink is not None:
                written = 0
                while written < n:
                    written += os.write(sink, part[written:])
            if progress is not None:
                progress.add(n)
    return digest.hexdigest()


def sha256_file(
    path: Path, *, progress: Counter | None = None, cancel: threading.Event | None = None
) -> str:
    """The hex sha256 of the file at `path` (blocking: call it from a thread)."""
    return sha256_stream(path, progress=progress, cancel=cancel)


async def track(
    job: ThreadJob[T],
    counter: Counter,
    *,
    step: str,
    base: int,
    total: int,
    detail: str = "",
    scale: float = 1.0,
) -> AsyncIterator[Progress]:
    """Progress of a running thread job every `PROGRESS_INTERVAL_S`, until it is done.

    `base` bytes of `total` were done before; the job's counter counts `scale` each."""
    while not await job.wait(PROGRESS_INTERVAL_S):
        done = base + int(counter.value * scale)
        fraction = min(done / total, 1.0) if total > 0 else 0.0
        yield Progress(step, fraction, bytes_done=done, bytes_total=total, detail=detail)


async def hash_with_progress(
    path: Path, step: str, done_before: int, total: int, result: list[str]
) -> AsyncIterator[Progress]:
    """Hash `path` in a thread, yielding Progress about the whole job (`done_before` of `total`
    bytes were done before this file). The digest is appended to `result`. Cancelling the
    consumer stops the thread before the cancel propagates."""
    counter = Counter()
    job = ThreadJob(partial(_hash_job, path, counter))
    try:
        async for event in track(
            job, counter, step=step, base=done_before, total=total, detail=path.name
        ):
            yield event
        result.append(await job.result())
    finally:
        await job.stop()


def _hash_job(path: Path, counter: Counter, cancel: threading.Event) -> str:
    return sha256_file(path, progress=counter, cancel=cancel)


async def hash_file(path: Path) -> str:
    """Hash one file without progress (in a thread; a cancel stops the thread)."""
    return await run_blocking(partial(_hash_job, path, Counter()))
