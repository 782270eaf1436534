"""Start to first frame: comfy-tui's first screen against a bare Textual app, side by side.

Run from the repository root: ``.venv/bin/python bench/first_frame.py [--rounds 5]``.
Each round starts the bare app (`bench/bare_app.py`) and comfy-tui (a fresh data dir, GitHub
pointed at a closed local port so nothing leaves the machine) in a 120x40 pseudo-terminal and
times until the first screen's text is on the terminal: the wall time, and the CPU seconds the
process had used by then (the measure judged: it does not depend on the neighbours). Medians;
goal <= 1.5x.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.ptyapp import PtyApp, bare_argv, bench_env, comfy_tui_argv
from bench.table import Row, render

GOAL = 1.5
SIZE = (120, 40)
MARKER = "Versions"
"""On comfy-tui's first screen (its title); the bare app shows `bare_app.READY`."""


def _time(argv: list[str], marker: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from the start until `marker` is on the terminal."""
    app = PtyApp(argv, *SIZE, env=env)
    try:
        wall = app.wait_for(marker)
        return wall, app.cpu_seconds()
    finally:
        app.close()


def measure(rounds: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((wall, CPU) medians to comfy-tui's first frame, the same for the bare app)."""
    from bench.bare_app import READY

    env = bench_env({"COMFY_TUI_GITHUB_API": "http://127.0.0.1:9"})
    ours: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    data = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        _time(comfy_tui_argv(data / "warm"), MARKER, env)  # bytecode cached, like an install
        _time(bare_argv(), READY, env)
        for i in range(rounds):
            bare.append(_time(bare_argv(), READY, env))
            ours.append(_time(comfy_tui_argv(data / str(i)), MARKER, env))
    finally:
        shutil.rmtree(data, ignore_errors=True)

    def medians(xs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)

    return medians(ours), medians(bare)


def rows(quick: bool = False) -> list[Row]:
    (wall, cpu), (bare_wall, bare_cpu) = measure(3 if quick else 5)
    return [
        Row(
            f"first frame {SIZE[0]}x{SIZE[1]} (CPU)",
            f"{cpu:.3f} s (wall {wall:.3f})",
            f"bare Textual app {bare_cpu:.3f} s (wall {bare_wall:.3f})",
            f"{cpu / bare_cpu:.2f}x (wall {wall / bare_wall:.2f}x)",
            f"<= {GOAL:g}x",
            cpu / bare_cpu <= GOAL,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
