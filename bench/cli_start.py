"""How long a CLI command takes to start and answer, against a bare `python -c pass`.

Run from the repository root: ``.venv/bin/python bench/cli_start.py [--rounds 7]``.
Each round runs the anchor and every command once, interleaved, in a fresh empty data dir;
the table shows medians and the ratio to the anchor (goal: <= 8x for ps, versions, config
and default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("ps", "--json"),
    ("versions", "--json"),
    ("config", "--json"),
    ("default", "--clear"),
)
GOAL = 8.0
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode is cached as after a `pip install`, whatever this shell says."""


def _run(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - began


def measure(rounds: int) -> list[tuple[str, float, float, float]]:
    """[(what, median seconds, anchor median seconds, ratio)] for every command."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        base = [sys.executable, "-m", "comfy_tui", "--data-dir", str(data)]
        for command in COMMANDS:  # the data dir exists; bytecode is compiled and cached
            _run([*base, *command])
        anchor: list[float] = []
        times: dict[str, list[float]] = {" ".join(c): [] for c in COMMANDS}
        for _ in range(rounds):
            anchor.append(_run([sys.executable, "-c", "pass"]))
            for command in COMMANDS:
                times[" ".join(command)].append(_run([*base, *command]))
    a = statistics.median(anchor)
    return [
        (f"comfy-tui {name}", statistics.median(t), a, statistics.median(t) / a)
        for name, t in times.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{'command':28} {'median':>8} {'python -c pass':>15} {'ratio':>7}  goal <= {GOAL:g}x")
    for what, t, a, ratio in measure(args.rounds):
        print(f"{what:28} {t:8.3f} {a:15.3f} {ratio:6.1f}x")


if __name__ == "__main__":
    main()
