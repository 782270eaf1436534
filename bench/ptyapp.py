"""A program in a pseudo-terminal of a fixed size: every byte it writes is counted.

Shared by the benches that start the TUI (first frame, idle cost, monitor cost) and the
bare Textual app they are compared with (`bench/bare_app.py`).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "nvml_h200.json"
BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
_ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)"
)


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without our settings, with bytecode cached as after `pip install`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COMFY_TUI_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(TERM="xterm-256color", COLORTERM="truecolor")
    env.update(extra or {})
    return env


def comfy_tui_argv(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir)]


def bare_argv() -> list[str]:
    return [sys.executable, str(BARE_APP)]


class PtyApp:
    """``argv`` in a pseudo-terminal of ``columns`` x ``rows``."""

    def __init__(
        self,
        argv: Sequence[str],
        columns: int,
        rows: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env) if env is not None else bench_env(),
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.ps = psutil.Process(self.proc.pid)
        self.written = 0
        self.text = b""
        """Everything written so far with the escape sequences removed (for `wait_for`)."""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.written += len(data)
        self.text += _ESCAPES.sub(b"", data)
        return bool(data)

    def pump(self, seconds: float) -> None:
        """Drain the terminal for ``seconds`` (the app would block on a full pty)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if not self._read(min(left, 0.2)):
                return

    def wait_for(self, marker: str, timeout: float = 60.0) -> float:
        """Seconds from the start until ``marker`` was on the screen."""
        wanted = marker.encode()
        end = time.monotonic() + timeout
        while wanted not in self.text:
            if time.monotonic() > end or not self._read(0.05):
                raise TimeoutError(f"{marker!r} never appeared")
        return time.perf_counter() - self.started

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.press("\x11")  # ctrl+q: quit at once, in comfy-tui and in the bare app
            try:
                self.pump(0.5)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)
