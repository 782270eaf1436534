"""`python -m bench [--quick] [--only NAME...]`: every bench, one table of ratios against anchors.

Each bench runs its own anchor in the same run (a bare Textual app, `python -c pass`, a
scandir+stat walk, `hashlib.file_digest`, a 5 ms ticker); the table says, per row, what
comfy-tui measured, what the anchor measured, the result, the goal, whether it is met, and the
1-minute load average when the row was taken (the machine may be shared).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time

from bench.table import Row, render

BENCHES = ("cli_start", "first_frame", "idle", "scan", "lag")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter windows")
    parser.add_argument("--only", nargs="+", choices=BENCHES, help="run only these benches")
    args = parser.parse_args()
    began = time.monotonic()
    rows: list[Row] = []
    for name in args.only or BENCHES:
        print(f"running bench.{name} ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(f"bench.{name}").rows(args.quick))
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
        f" {time.monotonic() - began:.0f} s"
    )
    print(render(rows))
    judged = [r for r in rows if r.ok is not None]
    met = sum(bool(r.ok) for r in judged)
    print(f"{met} of {len(judged)} goals met")


if __name__ == "__main__":
    main()
