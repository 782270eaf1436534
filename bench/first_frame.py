"""Start to first frame: comfy-tui's first screen against a bare Textual app, side by side.

Run from the repository root: ``.venv/bin/python bench/first_frame.py [--rounds 5]``.
Each round starts the bare app (`bench/bare_app.py`) and comfy-tui (a fresh data dir, GitHub
pointed at a closed local port so nothing leaves the machine) in a 120x40 pseudo-terminal and
times until the first screen's text is on the terminal. Medians; goal <= 1.5x.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.ptyapp import PtyApp, bare_argv, bench_env, comfy_tui_argv

GOAL = 1.5
SIZE = (120, 40)
MARKER = "Versions"
"""On comfy-tui's first screen (its title); the bare app shows `bare_app.READY`."""


def _time(argv: list[str], marker: str, env: dict[str, str]) -> float:
    app = PtyApp(argv, *SIZE, env=env)
    try:
        return app.wait_for(marker)
    finally:
        app.close()


def measure(rounds: int) -> tuple[float, float]:
    """(median seconds to comfy-tui's first frame, median for the bare app)."""
    from bench.bare_app import READY

    env = bench_env({"COMFY_TUI_GITHUB_API": "http://127.0.0.1:9"})
    ours: list[float] = []
    bare: list[float] = []
    data = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        _time(comfy_tui_argv(data / "warm"), MARKER, env)  # bytecode cached, like an install
        _time(bare_argv(), READY, env)
        for i in range(rounds):
            bare.append(_time(bare_argv(), READY, env))
            ours.append(_time(comfy_tui_argv(data / str(i)), MARKER, env))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return statistics.median(ours), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ours, bare = measure(args.rounds)
    print(
        f"first frame {SIZE[0]}x{SIZE[1]}: comfy-tui {ours:.3f} s, bare Textual app {bare:.3f} s,"
        f" ratio {ours / bare:.2f}x (goal <= {GOAL:g}x)"
    )


if __name__ == "__main__":
    main()
