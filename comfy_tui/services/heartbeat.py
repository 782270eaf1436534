"""Ticks while a job is quiet: progress that moves even when a child prints nothing.

`with_ticks(events, interval)` passes every event of `events` on and yields None whenever
`interval` seconds pass without one. The pending `anext` is never cancelled by a tick (only
when the consumer stops), so the wrapped job runs exactly as it would unwrapped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import TypeVar

__all__ = ["TICK_S", "with_ticks"]

TICK_S = 1.0
"""Seconds of silence before a tick: install progress reports at least every 2 s."""

T = TypeVar("T")


async def with_ticks(
    events: AsyncGenerator[T, None], interval: float = TICK_S
) -> AsyncGenerator[T | None, None]:
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield None
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        await events.aclose()
