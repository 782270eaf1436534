"""Count the files Python opens (an audit hook), to prove that a rescan opens nothing.

A directory opened to list it (`O_DIRECTORY`, as the walk does) is not a file opened."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

_listeners: list[list[str]] = []
_installed = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _listeners and args and isinstance(args[0], str | bytes):
        if len(args) > 2 and isinstance(args[2], int) and args[2] & os.O_DIRECTORY:
            return
        path = os.fsdecode(args[0])
        for listener in _listeners:
            listener.append(path)


@contextlib.contextmanager
def count_opens() -> Iterator[list[str]]:
    """Every path opened (by any thread) inside the block, in order."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)  # audit hooks cannot be removed: this one stays, idle
        _installed = True
    seen: list[str] = []
    _listeners.append(seen)
    try:
        yield seen
    finally:
        _listeners.remove(seen)
