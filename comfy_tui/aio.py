"""`run`, `to_thread` and `sleep`, which load asyncio only when called.

A service module that offers coroutines uses these instead of a top-level `import asyncio`, so
a command that only reads (`ps` with nothing running, `versions`, `default`) imports the
service and calls its blocking methods without loading asyncio (about a fifth of such a
command's start). Whenever one of these is awaited an event loop runs, so asyncio is already
loaded and the import is a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["run", "sleep", "to_thread"]

P = ParamSpec("P")
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`: a command's one event loop, started only by the commands that need one."""
    import asyncio

    return asyncio.run(main)


async def to_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread`: run the blocking `fn` in the default executor."""
    import asyncio

    return await asyncio.to_thread(fn, *args, **kwargs)


async def sleep(seconds: float) -> None:
    """`asyncio.sleep`."""
    import asyncio

    await asyncio.sleep(seconds)
