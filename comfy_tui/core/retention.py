"""Which trash entries are past their keep time (the `trash_keep_days` setting). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

__all__ = ["DAY_S", "expired"]

DAY_S = 86400.0


class _Removed(Protocol):
    @property
    def removed_at(self) -> float: ...


T = TypeVar("T", bound=_Removed)


def expired(entries: Iterable[T], keep_days: int, now: float) -> list[T]:
    """The entries removed more than `keep_days` before `now`; none when `keep_days` is 0."""
    if keep_days <= 0:
        return []
    cutoff = now - keep_days * DAY_S
    return [e for e in entries if e.removed_at < cutoff]
