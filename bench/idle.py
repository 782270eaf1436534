"""What an open, untouched TUI costs: CPU (% of one core) and terminal bytes per second.

Run from the repository root: ``.venv/bin/python -m bench.idle [--seconds 30]``.
Each screen of comfy-tui (recorded H200 box replayed at 1 Hz, 120x40) against the bare
Textual app (`bench/bare_app.py`): quiet screens against the bare app at rest (goal: bare +
0.2 % of a core), the Monitor against the bare app updating one Static and one Sparkline
every second (goal: <= 1 % and <= 1 KiB/s). The Monitor is measured left alone (no key for
longer than `UNTOUCHED_AFTER_S`: it is then drawn every `UNTOUCHED_DRAW_S` and says so), the
goal's row, and watched (within seconds of a key: drawn every tick), a row for information.
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
from bench.table import Row, render
from comfy_tui.ui.stats_feed import UNTOUCHED_AFTER_S, UNTOUCHED_DRAW_S

SIZE = (120, 40)
QUIET_GOAL = 0.2
"""Percent of a core a quiet screen may cost over the bare app at rest."""
MONITOR_CPU_GOAL = 1.0
MONITOR_BYTES_GOAL = 1024.0
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


def comfy(key: str, seconds: float, settle: float | None = None) -> Idle:
    data = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    # GitHub is a closed port: the release list is retried for ~15 s after start (and then
    # the Versions screen says so once, redrawing its rows and footer even when another
    # screen shows); that is start-up, not idle, on every screen
    if settle is None:
        settle = 14.0
    try:
        return measure(comfy_tui_argv(data), key, seconds, settle)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def bare(seconds: float, *, tick: bool = False) -> Idle:
    return measure([*bare_argv(), *(["--tick"] if tick else [])], None, seconds)


def rows(quick: bool = False) -> list[Row]:
    seconds = 15.0 if quick else 30.0
    rest = bare(seconds)
    anchor = f"bare app {rest.cpu_pct:.2f} %, {rest.bytes_per_s:.0f} B/s"
    out = []
    for name, key in QUIET.items():
        idle = comfy(key, seconds)
        # as shown (two decimals): CPU time comes in 10 ms ticks, 0.033 % of a 30 s window
        over = round(idle.cpu_pct - rest.cpu_pct, 2)
        out.append(
            Row(
                f"idle {name}, 8 GPUs (CPU)",
                f"{idle.cpu_pct:.2f} %, {idle.bytes_per_s:.0f} B/s",
                anchor,
                f"{over:+.2f} % of a core",
                f"<= +{QUIET_GOAL:g} %",
                over <= QUIET_GOAL,
            )
        )
    ticking = bare(seconds, tick=True)
    anchor = f"bare Static+Sparkline 1 Hz {ticking.cpu_pct:.2f} %, {ticking.bytes_per_s:.0f} B/s"
    goal = f"<= {MONITOR_CPU_GOAL:g} %, <= {MONITOR_BYTES_GOAL:.0f} B/s"
    # watched: measured within UNTOUCHED_AFTER_S of the key that opened the screen
    watched = comfy("3", min(seconds, UNTOUCHED_AFTER_S - 8.0), settle=4.0)
    alone = comfy("3", seconds, settle=UNTOUCHED_AFTER_S + 2.0)
    for what, idle, ok in (
        ("Monitor watched, 8 GPUs, drawn every tick", watched, None),
        (
            f"idle Monitor, 8 GPUs, drawn every {UNTOUCHED_DRAW_S:g} s",
            alone,
            alone.cpu_pct <= MONITOR_CPU_GOAL and alone.bytes_per_s <= MONITOR_BYTES_GOAL,
        ),
    ):
        shown = f"{idle.cpu_pct:.2f} %, {idle.bytes_per_s:.0f} B/s"
        out.append(Row(what, shown, anchor, shown, goal if ok is not None else "(info)", ok))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="15 s per screen, not 30")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
