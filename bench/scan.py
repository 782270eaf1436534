"""`comfy-tui models scan` of an unchanged library against a plain scandir+stat walk.

Run from the repository root: ``.venv/bin/python -m bench.scan [--files 10000] [--rounds 5]``.
A library of small safetensors files is indexed once; then each round runs, as processes, a
walk that lists and stats every file of the same tree (the anchor: the least a rescan must
do) and `comfy-tui models scan` (which finds nothing changed). Medians of CPU seconds (and
wall); goal: scan <= 2x the walk.

A second row, for information, splits off what does not grow with the library: a scan of an
empty library (the command's start: interpreter, imports, event loop, index) and `python -c
pass` are run in the same rounds, and the per-file part of the scan (10k minus empty) is set
against the per-file part of the walk (walk minus `python -c pass`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ScanCosts:
    """Medians in seconds."""

    scan_cpu: float
    walk_cpu: float
    scan_wall: float
    walk_wall: float
    empty_cpu: float  # `models scan` of an empty library
    bare_cpu: float  # `python -c pass`


def measure(files: int, rounds: int) -> ScanCosts:
    from bench.library import make_files
    from comfy_tui.paths import DataPaths

    with tempfile.TemporaryDirectory(prefix="comfy-tui-bench-") as tmp:
        data = Path(tmp) / "data"
        root = DataPaths(data).library_models()
        make_files(root, files)
        base = [sys.executable, "-m", "comfy_tui", "--data-dir"]
        scan = [*base, str(data), "models", "scan"]
        empty = [*base, str(Path(tmp) / "empty"), "models", "scan"]
        walk = [sys.executable, "-c", WALK, str(root)]
        bare = [sys.executable, "-c", "pass"]
        env = {k: v for k, v in ENV.items() if not k.startswith("COMFY_TUI_")}
        run_timed(scan, env)  # the first scan indexes every file
        run_timed(empty, env)
        ours, theirs, empties, bares = [], [], [], []
        for _ in range(rounds):
            theirs.append(run_timed(walk, env))
            ours.append(run_timed(scan, env))
            empties.append(run_timed(empty, env))
            bares.append(run_timed(bare, env))
    return ScanCosts(
        statistics.median(c.cpu for c in ours),
        statistics.median(c.cpu for c in theirs),
        statistics.median(c.wall for c in ours),
        statistics.median(c.wall for c in theirs),
        statistics.median(c.cpu for c in empties),
        statistics.median(c.cpu for c in bares),
    )


def rows(quick: bool = False) -> list[Row]:
    files = 10_000
    c = measure(files, 3 if quick else 5)
    ratio = c.scan_cpu / c.walk_cpu
    per_file = c.scan_cpu - c.empty_cpu
    walk_per_file = c.walk_cpu - c.bare_cpu
    return [
        Row(
            f"models scan, {files:,} unchanged (CPU)",
            f"{c.scan_cpu:.3f} s (wall {c.scan_wall:.3f})",
            f"scandir+stat walk {c.walk_cpu:.3f} s (wall {c.walk_wall:.3f})",
            f"{ratio:.2f}x",
            f"<= {GOAL:g}x",
            ratio <= GOAL,
        ),
        Row(
            f"  of it per file (scan - empty scan {c.empty_cpu:.3f} s)",
            f"{per_file:.3f} s",
            f"walk - python -c pass {c.bare_cpu:.3f} s: {walk_per_file:.3f} s",
            f"{per_file / walk_per_file:.2f}x",
            "(information)",
            None,
        ),
    ]


def main() -> None:
    from bench.table import render

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
