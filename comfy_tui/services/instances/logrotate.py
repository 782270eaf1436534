"""Rotating an instance log while ComfyUI writes to it (copy-truncate).

ComfyUI writes through the file descriptor it inherited (opened with O_APPEND), so the file
cannot be renamed away under it: its writes would follow the renamed file. Instead the log is
copied to `<log>.1` (older copies shift to `.2` … `.<keep>`, the oldest is dropped) and then
truncated in place; O_APPEND makes ComfyUI's next write land at the new start. Lines written
between the copy and the truncation (microseconds) can be lost: the price of copy-truncate.
The supervisor runs `Rotator` in a thread; followers (`LogTail`) read what they missed from
`<log>.1` when they see the truncation.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

CHECK_S = 1.0


def rotated(path: Path, n: int) -> Path:
    """`<log>.<n>`."""
    return path.with_name(f"{path.name}.{n}")


def copy_truncate(path: Path, keep: int) -> bool:
    """Rotate `path` once: shift the copies, copy it to `.1`, truncate it. False if absent."""
    if not path.exists():
        return False
    keep = max(1, keep)
    rotated(path, keep).unlink(missing_ok=True)
    for n in range(keep - 1, 0, -1):
        if rotated(path, n).exists():
            os.replace(rotated(path, n), rotated(path, n + 1))
    part = rotated(path, 1).with_name(rotated(path, 1).name + ".part")
    shutil.copyfile(path, part)
    os.replace(part, rotated(path, 1))
    os.truncate(path, 0)
    return True


class Rotator:
    """Checks the log's size every `interval` seconds; rotates it past `max_bytes`."""

    def __init__(self, path: Path, max_bytes: int, keep: int, interval: float = CHECK_S) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.interval = interval
        self.rotations = 0
        self._stop = threading.Event()

    def check(self) -> bool:
        try:
            big = self.path.stat().st_size > self.max_bytes
        except FileNotFoundError:
            return False
        if big and copy_truncate(self.path, self.keep):
            self.rotations += 1
            return True
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError):  # a full disk must not stop the supervisor
                self.check()

    def start(self) -> None:
        if self.max_bytes > 0:
            threading.Thread(target=self._run, name="log-rotate", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
