"""What an open, untouched TUI costs: CPU (% of one core) and terminal bytes per second.

Run from the repository root: ``.venv/bin/python -m bench.idle [--seconds 30]``.
Each screen of comfy-tui (recorded H200 box replayed at 1 Hz, 120x40) against the bare
Textual app (`bench/bare_app.py`): quiet screens against the bare app at rest (goal: bare +
0.2 % of a core), the Monitor against the bare app updating one Static and one Sparkline
every second (goal: <= 1 % and <= 1 KiB/s).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.ptyapp import FIXTURE, PtyApp, bare_argv, bench_env, comfy_tui_argv

SIZE = (120, 40)
QUIET = {"Versions": "1", "Models": "2", "Instances": "4", "Nodes": "5"}


@dataclass(frozen=True)
class Idle:
    cpu_pct: float
    bytes_per_s: float


def eight_gpus(folder: Path) -> Path:
    """The H200 recording as a box of 8 (each device copied, with its own uuid)."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data["system"]["device_count"] = 8
    for sample in data["samples"]:
        first = sample["devices"][0]
        sample["devices"] = []
        for i in range(8):
            device = copy.deepcopy(first)
            device["uuid"]["value"] = f"GPU-00000000-0000-0000-0000-00000000000{i}"
            sample["devices"].append(device)
    path = folder / "nvml_8xh200.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def measure(argv: list[str], key: str | None, seconds: float, settle: float = 4.0) -> Idle:
    folder = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    env = bench_env(
        {
            "COMFY_TUI_GPU_REPLAY": str(eight_gpus(folder)),
            "COMFY_TUI_POLL_INTERVAL": "1",
            "COMFY_TUI_GITHUB_API": "http://127.0.0.1:9",
        }
    )
    app = PtyApp(argv, *SIZE, env=env)
    try:
        app.pump(6.0)  # start-up: imports, first paint, first samples
        if key:
            app.press(key)
        app.pump(settle)  # a screen's first full paint is not the steady state
        cpu0, bytes0 = app.cpu_seconds(), app.written
        app.pump(seconds)
        return Idle(100.0 * (app.cpu_seconds() - cpu0) / seconds, (app.written - bytes0) / seconds)
    finally:
        app.close()
        shutil.rmtree(folder, ignore_errors=True)


def comfy(key: str, seconds: float) -> Idle:
    data = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        return measure(comfy_tui_argv(data), key, seconds)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def bare(seconds: float, *, tick: bool = False) -> Idle:
    return measure([*bare_argv(), *(["--tick"] if tick else [])], None, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    rest = bare(args.seconds)
    print(f"bare app at rest: {rest.cpu_pct:.2f} %, {rest.bytes_per_s:.0f} B/s")
    for name, key in QUIET.items():
        idle = comfy(key, args.seconds)
        print(
            f"{name}: {idle.cpu_pct:.2f} % ({idle.cpu_pct - rest.cpu_pct:+.2f} over bare; goal"
            f" <= +0.2), {idle.bytes_per_s:.0f} B/s"
        )
    ticking = bare(args.seconds, tick=True)
    monitor = comfy("3", args.seconds)
    print(
        f"Monitor 8 GPUs: {monitor.cpu_pct:.2f} %, {monitor.bytes_per_s:.0f} B/s (goal <= 1 %,"
        f" <= 1024 B/s); bare Static+Sparkline at 1 Hz: {ticking.cpu_pct:.2f} %,"
        f" {ticking.bytes_per_s:.0f} B/s"
    )


if __name__ == "__main__":
    main()
