"""`Cancelled`: what blocking library work raises when its cancel event is set.

Its own module (no asyncio): the walk and the scan run in a worker thread for the TUI and in
the main thread for the CLI, and the CLI's scan loads no event loop.
"""

from __future__ import annotations

__all__ = ["Cancelled"]


class Cancelled(Exception):
    """Raised inside the thread when its cancel event is set."""
