"""The App's one monitor sampler: a worker that turns `Monitor.samples()` into messages.

`StatsFeed` runs `Monitor.samples()` in an App-owned worker (group ``monitor``, not a
``job:`` group, so quitting does not ask about it). Each tick is posted as a coalescing
`StatsSampled` message; the App hands it to `StatsFeed.receive`, which keeps the latest
sample and the header text and publishes the sample on the `updates` Signal that
screens subscribe to. The expensive readings (per-core CPU, I/O rates, GPU processes,
instance trees) are only taken while a screen shows them (`show_detail`); meanwhile a sample
is taken every `QUIET_INTERVAL_S` only.

When nobody has touched the terminal (no key, no mouse) for `UNTOUCHED_AFTER_S`, samples are
still taken and kept (the graphs lose nothing) but published only every `UNTOUCHED_DRAW_S`:
every draw costs CPU and bytes on an SSH link. The next key or mouse event (`touch`)
publishes the newest sample at once. The App turns this on for a real terminal
(`untouched_after`); headless runs (tests) publish every tick unless they turn it on.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.message import Message
from textual.signal import Signal
from textual.worker import Worker, WorkerError, WorkerState

from comfy_tui.services.monitor.summary import summarize, summary_line

if TYPE_CHECKING:
    from comfy_tui.services.monitor import Monitor, StatsSample

log = logging.getLogger(__name__)

FEED_GROUP = "monitor"
"""Worker group of the sampler (deliberately not a ``job:`` group)."""

INITIAL_SUMMARY = "GPU n/a · CPU n/a · RAM n/a"
"""Header text before the first sample."""

QUIET_INTERVAL_S = 5.0
"""Seconds between samples while no screen shows the detail (the Monitor screen is not
shown): only the header's few numbers are on screen then."""

UNTOUCHED_AFTER_S = 30.0
"""Seconds without a key or the mouse after which live values are drawn less often."""

UNTOUCHED_DRAW_S = 10.0
"""Seconds between the samples published (drawn) while the terminal is left alone."""

INTERVAL_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""What `faster`/`slower` step through, in seconds."""


class StatsSampled(Message):
    """One monitor tick on its way from the sampler worker to the App."""

    def __init__(self, sample: StatsSample) -> None:
        super().__init__()
        self.sample = sample

    def can_replace(self, message: Message) -> bool:
        """A newer tick makes a queued one obsolete: a burst collapses to the latest."""
        return isinstance(message, StatsSampled)


class StatsFeed:
    """Owns the sampler worker for `app`; screens read `latest`, `summary` and `updates`."""

    def __init__(self, app: App[Any], monitor: Callable[[], Monitor]) -> None:
        """``monitor`` is asked for the monitor on first use (after the first frame: building
        it loads psutil and NVML)."""
        self._app = app
        self._monitor_of = monitor
        self._monitor: Monitor | None = None
        self.updates: Signal[StatsSample] = Signal(app, "stats")
        self.state_changed: Signal[bool] = Signal(app, "stats-state")
        """Published with `running` when sampling starts, stops or fails."""
        self.latest: StatsSample | None = None
        self.summary = INITIAL_SUMMARY
        self.received = 0
        """Ticks handled so far (tests and the bench read it)."""
        self.error: str | None = None
        """Why sampling stopped on its own, if it did."""
        self._worker: Worker[None] | None = None
        self.untouched_after: float | None = None
        """Seconds without input after which publishing slows (``None``: never)."""
        self.clock: Callable[[], float] = time.monotonic
        self._touched_at = self.clock()
        self._published_at = -math.inf
        self._held = False
        self._pacing = False
        self.published = 0
        """Samples handed to the screens so far (tests and the bench read it)."""

    @property
    def monitor(self) -> Monitor:
        """The sampler, built on first use with detail off (the Monitor screen turns it on)."""
        if self._monitor is None:
            self._monitor = self._monitor_of()
            self._monitor.set_detail(False)
            self._monitor.set_quiet_interval(QUIET_INTERVAL_S)
        return self._monitor

    @property
    def monitor_built(self) -> bool:
        return self._monitor is not None

    # --- the worker ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the sampler worker is pending or running."""
        worker = self._worker
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start(self) -> None:
        """Start sampling every `Monitor.interval` seconds (no-op while running)."""
        if self.running:
            return
        self.error = None
        self._worker = self._app.run_worker(
            self._pump(),
            name="monitor-sampler",
            group=FEED_GROUP,
            description="monitor sampling",
            exclusive=True,
            exit_on_error=False,
        )
        self.state_changed.publish(True)

    async def stop(self) -> None:
        """Stop sampling and wait until the worker has let go of the monitor."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.cancel()
        with suppress(WorkerError):  # cancelled, failed, or never started
            await worker.wait()
        self.state_changed.publish(False)

    async def _pump(self) -> None:
        async for sample in self.monitor.samples():
            self._app.post_message(StatsSampled(sample))

    def failed(self, worker: Worker[object]) -> None:
        """The App calls this when the sampler worker died with an error."""
        self.error = str(worker.error) or repr(worker.error)
        log.error("monitor sampling stopped", exc_info=worker.error)
        self.state_changed.publish(False)

    # --- settings --------------------------------------------------------------------------
    @property
    def interval(self) -> float:
        return self.monitor.interval

    async def set_interval(self, seconds: float) -> None:
        """Sample every ``seconds`` from now on (a running sampler restarts at once)."""
        self.monitor.set_interval(seconds)
        if self.running:
            await self.stop()
            self.start()

    def next_interval(self, direction: int) -> float:
        """The step after (+1) or before (-1) the current interval in `INTERVAL_STEPS`."""
        current = self.monitor.interval
        if direction > 0:
            return next((s for s in INTERVAL_STEPS if s > current), INTERVAL_STEPS[-1])
        return next((s for s in reversed(INTERVAL_STEPS) if s < current), INTERVAL_STEPS[0])

    def show_detail(self, shown: bool) -> None:
        """Take the expensive readings only while a screen shows them."""
        self.monitor.set_detail(shown)

    # --- ticks -----------------------------------------------------------------------------
    async def sample_now(self) -> StatsSample:
        """Take one sample now and deliver it like a tick (tests, and a manual refresh)."""
        sample = await self.monitor.sample_once()
        self._app.post_message(StatsSampled(sample))
        return sample

    @property
    def untouched(self) -> bool:
        """Whether the terminal has been left alone long enough to draw less often."""
        after = self.untouched_after
        return after is not None and self.clock() - self._touched_at >= after

    @property
    def pacing(self) -> bool:
        """Whether samples are published only every `UNTOUCHED_DRAW_S` now (screens say so)."""
        return self._pacing

    def touch(self) -> None:
        """A key or mouse event: publish every tick again, and the held newest sample now."""
        self._touched_at = self.clock()
        if not self._pacing:
            return
        self._pacing = False
        if self._held and self.latest is not None:
            self._publish(self.latest)
        self.state_changed.publish(self.running)

    def receive(self, sample: StatsSample) -> None:
        """Keep the newest sample; tell every subscribed screen (while the terminal is left
        alone, only every `UNTOUCHED_DRAW_S`: the first such tick is published so that the
        screens can say so)."""
        self.latest = sample
        self.received += 1
        if self.untouched:
            if self._pacing and self.clock() - self._published_at < UNTOUCHED_DRAW_S:
                self._held = True
                return
            self._pacing = True
        self._publish(sample)

    def _publish(self, sample: StatsSample) -> None:
        self._held = False
        self._published_at = self.clock()
        self.published += 1
        self.summary = summary_line(summarize(sample))
        self.updates.publish(sample)
