"""The one formatter for sizes, rates, durations, ages and counts (pure; CLI and screens).

Sizes are IEC (powers of 1024: KiB, MiB, GiB, TiB) with one decimal from KiB up
(`512 B`, `1.5 KiB`, `6.5 GiB`); a used/total pair shares the total's unit (`6.2/140.4 GiB`);
rates are sizes per second (`1.5 MiB/s`); durations are compact (`42s`, `3.5s`, `5m03s`,
`2h05m`, `3d04h`); ages read `5 min ago`. Each takes `unknown`, the text for `None` (`—` by
default; the monitor passes `n/a`). `--json` output never uses these: it stays in bytes and
seconds. Calendar dates and clock times are in `core.timefmt`.
"""

from __future__ import annotations

import math

__all__ = [
    "UNKNOWN",
    "format_age",
    "format_bytes",
    "format_bytes_pair",
    "format_count",
    "format_duration",
    "format_rate",
    "plural",
]

UNKNOWN = "—"
"""What an unknown value (``None``, NaN) renders as unless the caller says otherwise."""

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def _unit_of(size: float, precision: int) -> int:
    """The IEC unit `size` (>= 0) is shown in: the mantissa stays below 1024 after rounding."""
    unit = 0
    while unit < len(_UNITS) - 1 and round(size / 1024**unit, precision) >= 1024:
        unit += 1
    return unit


def _in_unit(n: float, unit: int, precision: int) -> str:
    if unit == 0:
        return f"{n:.0f}"
    return f"{n / 1024**unit:.{precision}f}"


def _known(n: float | None) -> bool:
    return n is not None and not (isinstance(n, float) and not math.isfinite(n))


def format_bytes(n: float | None, *, unknown: str = UNKNOWN, precision: int = 1) -> str:
    """`512 B`, `1.5 KiB`, `900.0 MiB`, `6.5 GiB` (IEC); `unknown` for ``None``.

    A value that rounds up to 1024 of a unit moves to the next one (`1.0 MiB`, never
    `1024.0 KiB`).
    """
    if n is None or not _known(n):
        return unknown
    sign = "-" if n < 0 else ""
    unit = _unit_of(abs(float(n)), precision)
    return f"{sign}{_in_unit(abs(float(n)), unit, precision)} {_UNITS[unit]}"


def format_bytes_pair(
    used: float | None, total: float | None, *, unknown: str = UNKNOWN, precision: int = 1
) -> str:
    """`6.2/140.4 GiB`, `2.7/4.0 TiB`: both in the total's unit; `unknown` if either is."""
    if used is None or total is None or not (_known(used) and _known(total)):
        return unknown
    unit = _unit_of(abs(float(total)), precision)
    return f"{_in_unit(used, unit, precision)}/{_in_unit(total, unit, precision)} {_UNITS[unit]}"


def format_rate(bytes_per_s: float | None, *, unknown: str = UNKNOWN) -> str:
    """`1.5 MiB/s`; `unknown` for ``None``."""
    text = format_bytes(bytes_per_s, unknown=unknown)
    return unknown if text == unknown else f"{text}/s"


def format_duration(seconds: float | None, *, unknown: str = UNKNOWN, precision: int = 0) -> str:
    """`0s`, `42s`, `5m03s`, `2h05m`, `3d04h` (two units at most); `unknown` for ``None``.

    Under a minute, `precision` keeps that many decimals without trailing zeros (`3.5s`,
    `15s` with ``precision=1``); the default cuts to whole seconds.
    """
    if seconds is None or not math.isfinite(seconds):
        return unknown
    if precision and 0 < seconds < 60:
        return f"{round(seconds, precision):g}s"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_age(seconds: float) -> str:
    """`3 h ago`, `5 min ago`, `2 d ago`, `just now` (negative ages, from clock skew, too)."""
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = int(minutes // 60)
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} d ago"


def format_count(n: int | None) -> str:
    """Parameter counts: `860M`, `12.0B`, `4.2K`; `—` for unknown."""
    if n is None:
        return UNKNOWN
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 group`, `3 groups`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
