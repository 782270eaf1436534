"""When to try again: exponential backoff with a cap, and the server's Retry-After."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` failed tries in a row without new bytes, then give up.

    The n-th retry waits ``base * 2**(n-1)`` seconds, at most `cap`; a Retry-After longer
    than `max_retry_after` is not waited for (the download fails with the server's reason).
    """

    max_retries: int = 5
    base: float = 1.0
    cap: float = 30.0
    max_retry_after: float = 300.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2 ** max(0, attempt - 1)))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
