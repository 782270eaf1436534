"""Byte ranges of a segmented download: which are on disk, which are left, how they are cut.

`Done` is a sorted set of half-open intervals ``[start, end)`` already written to the part
file; the sidecar stores it (``"segments": [[start, end], ...]``) so a killed download resumes
each segment where it stopped. `pieces` cuts what is left into requests of about `piece`
bytes, lowest offsets first, so the written prefix (what the sha256 can already read) grows
steadily while several connections run.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator


class Done:
    """Merged, sorted, non-overlapping ``[start, end)`` intervals."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        i = bisect.bisect_left(self._ends, start)  # first span that ends at or after start
        j = bisect.bisect_right(self._starts, end)  # spans starting after end stay
        if i < j:
            start = min(start, self._starts[i])
            end = max(end, self._ends[j - 1])
        self._starts[i:j] = [start]
        self._ends[i:j] = [end]

    @property
    def total(self) -> int:
        return sum(e - s for s, e in zip(self._starts, self._ends, strict=True))

    def prefix(self) -> int:
        """How many bytes from offset 0 on are written without a gap."""
        return self._ends[0] if self._starts and self._starts[0] == 0 else 0

    def spans(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def gaps(self, size: int) -> Iterator[tuple[int, int]]:
        """The ``[start, end)`` ranges below `size` not written yet."""
        at = 0
        for start, end in self.spans():
            if start > at:
                yield at, min(start, size)
            at = max(at, end)
            if at >= size:
                return
        if at < size:
            yield at, size

    def to_doc(self) -> list[list[int]]:
        return [[s, e] for s, e in self.spans()]

    @classmethod
    def from_doc(cls, doc: object, size: int) -> Done | None:
        """The intervals a sidecar recorded, or None when they do not fit a file of `size`."""
        if not isinstance(doc, list):
            return None
        done = cls()
        for item in doc:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
                or not 0 <= item[0] < item[1] <= size
            ):
                return None
            done.add(item[0], item[1])
        return done


def piece_size(total: int, connections: int, *, smallest: int, largest: int) -> int:
    """About eight requests per connection, within [smallest, largest] bytes."""
    return max(smallest, min(largest, total // max(1, connections * 8) or smallest))


def pieces(gaps: Iterable[tuple[int, int]], piece: int) -> list[tuple[int, int]]:
    """`gaps` cut into ``[start, end)`` requests of at most `piece` bytes, lowest first."""
    out: list[tuple[int, int]] = []
    for start, end in gaps:
        while start < end:
            out.append((start, min(end, start + piece)))
            start += piece
    return out


class Ramp:
    """How many connections a segmented download runs: one at first, then one more each
    `window` seconds while the one added last raised the throughput by at least half of what
    an average connection brings (k connections instead of k-1: a rate at least
    ``1 + 0.5 / (k - 1)`` times the previous one). When it did not, the last one is let go and
    the count stays: the link (or the CPU, on a loopback or LAN) is full, and more connections
    only cost. A first connection that already moves `FAST` bytes a second or more stays alone:
    no CDN caps one connection that high, so the limit there is the disk or the CPU (a LAN, a
    loopback mirror), which more connections only load further. A `window` of 0 starts `limit`
    connections at once. Pure: the caller passes the clock and the byte count.
    """

    GAIN = 0.5
    FAST = 200 * 1024 * 1024

    def __init__(self, limit: int, window: float, now: float, done: int) -> None:
        self.limit = max(1, limit)
        self.window = window
        self.workers = 1 if window > 0 else self.limit
        self.settled = self.workers >= self.limit
        self._since, self._base = now, done
        self._rate: float | None = None

    def step(self, now: float, done: int) -> int:
        """1: start one more connection now; -1: let one go (after its current piece);
        0: keep them as they are."""
        if self.settled or now - self._since < self.window:
            return 0
        rate = (done - self._base) / (now - self._since)
        previous, self._rate = self._rate, rate
        self._since, self._base = now, done
        self.settled = True
        if previous is None and rate >= self.FAST:
            return 0
        if previous is not None and rate < previous * (1 + self.GAIN / (self.workers - 1)):
            self.workers -= 1
            return -1
        self.workers += 1
        self.settled = self.workers >= self.limit
        return 1
