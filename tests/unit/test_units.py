"""The one formatter for sizes, pairs, rates, durations and ages (IEC units, compact durations)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfy_tui.core.units import (
    format_age,
    format_bytes,
    format_bytes_pair,
    format_duration,
    format_rate,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1.0 MiB"),
        (900 * 1024**2, "900.0 MiB"),
        (6_938_040_682, "6.5 GiB"),
        (3 * 1024**4, "3.0 TiB"),
        (-2048, "-2.0 KiB"),
        (float("nan"), "—"),
    ],
)
def test_format_bytes(value: float | None, text: str) -> None:
    assert format_bytes(value) == text


def test_unknown_text_is_the_callers() -> None:
    assert format_bytes(None, unknown="n/a") == "n/a"
    assert format_rate(None, unknown="-- /s") == "-- /s"
    assert format_duration(None, unknown="-") == "-"


@given(st.integers(0, 2**70))
def test_mantissa_stays_below_1024(value: int) -> None:
    number, unit = format_bytes(value).split(" ")
    assert unit in {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
    assert float(number) < 1024 or unit == "EiB"


def test_format_rate() -> None:
    assert format_rate(1.5 * 1024**2) == "1.5 MiB/s"
    assert format_rate(100) == "100 B/s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (5.9, "5s"), (125, "2m05s"), (7260, "2h01m"), (90000, "1d01h"), (-3, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_with_decimals_under_a_minute() -> None:
    assert [format_duration(s, precision=1) for s in (0.5, 15.0, 3.54, 90.5, 0)] == [
        "0.5s", "15s", "3.5s", "1m30s", "0s",
    ]  # fmt: skip


def test_format_bytes_pair_shares_the_totals_unit() -> None:
    gib = 1024**3
    assert format_bytes_pair(int(6.2 * gib), int(140.4 * gib)) == "6.2/140.4 GiB"
    assert format_bytes_pair(2 * 1024 * gib, 4 * 1024 * gib) == "2.0/4.0 TiB"
    assert format_bytes_pair(512, 1000) == "512/1000 B"
    assert format_bytes_pair(None, 5, unknown="n/a") == "n/a"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "just now"), (59, "just now"), (60, "1 min ago"), (3 * 3600 + 59, "3 h ago"),
     (47 * 3600, "47 h ago"), (3 * 86400, "3 d ago")],
)  # fmt: skip
def test_format_age(seconds: float, text: str) -> None:
    assert format_age(seconds) == text
