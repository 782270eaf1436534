"""Speed and time left for a transfer, smoothed so the numbers do not flicker."""

from __future__ import annotations

from collections.abc import Callable


class SpeedMeter:
    """Feed it the running byte count; read `speed` (bytes/s) and `eta(total)` (seconds).

    The speed is an exponential moving average over windows of at least `window` seconds of
    the injected `clock`; it starts at the first window's plain rate.
    """

    def __init__(self, clock: Callable[[], float], *, window: float = 0.5, alpha: float = 0.3):
        self._clock = clock
        self._window = window
        self._alpha = alpha
        self._mark_time = clock()
        self._mark_bytes: int | None = None
        self.speed: float | None = None

    def mark(self, done: int) -> None:
        """Start a new window at `done` bytes now (a transfer starts or resumes)."""
        self._mark_time, self._mark_bytes = self._clock(), done

    def update(self, done: int) -> None:
        now = self._clock()
        if self._mark_bytes is None:
            self._mark_time, self._mark_bytes = now, done
            return
        elapsed = now - self._mark_time
        if elapsed < self._window:
            return
        rate = max(0, done - self._mark_bytes) / elapsed
        self.speed = (
            rate if self.speed is None else self._alpha * rate + (1 - self._alpha) * self.speed
        )
        self._mark_time, self._mark_bytes = now, done

    def eta(self, done: int, total: int | None) -> float | None:
        if total is None or not self.speed:
            return None
        return max(0.0, (total - done) / self.speed)
