"""The one formatter for sizes, rates, durations and counts (pure; CLI text and every screen).

Sizes are IEC (powers of 1024: KiB, MiB, GiB, TiB) with one decimal from KiB up
(`512 B`, `1.5 KiB`, `6.5 GiB`); rates are sizes per second (`1.5 MiB/s`); durations are
compact (`42s`, `5m03s`, `2h05m`, `3d04h`). Each takes `unknown`, the text for `None`
(`—` by default; the monitor passes `n/a`). `--json` output never uses these: it stays in
bytes and seconds.
"""

from __future__ import annotations

import math

__all__ = [
    "UNKNOWN",
    "format_bytes",
    "format_count",
    "format_duration",
    "format_rate",
    "plural",
]

UNKNOWN = "—"
"""What an unknown value (``None``, NaN) renders as unless the caller says otherwise."""

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_bytes(n: float | None, *, unknown: str = UNKNOWN, precision: int = 1) -> str:
    """`512 B`, `1.5 KiB`, `900.0 MiB`, `6.5 GiB` (IEC); `unknown` for ``None``.

    A value that rounds up to 1024 of a unit moves to the next one (`1.0 MiB`, never
    `1024.0 KiB`).
    """
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return unknown
    sign = "-" if n < 0 else ""
    size = abs(float(n))
    if size < 1024:
        return f"{sign}{size:.0f} B"
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    text = f"{size:.{precision}f}"
    if float(text) >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
        text = f"{size:.{precision}f}"
    return f"{sign}{text} {_UNITS[unit]}"


def format_rate(bytes_per_s: float | None, *, unknown: str = UNKNOWN) -> str:
    """`1.5 MiB/s`; `unknown` for ``None``."""
    text = format_bytes(bytes_per_s, unknown=unknown)
    return unknown if text == unknown else f"{text}/s"


def format_duration(seconds: float | None, *, unknown: str = UNKNOWN) -> str:
    """`0s`, `42s`, `5m03s`, `2h05m`, `3d04h` (two units at most); `unknown` for ``None``."""
    if seconds is None or not math.isfinite(seconds):
        return unknown
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


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
