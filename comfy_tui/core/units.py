"""Human-readable sizes and counts (pure functions, shared by the CLI and the TUI)."""

from __future__ import annotations

__all__ = ["format_bytes", "format_count", "plural"]

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def format_bytes(n: int | None) -> str:
    """`1.5 GB` style (powers of 1024, one decimal from KB up); `—` for unknown."""
    if n is None:
        return "—"
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_count(n: int | None) -> str:
    """Parameter counts: `860M`, `12.0B`, `4.2K`; `—` for unknown."""
    if n is None:
        return "—"
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 group`, `3 groups`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
