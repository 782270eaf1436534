"""`iterate_in_thread`: a blocking generator (the scan) run in one worker thread, its items
handed to the event loop in order; its failure raised there; closed early, it is stopped."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from comfy_tui.services.library.cancel import Cancelled
from comfy_tui.services.library.threads import iterate_in_thread


async def test_items_come_in_order_from_one_other_thread() -> None:
    threads: set[int] = set()

    def produce(cancel: threading.Event) -> Iterator[int]:
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    assert [i async for i in iterate_in_thread(produce)] == list(range(50))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_what_the_generator_raises_is_raised_to_the_reader() -> None:
    def produce(cancel: threading.Event) -> Iterator[int]:
        yield 1
        raise ValueError("broken")

    seen = []
    with pytest.raises(ValueError, match="broken"):
        async for i in iterate_in_thread(produce):
            seen.append(i)
    assert seen == [1]


async def test_closing_early_sets_the_cancel_event_and_waits_for_the_thread() -> None:
    ended = threading.Event()

    def produce(cancel: threading.Event) -> Iterator[int]:
        try:
            i = 0
            while True:
                if cancel.is_set():
                    raise Cancelled("stopped")
                yield i
                i += 1
                cancel.wait(0.001)
        finally:
            ended.set()

    stream = iterate_in_thread(produce)
    assert await anext(stream) == 0
    await stream.aclose()
    assert ended.is_set(), "the thread ended before aclose returned"
