"""Calendar dates and clock times for tables and status lines (durations, ages: core.units)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["format_clock", "format_date", "parse_iso"]


def format_clock(epoch: float, tz: tzinfo | None = None) -> str:
    """`HH:MM` of an epoch time, in local time (or in `tz`, for tests)."""
    return datetime.fromtimestamp(epoch, tz=UTC).astimezone(tz).strftime("%H:%M")


def parse_iso(text: str) -> datetime | None:
    """A timezone-aware datetime from ISO 8601 text (`2025-11-20T12:00:00Z`), else None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_date(iso: str) -> str:
    """`2025-11-20` from an ISO timestamp (its UTC date); `—` when unknown."""
    value = parse_iso(iso)
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else "—"
