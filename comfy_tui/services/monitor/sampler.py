"""`Monitor`: the one long-lived sampler the App owns; ties system, GPU and instances together.

Each tick runs every blocking reading (psutil, NVML) in one worker thread via
``asyncio.to_thread``, builds one frozen `StatsSample`, and pushes its numbers into the
bounded `History`. Ticks are serialised (an asyncio lock on the loop, a thread lock
around the blocking part, so a cancelled tick whose thread is still running cannot
overlap the next one).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType

from comfy_tui.services.monitor.backend import GpuBackend
from comfy_tui.services.monitor.history import DEFAULT_HISTORY_POINTS, History, record_sample
from comfy_tui.services.monitor.nvml import NvmlBackend
from comfy_tui.services.monitor.processes import ProcessTreeSampler
from comfy_tui.services.monitor.readings import GpuInfo, StatsSample
from comfy_tui.services.monitor.system import SystemSampler


def _no_instances() -> Mapping[str, int]:
    return {}


class Monitor:
    """Samples everything every ``interval`` seconds; see `samples()` and `sample_once()`.

    Detail mode (the default) samples everything. With ``set_detail(False)`` — when no
    screen shows the monitor — only the cheap summary is read: no per-core CPU, no
    disk/network rates, no GPU process lists and no per-instance process trees.

    ``instance_roots`` is called on the event loop at every detail tick and returns
    instance id -> root pid. ``clock`` gives the samples' wall-clock timestamps;
    ``monotonic`` and ``sleep`` drive the schedule (inject fakes to run tests instantly).
    """

    def __init__(
        self,
        gpu: GpuBackend | None = None,
        *,
        system: SystemSampler | None = None,
        disk_paths: Iterable[str | os.PathLike[str]] = (),
        processes: ProcessTreeSampler | None = None,
        instance_roots: Callable[[], Mapping[str, int]] | None = None,
        interval: float = 1.0,
        history_points: int = DEFAULT_HISTORY_POINTS,
        detail: bool = True,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._gpu: GpuBackend = gpu if gpu is not None else NvmlBackend()
        self._system = system if system is not None else SystemSampler(disk_paths)
        self._processes = processes if processes is not None else ProcessTreeSampler()
        self._roots = instance_roots if instance_roots is not None else _no_instances
        self._interval = self._check_interval(interval)
        self._quiet_interval: float | None = None
        self._wake: asyncio.Event | None = None  # made by `samples()`, in its event loop
        self._history = History(history_points)
        self._detail = detail
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._tick_lock = asyncio.Lock()
        self._thread_lock = threading.Lock()
        self._latest: StatsSample | None = None
        self._streaming = False

    @staticmethod
    def _check_interval(interval: float) -> float:
        if not (math.isfinite(interval) and interval > 0):
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        return float(interval)

    # -- settings -----------------------------------------------------------------------

    @property
    def gpu(self) -> GpuBackend:
        """The GPU backend (blocking: call its methods through ``asyncio.to_thread``)."""
        return self._gpu

    @property
    def history(self) -> History:
        """Ring buffers of every metric, updated each tick (read them on the event loop)."""
        return self._history

    @property
    def latest(self) -> StatsSample | None:
        """The newest sample, or ``None`` before the first tick."""
        return self._latest

    @property
    def interval(self) -> float:
        """Seconds between ticks of `samples()`."""
        return self._interval

    def set_interval(self, seconds: float) -> None:
        """Change the tick interval; takes effect from the next tick."""
        self._interval = self._check_interval(seconds)

    @property
    def detail(self) -> bool:
        """Whether the expensive parts are sampled."""
        return self._detail

    def set_detail(self, enabled: bool) -> None:
        """Sample everything (True) or only the cheap summary (False); next tick on.

        Turning detail on while `samples()` waits out a quiet interval takes a sample now."""
        woke = enabled and not self._detail
        self._detail = enabled
        if woke and self._wake is not None:
            self._wake.set()

    @property
    def quiet_interval(self) -> float | None:
        """Seconds between ticks while detail is off (at least `interval`); None: `interval`."""
        return self._quiet_interval

    def set_quiet_interval(self, seconds: float | None) -> None:
        """Tick every ``seconds`` while detail is off (nobody looks at the Monitor screen, only
        the header's few numbers are shown); ``None`` ticks every `interval` always."""
        self._quiet_interval = None if seconds is None else self._check_interval(seconds)

    def _step(self) -> float:
        if self._detail or self._quiet_interval is None:
            return self._interval
        return max(self._interval, self._quiet_interval)

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when `set_detail(True)` cut the sleep short."""
        wake = self._wake
        if wake is None:
            await self._sleep(seconds)
            return False
        wake.clear()
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        return wake.is_set()

    def set_instances(self, roots: Mapping[str, int]) -> None:
        """Use a fixed instance id -> root pid map (instead of an ``instance_roots`` callable)."""
        fixed = dict(roots)
        self._roots = lambda: fixed

    # -- sampling -----------------------------------------------------------------------

    def _collect(self, detail: bool, roots: Mapping[str, int]) -> StatsSample:
        """The blocking part of one tick; runs in a worker thread."""
        with self._thread_lock:
            timestamp = self._clock()
            system = self._system.sample(detail=detail)
            gpus = self._gpu.sample(processes=detail)
            info = self._gpu.info()
            instances = self._processes.sample(roots, gpus) if detail and roots else {}
            return StatsSample(
                timestamp=timestamp, system=system, gpus=gpus, gpu_info=info, instances=instances
            )

    async def sample_once(self) -> StatsSample:
        """Take one sample now (off the event loop), record it in history, return it."""
        async with self._tick_lock:
            detail = self._detail
            roots = dict(self._roots()) if detail else {}
            sample = await asyncio.to_thread(self._collect, detail, roots)
            record_sample(self._history, sample, prune_instances=detail)
            self._latest = sample
            return sample

    async def samples(self) -> AsyncGenerator[StatsSample, None]:
        """Yield one sample every `interval` seconds, forever (cancel or break to stop).

        Ticks keep a fixed schedule; when a tick or the consumer runs late, the missed
        slots are skipped rather than sampled in a burst. While detail is off the ticks are
        `quiet_interval` apart (when set). One consumer at a time.
        """
        if self._streaming:
            raise RuntimeError("Monitor.samples() already has a consumer")
        self._streaming = True
        self._wake = asyncio.Event()
        try:
            next_at = self._monotonic()
            while True:
                yield await self.sample_once()
                step = self._step()
                next_at += step
                now = self._monotonic()
                if next_at < now:
                    next_at += math.ceil((now - next_at) / step) * step
                if await self._pause(max(0.0, next_at - now)):
                    next_at = self._monotonic()
        finally:
            self._streaming = False
            self._wake = None

    # -- GPU facts for other services ---------------------------------------------------

    async def gpu_info(self) -> GpuInfo:
        """Driver/CUDA facts, read off the event loop (NVML init may take ~13 ms)."""
        return await asyncio.to_thread(self._gpu.info)

    async def cuda_driver_version(self) -> tuple[int, int] | None:
        """(major, minor) of the newest CUDA the driver supports, or ``None``."""
        return await asyncio.to_thread(self._gpu.cuda_driver_version)

    # -- lifecycle ----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Release the GPU backend (nvmlShutdown) after any running tick has finished."""
        async with self._tick_lock:
            await asyncio.to_thread(self._close_backend)

    def _close_backend(self) -> None:
        with self._thread_lock:
            self._gpu.close()

    async def __aenter__(self) -> Monitor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
