"""When the log file is set up: at once (the TUI, most commands) or on first need.

`models scan` of an unchanged library logs nothing, and `logging` (with `traceback`,
`threading`, `string`, ...) is a sixth of its start; so the CLI hands the setup to `later`,
and whatever is about to log on such a path calls `ensure` first (the scan's rebuild, the
CLI's error paths). This module imports nothing, so the fast path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ensure", "later"]

_pending: list[Callable[[], object]] = []


def later(setup: Callable[[], object]) -> None:
    """Run `setup` at the first `ensure` (it replaces a setup still pending)."""
    _pending[:] = [setup]


def ensure() -> None:
    """Run the pending setup, if any (once)."""
    while _pending:
        _pending.pop()()
