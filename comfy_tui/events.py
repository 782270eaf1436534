"""Frozen events that long-running services yield; the UI and the CLI both consume them.

Named tuples, not dataclasses: every command imports this module, and `dataclasses` brings
`inspect` and `ast` with it (a tenth of a short command's start).

`each` is the one way to consume a stream of them (or of anything): every item to a handler,
and the stream closed whatever happens, so a child process it runs never outlives its reader.
`forwards` is the one way to pass a sub-job's stream on: in a generator it decorates,
``yield sub_stream`` forwards every event of `sub_stream`, closes it, and raises its failure
at that ``yield`` (Python has no ``yield from`` for async generators).
"""

import functools
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import NamedTuple, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class _ProgressFields(NamedTuple):
    step: str
    fraction: float
    bytes_done: int | None = None
    bytes_total: int | None = None
    detail: str = ""


class Progress(_ProgressFields):
    """How far a job is. `fraction` is the whole job's progress, from 0.0 to 1.0."""

    __slots__ = ()

    def __new__(
        cls,
        step: str,
        fraction: float,
        bytes_done: int | None = None,
        bytes_total: int | None = None,
        detail: str = "",
    ) -> "Progress":
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, got {fraction!r}")
        return super().__new__(cls, step, fraction, bytes_done, bytes_total, detail)


class LogLine(NamedTuple):
    """One line of a child process's output (git, uv, pip, ComfyUI)."""

    text: str
    source: str = ""


class Finished(NamedTuple):
    """The job succeeded; `detail` says what it produced."""

    detail: str = ""


Event = Progress | LogLine | Finished
"""What a service's async generator yields. A failure is not an event: the generator raises a
`ComfyTuiError` (errors.py), and whatever runs the job reports it."""


async def each(stream: AsyncIterator[T], handle: Callable[[T], object]) -> None:
    """Give every item of `stream` to `handle`; close the stream at the end, or when `handle`
    raises or the caller is cancelled (its `finally` blocks run now, not when collected)."""
    close = getattr(stream, "aclose", None)  # a plain iterator holds nothing to close
    try:
        async for item in stream:
            handle(item)
    finally:
        if close is not None:
            await close()


Step = Event | AsyncIterator[Event]
"""What a `forwards` generator yields: an event to pass on, or a sub-stream to forward."""


def forwards(
    gen: Callable[P, AsyncGenerator[Step, None]],
) -> Callable[P, AsyncGenerator[Event, None]]:
    """Let `gen` forward sub-streams with ``yield sub_stream`` (see the module docstring).

    The sub-stream is closed before anything else happens, as with ``async with aclosing``;
    its exception (cancellation included) is thrown into `gen` at that ``yield``, so a
    ``try`` around it in `gen` sees it exactly as around a hand-written forwarding loop.
    """

    @functools.wraps(gen)
    async def forwarding(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[Event, None]:
        steps = gen(*args, **kwargs)
        try:
            failure: BaseException | None = None
            while True:
                try:
                    step = await (steps.athrow(failure) if failure else anext(steps))
                except StopAsyncIteration:
                    return
                failure = None
                if isinstance(step, Progress | LogLine | Finished):
                    yield step
                    continue
                close = getattr(step, "aclose", None)
                try:
                    async for event in step:
                        yield event
                except GeneratorExit:
                    raise
                except BaseException as exc:
                    failure = exc
                finally:
                    if close is not None:
                        await close()
        finally:
            await steps.aclose()

    return forwarding
