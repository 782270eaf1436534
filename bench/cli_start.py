"""How much a CLI command costs to start and answer, against a bare `python -c pass`.

Run from the repository root: ``.venv/bin/python -m bench.cli_start [--rounds 7]``.
Each round runs the anchor and every command once, interleaved, in a fresh empty data dir.
Medians of CPU seconds (user + system of the child; wall in brackets) and the CPU ratio to the
anchor (goal: <= 8x for ps, versions, config and default).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench.child import Cost, run_timed
from bench.table import Row, render

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("ps", "--json"),
    ("versions", "--json"),
    ("config", "--json"),
    ("default", "--clear"),
)
GOAL = 8.0


def measure(rounds: int) -> tuple[list[Cost], dict[str, list[Cost]]]:
    """(anchor costs, costs of each command) over `rounds` interleaved rounds."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        base = [sys.executable, "-m", "comfy_tui", "--data-dir", str(data)]
        for command in COMMANDS:  # the data dir exists; bytecode is compiled and cached
            run_timed([*base, *command])
        anchor: list[Cost] = []
        times: dict[str, list[Cost]] = {" ".join(c): [] for c in COMMANDS}
        for _ in range(rounds):
            anchor.append(run_timed([sys.executable, "-c", "pass"]))
            for command in COMMANDS:
                times[" ".join(command)].append(run_timed([*base, *command]))
    return anchor, times


def rows(quick: bool = False) -> list[Row]:
    anchor, times = measure(5 if quick else 9)
    a_cpu = statistics.median(c.cpu for c in anchor)
    a_wall = statistics.median(c.wall for c in anchor)
    out = []
    for name, costs in times.items():
        cpu = statistics.median(c.cpu for c in costs)
        wall = statistics.median(c.wall for c in costs)
        out.append(
            Row(
                f"comfy-tui {name} (CPU)",
                f"{cpu:.3f} s (wall {wall:.3f})",
                f"python -c pass {a_cpu:.3f} s (wall {a_wall:.3f})",
                f"{cpu / a_cpu:.1f}x",
                f"<= {GOAL:g}x",
                cpu / a_cpu <= GOAL,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
