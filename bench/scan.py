"""`comfy-tui models scan` of an unchanged library against a plain scandir+stat walk.

Run from the repository root: ``.venv/bin/python -m bench.scan [--files 10000] [--rounds 5]``.
A library of small safetensors files is indexed once; then each round runs, as processes, a
walk that lists and stats every file of the same tree (the anchor: the least a rescan must
do) and `comfy-tui models scan` (which finds nothing changed). Medians of CPU seconds (and
wall); goal: scan <= 2x the walk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.child import ENV, run_timed
from bench.table import Row

GOAL = 2.0
WALK = """
import os, sys
def walk(d):
    n = 0
    for e in os.scandir(d):
        if e.is_dir(follow_symlinks=False):
            n += walk(e.path)
        else:
            e.stat(follow_symlinks=False)
            n += 1
    return n
print(walk(sys.argv[1]))
"""


def measure(files: int, rounds: int) -> tuple[float, float, float, float]:
    """(scan CPU, walk CPU, scan wall, walk wall): medians in seconds."""
    from bench.library import make_files
    from comfy_tui.paths import DataPaths

    with tempfile.TemporaryDirectory(prefix="comfy-tui-bench-") as tmp:
        data = Path(tmp) / "data"
        root = DataPaths(data).library_models()
        make_files(root, files)
        scan = [sys.executable, "-m", "comfy_tui", "--data-dir", str(data), "models", "scan"]
        walk = [sys.executable, "-c", WALK, str(root)]
        env = {k: v for k, v in ENV.items() if not k.startswith("COMFY_TUI_")}
        run_timed(scan, env)  # the first scan indexes every file
        ours, theirs = [], []
        for _ in range(rounds):
            theirs.append(run_timed(walk, env))
            ours.append(run_timed(scan, env))
    return (
        statistics.median(c.cpu for c in ours),
        statistics.median(c.cpu for c in theirs),
        statistics.median(c.wall for c in ours),
        statistics.median(c.wall for c in theirs),
    )


def rows(quick: bool = False) -> list[Row]:
    files = 10_000
    scan_cpu, walk_cpu, scan_wall, walk_wall = measure(files, 3 if quick else 5)
    ratio = scan_cpu / walk_cpu
    return [
        Row(
            f"models scan, {files:,} unchanged (CPU)",
            f"{scan_cpu:.3f} s (wall {scan_wall:.3f})",
            f"scandir+stat walk {walk_cpu:.3f} s (wall {walk_wall:.3f})",
            f"{ratio:.2f}x",
            f"<= {GOAL:g}x",
            ratio <= GOAL,
        )
    ]


def main() -> None:
    from bench.table import render

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
