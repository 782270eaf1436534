"""Why a ComfyUI process exited, in one line, read from the end of its log.

Known causes are named plainly ("port 8188 is already in use", "ASSETS_STARTUP_FAILED:
in_use", "unrecognized arguments: --foo"); otherwise the last meaningful log line is quoted.
Import-light: the detached supervisor uses it too.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

TAIL_BYTES = 64 * 1024
MAX_REASON = 200

_KNOWN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"address already in use", re.I), "port {port} is already in use"),
    (re.compile(r"(ASSETS_STARTUP_FAILED:\s*\S+)"), "{0}"),
    (re.compile(r"error: (unrecognized arguments: .*)"), "{0}"),
    (re.compile(r"error: (argument .*)"), "bad argument: {0}"),
)

_NOISE = re.compile(r"^\s*($|\[comfy-tui\]|Traceback|File \"|\^+$)")


def read_log_tail(path: Path, since: int = 0, limit: int = TAIL_BYTES) -> str:
    """The text of `path` after byte `since` (at most the last `limit` bytes of it)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            start = max(since if since <= size else 0, size - limit)
            f.seek(start)
            data = f.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def describe_exit(code: int | None) -> str:
    if code is None:
        return "exited"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"


def reason_from_text(text: str, port: int | None = None) -> str:
    """The best one-line cause found in a log excerpt ("" when there is nothing to say)."""
    lines = [line.rstrip() for line in text.replace("\r", "\n").splitlines()]
    for pattern, template in _KNOWN:
        for line in reversed(lines):
            match = pattern.search(line)
            if match:
                return template.format(*match.groups(), port=port)[:MAX_REASON]
    for line in reversed(lines):
        if not _NOISE.match(line):
            return line.strip()[:MAX_REASON]
    return ""


def exit_reason(log: Path, since: int, code: int | None, port: int | None) -> str:
    """`exited with code 1: port 8188 is already in use`, or just the exit when the log is mute."""
    found = reason_from_text(read_log_tail(log, since), port)
    head = describe_exit(code)
    return f"{head}: {found}" if found else head
