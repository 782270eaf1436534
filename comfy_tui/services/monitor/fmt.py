"""Pure text formatting for monitor numbers (no rich/textual): "n/a" for ``None``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from comfy_tui.core.units import format_bytes, format_bytes_pair, format_rate

T = TypeVar("T")

NA = "n/a"
"""What a missing reading (``None``: unsupported, failed or not sampled) renders as."""


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
    """`core.units.format_bytes` with the monitor's "n/a" for ``None``."""
    return format_bytes(value, unknown=NA, precision=precision)


def fmt_bytes_pair(used: float | None, total: float | None) -> str:
    """`core.units.format_bytes_pair` with the monitor's "n/a": "6.2/140.4 GiB"."""
    return format_bytes_pair(used, total, unknown=NA)


def fmt_rate(bytes_per_s: float | None) -> str:
    """`core.units.format_rate` with the monitor's "n/a" for ``None``: "1.5 MiB/s"."""
    return format_rate(bytes_per_s, unknown=NA)


def fmt_pct(value: float | None, *, digits: int = 0) -> str:
    """A 0..100 percentage: 42.4 -> "42%"; ``None`` -> "n/a"."""
    return fmt_or_na(value, f"{{:.{digits}f}}%")
