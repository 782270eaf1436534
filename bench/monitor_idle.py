"""What leaving the TUI open costs: CPU and terminal bytes per second, per screen.

Run from the repository root: ``.venv/bin/python bench/monitor_idle.py [--seconds 60]``.
Starts the real app (``python -m comfy_tui``) in a pseudo-terminal with the recorded H200
replayed at 1 Hz (``COMFY_TUI_GPU_REPLAY``; CPU, RAM and disks are this machine's), goes
to the Monitor screen, waits for it to settle, then measures for ``--seconds``: the app's
CPU time as % of one core, and the bytes it wrote to the terminal per second. Then the
same on the Versions screen (the header summary still ticks there). The recording cycles
idle -> load -> idle every 5 s, so every GPU number changes at every tick; a second
Monitor run replays the idle reading alone (a box left idle). Targets: <= 1 % CPU and
<= 1 KB/s.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "nvml_h200.json"


class PtyApp:
    """The app in a pseudo-terminal of a fixed size; every byte it writes is counted."""

    def __init__(self, columns: int, rows: int, data_dir: Path, replay: Path = FIXTURE) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
        env.update(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            COMFY_TUI_GPU_REPLAY=str(replay),
            COMFY_TUI_POLL_INTERVAL="1",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.ps = psutil.Process(self.proc.pid)
        self.written = 0

    def pump(self, seconds: float) -> None:
        """Drain the terminal for ``seconds`` (the app would block on a full pty)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    self.written += len(os.read(self.master, 65536))
                except OSError:
                    return

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.press("q")
            try:
                self.pump(0.5)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def measure(
    screen_key: str, label: str, size: tuple[int, int], seconds: float, replay: Path = FIXTURE
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    app = PtyApp(*size, data_dir, replay)
    try:
        app.pump(6.0)  # start-up: imports, first paint, first samples
        app.press(screen_key)
        app.pump(4.0)  # the screen's first full paint is not the steady state
        cpu0, bytes0, t0 = app.cpu_seconds(), app.written, time.monotonic()
        app.pump(seconds)
        cpu1, bytes1, t1 = app.cpu_seconds(), app.written, time.monotonic()
        elapsed = t1 - t0
        cpu_pct = 100.0 * (cpu1 - cpu0) / elapsed
        rate = (bytes1 - bytes0) / elapsed
        what = "idle H200 reading" if replay != FIXTURE else "H200 recording cycled"
        print(
            f"{label:<9} {size[0]}x{size[1]}  CPU {cpu_pct:5.2f} % of one core   "
            f"terminal {rate:7.1f} B/s   ({elapsed:.0f} s, {what} at 1 Hz)",
            flush=True,
        )
    finally:
        app.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="80x24", help="COLUMNSxROWS (default 80x24)")
    args = parser.parse_args()
    columns, rows = (int(v) for v in args.size.split("x"))
    print(f"python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs; targets <= 1 %, <= 1 KB/s")
    size = (columns, rows)
    measure("3", "Monitor", size, args.seconds)
    measure("1", "Versions", size, args.seconds)
    with tempfile.TemporaryDirectory(prefix="comfy-tui-bench-") as tmp:
        recording = json.loads(FIXTURE.read_text(encoding="utf-8"))
        recording["samples"] = [s for s in recording["samples"] if s["label"] == "idle"]
        idle = Path(tmp) / "idle.json"
        idle.write_text(json.dumps(recording), encoding="utf-8")
        measure("3", "Monitor", size, args.seconds, idle)


if __name__ == "__main__":
    main()
