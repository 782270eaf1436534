"""Guards before questions, for the screens: a change a live instance forbids is refused at
once (an error dialog naming the instance and the way out), never after "are you sure?".

The services check again under the version lock when the change runs; this is the early
answer the CLI gives too (`VersionInUseError`, one line).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from textual.app import App

from comfy_tui.errors import VersionInUseError

WAY_OUT = "Stop it on the Instances screen (4, then x) and try again."


async def refused(app: App[Any], title: str, check: Awaitable[None]) -> bool:
    """Run a service's `check_*`; when a live instance forbids the change, show why and how
    to get out of it, and return True (the caller then asks nothing and changes nothing)."""
    try:
        await check
    except VersionInUseError as exc:
        from comfy_tui.ui.dialogs.error import ErrorScreen

        app.push_screen(ErrorScreen(title, f"{exc}\n{WAY_OUT}"))
        return True
    return False
