"""Calendar dates and clock times."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from comfy_tui.core.timefmt import format_clock, format_date, parse_iso


def test_format_clock_in_a_given_zone() -> None:
    assert format_clock(0, UTC) == "00:00"
    assert format_clock(0, timezone(timedelta(hours=5, minutes=30))) == "05:30"


def test_dates() -> None:
    assert format_date("2025-11-20T23:30:00-02:00") == "2025-11-21"
    assert format_date("") == "—" and format_date("soon") == "—"
    assert parse_iso("2025-11-20T12:00:00Z") is not None
    assert parse_iso("2025-11-20") is not None and parse_iso("x") is None
