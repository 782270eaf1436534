"""How fast the log view ingests a flood, and how much it stalls the event loop meanwhile.

A child process writes N lines (default 100k) to an instance log as fast as it can while the
real log view (InstanceLogScreen in a headless app) follows the file. Prints the lines per
second the view ingested (from the child's start until the last line is in the pane) and the
worst event-loop lag seen by a 5 ms ticker running in the same loop.

    python bench/logtail.py [--lines 100000] [--width 80]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App  # noqa: E402

from comfy_tui.store.instance_records import InstanceRecord  # noqa: E402
from comfy_tui.ui.screens.instance_log import InstanceLogScreen  # noqa: E402
from comfy_tui.ui.widgets.log_pane import LogPane  # noqa: E402

WRITER = """
import sys
n, width = int(sys.argv[1]), int(sys.argv[2])
pad = "x" * max(0, width - 24)
out = sys.stdout
for i in range(n):
    out.write(f"line {i:09d} {pad}\\n")
out.flush()
"""


class Bench(App[None]):
    def __init__(self, record: InstanceRecord) -> None:
        super().__init__()
        self.record = record

    def on_mount(self) -> None:
        self.push_screen(InstanceLogScreen(self.record))


async def run(lines: int, width: int) -> None:
    log = Path(tempfile.mkdtemp(prefix="bench-logtail-")) / "c000000.log"
    log.write_text("")
    record = InstanceRecord(
        id="c000000",
        version="bench",
        port=1,
        listen="127.0.0.1",
        gpu=None,
        argv=(),
        cwd="/",
        log_path=str(log),
        started_at=0.0,
    )
    app = Bench(record)
    worst = 0.0
    ticking = True

    async def ticker() -> None:
        nonlocal worst
        while ticking:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - began - 0.005)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        pane = app.screen.query_one(LogPane)
        probe = asyncio.create_task(ticker())
        began = time.perf_counter()
        with log.open("ab") as out:
            child = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(lines), str(width)], stdout=out
            )
        while pane.received < lines:
            await asyncio.sleep(0.005)
        took = time.perf_counter() - began
        child.wait()
        written = time.perf_counter() - began
        ticking = False
        await probe
        last = pane.lines[-1]
    print(f"lines: {lines:,} of {width} chars, written by the child in <= {written:.2f} s")
    print(f"ingested by the log view: {lines / took:,.0f} lines/s ({took:.2f} s to the last line)")
    print(f"kept in the pane: {pane.line_count:,} (last: {last[:22]}...)")
    print(f"worst event-loop lag meanwhile: {worst * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    asyncio.run(run(args.lines, args.width))


if __name__ == "__main__":
    main()
