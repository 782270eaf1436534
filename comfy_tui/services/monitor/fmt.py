"""Pure text formatting for monitor numbers (no rich/textual): "n/a" for ``None``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

NA = "n/a"
"""What a missing reading (``None``: unsupported, failed or not sampled) renders as."""

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def fmt_or_na(value: T | None, fmt: str | Callable[[T], str] = "{}") -> str:
    """``value`` formatted, or "n/a" for ``None`` (and for NaN/inf floats).

    ``fmt`` is a callable, a ``str.format`` template ("{:.0f} W", "P{}"), or a format
    spec (".1f").
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NA
    if callable(fmt):
        return fmt(value)
    if "{" in fmt:
        return fmt.format(value)
    return format(value, fmt)


def fmt_bytes(value: float | None, *, precision: int = 1) -> str:
    """Binary units: 512 -> "512 B", 150754820096 -> "140.4 GiB"; ``None`` -> "n/a"."""
    if value is None or not math.isfinite(value):
        return NA
    sign = "-" if value < 0 else ""
    size = abs(float(value))
    if size < 1024:
        return f"{sign}{size:.0f} B"
    unit = 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    text = f"{size:.{precision}f}"
    if float(text) >= 1024 and unit < len(_UNITS) - 1:  # 1023.96 KiB rounds up
        size /= 1024
        unit += 1
        text = f"{size:.{precision}f}"
    return f"{sign}{text} {_UNITS[unit]}"


def fmt_rate(bytes_per_s: float | None, *, precision: int = 1) -> str:
    """Throughput: 1572864.0 -> "1.5 MiB/s"; ``None`` -> "n/a"."""
    text = fmt_bytes(bytes_per_s, precision=precision)
    return text if text == NA else f"{text}/s"


def fmt_pct(value: float | None, *, digits: int = 0) -> str:
    """A 0..100 percentage: 42.4 -> "42%"; ``None`` -> "n/a"."""
    return fmt_or_na(value, f"{{:.{digits}f}}%")
