"""Short human forms of ages, dates, clock times and sizes."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest

from comfy_tui.core.timefmt import format_age, format_clock, format_date, parse_iso


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "just now"), (59, "just now"), (60, "1 min ago"), (3 * 3600 + 59, "3 h ago"),
     (47 * 3600, "47 h ago"), (3 * 86400, "3 d ago")],
)  # fmt: skip
def test_format_age(seconds: float, text: str) -> None:
    assert format_age(seconds) == text


def test_format_clock_in_a_given_zone() -> None:
    assert format_clock(0, UTC) == "00:00"
    assert format_clock(0, timezone(timedelta(hours=5, minutes=30))) == "05:30"


def test_dates() -> None:
    assert format_date("2025-11-20T23:30:00-02:00") == "2025-11-21"
    assert format_date("") == "—" and format_date("soon") == "—"
    assert parse_iso("2025-11-20T12:00:00Z") is not None
    assert parse_iso("2025-11-20") is not None and parse_iso("x") is None
